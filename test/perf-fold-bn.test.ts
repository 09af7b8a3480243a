// BatchNormalization folding and micro-batched training steps on small Keras-style graphs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { trainStep } from "../lib/train/step";
import "@tensorflow/tfjs-backend-wasm";
import { planMicroBatch, registerWasmTrainingKernels, WasmMemoryError } from "../lib/engine/wasm/index";
import { foldBatchNormForInference } from "../lib/models/fold-bn";

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/** Conv→BN→ReLU6, depthwise→BN→ReLU, biased conv→BN, BN without scale (InceptionV3), add, concat, dense. */
function buildNet(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3], name: "input_1" });
  let x = apply(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "Conv1" }), input);
  x = apply(tf.layers.batchNormalization({ name: "bn_Conv1" }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: "Conv1_relu" }), x);
  let d = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, name: "dw" }), x);
  d = apply(tf.layers.batchNormalization({ name: "dw_bn" }), d);
  d = apply(tf.layers.activation({ activation: "relu", name: "dw_relu" }), d);
  let c = apply(tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: true, name: "proj" }), d);
  c = apply(tf.layers.batchNormalization({ name: "proj_bn" }), c);
  const added = apply(tf.layers.add({ name: "add" }), [x, c]);
  let e = apply(tf.layers.conv2d({ filters: 4, kernelSize: [1, 3], padding: "same", useBias: false, name: "e" }), added);
  e = apply(tf.layers.batchNormalization({ scale: false, name: "e_bn" }), e);
  e = apply(tf.layers.activation({ activation: "relu", name: "e_relu" }), e);
  const cat = apply(tf.layers.concatenate({ name: "cat" }), [added, e]);
  const pooled = apply(tf.layers.globalAveragePooling2d({ name: "gap" }), cat);
  const out = apply(tf.layers.dense({ units: 2, activation: "softmax", name: "predictions" }), pooled);
  return tf.model({ inputs: input, outputs: out, name: "tiny" });
}

/** Moving statistics away from their (0, 1) initial values, so that folding has something to fold. */
function randomiseBatchNorms(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const weights = layer.getWeights().map((w, i, all) => {
      const isVariance = i === all.length - 1;
      return isVariance ? tf.randomUniform(w.shape, 0.5, 2, "float32", i) : tf.randomNormal(w.shape, 0, 0.5, "float32", i + 3);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

for (const backend of ["cpu", "wasm"]) {
  test(`foldBatchNormForInference on ${backend}: same predictions, BN folded, ReLU/ReLU6 fused`, async () => {
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend(backend));
    const model = buildNet();
    randomiseBatchNorms(model);
    const { model: folded, foldedBatchNorms, fusedActivations } = foldBatchNormForInference(model);
    assert.equal(foldedBatchNorms, 4);
    assert.equal(fusedActivations, 3);
    assert.equal(folded.layers.filter((l) => l.getClassName() === "BatchNormalization").length, 0);
    assert.ok(folded.layers.length < model.layers.length);
    const xs = tf.randomUniform([3, 12, 12, 3], -1, 1, "float32", 42);
    const expected = (model.predict(xs) as tf.Tensor).dataSync();
    const actual = (folded.predict(xs) as tf.Tensor).dataSync();
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(expected[i] - actual[i]) < 1e-5, `output ${i}: ${actual[i]} vs ${expected[i]}`);
    tf.dispose(xs);
    model.dispose();
    folded.dispose();
  });
}

test("trainStep in micro-batches gives the full-batch update when the model has no BatchNormalization", async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend("wasm"));
  const build = () => {
    const input = tf.input({ shape: [8, 8, 3] });
    let x = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), input);
    x = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "same", depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }) }), x);
    x = apply(tf.layers.globalAveragePooling2d({}), x);
    return tf.model({ inputs: input, outputs: apply(tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }), x) });
  };
  const xs = tf.randomUniform([6, 8, 8, 3], 0, 1, "float32", 5);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1, 0], "int32"), 2));
  const weightsAfter = (microBatchSize: number) => {
    const model = build();
    const result = trainStep({ model, optimizer: tf.train.sgd(0.5), xs, ys, microBatchSize });
    const values = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return { result, values };
  };
  const full = weightsAfter(6);
  const micro = weightsAfter(4);
  assert.equal(full.result.microBatches, 1);
  assert.equal(micro.result.microBatches, 2);
  assert.ok(Math.abs(full.result.loss - micro.result.loss) < 1e-5);
  full.values.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - micro.values[i][j]) < 1e-5, `weight ${i}[${j}]`)));
  tf.dispose([xs, ys]);
});

test("an impossible memory request fails with a message, not a wasm abort", () => {
  assert.equal(planMicroBatch({ batchSize: 16, bytesPerImage: 100e6, budgetBytes: 1e9, what: "x" }), 10);
  assert.throws(() => planMicroBatch({ batchSize: 16, bytesPerImage: 5e9, what: "training resnet50 at 2048 px" }), (err: unknown) =>
    err instanceof WasmMemoryError && /training resnet50 at 2048 px needs about 4768 MiB .*IMAGE_SIZE/.test(err.message));
});
