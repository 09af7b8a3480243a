// Batch normalisation on wasm as one SIMD pass, y = x·gain + shift with gain = scale/√(var + ε) and
// shift = offset − mean·gain per channel. tfjs-backend-wasm's own kernel takes ~4 ns per element
// here (every BN of training, and DenseNet's pre-activation BNs at inference, which cannot be
// folded into a convolution); other shapes keep it.
import * as tf from "@tensorflow/tfjs";
import { asWasmBackend, heapView } from "./heap";
import { addressOf, simdKernelsFor } from "./simd/kernels";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

let original: tf.KernelConfig | undefined;

function fusedBatchNorm(args: KernelArgs): tf.TensorInfo {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const C = x!.shape[x!.shape.length - 1];
  const perChannel = [mean, variance, offset, scale].every((t) => t === undefined || tf.util.sizeFromShape(t.shape) === C);
  const backend = asWasmBackend(args.backend);
  const simd = x!.dtype === "float32" && C % 4 === 0 && perChannel ? simdKernelsFor(backend) : undefined;
  if (!simd) return original!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const epsilon = Number((args.attrs ?? {}).varianceEpsilon ?? 0.001);
  const out = backend.makeOutput(x!.shape, "float32");
  const folded = backend.makeOutput([2 * C], "float32"); // gain | shift; both allocated before any view is taken
  const [means, vars] = [mean!, variance!].map((t) => heapView(backend, t));
  const offsets = offset ? heapView(backend, offset) : undefined;
  const scales = scale ? heapView(backend, scale) : undefined;
  const gainShift = heapView(backend, folded);
  for (let c = 0; c < C; c++) {
    const gain = (scales ? scales[c] : 1) / Math.sqrt(vars[c] + epsilon);
    gainShift[c] = gain;
    gainShift[C + c] = (offsets ? offsets[c] : 0) - means[c] * gain;
  }
  const xs = heapView(backend, x!);
  simd.scaleShift(addressOf(xs), addressOf(heapView(backend, out)), xs.length / C, C, addressOf(gainShift), addressOf(gainShift, C));
  backend.disposeData(folded.dataId);
  return out;
}

/** Replaces the wasm FusedBatchNorm kernel (idempotent); the original serves the shapes it does not cover. */
export function registerFastBatchNorm(): string[] {
  const current = tf.getKernel("FusedBatchNorm", "wasm");
  if (current && current.kernelFunc !== (fusedBatchNorm as unknown as tf.KernelFunc)) {
    original = current;
    tf.unregisterKernel("FusedBatchNorm", "wasm");
    tf.registerKernel({ ...current, kernelFunc: fusedBatchNorm as unknown as tf.KernelFunc });
  }
  return ["FusedBatchNorm"];
}
