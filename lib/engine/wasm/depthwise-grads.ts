// Depthwise-conv gradients for the wasm backend: one pass of JS over the heap tensors
// (the work is O(batch·outH·outW·C·kh·kw), a few percent of a MobileNet step), any stride,
// padding, dilation and channel multiplier.
import * as tf from "@tensorflow/tfjs";
import { asWasmBackend, heapView, runWasmKernel, validOutputSpan } from "./heap";
import { addressOf, type SimdKernels, simdKernelsFor } from "./simd/kernels";

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as [number, number], (attrs.dilations ?? 1) as [number, number], attrs.pad as "same",
    attrs.dimRoundingMode as "round" | undefined, true,
  );
}

/** Walks every (output pixel, filter tap) pair that lands inside the input; calls visit(xOffset, dyOffset, tapOffset). */
function forEachTap(
  info: ReturnType<typeof depthwiseInfo>,
  visit: (xOffset: number, dyOffset: number, tapOffset: number) => void,
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CM } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh + kh * dh - pt;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const dyOffset = ((n * OH + oh) * OW + ow) * CM;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw * dw - pl;
            if (iw < 0 || iw >= W) continue;
            visit(((n * H + ih) * W + iw) * C, dyOffset, (kh * KW + kw) * CM);
          }
        }
      }
    }
  }
}

/** Stride 1: dx is the depthwise conv (XNNPACK) of dy with the spatially flipped filter. */
function inputGradByFlippedConv(backend: ReturnType<typeof asWasmBackend>, dy: TensorInfo, filter: TensorInfo, info: ReturnType<typeof depthwiseInfo>): TensorInfo {
  const { filterHeight: KH, filterWidth: KW, inChannels: C, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = info;
  const flipped = backend.makeOutput(filter.shape, "float32");
  const w = heapView(backend, filter);
  const f = heapView(backend, flipped);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      f.set(w.subarray((kh * KW + kw) * C, (kh * KW + kw + 1) * C), ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C);
    }
  }
  const top = KH - 1 - info.padInfo.top;
  const left = KW - 1 - info.padInfo.left;
  const out = runWasmKernel(backend, "DepthwiseConv2dNative", { x: dy, filter: flipped }, {
    strides: [1, 1], pad: [[0, 0], [top, H - OH + KH - 1 - top], [left, W - OW + KW - 1 - left], [0, 0]], dilations: [1, 1], dataFormat: "NHWC",
  });
  backend.disposeData(flipped.dataId);
  return out;
}

export function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as Record<string, unknown>;
  const filterShape = attrs.filterShape as number[];
  const info = depthwiseInfo(x.shape, filterShape, attrs);
  const C = info.inChannels;
  const mult = filterShape[3];
  const acc = new Float64Array(filterShape.reduce((a, b) => a * b, 1));
  const simd = mult === 1 && C % 4 === 0 ? simdKernelsFor(backend) : undefined;
  // allocated before the views are taken: an allocation may grow the heap and detach them
  const scratch = simd ? backend.makeOutput([C], "float32") : undefined;
  const xs = heapView(backend, x);
  const dys = heapView(backend, dy);
  if (mult === 1) {
    filterGradRows(xs, dys, acc, info, simd && scratch ? { kernels: simd, partial: heapView(backend, scratch) } : undefined);
    if (scratch) backend.disposeData(scratch.dataId);
  } else {
    forEachTap(info, (xo, dyo, to) => {
      for (let c = 0; c < C; c++) {
        const xv = xs[xo + c];
        for (let q = 0; q < mult; q++) acc[to + c * mult + q] += xv * dys[dyo + c * mult + q];
      }
    });
  }
  const out = backend.makeOutput(filterShape, "float32");
  heapView(backend, out).set(acc);
  return out;
}

/**
 * Filter gradient, multiplier 1: per (image row, tap) the x and dy spans are walked with running
 * offsets. With `simd`, each span is one SIMD call summing into `partial` (float32), which is
 * flushed into the float64 total after every image.
 */
function filterGradRows(
  xs: Float32Array,
  dys: Float32Array,
  acc: Float64Array,
  info: ReturnType<typeof depthwiseInfo>,
  simd?: { kernels: SimdKernels; partial: Float32Array },
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const tapAcc = new Float64Array(C);
  const xStep = sw * C;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const offW = kw * dw - pl;
      const [owLo, owHi] = validOutputSpan({ tapOffset: offW, stride: sw, outSize: OW, inSize: W });
      tapAcc.fill(0);
      for (let n = 0; n < N; n++) {
        simd?.partial.fill(0);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H || owHi <= owLo) continue;
          let xo = ((n * H + ih) * W + owLo * sw + offW) * C;
          let dyo = ((n * OH + oh) * OW + owLo) * C;
          if (simd) {
            simd.kernels.multiplyAddRows(addressOf(simd.partial), 0, addressOf(xs, xo), 4 * xStep, addressOf(dys, dyo), 4 * C, owHi - owLo, C);
            continue;
          }
          for (let ow = owLo; ow < owHi; ow++, xo += xStep, dyo += C) {
            for (let c = 0; c < C; c++) tapAcc[c] += xs[xo + c] * dys[dyo + c];
          }
        }
        if (simd) for (let c = 0; c < C; c++) tapAcc[c] += simd.partial[c];
      }
      const to = (kh * KW + kw) * C;
      for (let c = 0; c < C; c++) acc[to + c] = tapAcc[c];
    }
  }
}

/** Input gradient, multiplier 1, any stride: per (image row, tap) one SIMD call adds dy·w into the strided dx span. */
function inputGradRows(simd: SimdKernels, dx: Float32Array, dys: Float32Array, w: Float32Array, info: ReturnType<typeof depthwiseInfo>): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const spans = Array.from({ length: KW }, (_, kw) => validOutputSpan({ tapOffset: kw * dw - pl, stride: sw, outSize: OW, inSize: W }));
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh + kh * dh - pt;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const [owLo, owHi] = spans[kw];
          if (owHi <= owLo) continue;
          const xo = ((n * H + ih) * W + owLo * sw + kw * dw - pl) * C;
          const dyo = ((n * OH + oh) * OW + owLo) * C;
          simd.multiplyAddRows(addressOf(dx, xo), 4 * sw * C, addressOf(dys, dyo), 4 * C, addressOf(w, (kh * KW + kw) * C), 0, owHi - owLo, C);
        }
      }
    }
  }
}

export function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as Record<string, unknown>;
  const inputShape = attrs.inputShape as number[];
  const info = depthwiseInfo(inputShape, filter.shape, attrs);
  const C = info.inChannels;
  const mult = filter.shape[3];
  if (mult === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1) {
    return inputGradByFlippedConv(backend, dy, filter, info);
  }
  const out = backend.makeOutput(inputShape, "float32");
  const dx = heapView(backend, out);
  dx.fill(0);
  const dys = heapView(backend, dy);
  const w = heapView(backend, filter);
  const simd = mult === 1 && C % 4 === 0 ? simdKernelsFor(backend) : undefined;
  if (simd) {
    inputGradRows(simd, dx, dys, w, info);
  } else if (mult === 1) {
    forEachTap(info, (xo, dyo, to) => {
      for (let c = 0; c < C; c++) dx[xo + c] += dys[dyo + c] * w[to + c];
    });
  } else {
    forEachTap(info, (xo, dyo, to) => {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let q = 0; q < mult; q++) s += dys[dyo + c * mult + q] * w[to + c * mult + q];
        dx[xo + c] += s;
      }
    });
  }
  return out;
}
