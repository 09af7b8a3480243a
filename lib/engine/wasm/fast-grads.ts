// Gradients whose tfjs-core formulation is slow on wasm, replaced by one-pass kernels over the heap.
// tfjs-core's FusedBatchNorm gradient tiles 1/σ to the full activation shape (wasm's Tile is a
// scalar loop) and spends ~12 full-size elementwise passes; ReLU6/ClipByValue gradients take five
// (compare, compare, and, zerosLike, select). Each becomes one or two passes here. The gradient
// registry is global, so each override runs the original tfjs-core gradient on other backends.
import * as tf from "@tensorflow/tfjs";
import { type GradFunc, MASKED_GRADIENT_BOUNDS, type MaskBounds, overrideGradients } from "../gradient-overrides";
import { asWasmBackend, heapView } from "./heap";
import { addressOf, ROWS_PER_FLUSH, simdKernelsFor } from "./simd/kernels";

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export const BATCH_NORM_GRAD_KERNEL = "ShowcaseWasmBatchNormGrad";
export const MASKED_GRAD_KERNEL = "ShowcaseWasmMaskedGrad";
export const MEAN_GRAD_KERNEL = "ShowcaseWasmMeanGrad";

/** Mean over all but the last axis, backwards: every row of dx is dy / count (one memcpy-speed pass). */
function meanGradRows(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy } = args.inputs as { dy: TensorInfo };
  const shape = (args.attrs ?? {}).shape as number[];
  const out = backend.makeOutput(shape, "float32");
  const dx = heapView(backend, out);
  const g = heapView(backend, dy);
  const C = g.length;
  const count = dx.length / C;
  for (let c = 0; c < C; c++) dx[c] = g[c] / count;
  // Doubling copies: log2(rows) memmoves instead of one small copy per row.
  for (let filled = C; filled < dx.length; filled *= 2) dx.copyWithin(filled, 0, Math.min(filled, dx.length - filled));
  return out;
}

/** dx, dmean, dvariance, dscale, doffset of y = (x − mean)·scale/√(variance + ε) + offset, per channel (last axis). */
function batchNormGrad(args: KernelArgs): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const { x, dy, mean, variance, scale } = args.inputs as Record<string, TensorInfo | undefined> as Record<string, TensorInfo>;
  const epsilon = Number((args.attrs ?? {}).varianceEpsilon ?? 0.001);
  const C = mean.shape[0];
  const outs = [x.shape, [C], [C], [C], [C]].map((shape) => backend.makeOutput(shape, "float32"));
  const simd = C % 4 === 0 ? simdKernelsFor(backend) : undefined;
  // gain | partial Σdy | partial Σdy·(x − mean), allocated before any view is taken
  const scratch = simd ? backend.makeOutput([3 * C], "float32") : undefined;
  const xs = heapView(backend, x);
  const dys = heapView(backend, dy);
  const means = heapView(backend, mean);
  const vars = heapView(backend, variance);
  const scales = scale ? heapView(backend, scale) : undefined;
  const [dx, dMean, dVar, dScale, dOffset] = outs.map((o) => heapView(backend, o));
  const inv = new Float32Array(C);
  const gain = scratch ? heapView(backend, scratch).subarray(0, C) : new Float32Array(C);
  for (let c = 0; c < C; c++) {
    inv[c] = 1 / Math.sqrt(vars[c] + epsilon);
    gain[c] = (scales ? scales[c] : 1) * inv[c];
  }
  const sumDy = new Float64Array(C);
  const sumDyXm = new Float64Array(C);
  const total = xs.length;
  if (simd && scratch) {
    const partial = heapView(backend, scratch);
    for (let row = 0, rows = total / C; row < rows; row += ROWS_PER_FLUSH) {
      partial.fill(0, C);
      const at = row * C;
      simd.batchNormGrad(addressOf(xs, at), addressOf(dys, at), addressOf(dx, at), Math.min(ROWS_PER_FLUSH, rows - row), C, addressOf(gain), addressOf(means), addressOf(partial, C), addressOf(partial, 2 * C));
      for (let c = 0; c < C; c++) {
        sumDy[c] += partial[C + c];
        sumDyXm[c] += partial[2 * C + c];
      }
    }
  } else {
    for (let base = 0; base < total; base += C) {
      for (let c = 0; c < C; c++) {
        const g = dys[base + c];
        sumDy[c] += g;
        sumDyXm[c] += g * (xs[base + c] - means[c]);
        dx[base + c] = g * gain[c];
      }
    }
  }
  for (let c = 0; c < C; c++) {
    const s = scales ? scales[c] : 1;
    dMean[c] = -gain[c] * sumDy[c];
    dVar[c] = -0.5 * inv[c] * inv[c] * inv[c] * s * sumDyXm[c];
    dScale[c] = inv[c] * sumDyXm[c];
    dOffset[c] = sumDy[c];
  }
  // only now: freeing writes allocator bookkeeping into the block, and `gain` lives there
  if (scratch) backend.disposeData(scratch.dataId);
  return outs;
}

/** dx = dy where the forward input x was inside [lo, hi] (lo exclusive when loExclusive), else 0. */
function maskedGrad(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as Record<string, unknown>;
  const lo = Number(attrs.lo);
  const hi = Number(attrs.hi);
  const out = backend.makeOutput(dy.shape, "float32");
  const xs = heapView(backend, x);
  const dys = heapView(backend, dy);
  const dx = heapView(backend, out);
  const n = dx.length;
  const simd = simdKernelsFor(backend);
  let start = 0;
  if (simd) {
    // the SIMD loop takes whole vectors of 4; the last n % 4 elements go through the loop below
    start = n - (n % 4);
    (attrs.loExclusive ? simd.maskedOpen : simd.maskedClosed)(addressOf(xs), addressOf(dys), addressOf(dx), start, lo, hi);
  }
  // Branch-free (comparisons as 0/1 factors): the signs of activations are random, branches mispredict.
  if (attrs.loExclusive) {
    for (let i = start; i < n; i++) {
      const v = xs[i];
      dx[i] = dys[i] * (((v > lo) as unknown as number) & ((v <= hi) as unknown as number));
    }
  } else {
    for (let i = start; i < n; i++) {
      const v = xs[i];
      dx[i] = dys[i] * (((v >= lo) as unknown as number) & ((v <= hi) as unknown as number));
    }
  }
  return out;
}

function onWasm(...tensors: Array<tf.Tensor | undefined>): boolean {
  return tf.getBackend() === "wasm" && tensors.every((t) => t === undefined || t.dtype === "float32");
}


function batchNormGradFunc(original: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    const g = dy as tf.Tensor;
    const perChannel = mean.rank === 1 && variance.rank === 1 && (scale === undefined || scale.rank === 1) && x.shape[x.rank - 1] === mean.shape[0];
    if (!onWasm(x, g, mean, variance, scale) || !perChannel || x.rank < 2) return original(dy, saved, attrs);
    // Computed eagerly: tfjs calls each input's closure inside its own tidy, which would dispose the
    // sibling outputs of a lazily run multi-output kernel.
    const results = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, scale ? { x, dy: g, mean, variance, scale } : { x, dy: g, mean, variance }, attrs) as tf.Tensor[];
    const compute = (i: number) => () => results[i];
    return { x: compute(0), mean: compute(1), variance: compute(2), scale: compute(3), offset: compute(4) };
  };
}

function maskedGradFunc(original: GradFunc, bounds: MaskBounds): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (!onWasm(x, g) || x.size !== g.size) return original(dy, saved, attrs);
    return { x: () => tf.engine().runKernel(MASKED_GRAD_KERNEL, { x, dy: g }, bounds(attrs) as unknown as tf.NamedAttrMap) as tf.Tensor };
  };
}

function meanGradFunc(original: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
    const leading = x.rank >= 2 && axes.length === x.rank - 1 && axes.every((a, i) => a === i);
    if (!onWasm(x, g) || !leading || g.size !== x.shape[x.rank - 1]) return original(dy, saved, attrs);
    return { x: () => tf.engine().runKernel(MEAN_GRAD_KERNEL, { dy: g }, { shape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor };
  };
}

const replaced = new Map<string, tf.GradConfig>();

/** Registers the fused gradient kernels for wasm and the backend-aware gradient overrides (idempotent). */
export function registerFastGradients(): string[] {
  if (!tf.getKernel(BATCH_NORM_GRAD_KERNEL, "wasm")) {
    tf.registerKernel({ kernelName: BATCH_NORM_GRAD_KERNEL, backendName: "wasm", kernelFunc: batchNormGrad as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: MASKED_GRAD_KERNEL, backendName: "wasm", kernelFunc: maskedGrad as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: MEAN_GRAD_KERNEL, backendName: "wasm", kernelFunc: meanGradRows as unknown as tf.KernelFunc });
  }
  overrideGradients(
    [
      ["FusedBatchNorm", batchNormGradFunc],
      ["Mean", meanGradFunc],
      ...MASKED_GRADIENT_BOUNDS.map(([name, bounds]): [string, (original: GradFunc) => GradFunc] => [name, (o) => maskedGradFunc(o, bounds)]),
    ],
    replaced,
  );
  return [BATCH_NORM_GRAD_KERNEL, MASKED_GRAD_KERNEL, MEAN_GRAD_KERNEL];
}
