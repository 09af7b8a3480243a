// Slice for wasm without its full-input copy (wasm's kernel starts with readSync of the whole
// input, then walks it element by element): contiguous runs are copied straight heap to heap.
import * as tf from "@tensorflow/tfjs";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

let fallback: tf.KernelConfig | undefined;

export function sliceKernel(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === "string" || x.dtype === "complex64") return fallback!.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  const backend = args.backend as HeapBackend;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs!.begin as number[], args.attrs!.size as number[]);
  const out = backend.makeOutput(size, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (dst.length === 0) return out;
  // Innermost dims taken whole merge into one contiguous run with the first partial dim.
  let inner = rank - 1;
  let run = size[inner];
  while (inner > 0 && size[inner] === x.shape[inner]) {
    inner--;
    run *= size[inner];
  }
  const strides = tf.util.computeStrides(x.shape);
  strides.push(1);
  const outer = inner; // dims 0..inner-1 are iterated; dim `inner` starts the run
  const index = new Array<number>(outer).fill(0);
  let o = 0;
  for (;;) {
    let offset = begin[outer] * strides[outer];
    for (let d = 0; d < outer; d++) offset += (begin[d] + index[d]) * strides[d];
    (dst as Float32Array).set((src as Float32Array).subarray(offset, offset + run), o);
    o += run;
    let d = outer - 1;
    while (d >= 0 && ++index[d] === size[d]) index[d--] = 0;
    if (d < 0) break;
  }
  return out;
}

export function registerFastSlice(): void {
  const current = tf.getKernel("Slice", "wasm");
  if (!current || current.kernelFunc === (sliceKernel as unknown as tf.KernelFunc)) return;
  fallback = current;
  tf.unregisterKernel("Slice", "wasm");
  tf.registerKernel({ ...current, kernelFunc: sliceKernel as unknown as tf.KernelFunc });
}
