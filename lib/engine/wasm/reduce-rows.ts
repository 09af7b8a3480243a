// Sum and Mean over every axis but the last (BatchNormalization's moments, bias gradients) on wasm:
// wasm's kernels first transpose the whole input so that the reduced axes are innermost; a
// column sum over the rows reads it once, in place.
import * as tf from "@tensorflow/tfjs";
import { addressOf, ROWS_PER_FLUSH, simdKernelsFor } from "./simd/kernels";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

const fallbacks = new Map<string, tf.KernelConfig>();

function reducesLeadingAxes(x: tf.TensorInfo, axis: unknown): boolean {
  if (x.dtype !== "float32" || x.shape.length < 2) return false;
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape).sort((a, b) => a - b);
  return axes.length === x.shape.length - 1 && axes.every((a, i) => a === i);
}

function columnReduce(kernelName: "Sum" | "Mean") {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const x = args.inputs.x as tf.TensorInfo;
    const attrs = args.attrs ?? {};
    if (!reducesLeadingAxes(x, attrs.axis)) return fallbacks.get(kernelName)!.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as HeapBackend;
    const C = x.shape[x.shape.length - 1];
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i === x.shape.length - 1 ? d : 1)) : [C];
    const out = backend.makeOutput(outShape, "float32");
    const simd = C % 4 === 0 ? simdKernelsFor(backend) : undefined;
    const scratch = simd ? backend.makeOutput([C], "float32") : undefined; // before taking views
    const v = backend.typedArrayFromHeap(x);
    const acc = new Float64Array(C);
    const n = v.length;
    const rows = n / C;
    if (simd && scratch) {
      const partial = backend.typedArrayFromHeap(scratch);
      for (let row = 0; row < rows; row += ROWS_PER_FLUSH) {
        partial.fill(0);
        simd.columnSum(addressOf(v, row * C), Math.min(ROWS_PER_FLUSH, rows - row), C, addressOf(partial));
        for (let c = 0; c < C; c++) acc[c] += partial[c];
      }
      backend.disposeData(scratch.dataId);
    } else {
      for (let base = 0; base < n; base += C) {
        for (let c = 0; c < C; c++) acc[c] += v[base + c];
      }
    }
    const scale = kernelName === "Mean" ? 1 / rows : 1;
    const o = backend.typedArrayFromHeap(out);
    for (let c = 0; c < C; c++) o[c] = acc[c] * scale;
    return out;
  };
}

const KERNEL_FUNCS = { Sum: columnReduce("Sum"), Mean: columnReduce("Mean") };

export function registerColumnReductions(): string[] {
  for (const [name, func] of Object.entries(KERNEL_FUNCS)) {
    const current = tf.getKernel(name, "wasm");
    if (!current || current.kernelFunc === (func as unknown as tf.KernelFunc)) continue;
    fallbacks.set(name, current);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...current, kernelFunc: func as unknown as tf.KernelFunc });
  }
  return Object.keys(KERNEL_FUNCS);
}
