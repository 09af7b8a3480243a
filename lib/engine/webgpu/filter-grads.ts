// Filter gradients as parallel reductions over batch × output pixels. tfjs-backend-webgpu 4.22 gives
// each filter element one thread that loops serially over every image and pixel: on an H200 that was
// 784 ms of a MobileNetV2 step for Conv2DBackpropFilter and 307 ms for the depthwise one (a 3×3
// filter of 96 channels is 864 threads doing 400 k iterations each).
//   Conv2DBackpropFilter: dW[K = kh·kw·ci, co] = Σₘ patch[m, k] · dy[m, co], m over N·OH·OW, as a
//     tiled GEMM (64×64 output tile per workgroup, 4×4 per thread, patches formed on the fly) whose
//     m range is split over workgroups (split-K); a second pass sums the splits.
//   DepthwiseConv2dNativeBackpropFilter: one thread per (output channel, span of rows) keeps all taps
//     in registers; a second pass sums the spans.
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, type KernelArgs, sumPartials, type WebGpuProgram } from "./program";

const TILE = 64; // output tile edge (k and co)
const TILE_M = 16; // rows of m per shared-memory step
/** Enough workgroups to fill a large GPU (132 SMs on an H200) several times over. */
const TARGET_WORKGROUPS = 1024;
const MAX_PARTIAL_BYTES = 64 * 2 ** 20;

function convInfo(x: tf.TensorInfo, attrs: tf.NamedAttrMap, depthwise: boolean) {
  const a = attrs as unknown as { strides: number | [number, number]; pad: "valid" | "same" | number; dimRoundingMode?: "floor" | "round" | "ceil"; filterShape: [number, number, number, number]; dilations?: number | [number, number]; dataFormat?: "NHWC" | "NCHW" };
  return tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise, a.dataFormat === "NCHW" ? "channelsFirst" : "channelsLast");
}

/** Uniforms shared by both programs: input and output geometry. */
function geometry(info: tf.backend_util.Conv2DInfo) {
  return [
    { type: "int32" as const, data: [info.inHeight, info.inWidth, info.inChannels] },
    { type: "int32" as const, data: [info.outHeight, info.outWidth] },
    { type: "int32" as const, data: [info.filterHeight, info.filterWidth] },
    { type: "int32" as const, data: [info.strideHeight, info.strideWidth] },
    { type: "int32" as const, data: [info.dilationHeight, info.dilationWidth] },
    { type: "int32" as const, data: [info.padInfo.top, info.padInfo.left] },
  ];
}
const GEOMETRY_UNIFORMS = "inDims : vec3<i32>, outDims : vec2<i32>, filterDims : vec2<i32>, strides : vec2<i32>, dilations : vec2<i32>, pads : vec2<i32>,";

/** x value of the patch element (m = image·OH·OW + oh·OW + ow, tap (kh, kw), channel ci), 0 in padding. */
const PATCH_VALUE = `
      fn patchValue(m : i32, kh : i32, kw : i32, ci : i32) -> f32 {
        let pixels = uniforms.outDims.x * uniforms.outDims.y;
        let img = m / pixels;
        let pix = m - img * pixels;
        let oh = pix / uniforms.outDims.y;
        let ow = pix - oh * uniforms.outDims.y;
        let ih = oh * uniforms.strides.x + kh * uniforms.dilations.x - uniforms.pads.x;
        let iw = ow * uniforms.strides.y + kw * uniforms.dilations.y - uniforms.pads.y;
        if (ih < 0 || ih >= uniforms.inDims.x || iw < 0 || iw >= uniforms.inDims.y) { return 0.0; }
        return x[((img * uniforms.inDims.x + ih) * uniforms.inDims.y + iw) * uniforms.inDims.z + ci];
      }`;

export function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const info = convInfo(x, args.attrs ?? {}, false);
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const Co = info.outChannels;
  const M = info.batchSize * info.outHeight * info.outWidth;
  const tiles = Math.ceil(K / TILE) * Math.ceil(Co / TILE);
  const maxSplits = Math.max(1, Math.min(Math.ceil(M / (4 * TILE_M)), Math.floor(MAX_PARTIAL_BYTES / (4 * K * Co))));
  const splits = Math.max(1, Math.min(maxSplits, Math.ceil(TARGET_WORKGROUPS / tiles)));
  const span = Math.ceil(M / splits / TILE_M) * TILE_M;
  const program: WebGpuProgram = {
    variableNames: ["x", "dy"],
    outputShape: [splits, K, Co],
    shaderKey: "showcase_conv2d_filter_grad",
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(Co / TILE), Math.ceil(K / TILE), splits],
    workgroupSize: [16, 16, 1],
    uniforms: `${GEOMETRY_UNIFORMS} dims : vec3<i32>, span : i32,`,
    getUserCode: () => `
      var<workgroup> tileA : array<array<f32, ${TILE}>, ${TILE_M}>;
      var<workgroup> tileB : array<array<f32, ${TILE}>, ${TILE_M}>;
      ${PATCH_VALUE}
      fn main() {
        let M = uniforms.dims.x;
        let K = uniforms.dims.y;
        let Co = uniforms.dims.z;
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let lane = ty * 16 + tx;
        let k0 = i32(workgroupId.y) * ${TILE};
        let c0 = i32(workgroupId.x) * ${TILE};
        let split = i32(workgroupId.z);
        let mStart = split * uniforms.span;
        let mEnd = min(mStart + uniforms.span, M);
        let perTap = uniforms.inDims.z;
        var acc : array<array<f32, 4>, 4>;
        // Loop bounds from uniforms only: barriers need control flow that WGSL can prove uniform.
        for (var step = 0; step < uniforms.span / ${TILE_M}; step++) {
          let m0 = mStart + step * ${TILE_M};
          // 256 threads load 16 × 64 patch values and 16 × 64 dy values, 4 of each.
          for (var e = 0; e < 4; e++) {
            let slot = lane + e * 256;
            let row = slot / ${TILE};
            let col = slot - row * ${TILE};
            let m = m0 + row;
            let k = k0 + col;
            var a = 0.0;
            if (m < mEnd && k < K) {
              let tap = k / perTap;
              let ci = k - tap * perTap;
              let kh = tap / uniforms.filterDims.y;
              a = patchValue(m, kh, tap - kh * uniforms.filterDims.y, ci);
            }
            tileA[row][col] = a;
            let co = c0 + col;
            var b = 0.0;
            if (m < mEnd && co < Co) { b = dy[m * Co + co]; }
            tileB[row][col] = b;
          }
          workgroupBarrier();
          for (var r = 0; r < ${TILE_M}; r++) {
            var av : array<f32, 4>;
            var bv : array<f32, 4>;
            for (var i = 0; i < 4; i++) { av[i] = tileA[r][ty * 4 + i]; bv[i] = tileB[r][tx * 4 + i]; }
            for (var i = 0; i < 4; i++) {
              for (var j = 0; j < 4; j++) { acc[i][j] += av[i] * bv[j]; }
            }
          }
          workgroupBarrier();
        }
        for (var i = 0; i < 4; i++) {
          let k = k0 + ty * 4 + i;
          if (k >= K) { continue; }
          for (var j = 0; j < 4; j++) {
            let co = c0 + tx * 4 + j;
            if (co < Co) { result[(split * K + k) * Co + co] = acc[i][j]; }
          }
        }
      }`,
  };
  const partials = backend.runWebGPUProgram(program, [x, dy], "float32", [...geometry(info), { type: "int32", data: [M, K, Co] }, { type: "int32", data: [span] }]);
  const filterShape = [info.filterHeight, info.filterWidth, info.inChannels, Co];
  if (splits === 1) return { ...partials, shape: filterShape };
  const summed = sumPartials(backend, partials, splits, filterShape);
  backend.disposeData(partials.dataId);
  return summed;
}

const DEPTHWISE_ROWS_PER_THREAD = 64;
const MAX_TAPS = 49;

export function depthwiseConv2dNativeBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const info = convInfo(x, args.attrs ?? {}, true);
  const taps = info.filterHeight * info.filterWidth;
  if (taps > MAX_TAPS) throw new Error(`depthwise filter gradient on webgpu: a ${info.filterHeight}×${info.filterWidth} filter has more than ${MAX_TAPS} taps`);
  const Co = info.outChannels;
  const multiplier = Co / info.inChannels;
  const M = info.batchSize * info.outHeight * info.outWidth;
  const parts = Math.max(1, Math.min(Math.ceil(M / DEPTHWISE_ROWS_PER_THREAD), Math.floor(MAX_PARTIAL_BYTES / (4 * taps * Co))));
  const span = Math.ceil(M / parts);
  const threads = parts * Co;
  const program: WebGpuProgram = {
    variableNames: ["x", "dy"],
    outputShape: [parts, taps, Co],
    shaderKey: `showcase_depthwise_filter_grad_${taps}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [Math.ceil(threads / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: `${GEOMETRY_UNIFORMS} rows : i32, span : i32, channels : i32, multiplier : i32, threads : i32,`,
    getUserCode: () => `
      ${PATCH_VALUE}
      fn main(index : i32) {
        if (index >= uniforms.threads) { return; }
        let Co = uniforms.channels;
        let co = index % Co;
        let part = index / Co;
        let ci = co / uniforms.multiplier;
        var acc : array<f32, ${taps}>;
        let stop = min((part + 1) * uniforms.span, uniforms.rows);
        for (var m = part * uniforms.span; m < stop; m++) {
          let g = dy[m * Co + co];
          for (var t = 0; t < ${taps}; t++) {
            let kh = t / uniforms.filterDims.y;
            acc[t] += g * patchValue(m, kh, t - kh * uniforms.filterDims.y, ci);
          }
        }
        for (var t = 0; t < ${taps}; t++) { result[(part * ${taps} + t) * Co + co] = acc[t]; }
      }`,
  };
  const partials = backend.runWebGPUProgram(program, [x, dy], "float32", [
    ...geometry(info),
    { type: "int32", data: [M] },
    { type: "int32", data: [span] },
    { type: "int32", data: [Co] },
    { type: "int32", data: [multiplier] },
    { type: "int32", data: [threads] },
  ]);
  const filterShape = [info.filterHeight, info.filterWidth, info.inChannels, multiplier];
  if (parts === 1) return { ...partials, shape: filterShape };
  const summed = sumPartials(backend, partials, parts, filterShape);
  backend.disposeData(partials.dataId);
  return summed;
}
