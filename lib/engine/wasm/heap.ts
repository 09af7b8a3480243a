// Direct access to the wasm backend's heap: our gradient kernels read and write tensors in place
// (no copies through JS arrays) and call the backend's own XNNPACK kernels for the arithmetic.
import * as tf from "@tensorflow/tfjs";

type TensorInfo = tf.TensorInfo;

/** The subset of tfjs-backend-wasm's BackendWasm that the kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

export function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike>;
  if (typeof b?.makeOutput !== "function" || typeof b.typedArrayFromHeap !== "function") {
    throw new Error("wasm training kernels called with a backend that is not tfjs-backend-wasm");
  }
  return b as WasmBackendLike;
}

/** A float32 view of a tensor in the wasm heap. Re-take views after any allocation: the heap may grow and detach them. */
export function heapView(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  if (info.dtype !== "float32") throw new Error(`wasm training kernels support float32 only (got ${info.dtype})`);
  return backend.typedArrayFromHeap(info);
}

/** Same data, another shape (no copy): what the wasm Reshape kernel does, without touching the refcount. */
export function withShape(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** Runs a kernel the wasm backend already has (BatchMatMul, Conv2D, …) on heap tensors. */
export function runWasmKernel(
  backend: WasmBackendLike,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown>,
): TensorInfo {
  const kernel = tf.getKernel(kernelName, "wasm");
  if (!kernel) throw new Error(`the wasm backend has no ${kernelName} kernel`);
  const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: backend as unknown as tf.KernelBackend });
  if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
  return out;
}

/** out = a[m×k] · b[k×n] on XNNPACK (the wasm BatchMatMul fast path: no transposes). */
export function matMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runWasmKernel(backend, "BatchMatMul", { a, b }, { transposeA: false, transposeB: false });
}

/**
 * The output columns [lo, hi) whose input column `o · stride + tapOffset` lies inside [0, inSize) —
 * the span a convolution tap touches without padding, so the inner loops need no bounds checks.
 */
export function validOutputSpan(opts: { tapOffset: number; stride: number; outSize: number; inSize: number }): [number, number] {
  const { tapOffset, stride, outSize, inSize } = opts;
  let lo = 0;
  while (lo < outSize && lo * stride + tapOffset < 0) lo++;
  let hi = outSize;
  while (hi > lo && (hi - 1) * stride + tapOffset >= inSize) hi--;
  return [lo, hi];
}

/**
 * A new float32 tensor whose values `write` fills. On wasm they are written straight into the
 * backend's heap: no batch-sized JS array is allocated (fresh pages fault in at a few GB/s here)
 * and none is copied in. Other backends get a Float32Array handed to tf.tensor.
 */
export function writeFloat32Tensor<R extends tf.Rank>(shape: tf.ShapeMap[R], write: (values: Float32Array) => void): tf.Tensor<R> {
  const backend = tf.backend() as unknown as Partial<WasmBackendLike>;
  if (tf.getBackend() !== "wasm" || typeof backend.makeOutput !== "function" || typeof backend.typedArrayFromHeap !== "function") {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    write(values);
    return tf.tensor(values, shape, "float32") as tf.Tensor<R>;
  }
  const wasm = backend as WasmBackendLike;
  const info = wasm.makeOutput(shape, "float32");
  try {
    write(heapView(wasm, info)); // `write` must not allocate tensors: a growing heap detaches the view
  } catch (error) {
    wasm.disposeData(info.dataId);
    throw error;
  }
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}
