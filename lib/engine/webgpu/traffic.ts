// Counts what the webgpu backend asks of the device while `work` runs: programs dispatched (by
// program class), tensor uploads (bytes of host arrays sent to the GPU), uniform bytes, and
// createBuffer calls. For tests and the bench: the numbers that say whether a training step builds
// arrays on the host or allocates GPU memory in steady state.
import * as tf from "@tensorflow/tfjs";
import type { WebGpuBackendLike, WebGpuProgram } from "./program";

export interface DeviceTraffic {
  dispatches: number;
  /** Dispatches per program class (BinaryOpProgram, showcase_conv2d_filter_grad, …). */
  programs: Record<string, number>;
  /** Dispatches per tfjs kernel (Multiply, FusedBatchNorm, …): the innermost kernel running when each was issued. */
  kernels: Record<string, number>;
  /** Host arrays uploaded as tensors: count, bytes, and the element counts of each. */
  uploads: number;
  uploadBytes: number;
  uploadSizes: number[];
  /** queue.writeBuffer bytes that were not tensor uploads (the per-dispatch uniforms). */
  uniformBytes: number;
  createBuffers: number;
  createBufferBytes: number;
}

function emptyTraffic(): DeviceTraffic {
  return { dispatches: 0, programs: {}, kernels: {}, uploads: 0, uploadBytes: 0, uploadSizes: [], uniformBytes: 0, createBuffers: 0, createBufferBytes: 0 };
}

/**
 * Runs `work` on the active webgpu backend with counting wrappers installed, then removes them.
 * `work` receives the live counts (to split a step into phases).
 */
export async function measureDeviceTraffic<T>(work: (live: DeviceTraffic) => T | Promise<T>): Promise<{ value: T; traffic: DeviceTraffic }> {
  if (tf.getBackend() !== "webgpu") throw new Error(`measureDeviceTraffic needs the webgpu backend; tfjs is on ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as WebGpuBackendLike;
  const traffic = emptyTraffic();
  const { device, queue } = backend;
  const own = { run: Object.hasOwn(backend, "runWebGPUProgram"), upload: Object.hasOwn(backend, "uploadToGPU"), create: Object.hasOwn(device, "createBuffer"), write: Object.hasOwn(queue, "writeBuffer") };
  const engine = tf.engine() as unknown as { runKernelFunc(params: { kernelName?: string }): unknown };
  const ownKernelFunc = Object.hasOwn(engine, "runKernelFunc");
  const originalKernelFunc = engine.runKernelFunc;
  const running: string[] = [];
  engine.runKernelFunc = function (this: unknown, params) {
    running.push(params.kernelName ?? "customGrad");
    try {
      return originalKernelFunc.call(this, params);
    } finally {
      running.pop();
    }
  };
  const original = { run: backend.runWebGPUProgram, upload: backend.uploadToGPU, create: device.createBuffer, write: queue.writeBuffer };
  let uploading = 0;
  backend.runWebGPUProgram = function (this: WebGpuBackendLike, program: WebGpuProgram, ...rest) {
    traffic.dispatches++;
    const name = program.shaderKey?.startsWith("showcase_") ? program.shaderKey : program.constructor.name;
    traffic.programs[name] = (traffic.programs[name] ?? 0) + 1;
    const kernel = running.at(-1) ?? "(outside a kernel)";
    traffic.kernels[kernel] = (traffic.kernels[kernel] ?? 0) + 1;
    return original.run.call(this, program, ...rest);
  } as WebGpuBackendLike["runWebGPUProgram"];
  backend.uploadToGPU = function (this: WebGpuBackendLike, dataId: object) {
    const data = this.tensorMap.get(dataId);
    if (data.resource == null && data.values) {
      traffic.uploads++;
      traffic.uploadBytes += data.values.length * 4;
      traffic.uploadSizes.push(data.values.length);
    }
    uploading++;
    try {
      return original.upload.call(this, dataId);
    } finally {
      uploading--;
    }
  };
  device.createBuffer = function (this: unknown, descriptor) {
    traffic.createBuffers++;
    traffic.createBufferBytes += descriptor.size;
    return original.create.call(this, descriptor);
  };
  queue.writeBuffer = function (this: unknown, buffer, offset, data, dataOffset, size) {
    if (!uploading) traffic.uniformBytes += size ?? data.byteLength;
    return original.write.call(this, buffer, offset, data, dataOffset, size);
  };
  try {
    return { value: await work(traffic), traffic };
  } finally {
    // Restore exactly what was there: an own property (e.g. useQueueUploads) or the prototype's.
    if (ownKernelFunc) engine.runKernelFunc = originalKernelFunc;
    else delete (engine as Partial<typeof engine>).runKernelFunc;
    if (own.run) backend.runWebGPUProgram = original.run;
    else delete (backend as Partial<WebGpuBackendLike>).runWebGPUProgram;
    if (own.upload) backend.uploadToGPU = original.upload;
    else delete (backend as Partial<WebGpuBackendLike>).uploadToGPU;
    if (own.create) device.createBuffer = original.create;
    else delete (device as Partial<typeof device>).createBuffer;
    if (own.write) queue.writeBuffer = original.write;
    else delete (queue as Partial<typeof queue>).writeBuffer;
  }
}
