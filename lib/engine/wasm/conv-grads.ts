// Conv2D gradients for the wasm backend, expressed through its XNNPACK matMul / conv2d kernels.
//   filter gradient: dW[K×Co] = patchesᵀ[K×M] · dy[M×Co]  (K = kh·kw·Ci, M = batch·outH·outW);
//     the transposed patch matrix is written straight into the heap in JS, chunked over images
//     so the working set stays bounded at 224 px.
//   input gradient, stride 1: a conv2d of dy with the flipped, in/out-swapped filter;
//   input gradient, stride > 1: G = dy · Wᵀ on XNNPACK, then a col2im scatter-add in JS.
import * as tf from "@tensorflow/tfjs";
import { asWasmBackend, heapView, matMul, runWasmKernel, validOutputSpan, withShape, WasmBackendLike } from "./heap";

type TensorInfo = tf.TensorInfo;
type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Floats per temporary patch matrix: 16 M floats = 64 MB of wasm heap at most per chunk. */
export const wasmKernelTuning = { patchChunkFloats: 16 * 1024 * 1024 };

function requireChannelsLast(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`${kernel} on wasm supports dataFormat NHWC only (got ${String(dataFormat)})`);
  }
}

/** Images per chunk so that the chunk's patch matrix stays under wasmKernelTuning.patchChunkFloats. */
function imagesPerChunk(info: Conv2DInfo, batch: number, floatsPerImage: number): number {
  return Math.max(1, Math.min(batch, Math.floor(wasmKernelTuning.patchChunkFloats / Math.max(1, floatsPerImage))));
}

/** Writes the transposed patch matrix [kh·kw·Ci, chunk·outH·outW] of images n0..n1 into `dst`. */
function writePatchesTransposed(x: Float32Array, dst: Float32Array, info: Conv2DInfo, n0: number, n1: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const M = (n1 - n0) * OH * OW;
  for (let kw = 0; kw < KW; kw++) {
    // Output columns whose input column lies inside the image for this tap.
    const offW = kw * dw - pl;
    const [owLo, owHi] = validOutputSpan({ tapOffset: offW, stride: sw, outSize: OW, inSize: W });
    for (let kh = 0; kh < KH; kh++) {
      const kBase = (kh * KW + kw) * C;
      for (let n = n0; n < n1; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh + kh * dh - pt;
          const m0 = ((n - n0) * OH + oh) * OW;
          if (ih < 0 || ih >= H) {
            for (let c = 0; c < C; c++) dst.fill(0, (kBase + c) * M + m0, (kBase + c) * M + m0 + OW);
            continue;
          }
          const rowBase = (n * H + ih) * W * C;
          for (let c = 0; c < C; c++) {
            const d = (kBase + c) * M + m0;
            for (let ow = 0; ow < owLo; ow++) dst[d + ow] = 0;
            let src = rowBase + (owLo * sw + offW) * C + c;
            const step = sw * C;
            for (let ow = owLo; ow < owHi; ow++, src += step) dst[d + ow] = x[src];
            for (let ow = owHi; ow < OW; ow++) dst[d + ow] = 0;
          }
        }
      }
    }
  }
}

export function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as Record<string, unknown>;
  requireChannelsLast(attrs.dataFormat, "Conv2DBackpropFilter");
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides as [number, number], 1,
    attrs.pad as "same", attrs.dimRoundingMode as "round" | undefined,
  );
  const [KH, KW, Ci, Co] = filterShape;
  const K = KH * KW * Ci;
  const batch = x.shape[0];
  const pixels = info.outHeight * info.outWidth;
  const pointwise = KH === 1 && KW === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0;
  if (pointwise && Co < Ci) return pointwiseFilterGradTransposingDy(backend, x, dy, filterShape);
  const chunk = imagesPerChunk(info, batch, K * pixels);
  const result = new Float32Array(K * Co);
  for (let n0 = 0; n0 < batch; n0 += chunk) {
    const n1 = Math.min(batch, n0 + chunk);
    const M = (n1 - n0) * pixels;
    const patches = backend.makeOutput([K, M], "float32");
    writePatchesTransposed(heapView(backend, x), heapView(backend, patches), info, n0, n1);
    const dyChunk = sliceImages(backend, dy, n0, n1, [M, Co]);
    const part = matMul(backend, patches, dyChunk.info);
    addInto(result, heapView(backend, part));
    backend.disposeData(part.dataId);
    backend.disposeData(patches.dataId);
    dyChunk.dispose();
  }
  const out = backend.makeOutput(filterShape, "float32");
  heapView(backend, out).set(result);
  return out;
}

/**
 * 1×1 stride-1 filter gradient when dy is the smaller operand (projection layers): dWᵀ[Co×Ci] =
 * dyᵀ[Co×M] · x[M×Ci]. The JS transpose touches the smaller tensor; XNNPACK packs the larger.
 */
function pointwiseFilterGradTransposingDy(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, filterShape: number[]): TensorInfo {
  const Ci = filterShape[2];
  const Co = filterShape[3];
  const M = x.shape.slice(0, 3).reduce((a, b) => a * b, 1);
  const dyT = backend.makeOutput([Co, M], "float32");
  transpose2d(heapView(backend, dy), heapView(backend, dyT), M, Co);
  const product = matMul(backend, dyT, withShape(x, [M, Ci]));
  backend.disposeData(dyT.dataId);
  const out = backend.makeOutput(filterShape, "float32");
  transpose2d(heapView(backend, product), heapView(backend, out), Co, Ci);
  backend.disposeData(product.dataId);
  return out;
}

/** dst[c×rows + r] = src[r×cols + c], in row blocks that stay in cache. */
function transpose2d(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const BLOCK = 64;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c = 0; c < cols; c++) {
      let s = r0 * cols + c;
      const d = c * rows;
      for (let r = r0; r < r1; r++, s += cols) dst[d + r] = src[s];
    }
  }
}

/** A [n0, n1) image range of a batch as a 2-D matrix; a view when it is the whole batch. */
function sliceImages(backend: WasmBackendLike, t: TensorInfo, n0: number, n1: number, shape: number[]): { info: TensorInfo; dispose: () => void } {
  if (n0 === 0 && n1 === t.shape[0]) return { info: withShape(t, shape), dispose: () => {} };
  const perImage = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const copy = backend.makeOutput(shape, "float32");
  heapView(backend, copy).set(heapView(backend, t).subarray(n0 * perImage, n1 * perImage));
  return { info: copy, dispose: () => backend.disposeData(copy.dataId) };
}

function addInto(acc: Float32Array, part: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += part[i];
}

/** Filter [kh,kw,Ci,Co] → flipped in space, channels swapped: [kh,kw,Co,Ci]. */
function flippedTransposedFilter(w: Float32Array, [KH, KW, Ci, Co]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const src = (kh * KW + kw) * Ci * Co;
      const dst = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Co * Ci;
      for (let ci = 0; ci < Ci; ci++) for (let co = 0; co < Co; co++) out[dst + co * Ci + ci] = w[src + ci * Co + co];
    }
  }
  return out;
}

/** Filter [kh,kw,Ci,Co] as Wᵀ: [Co, kh·kw·Ci]. */
function transposedFilterMatrix(w: Float32Array, [KH, KW, Ci, Co]: number[]): Float32Array {
  const K = KH * KW * Ci;
  const out = new Float32Array(w.length);
  for (let k = 0; k < K; k++) for (let co = 0; co < Co; co++) out[co * K + k] = w[k * Co + co];
  return out;
}

export function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as Record<string, unknown>;
  requireChannelsLast(attrs.dataFormat, "Conv2DBackpropInput");
  const inputShape = attrs.inputShape as [number, number, number, number];
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filterShape, attrs.strides as [number, number], 1, attrs.pad as "same", attrs.dimRoundingMode as "round" | undefined,
  );
  const [KH, KW, Ci, Co] = filterShape;
  const [N, H, W] = inputShape;
  const { outHeight: OH, outWidth: OW } = info;
  const oneByOne = KH === 1 && KW === 1 && info.padInfo.top === 0 && info.padInfo.left === 0;
  if (oneByOne && info.strideHeight === 1 && info.strideWidth === 1) {
    // dx[M×Ci] = dy[M×Co] · Wᵀ[Co×Ci]
    const wT = backend.makeOutput([Co, Ci], "float32");
    heapView(backend, wT).set(transposedFilterMatrix(heapView(backend, filter), filterShape));
    const out = matMul(backend, withShape(dy, [N * OH * OW, Co]), wT);
    backend.disposeData(wT.dataId);
    return withShape(out, inputShape);
  }
  if (info.strideHeight === 1 && info.strideWidth === 1) {
    const flipped = backend.makeOutput([KH, KW, Co, Ci], "float32");
    heapView(backend, flipped).set(flippedTransposedFilter(heapView(backend, filter), filterShape));
    const top = KH - 1 - info.padInfo.top;
    const left = KW - 1 - info.padInfo.left;
    const bottom = H - OH + KH - 1 - top;
    const right = W - OW + KW - 1 - left;
    const out = runWasmKernel(backend, "Conv2D", { x: dy, filter: flipped }, {
      strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: "NHWC", dilations: [1, 1],
    });
    backend.disposeData(flipped.dataId);
    return out;
  }
  // Strided: G = dy · Wᵀ per chunk of images, scatter-added into dx.
  const K = KH * KW * Ci;
  const wT = backend.makeOutput([Co, K], "float32");
  heapView(backend, wT).set(transposedFilterMatrix(heapView(backend, filter), filterShape));
  const out = backend.makeOutput(inputShape, "float32");
  heapView(backend, out).fill(0);
  const chunk = imagesPerChunk(info, N, K * OH * OW);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const n1 = Math.min(N, n0 + chunk);
    const dyChunk = sliceImages(backend, dy, n0, n1, [(n1 - n0) * OH * OW, Co]);
    const g = matMul(backend, dyChunk.info, wT);
    scatterPatches(heapView(backend, g), heapView(backend, out), info, n0, n1);
    backend.disposeData(g.dataId);
    dyChunk.dispose();
  }
  backend.disposeData(wT.dataId);
  return out;
}

/** col2im: dx[n, ih, iw, c] += G[m, (kh·KW + kw)·C + c] for every patch m of images n0..n1. */
function scatterPatches(g: Float32Array, dx: Float32Array, info: Conv2DInfo, n0: number, n1: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const K = KH * KW * C;
  for (let n = n0; n < n1; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const gBase = (((n - n0) * OH + oh) * OW + ow) * K;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw * dw - pl;
            if (iw < 0 || iw >= W) continue;
            const src = gBase + (kh * KW + kw) * C;
            const dst = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) dx[dst + c] += g[src + c];
          }
        }
      }
    }
  }
}
