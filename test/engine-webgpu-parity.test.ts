// Same results on webgpu as on cpu: two small CNNs covering the layers of the eight networks
// (conv, batch norm, ReLU6, depthwise and separable conv, zero padding, concat, add, pooling,
// dense) train a few steps on each backend from the same weights; losses must agree to 1e-4.
// WebGPU runs on Mesa's lavapipe (software Vulkan, scripts/fetch-lavapipe.sh) in a child process,
// because the Vulkan loader reads its environment at start. Skips, saying why, without the driver
// (fails instead with REQUIRE_TOOLS=1, as in CI).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { finishChild, runLavapipeChild } from "./lavapipe-child";
import { skipWithout } from "./tools";

const CHILD_FLAG = "SHOWCASE_WEBGPU_PARITY_CHILD";
const STEPS = 3;
const BATCH = 4;
const SIZE = 16;

function mobileLike(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
  const stem = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  let y = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false }).apply(stem) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ maxValue: 6 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  const added = tf.layers.add().apply([stem, y]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(added) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 2, activation: "softmax" }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

function inceptionLike(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: "relu" }).apply(x) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(x) as tf.SymbolicTensor;
  let y = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  y = tf.layers.averagePooling2d({ poolSize: 2 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: "same" }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 2, activation: "softmax" }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

const MODELS = { mobileLike: { build: mobileLike, optimizer: () => tf.train.sgd(0.05) }, inceptionLike: { build: inceptionLike, optimizer: () => tf.train.adam(0.01) } };

/** Trains every model STEPS steps on the current backend from the given weights; returns the losses. */
async function trainOnCurrentBackend(initial: Record<string, Float32Array[]>, data: { xs: Float32Array; ys: Float32Array }): Promise<Record<string, number[]>> {
  const losses: Record<string, number[]> = {};
  for (const [name, spec] of Object.entries(MODELS)) {
    const model = spec.build();
    model.setWeights(model.getWeights().map((w, i) => tf.tensor(initial[name][i], w.shape)));
    model.compile({ optimizer: spec.optimizer(), loss: "categoricalCrossentropy" });
    const xs = tf.tensor4d(data.xs, [BATCH, SIZE, SIZE, 3]);
    const ys = tf.tensor2d(data.ys, [BATCH, 2]);
    losses[name] = [];
    for (let step = 0; step < STEPS; step++) losses[name].push(Number(await model.trainOnBatch(xs, ys)));
    tf.dispose([xs, ys]);
    model.dispose();
  }
  return losses;
}

async function child(): Promise<void> {
  const { selectEngine, disposeWebGpu } = await import("../lib/engine");
  await tf.setBackend("cpu");
  // Weights and data made once, on the cpu backend, then replayed on each backend.
  const initial: Record<string, Float32Array[]> = {};
  for (const [name, spec] of Object.entries(MODELS)) {
    const model = spec.build();
    initial[name] = model.getWeights().map((w) => w.dataSync() as Float32Array);
    model.dispose();
  }
  const data = tf.tidy(() => ({
    xs: tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, "float32", 7).dataSync() as Float32Array,
    ys: tf.oneHot(tf.tensor1d([0, 1, 1, 0], "int32"), 2).toFloat().dataSync() as Float32Array,
  }));
  const cpu = await trainOnCurrentBackend(initial, data);
  const engine = await selectEngine({ engine: "webgpu", quiet: true });
  const webgpu = await trainOnCurrentBackend(initial, data);
  disposeWebGpu();
  process.stdout.write(`${JSON.stringify({ engine, cpu, webgpu })}\n`);
}

if (process.env[CHILD_FLAG]) {
  finishChild(child());
} else {
  test("webgpu (software Vulkan) trains like cpu: losses equal to 1e-4", { skip: skipWithout("lavapipe"), timeout: 120_000 }, () => {
    const result = runLavapipeChild<{
      engine: { engine: string; backend: string; device: string; adapter?: { isFallbackAdapter: boolean; description: string } };
      cpu: Record<string, number[]>;
      webgpu: Record<string, number[]>;
    }>(__filename, CHILD_FLAG, { timeoutMs: 110_000 });
    assert.equal(result.engine.backend, "webgpu");
    assert.equal(result.engine.device, "cpu", "a software adapter is never reported as a GPU");
    assert.match(result.engine.adapter!.description, /llvmpipe/);
    for (const name of Object.keys(MODELS)) {
      const cpu = result.cpu[name];
      const webgpu = result.webgpu[name];
      assert.equal(webgpu.length, STEPS);
      assert.ok(cpu.every(Number.isFinite) && webgpu.every(Number.isFinite));
      assert.notDeepEqual(cpu[0], cpu[STEPS - 1], `${name}: training changed nothing`);
      cpu.forEach((loss, step) => assert.ok(Math.abs(loss - webgpu[step]) <= 1e-4, `${name} step ${step}: cpu ${loss} vs webgpu ${webgpu[step]}`));
    }
  });
}
