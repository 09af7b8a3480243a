// The wasm training kernels against the cpu backend's reference kernels, on random inputs, for
// every kernel size / stride / padding the eight networks use (plus a depth-multiplier case; tfjs has no gradient for dilated convs).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmTrainingKernels } from "../lib/engine/wasm";
import { wasmKernelTuning } from "../lib/engine/wasm/conv-grads";
import { simdKernelsFor } from "../lib/engine/wasm/simd/kernels";

type Grads = { dx: Float32Array; dw: Float32Array };
type Pad = "same" | "valid";

async function gradsOn(backend: string, f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D, x: Float32Array, xShape: number[], w: Float32Array, wShape: number[]): Promise<Grads> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xShape as [number, number, number, number]);
    const wt = tf.tensor4d(w, wShape as [number, number, number, number]);
    const probe = f(xt, wt);
    const r = tf.randomUniform(probe.shape, -1, 1, "float32", 7);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)));
    const [dx, dw] = g([xt, wt]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst / scale < 2e-5, `${what}: max error ${worst} relative ${worst / scale}`);
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function compare(name: string, f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D, xShape: number[], wShape: number[]): Promise<void> {
  const x = random(xShape.reduce((a, b) => a * b), 11);
  const w = random(wShape.reduce((a, b) => a * b), 23);
  const expected = await gradsOn("cpu", f, x, xShape, w, wShape);
  const actual = await gradsOn("wasm", f, x, xShape, w, wShape);
  assertClose(actual.dx, expected.dx, `${name} dx`);
  assertClose(actual.dw, expected.dw, `${name} dw`);
}

test("registerWasmTrainingKernels registers the missing gradient kernels once", async () => {
  const first = registerWasmTrainingKernels();
  const second = registerWasmTrainingKernels();
  assert.deepEqual(first, second);
  for (const name of ["Conv2DBackpropFilter", "Conv2DBackpropInput", "DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput"]) {
    assert.ok(first.includes(name), name);
    assert.ok(tf.getKernel(name, "wasm"), `${name} registered`);
  }
  assert.ok(await tf.setBackend("wasm"), "wasm backend initialises");
});

const KERNEL_SIZES: Array<[number, number]> = [[1, 1], [3, 3], [5, 5], [7, 7], [1, 3], [3, 1], [1, 7], [7, 1]];
for (const [kh, kw] of KERNEL_SIZES) {
  test(`conv2d ${kh}x${kw} gradients match cpu for strides 1, 2 and same/valid padding`, async () => {
    registerWasmTrainingKernels();
    for (const stride of [1, 2]) {
      for (const pad of ["same", "valid"] as Pad[]) {
        await compare(`conv ${kh}x${kw} s${stride} ${pad}`, (x, w) => tf.conv2d(x, w, stride, pad), [2, 11, 10, 3], [kh, kw, 3, 4]);
      }
    }
  });
}

test("conv2d gradients are the same when the patch matrix is split into image chunks", async () => {
  registerWasmTrainingKernels();
  const saved = wasmKernelTuning.patchChunkFloats;
  wasmKernelTuning.patchChunkFloats = 1; // one image per chunk
  try {
    await compare("conv 3x3 s1 chunked", (x, w) => tf.conv2d(x, w, 1, "same"), [3, 8, 8, 5], [3, 3, 5, 6]);
    await compare("conv 1x1 projection (Co < Ci)", (x, w) => tf.conv2d(x, w, 1, "valid"), [3, 5, 6, 7], [1, 1, 7, 3]);
    await compare("conv 1x1 s2 projection", (x, w) => tf.conv2d(x, w, 2, "same"), [3, 5, 6, 7], [1, 1, 7, 3]);
    await compare("conv 3x3 s2 chunked", (x, w) => tf.conv2d(x, w, 2, "valid"), [3, 9, 9, 5], [3, 3, 5, 6]);
  } finally {
    wasmKernelTuning.patchChunkFloats = saved;
  }
});

test("depthwise conv gradients match cpu for 3x3/5x5, strides 1, 2, same/valid, multiplier 2", async () => {
  registerWasmTrainingKernels();
  for (const k of [3, 5]) {
    for (const stride of [1, 2]) {
      for (const pad of ["same", "valid"] as Pad[]) {
        // 6 channels: the plain-JS loops; 8: the SIMD rows (C % 4 == 0)
        for (const channels of [6, 8]) {
          await compare(`dw ${k}x${k} s${stride} ${pad} C${channels}`, (x, w) => tf.depthwiseConv2d(x, w, stride, pad), [2, 11, 10, channels], [k, k, channels, 1]);
        }
      }
    }
  }
  await compare("dw 3x3 multiplier 2", (x, w) => tf.depthwiseConv2d(x, w, 2, "same"), [2, 9, 9, 4], [3, 3, 4, 2]);
});

test("wasm Slice, Identity and Cast replacements give the cpu results", async () => {
  registerWasmTrainingKernels();
  const x = random(2 * 5 * 6 * 3, 5);
  const cases: Array<[number[], number[]]> = [[[0, 1, 1, 0], [2, 3, 4, 3]], [[1, 0, 0, 0], [1, 5, 6, 3]], [[0, 0, 2, 1], [2, 5, 3, 2]], [[0, 4, 0, 0], [-1, 1, -1, -1]]];
  for (const [begin, size] of cases) {
    const results: Float32Array[] = [];
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      results.push(tf.tidy(() => tf.slice(tf.cast(tf.clone(tf.tensor4d(x, [2, 5, 6, 3])), "float32"), begin, size).dataSync() as Float32Array));
    }
    assert.deepEqual(results[1], results[0], `slice ${begin} ${size}`);
  }
  await tf.setBackend("wasm");
  const ints = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], "int32");
  assert.deepEqual(Array.from(tf.slice(ints, [0, 1], [2, 2]).dataSync()), [2, 3, 5, 6]);
  assert.deepEqual(Array.from(tf.cast(ints, "float32").dataSync()), [1, 2, 3, 4, 5, 6]);
  tf.dispose(ints);
});

test("wasm Sum/Mean over the leading axes give the cpu results", async () => {
  registerWasmTrainingKernels();
  // [3, 4, 5, 6]: plain JS; [3, 12, 10, 8]: SIMD with 360 rows (two float32 flushes)
  for (const shape of [[3, 4, 5, 6], [3, 12, 10, 8]] as Array<[number, number, number, number]>) {
  const x = random(shape.reduce((a, b) => a * b), 9);
  for (const [axes, keepDims] of [[[0, 1, 2], false], [[0, 1, 2], true], [[2, 0, 1], false], [[1, 2], false], [[0], false]] as Array<[number[], boolean]>) {
    const results: Float32Array[][] = [];
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      results.push(tf.tidy(() => {
        const t = tf.tensor4d(x, shape);
        return [tf.sum(t, axes, keepDims).dataSync() as Float32Array, tf.mean(t, axes, keepDims).dataSync() as Float32Array];
      }));
    }
    assertClose(results[1][0], results[0][0], `sum ${axes} ${shape}`);
    assertClose(results[1][1], results[0][1], `mean ${axes} ${shape}`);
  }
  }
});

test("wasm batch norm gives the cpu results, with and without offset/scale (SIMD for C % 4 == 0, wasm's own kernel otherwise)", async () => {
  registerWasmTrainingKernels();
  for (const channels of [6, 8]) {
    const x = random(2 * 7 * 5 * channels, 41);
    const stats = [random(channels, 42), random(channels, 43).map((v) => v + 1.5), random(channels, 44), random(channels, 45)];
    for (const affine of [true, false]) {
      const results: Float32Array[] = [];
      for (const backend of ["cpu", "wasm"]) {
        await tf.setBackend(backend);
        results.push(tf.tidy(() => {
          const [mean, variance, offset, scale] = stats.map((v) => tf.tensor1d(v));
          return tf.batchNorm(tf.tensor4d(x, [2, 7, 5, channels]), mean, variance, affine ? offset : undefined, affine ? scale : undefined, 1e-3).dataSync() as Float32Array;
        }));
      }
      assertClose(results[1], results[0], `batch norm C${channels} ${affine ? "with" : "without"} offset/scale`);
    }
  }
});

test("the SIMD kernels are reachable on the wasm backend (else training silently takes the plain-JS loops)", async () => {
  await tf.setBackend("wasm");
  assert.ok(simdKernelsFor(tf.backend()), "tfjs-backend-wasm's memory is exported as .wasm.asm.memory");
});

test("gradients through training-mode BatchNorm, ReLU6, ReLU, clipByValue and mean match cpu (SIMD and plain-JS channel counts)", async () => {
  registerWasmTrainingKernels();
  for (const channels of [6, 8]) {
    const shapes = { x: [2, 16, 16, 3], w: [3, 3, 3, channels], dw: [3, 3, channels, 1], gamma: [channels], beta: [channels] };
    const values = Object.fromEntries(Object.entries(shapes).map(([name, shape], i) => [name, random(shape.reduce((a, b) => a * b), 31 + i)]));
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const inputs = Object.entries(shapes).map(([name, shape]) => tf.tensor(values[name], shape));
        const loss = (x: tf.Tensor, w: tf.Tensor, dw: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
          const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same");
          const { mean, variance } = tf.moments(y, [0, 1, 2]); // 512 rows: two float32 flushes
          const a = tf.relu6(tf.batchNorm(y, mean, variance, beta.add(0.5), gamma.add(1.5), 1e-3)); // offset so that both ReLU6 bounds clip
          const d = tf.relu(tf.depthwiseConv2d(a as tf.Tensor4D, dw as tf.Tensor4D, 1, "same"));
          return tf.sum(tf.mul(tf.mean(tf.clipByValue(d, 0, 0.8), [0, 1, 2]), tf.range(1, channels + 1)));
        };
        return tf.grads(loss)(inputs).map((g) => g.dataSync() as Float32Array);
      });
    };
    const expected = await run("cpu");
    const actual = await run("wasm");
    Object.keys(shapes).forEach((name, i) => assertClose(actual[i], expected[i], `C${channels} d${name}`));
  }
});

test("ReLU, ReLU6 and clip gradients at exactly their bounds equal tfjs-core's (x = 0 passes nothing for ReLU and ReLU6)", async () => {
  registerWasmTrainingKernels();
  const x = [-1, 0, 0.5, 6, 7];
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => [tf.relu, tf.relu6, (t: tf.Tensor) => tf.clipByValue(t, 0, 6)].map((f) => Array.from(tf.grad((t: tf.Tensor) => tf.sum(f(t)))(tf.tensor1d(x)).dataSync())));
  };
  const expected = await run("cpu");
  assert.deepEqual(await run("wasm"), expected);
  assert.deepEqual(expected, [[0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 1, 0]]);
});
