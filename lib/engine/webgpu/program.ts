// The small part of tfjs-backend-webgpu's API that our kernels use, typed here because the package
// does not export its program type as a value. A program is WGSL user code plus the metadata the
// backend needs to compile (cached by shaderKey) and dispatch it; see the backend's TileProgram.
import type * as tf from "@tensorflow/tfjs";

export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Adds a `size` uniform (the output's element count) when true. */
  size?: boolean;
  /** Extra uniform fields, WGSL struct syntax ("scale : f32, strides : vec2<i32>,"). */
  uniforms?: string;
  getUserCode(): string;
}

/** What tfjs passes a kernel function. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export interface ProgramUniform {
  type: "int32" | "float32" | "uint32";
  data: number[];
}

export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: ProgramUniform[]): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  device: GpuDeviceLike;
  queue: GpuQueueLike;
  tensorMap: { get(dataId: object): { values: ArrayLike<number> | null; resource: unknown; dtype: tf.DataType; shape: number[] } };
  bufferManager: { acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): unknown };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  tensorToBinding(tensor: tf.TensorInfo): unknown;
  /** Data ids used by recorded, not yet submitted work: their buffers are released only after submit. */
  commandQueueOwnedIds: WeakSet<object>;
}

export interface GpuDeviceLike {
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): unknown;
  createBindGroup(descriptor: { layout: unknown; entries: Array<{ binding: number; resource: unknown }> }): unknown;
  limits: { maxStorageBuffersPerShaderStage: number };
}

export interface GpuQueueLike {
  writeBuffer(buffer: unknown, offset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): void;
}

export function asWebGpuBackend(backend: unknown): WebGpuBackendLike {
  return backend as WebGpuBackendLike;
}

/** One thread per output element, `body` given `index` (flat) and run only when index < uniforms.size. */
export function flatProgram(opts: { key: string; variableNames: string[]; outputShape: number[]; uniforms?: string; body: string; workgroup?: number }): WebGpuProgram {
  const workgroup = opts.workgroup ?? 64;
  const size = opts.outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames: opts.variableNames,
    outputShape: opts.outputShape,
    shaderKey: opts.key,
    dispatchLayout: { x: opts.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / workgroup), 1, 1],
    workgroupSize: [workgroup, 1, 1],
    size: true,
    uniforms: opts.uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${opts.body}
        }
      }`,
  };
}

/**
 * Sums `parts` equal slices of a flat [parts, n] partial-result tensor into [n] (the second pass of a
 * split reduction), reshaped to `outputShape`. One thread per output element; parts is small.
 */
export function sumPartials(backend: WebGpuBackendLike, partials: tf.TensorInfo, parts: number, outputShape: number[]): tf.TensorInfo {
  const n = outputShape.reduce((a, b) => a * b, 1);
  const program = flatProgram({
    key: "showcase_sum_partials",
    variableNames: ["partials"],
    outputShape,
    uniforms: "parts : i32, stride : i32,",
    body: `
          var total = 0.0;
          for (var p = 0; p < uniforms.parts; p++) { total += partials[p * uniforms.stride + index]; }
          setOutputAtIndex(index, total);`,
  });
  return backend.runWebGPUProgram(program, [partials], "float32", [
    { type: "int32", data: [parts] },
    { type: "int32", data: [n] },
  ]);
}

/** Rows each thread of a per-channel split reduction sums: enough work per thread, enough threads for a GPU. */
const ROWS_PER_THREAD = 256;
const MAX_PARTS = 1024;

/**
 * The first pass of a per-channel split reduction over a [rows, channels] view: the rows are cut into
 * `parts` spans and one thread per (part, channel) runs `body` with `C`, `c`, `p`, `start` and `stop`
 * in scope, writing two partial values per thread to `result[(p * 2) * C + c]` and
 * `result[(p * 2 + 1) * C + c]` (output shape [parts, 2, channels]).
 */
export function runChannelPartials(
  backend: WebGpuBackendLike,
  opts: { key: string; variableNames: string[]; inputs: tf.TensorInfo[]; rows: number; channels: number; body: string },
): { partials: tf.TensorInfo; parts: number; span: number } {
  const { rows, channels } = opts;
  const parts = Math.max(1, Math.min(MAX_PARTS, Math.ceil(rows / ROWS_PER_THREAD)));
  const span = Math.ceil(rows / parts);
  const threads = parts * channels;
  const program: WebGpuProgram = {
    variableNames: opts.variableNames,
    outputShape: [parts, 2, channels],
    shaderKey: opts.key,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [Math.ceil(threads / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: "channels : i32, rows : i32, span : i32, threads : i32,",
    getUserCode: () => `
      fn main(index : i32) {
        if (index >= uniforms.threads) { return; }
        let C = uniforms.channels;
        let c = index % C;
        let p = index / C;
        let start = p * uniforms.span;
        let stop = min(start + uniforms.span, uniforms.rows);
        ${opts.body}
      }`,
  };
  const partials = backend.runWebGPUProgram(program, opts.inputs, "float32", [
    { type: "int32", data: [channels] },
    { type: "int32", data: [rows] },
    { type: "int32", data: [span] },
    { type: "int32", data: [threads] },
  ]);
  return { partials, parts, span };
}

/**
 * Runs `program` with more outputs than tfjs's one: the user code writes them as `extra0`, `extra1` …
 * (declared by `extraOutputDeclarations`, bound after the uniforms), the main output as usual. The
 * backend builds a bind group of output, inputs and uniforms only, so the extra buffers are added to
 * that one createBindGroup call; compilation, caching, submission and profiling stay the backend's.
 * Returns [main output, ...extras], each float32 of its shape.
 */
export function runWithExtraOutputs(
  backend: WebGpuBackendLike,
  program: WebGpuProgram,
  inputs: tf.TensorInfo[],
  uniforms: ProgramUniform[],
  extraShapes: number[][],
): tf.TensorInfo[] {
  const extras = extraShapes.map((shape) => backend.makeTensorInfo(shape, "float32"));
  for (const extra of extras) backend.uploadToGPU(extra.dataId);
  const device = backend.device;
  const hadOwn = Object.hasOwn(device, "createBindGroup");
  const create = device.createBindGroup;
  device.createBindGroup = function (this: unknown, descriptor) {
    const added = extras.map((t, i) => ({ binding: descriptor.entries.length + i, resource: backend.tensorToBinding(t) }));
    return create.call(this, { ...descriptor, entries: [...descriptor.entries, ...added] });
  };
  let main: tf.TensorInfo;
  try {
    main = backend.runWebGPUProgram(program, inputs, "float32", uniforms);
  } finally {
    if (hadOwn) device.createBindGroup = create;
    else delete (device as Partial<GpuDeviceLike>).createBindGroup;
  }
  // Keeps their buffers alive until the queued work that writes them is submitted (as for outputs).
  for (const extra of extras) backend.commandQueueOwnedIds.add(extra.dataId);
  return [main, ...extras];
}

/**
 * Storage buffers (inputs and outputs) a program with extra outputs may bind: the device's limit, but
 * at most 32 — adapters may report very large limits, and each buffer adds a binding and shader code.
 */
export function storageBuffersPerProgram(backend: WebGpuBackendLike): number {
  return Math.min(32, backend.device.limits.maxStorageBuffersPerShaderStage);
}

/**
 * One thread per channel (c < C, C from the first uniform), writing `result` (the main output, any
 * shape) and `extras` extra outputs (runWithExtraOutputs); `uniforms` are the fields after `channels`.
 */
export function perChannelProgram(opts: { key: string; variableNames: string[]; outputShape: number[]; channels: number; extras: number; uniforms: string; body: string }): WebGpuProgram {
  return {
    variableNames: opts.variableNames,
    outputShape: opts.outputShape,
    shaderKey: opts.key,
    dispatchLayout: { x: opts.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(opts.channels / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: `channels : i32, ${opts.uniforms}`,
    getUserCode: () => `
      ${extraOutputDeclarations(opts.variableNames.length, opts.extras)}
      fn main(index : i32) {
        let C = uniforms.channels;
        let c = index;
        if (c >= C) { return; }
        ${opts.body}
      }`,
  };
}

/**
 * Batch norm's gradient sums over a [rows, C] view, as a split reduction: partials[p][0][c] = Σ dy and
 * partials[p][1][c] = Σ dy·(x − mean) over the rows of part p, with the mean read from `mean[c]`
 * (a [C] mean, or the [2, C] statistics whose first row is the mean).
 */
export function channelGradientSums(backend: WebGpuBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, mean: tf.TensorInfo): { partials: tf.TensorInfo; parts: number } {
  const C = x.shape[x.shape.length - 1];
  return runChannelPartials(backend, {
    key: "showcase_bn_grad_sums",
    variableNames: ["x", "dy", "mean"],
    inputs: [x, dy, mean],
    rows: x.shape.reduce((a, b) => a * b, 1) / C,
    channels: C,
    body: `
        let m = mean[c];
        var sumDy = 0.0;
        var sumDyXm = 0.0;
        for (var r = start; r < stop; r++) {
          let g = dy[r * C + c];
          sumDy += g;
          sumDyXm += g * (x[r * C + c] - m);
        }
        result[(p * 2) * C + c] = sumDy;
        result[(p * 2 + 1) * C + c] = sumDyXm;`,
  });
}

/** WGSL declarations of `count` extra outputs for a program with `inputs` input variables. */
export function extraOutputDeclarations(inputs: number, count: number): string {
  // Bindings: 0 output, 1…inputs the inputs, inputs + 1 the uniforms, then the extras.
  return Array.from({ length: count }, (_, i) => `@group(0) @binding(${inputs + 2 + i}) var<storage, read_write> extra${i} : array<f32>;`).join("\n");
}
