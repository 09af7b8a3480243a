// Gradient kernels the wasm backend of TensorFlow.js 4.22 lacks (or has only as a slow reference
// loop), registered so that tfjs-layers models train on wasm. See docs/performance.md.
import * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilter, conv2DBackpropInput } from "./conv-grads";
import { depthwiseBackpropFilter, depthwiseBackpropInput } from "./depthwise-grads";
import { registerFastBatchNorm } from "./batch-norm";
import { registerFastGradients } from "./fast-grads";
import { registerFastSlice } from "./slice";
import { registerColumnReductions } from "./reduce-rows";

export { activationBytesPerImage, inferenceBytesPerImage, planMicroBatch, trainingBytesPerImage, WASM_HEAP_MAX_BYTES, WasmMemoryError } from "./memory";

const KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: tf.KernelFunc }> = [
  { kernelName: "Conv2DBackpropFilter", kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  // wasm has one, but it is a scalar loop ~15× slower than its conv2d: replaced.
  { kernelName: "Conv2DBackpropInput", kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc },
  { kernelName: "DepthwiseConv2dNativeBackpropFilter", kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: "DepthwiseConv2dNativeBackpropInput", kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc },
  { kernelName: "Identity", kernelFunc: shareInput as unknown as tf.KernelFunc },
];

/** Identity and same-dtype Cast share the input's memory (as on the cpu backend) instead of copying it. */
function shareInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = Object.values(args.inputs)[0] as tf.TensorInfo;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let originalCast: tf.KernelConfig | undefined;
function castSharingSameDtype(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (args.attrs?.dtype === x.dtype) return shareInput(args);
  return originalCast!.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
}

/**
 * Registers the training kernels for the "wasm" backend (idempotent) and returns their names.
 * Safe to call before or after tf.setBackend("wasm").
 */
export function registerWasmTrainingKernels(): string[] {
  for (const { kernelName, kernelFunc } of KERNELS) {
    const existing = tf.getKernel(kernelName, "wasm");
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
  }
  const cast = tf.getKernel("Cast", "wasm");
  if (cast && cast.kernelFunc !== (castSharingSameDtype as unknown as tf.KernelFunc)) {
    originalCast = cast;
    tf.unregisterKernel("Cast", "wasm");
    tf.registerKernel({ ...cast, kernelFunc: castSharingSameDtype as unknown as tf.KernelFunc });
  }
  registerFastSlice();
  return [...KERNELS.map((k) => k.kernelName), "Cast", "Slice", ...registerColumnReductions(), ...registerFastBatchNorm(), ...registerFastGradients()];
}
