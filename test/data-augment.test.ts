import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { augmentBatch, augmentBatchWithOps, augmentedBatch, augmentPixels, drawTransforms, NO_AUGMENT, STUDY_AUGMENT, transformRow, warpImageWith, warpWithGather } from "../lib/data/augment";
import { writeFloat32Tensor } from "../lib/engine/wasm/heap";
import type { AugmentConfig } from "../lib/data/types";

before(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** A batch of distinct, non-symmetric images (float 0–255). */
function images(n = 3, height = 20, width = 24): tf.Tensor4D {
  const values = new Float32Array(n * height * width * 3);
  for (let i = 0; i < values.length; i++) values[i] = (i * 7 + Math.floor(i / 97) * 13) % 256;
  return tf.tensor4d(values, [n, height, width, 3]);
}

const only = (overrides: Partial<AugmentConfig>): AugmentConfig => ({ ...NO_AUGMENT, ...overrides });
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);

test("STUDY_AUGMENT holds the study's ImageDataGenerator settings", () => {
  assert.deepEqual(
    { ...STUDY_AUGMENT },
    { rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 0.2, shearRange: 0.2, zoomRange: [0.8, 1.2], channelShiftRange: 20, horizontalFlip: true, fillMode: "nearest", cval: 0 },
  );
});

test("zero ranges give the identity; same seed → same output, other seed → other output", () => {
  const x = images();
  const same = augmentBatch(x, { config: NO_AUGMENT, seed: 3 });
  assert.equal(maxAbsDiff(same, x), 0);
  const a = augmentBatch(x, { config: STUDY_AUGMENT, seed: 11 });
  const b = augmentBatch(x, { config: STUDY_AUGMENT, seed: 11 });
  const c = augmentBatch(x, { config: STUDY_AUGMENT, seed: 12 });
  assert.equal(maxAbsDiff(a, b), 0);
  assert.ok(maxAbsDiff(a, c) > 1);
  assert.deepEqual(a.shape, x.shape);
  tf.dispose([x, same, a, b, c]);
});

test("flip-only flips exactly the images whose coin says so, on both paths", () => {
  const x = images(8);
  const config = only({ horizontalFlip: true });
  const flips = drawTransforms({ config, seed: 5, count: 8, width: 24, height: 20 }).map((t) => t.flipHorizontal);
  assert.ok(flips.includes(true) && flips.includes(false), "the seed gives both outcomes");
  for (const augment of [augmentBatch, augmentBatchWithOps]) {
    const y = augment(x, { config, seed: 5 });
    const expected = tf.tidy(() => tf.concat(tf.unstack(x).map((image, i) => (flips[i] ? tf.reverse(image, 1) : image).expandDims(0)), 0));
    assert.equal(maxAbsDiff(y, expected), 0, augment.name);
    tf.dispose([y, expected]);
  }
  x.dispose();
});

test("ranges: rotation keeps the shape, shift moves content, channel shift stays within ±range and the image's min/max", () => {
  const x = images(4, 32, 32);
  const rotated = augmentBatch(x, { config: only({ rotationRange: 90 }), seed: 1 });
  assert.deepEqual(rotated.shape, [4, 32, 32, 3]);
  const shift = 30;
  const shifted = augmentBatch(x, { config: only({ channelShiftRange: shift }), seed: 2 });
  const delta = tf.tidy(() => shifted.sub(x).abs().max().dataSync()[0]);
  assert.ok(delta <= shift + 1e-3 && delta > 0, `channel shift ${delta}`);
  const [low, high] = tf.tidy(() => [x.min().dataSync()[0], x.max().dataSync()[0]]);
  const [outLow, outHigh] = tf.tidy(() => [shifted.min().dataSync()[0], shifted.max().dataSync()[0]]);
  assert.ok(outLow >= low && outHigh <= high, "clipped to the input range (Keras apply_channel_shift)");
  // the sampled parameters respect their ranges
  const draws = drawTransforms({ config: STUDY_AUGMENT, seed: 9, count: 500, width: 224, height: 224 });
  assert.ok(draws.every((d) => Math.abs(d.thetaDegrees) <= 40 && Math.abs(d.shiftXPixels) <= 0.2 * 224 && d.zoomX >= 0.8 && d.zoomX <= 1.2 && Math.abs(d.channelShift) <= 20));
  assert.ok(draws.some((d) => d.thetaDegrees > 30) && draws.some((d) => d.thetaDegrees < -30), "the range is used");
  // a pure shift of +4 px in x: output(x) = input(x + 4)
  const row = transformRow({ thetaDegrees: 0, shiftXPixels: 4, shiftYPixels: 0, shearDegrees: 0, zoomX: 1, zoomY: 1, flipHorizontal: false, channelShift: 0 }, 32, 32);
  assert.deepEqual(row, [1, 0, 4, 0, 1, 0, 0, 0]);
  tf.dispose([x, rotated, shifted]);
});

test("host path, tf.image.transform (wasm, cpu) and the gather fallback agree for every fill mode", async () => {
  const x = images(3, 16, 16);
  const data = x.dataSync() as Float32Array;
  for (const fillMode of ["nearest", "constant", "reflect", "wrap"] as const) {
    const config = { ...STUDY_AUGMENT, rotationRange: 60, widthShiftRange: 0.4, shearRange: 20, fillMode, cval: 17, channelShiftRange: 0 };
    const host = tf.tensor4d(augmentPixels(data, [3, 16, 16, 3], { config, seed: 4 }), [3, 16, 16, 3]);
    const cpuOps = augmentBatchWithOps(x, { config, seed: 4 });
    const rows = drawTransforms({ config, seed: 4, count: 3, width: 16, height: 16 }).map((t) => transformRow(t, 16, 16));
    const gathered = warpWithGather(x, rows, { fillMode, cval: 17 });
    assert.ok(maxAbsDiff(host, cpuOps) < 1e-2, `${fillMode}: host vs cpu kernel (per image) ${maxAbsDiff(host, cpuOps)}`);
    assert.ok(maxAbsDiff(host, gathered) < 1e-2, `${fillMode}: host vs gather ${maxAbsDiff(host, gathered)}`);
    await tf.setBackend("wasm");
    const xw = tf.tensor4d(data, [3, 16, 16, 3]);
    const wasmOps = augmentBatchWithOps(xw, { config, seed: 4 });
    const wasmValues = tf.tensor4d(wasmOps.dataSync(), [3, 16, 16, 3]);
    tf.dispose([xw, wasmOps]);
    await tf.setBackend("cpu");
    // tfjs-backend-wasm 4.22 maps "reflect" differently from TF/scipy (and from its cpu kernel);
    // augmentBatch never uses that kernel (host path on wasm), so only the other modes must agree
    if (fillMode !== "reflect") assert.ok(maxAbsDiff(host, wasmValues) < 1e-2, `${fillMode}: host vs wasm kernel ${maxAbsDiff(host, wasmValues)}`);
    tf.dispose([host, cpuOps, gathered, wasmValues]);
  }
  x.dispose();
});

test("training batches: uint8 images warped into the wasm heap equal the tensor-op path (study settings, channel shift included)", async () => {
  const x = images(4, 20, 24);
  const bytes = Uint8Array.from(x.dataSync());
  const pixels = [0, 1, 2, 3].map((i) => bytes.subarray(i * 20 * 24 * 3, (i + 1) * 20 * 24 * 3));
  const reference = augmentBatchWithOps(x, { config: STUDY_AUGMENT, seed: 21 }); // cpu kernel
  await tf.setBackend("wasm");
  try {
    const before = tf.memory();
    const batch = augmentedBatch(pixels, [20, 24, 3], { config: STUDY_AUGMENT, seed: 21 });
    assert.equal(tf.memory().numTensors, before.numTensors + 1);
    const onWasm = tf.tensor4d(batch.dataSync(), batch.shape);
    batch.dispose();
    assert.deepEqual(tf.memory(), { ...before, numTensors: before.numTensors + 1, numDataBuffers: before.numDataBuffers + 1, numBytes: before.numBytes + onWasm.size * 4 }, "the heap tensor is released on dispose");
    await tf.setBackend("cpu");
    assert.ok(maxAbsDiff(onWasm, reference) < 1e-2, `heap path vs op path ${maxAbsDiff(onWasm, reference)}`);
    assert.ok(maxAbsDiff(onWasm, x) > 1, "really augmented");
    onWasm.dispose();
    // a writer that throws leaves nothing allocated behind
    await tf.setBackend("wasm");
    const start = tf.memory().numBytes;
    assert.throws(() => writeFloat32Tensor<tf.Rank.R2>([64, 64], () => { throw new Error("boom"); }), /boom/);
    assert.equal(tf.memory().numBytes, start);
  } finally {
    await tf.setBackend("cpu");
    tf.dispose([x, reference]);
  }
});

// Keras apply_affine_transform, derived by hand (not from lib/data/augment.ts): the matrix
// rotation · shift · shear · zoom, with rotation [[cos θ, −sin θ], [sin θ, cos θ]], shear
// [[1, −sin s], [0, cos s]] and zoom diag(zx, zy), is centred on ((w−1)/2, (h−1)/2)
// (transform_matrix_offset_center) and maps each OUTPUT (x, y) = (column, row) to the INPUT point it
// samples (scipy.ndimage.affine_transform after Keras swaps to (row, column)), order 1, fill
// "nearest". On a 4×4 image with I[row][col] = 4·row + col, a linear function, bilinear sampling with
// edge replication returns exactly 4·clamp(y_in) + clamp(x_in), clamp to [0, 3]; centre 1.5.
describe("hand-derived Keras apply_affine_transform cases on a 4×4 image (I[r][c] = 4r + c)", () => {
  const ramp = Float32Array.from({ length: 16 }, (_, i) => i);
  const identity = { thetaDegrees: 0, shiftXPixels: 0, shiftYPixels: 0, shearDegrees: 0, zoomX: 1, zoomY: 1, flipHorizontal: false, channelShift: 0 };
  const cases = [
    {
      // θ = 90°: x_in = 1.5 − (y − 1.5) = 3 − y, y_in = x  ⇒  out[r][c] = I[c][3 − r] = 4c + 3 − r
      // (the picture turns counter-clockwise: the first output row is the last input column).
      name: "rotation by 90°",
      transform: { ...identity, thetaDegrees: 90 },
      expected: [[3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13], [0, 4, 8, 12]],
    },
    {
      // zx = zy = 2: x_in = 2(x − 1.5) + 1.5 = 2x − 1.5 → −1.5, 0.5, 2.5, 4.5, clamped 0, 0.5, 2.5, 3 (same for y).
      // Keras' zoom 2 samples twice as far: the picture shrinks (zoom out), edges replicated.
      name: "zoom 2×",
      transform: { ...identity, zoomX: 2, zoomY: 2 },
      expected: [[0, 0.5, 2.5, 3], [2, 2.5, 4.5, 5], [10, 10.5, 12.5, 13], [12, 12.5, 14.5, 15]],
    },
    {
      // s = 30° (sin ½, cos √3/2): x_in = (x − 1.5) − ½(y − 1.5) + 1.5 = x − y/2 + 0.75,
      // y_in = (√3/2)(y − 1.5) + 1.5 → 0.200962, 1.066987, 1.933013, 2.799038.
      // Row 0: x_in 0.75 1.75 2.75 3(3.75); row 1: 0.25 1.25 2.25 3(3.25); row 2: 0(−0.25) 0.75 1.75 2.75;
      // row 3: 0(−0.75) 0.25 1.25 2.25; value 4·y_in + x_in.
      name: "shear 30°",
      transform: { ...identity, shearDegrees: 30 },
      expected: [
        [1.553848, 2.553848, 3.553848, 3.803848],
        [4.517949, 5.517949, 6.517949, 7.267949],
        [7.732051, 8.482051, 9.482051, 10.482051],
        [11.196152, 11.446152, 12.446152, 13.446152],
      ],
    },
  ];
  for (const { name, transform, expected } of cases) {
    test(`${name}: the host path, tf.image.transform and the gather fallback give the hand-derived pixels`, () => {
      const check = (label: string, values: ArrayLike<number>, channels: number) => {
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 4; c++) {
            for (let k = 0; k < channels; k++) {
              const got = values[(r * 4 + c) * channels + k] - k * 100;
              assert.ok(Math.abs(got - expected[r][c]) < 1e-4, `${label} [${r}][${c}] channel ${k}: ${got} vs ${expected[r][c]}`);
            }
          }
        }
      };
      // Three channels (the host path's RGB loop), channel k offset by 100·k.
      const rgb = Float32Array.from({ length: 48 }, (_, i) => ramp[Math.floor(i / 3)] + (i % 3) * 100);
      check("host (RGB)", warpImageWith(rgb, [4, 4, 3], transform, { fillMode: "nearest", cval: 0 }), 3);
      check("host (one channel)", warpImageWith(ramp, [4, 4, 1], transform, { fillMode: "nearest", cval: 0 }), 1);
      const row = transformRow(transform, 4, 4);
      const image = tf.tensor4d(ramp, [1, 4, 4, 1]);
      const kernel = tf.image.transform(image, tf.tensor2d([row], [1, 8]), "bilinear", "nearest");
      const gathered = warpWithGather(image, [row], { fillMode: "nearest", cval: 0 });
      check("tf.image.transform (cpu)", kernel.dataSync(), 1);
      check("gather fallback", gathered.dataSync(), 1);
      tf.dispose([image, kernel, gathered]);
    });
  }
});
