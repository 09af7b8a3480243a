// Keras ImageDataGenerator augmentation as batched TensorFlow.js ops: per image one random affine
// matrix (rotation · shift · shear · zoom about the centre, then an optional horizontal flip),
// applied with a single projective warp, then Keras' channel shift. Parameters are drawn from the
// seeded PRNG in JS, so the same seed gives the same images on every backend.
import * as tf from "@tensorflow/tfjs";
import { augmentsOnHost, hasKernel, transformWarpsFirstImageOnly, writeBatchTensor } from "../engine/capabilities";
import { createRng } from "./prng";
import type { AugmentConfig } from "./types";

/**
 * The study's ImageDataGenerator settings (rotation 40°, shifts 0.2, shear 0.2, zoom 0.2, horizontal
 * flip, fill "nearest"). Shear is in degrees as in Keras ≥ 2.2, so 0.2 is almost no shear — kept as
 * the study wrote it. Channel shift 20 (≈ 8 % of 0–255): a mild colour/brightness jitter that
 * imitates lighting differences between photos without washing out dark ones.
 */
export const STUDY_AUGMENT: AugmentConfig = Object.freeze({
  rotationRange: 40,
  widthShiftRange: 0.2,
  heightShiftRange: 0.2,
  shearRange: 0.2,
  zoomRange: [0.8, 1.2] as [number, number],
  channelShiftRange: 20,
  horizontalFlip: true,
  fillMode: "nearest" as const,
  cval: 0,
}) as AugmentConfig;

export const NO_AUGMENT: AugmentConfig = Object.freeze({
  rotationRange: 0,
  widthShiftRange: 0,
  heightShiftRange: 0,
  shearRange: 0,
  zoomRange: [1, 1] as [number, number],
  channelShiftRange: 0,
  horizontalFlip: false,
  fillMode: "nearest" as const,
  cval: 0,
}) as AugmentConfig;

/** The random draw for one image (Keras `get_random_transform`). */
export interface ImageTransform {
  thetaDegrees: number;
  shiftXPixels: number;
  shiftYPixels: number;
  shearDegrees: number;
  zoomX: number;
  zoomY: number;
  flipHorizontal: boolean;
  channelShift: number;
}

export function drawTransforms(opts: { config: AugmentConfig; seed: number; count: number; width: number; height: number }): ImageTransform[] {
  const { config } = opts;
  const rng = createRng(opts.seed);
  const symmetric = (range: number) => (range ? rng.uniform(-range, range) : 0);
  return Array.from({ length: opts.count }, () => {
    const thetaDegrees = symmetric(config.rotationRange);
    const shiftYPixels = symmetric(config.heightShiftRange) * opts.height;
    const shiftXPixels = symmetric(config.widthShiftRange) * opts.width;
    const shearDegrees = symmetric(config.shearRange);
    const [low, high] = config.zoomRange;
    const zoomX = low === 1 && high === 1 ? 1 : rng.uniform(low, high);
    const zoomY = low === 1 && high === 1 ? 1 : rng.uniform(low, high);
    const flipHorizontal = config.horizontalFlip ? rng.next() < 0.5 : false;
    const channelShift = symmetric(config.channelShiftRange);
    return { thetaDegrees, shiftXPixels, shiftYPixels, shearDegrees, zoomX, zoomY, flipHorizontal, channelShift };
  });
}

type Matrix = [number, number, number, number, number, number, number, number, number];

function multiply(a: Matrix, b: Matrix): Matrix {
  const out = new Array(9).fill(0) as Matrix;
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) for (let k = 0; k < 3; k++) out[row * 3 + col] += a[row * 3 + k] * b[k * 3 + col];
  return out;
}

/**
 * The 8 numbers of tf.image.transform (output pixel (x, y) → input pixel), composed as in Keras'
 * apply_affine_transform: rotation · shift · shear · zoom, centred on the image, then the flip.
 */
export function transformRow(t: ImageTransform, width: number, height: number): number[] {
  const theta = (t.thetaDegrees * Math.PI) / 180;
  const shear = (t.shearDegrees * Math.PI) / 180;
  const rotation: Matrix = [Math.cos(theta), -Math.sin(theta), 0, Math.sin(theta), Math.cos(theta), 0, 0, 0, 1];
  const shift: Matrix = [1, 0, t.shiftXPixels, 0, 1, t.shiftYPixels, 0, 0, 1];
  const shearing: Matrix = [1, -Math.sin(shear), 0, 0, Math.cos(shear), 0, 0, 0, 1];
  const zoom: Matrix = [t.zoomX, 0, 0, 0, t.zoomY, 0, 0, 0, 1];
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const toCentre: Matrix = [1, 0, cx, 0, 1, cy, 0, 0, 1];
  const fromCentre: Matrix = [1, 0, -cx, 0, 1, -cy, 0, 0, 1];
  const flip: Matrix = t.flipHorizontal ? [-1, 0, width - 1, 0, 1, 0, 0, 0, 1] : [1, 0, 0, 0, 1, 0, 0, 0, 1];
  let m = multiply(toCentre, multiply(rotation, multiply(shift, multiply(shearing, multiply(zoom, fromCentre)))));
  // Keras flips after the affine warp: out(x, y) = warped(W-1-x, y), i.e. M · F
  m = multiply(m, flip);
  return [m[0], m[1], m[2], m[3], m[4], m[5], 0, 0];
}

// tf.image.transform's coordinate mapping for points outside the image (same rules as the kernels).
function mapCoordinate(coordinate: number, length: number, mode: AugmentConfig["fillMode"]): number {
  if (mode === "constant") return coordinate;
  if (mode === "nearest") return Math.min(Math.max(coordinate, 0), length - 1);
  if (length <= 1) return 0;
  let c = coordinate;
  const period = 2 * length;
  if (mode === "wrap") {
    // (sic) the kernels divide by length - 1 here; matching them keeps both paths identical
    if (c < 0) c += length * (Math.trunc(-c / (length - 1)) + 1);
    else if (c > length - 1) c -= length * Math.trunc(c / (length - 1));
  } else if (c < 0) {
    if (c < period) c = period * Math.trunc(-c / period) + c;
    c = c < -length ? c + period : -c - 1;
  } else if (c > length - 1) {
    c -= period * Math.trunc(c / period);
    if (c >= length) c = period - c - 1;
  }
  return Math.min(Math.max(c, 0), length - 1);
}

/**
 * Bilinear projective warp from gathers and multiplies only, for a backend that has no Transform
 * kernel. Sampling positions are computed in JS; the pixels move on the backend.
 */
export function warpWithGather(images: tf.Tensor4D, rows: number[][], opts: { fillMode: AugmentConfig["fillMode"]; cval: number }): tf.Tensor4D {
  const [n, height, width, channels] = images.shape;
  const pixels = n * height * width;
  const indices = new Int32Array(pixels * 4);
  const weights = new Float32Array(pixels * 4);
  const fillWeights = new Float32Array(pixels);
  let p = 0;
  for (let b = 0; b < n; b++) {
    const t = rows[b];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) {
        const inX = mapCoordinate(t[0] * x + t[1] * y + t[2], width, opts.fillMode);
        const inY = mapCoordinate(t[3] * x + t[4] * y + t[5], height, opts.fillMode);
        const x0 = Math.floor(inX);
        const y0 = Math.floor(inY);
        const fx = inX - x0;
        const fy = inY - y0;
        const corners = [
          [x0, y0, (1 - fx) * (1 - fy)],
          [x0 + 1, y0, fx * (1 - fy)],
          [x0, y0 + 1, (1 - fx) * fy],
          [x0 + 1, y0 + 1, fx * fy],
        ];
        corners.forEach(([cx, cy, w], k) => {
          const inside = cx >= 0 && cx < width && cy >= 0 && cy < height;
          indices[p * 4 + k] = inside ? (b * height + cy) * width + cx : 0;
          weights[p * 4 + k] = inside ? w : 0;
          if (!inside) fillWeights[p] += w;
        });
      }
    }
  }
  return tf.tidy(() => {
    const flat = images.reshape([pixels, channels]);
    const gathered = tf.gather(flat, tf.tensor1d(indices, "int32")).reshape([pixels, 4, channels]);
    const mixed = gathered.mul(tf.tensor3d(weights, [pixels, 4, 1])).sum(1);
    const filled = opts.cval === 0 ? mixed : mixed.add(tf.tensor2d(fillWeights, [pixels, 1]).mul(opts.cval));
    return filled.reshape([n, height, width, channels]) as tf.Tensor4D;
  });
}

function warp(images: tf.Tensor4D, rows: number[][], config: AugmentConfig): tf.Tensor4D {
  const options = { fillMode: config.fillMode, cval: config.cval };
  if (!hasKernel("Transform")) return warpWithGather(images, rows, options);
  const apply = (batch: tf.Tensor4D, matrix: number[][]) =>
    tf.image.transform(batch, tf.tensor2d(matrix, [matrix.length, 8]), "bilinear", config.fillMode, config.cval);
  if (transformWarpsFirstImageOnly() && images.shape[0] > 1) {
    return tf.concat(tf.unstack(images).map((image, i) => apply(image.expandDims(0) as tf.Tensor4D, [rows[i]])), 0) as tf.Tensor4D;
  }
  return apply(images, rows);
}

const isIdentity = (row: number[]) => row.every((value, i) => Math.abs(value - [1, 0, 0, 0, 1, 0, 0, 0][i]) < 1e-12);

/**
 * The same warp and channel shift as augmentBatchWithOps, computed in plain JS on NHWC pixel data
 * (same sampling rules as the Transform kernels). On CPU engines this is several times faster than
 * the cpu/wasm Transform kernels, and it is what keeps the input pipeline ahead of training there.
 */
export function augmentPixels(data: Float32Array | Uint8Array, shape: [number, number, number, number], opts: { config: AugmentConfig; seed: number }): Float32Array {
  const [n, height, width, channels] = shape;
  const imageSize = height * width * channels;
  const images = Array.from({ length: n }, (_, b) => data.subarray(b * imageSize, (b + 1) * imageSize));
  return augmentImages(images, [height, width, channels], opts);
}

/** augmentPixels for separate images (e.g. decoded uint8 buffers), into a new float32 batch. */
export function augmentImages(images: readonly (Float32Array | Uint8Array)[], shape: [number, number, number], opts: { config: AugmentConfig; seed: number }): Float32Array {
  const out = new Float32Array(images.length * shape[0] * shape[1] * shape[2]);
  augmentInto(out, images, shape, opts);
  return out;
}

/**
 * The host path's batch tensor: decoded images are warped straight into the tensor's memory (on
 * wasm, the backend's heap), so no batch-sized array is allocated or copied.
 */
export function augmentedBatch(images: readonly Uint8Array[], shape: [number, number, number], opts: { config: AugmentConfig; seed: number }): tf.Tensor4D {
  return writeBatchTensor<tf.Rank.R4>([images.length, ...shape], (out) => augmentInto(out, images, shape, opts));
}

/** One image (HWC float32) warped by a given transform on the host path: for checks against hand-derived Keras cases. */
export function warpImageWith(image: Float32Array, shape: [number, number, number], transform: ImageTransform, fill: Pick<AugmentConfig, "fillMode" | "cval">): Float32Array {
  const out = new Float32Array(image.length);
  warpImage(image, out, 0, transformRow(transform, shape[1], shape[0]), shape, { ...NO_AUGMENT, ...fill });
  return out;
}

/** Each image is warped into its slice of `out` (NHWC float32), then channel-shifted in place. */
function augmentInto(out: Float32Array, images: readonly (Float32Array | Uint8Array)[], shape: [number, number, number], opts: { config: AugmentConfig; seed: number }): void {
  const [height, width, channels] = shape;
  const transforms = drawTransforms({ config: opts.config, seed: opts.seed, count: images.length, width, height });
  const imageSize = height * width * channels;
  // The warp loops read float32 only: one element type keeps their loads monomorphic (mixing uint8
  // and float32 sources made them ~3× slower); a native uint8 → float32 copy costs far less.
  let scratch: Float32Array | undefined;
  const asFloat32 = (image: Float32Array | Uint8Array): Float32Array => {
    if (image instanceof Float32Array) return image;
    scratch ??= new Float32Array(imageSize);
    scratch.set(image);
    return scratch;
  };
  images.forEach((image, b) => {
    warpImage(asFloat32(image), out, b * imageSize, transformRow(transforms[b], width, height), shape, opts.config);
    if (opts.config.channelShiftRange && transforms[b].channelShift !== 0) channelShift(out.subarray(b * imageSize, (b + 1) * imageSize), transforms[b].channelShift);
  });
}

/**
 * Keras apply_channel_shift: one intensity added to every channel, clipped to the image's min and
 * max. Only the bound on the side the shift moves towards can clip, so only that one is computed.
 */
function channelShift(image: Float32Array, shift: number): void {
  if (shift > 0) {
    let high = -Infinity;
    for (let i = 0; i < image.length; i++) if (image[i] > high) high = image[i];
    for (let i = 0; i < image.length; i++) {
      const v = image[i] + shift;
      image[i] = v > high ? high : v;
    }
  } else {
    let low = Infinity;
    for (let i = 0; i < image.length; i++) if (image[i] < low) low = image[i];
    for (let i = 0; i < image.length; i++) {
      const v = image[i] + shift;
      image[i] = v < low ? low : v;
    }
  }
}

function warpImage(data: Float32Array, out: Float32Array, outBase: number, t: number[], shape: [number, number, number], config: AugmentConfig): void {
  const [height, width, channels] = shape;
  if (isIdentity(t)) out.set(data, outBase);
  else if (config.fillMode === "nearest" && channels === 3 && width > 1 && height > 1) warpNearestRgb(data, out, outBase, t, width, height);
  else warpAnyMode(data, out, outBase, t, shape, config);
}

/**
 * The study's case (fill "nearest", RGB), which dominates input-pipeline time: the source point is
 * clamped into the image, so every sample has four neighbours inside and the loop needs no bounds
 * checks. At the last row or column the neighbour pair moves one step in with weight 1 on the edge
 * pixel — the same value the kernels get with weight 0 on the outside neighbour.
 */
function warpNearestRgb(data: Float32Array, out: Float32Array, outBase: number, t: number[], width: number, height: number): void {
  const maxX = width - 1;
  const maxY = height - 1;
  const rowStride = width * 3;
  const [t0, t1, t2, t3, t4, t5] = t;
  let o = outBase;
  for (let y = 0; y < height; y++) {
    // affine: the source point moves by (t0, t3) per output pixel along the row
    let sx = t1 * y + t2;
    let sy = t4 * y + t5;
    for (let x = 0; x < width; x++, sx += t0, sy += t3, o += 3) {
      const inX = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      const inY = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      let x0 = inX | 0; // non-negative: truncation is floor
      let y0 = inY | 0;
      if (x0 === maxX) x0--;
      if (y0 === maxY) y0--;
      const fx = inX - x0;
      const fy = inY - y0;
      const w11 = fx * fy;
      const w10 = fy - w11; // (1 - fx) * fy
      const w01 = fx - w11; // fx * (1 - fy)
      const w00 = 1 - fx - fy + w11;
      const i = y0 * rowStride + x0 * 3;
      const j = i + rowStride;
      out[o] = w00 * data[i] + w01 * data[i + 3] + w10 * data[j] + w11 * data[j + 3];
      out[o + 1] = w00 * data[i + 1] + w01 * data[i + 4] + w10 * data[j + 1] + w11 * data[j + 4];
      out[o + 2] = w00 * data[i + 2] + w01 * data[i + 5] + w10 * data[j + 2] + w11 * data[j + 5];
    }
  }
}

function warpAnyMode(data: Float32Array, out: Float32Array, outBase: number, t: number[], shape: [number, number, number], config: AugmentConfig): void {
  const [height, width, channels] = shape;
  const { fillMode, cval } = config;
  const rowStride = width * channels;
  const read = (y: number, x: number, c: number) => (y >= 0 && y < height && x >= 0 && x < width ? data[y * rowStride + x * channels + c] : cval);
  let o = outBase;
  for (let y = 0; y < height; y++) {
    let sx = t[1] * y + t[2];
    let sy = t[4] * y + t[5];
    for (let x = 0; x < width; x++, sx += t[0], sy += t[3]) {
      const inX = mapCoordinate(sx, width, fillMode);
      const inY = mapCoordinate(sy, height, fillMode);
      const x0 = Math.floor(inX);
      const y0 = Math.floor(inY);
      const fx = inX - x0;
      const fy = inY - y0;
      // a neighbour outside the image reads as cval (with its bilinear weight), as in the kernels
      for (let c = 0; c < channels; c++, o++) {
        const top = (1 - fx) * read(y0, x0, c) + fx * read(y0, x0 + 1, c);
        const bottom = (1 - fx) * read(y0 + 1, x0, c) + fx * read(y0 + 1, x0 + 1, c);
        out[o] = (1 - fy) * top + fy * bottom;
      }
    }
  }
}

/** The tensor-op path: one tf.image.transform for the batch (gathers where no kernel exists). */
export function augmentBatchWithOps(images: tf.Tensor4D, opts: { config: AugmentConfig; seed: number }): tf.Tensor4D {
  const [n, height, width] = images.shape;
  const transforms = drawTransforms({ config: opts.config, seed: opts.seed, count: n, width, height });
  const rows = transforms.map((t) => transformRow(t, width, height));
  return tf.tidy(() => {
    let out: tf.Tensor4D = rows.every(isIdentity) ? images.clone() : warp(images, rows, opts.config);
    if (opts.config.channelShiftRange) {
      // Keras apply_channel_shift: one intensity per image added to every channel, clipped to the
      // image's own min and max
      const shift = tf.tensor4d(transforms.map((t) => t.channelShift), [n, 1, 1, 1]);
      const low = out.min([1, 2, 3], true);
      const high = out.max([1, 2, 3], true);
      out = tf.minimum(tf.maximum(out.add(shift), low), high) as tf.Tensor4D;
    }
    return out;
  });
}

/**
 * Augments a batch of float32 0–255 RGB images (NHWC). Returns a new tensor; the input is kept.
 * Same (config, seed, batch shape) → same output, on every backend (host and op paths agree to
 * float rounding).
 */
export function augmentBatch(images: tf.Tensor4D, opts: { config: AugmentConfig; seed: number }): tf.Tensor4D {
  if (!augmentsOnHost()) return augmentBatchWithOps(images, opts);
  return tf.tensor4d(augmentPixels(images.dataSync() as Float32Array, images.shape, opts), images.shape);
}
