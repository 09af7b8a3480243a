// Transfer-learning modes (frozen weights and BatchNormalization statistics stay bit-identical),
// the scale-free BatchNormalization training path,
// preprocessing against hand-computed values, and the registry's own rules.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import {
  ARCH_IDS,
  ARCHITECTURES,
  applyTransferMode,
  buildTransferModel,
  defineRegistry,
  disposeTransferModel,
  preprocessInput,
  type TransferModel,
} from "../lib/models";
import { patchScaleFreeBatchNormTraining } from "../lib/models/batchnorm-scale-fix";
import { trainLogisticHead } from "../lib/bench/features";

before(async () => {
  await tf.setBackend("cpu");
});

function snapshot(layers: readonly tf.layers.Layer[]): Map<string, Float32Array[]> {
  return new Map(layers.map((layer) => [layer.name, layer.getWeights().map((w) => w.dataSync().slice() as Float32Array)]));
}

function changedLayers(before: Map<string, Float32Array[]>, layers: readonly tf.layers.Layer[]): string[] {
  return layers
    .filter((layer) => {
      const now = layer.getWeights().map((w) => w.dataSync());
      return now.some((values, i) => values.some((value, j) => !Object.is(value, (before.get(layer.name) as Float32Array[])[i][j])));
    })
    .map((layer) => layer.name);
}

async function trainOneStep(transfer: TransferModel, size: number): Promise<number> {
  transfer.model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
  const xs = tf.randomUniform([4, size, size, 3], -1, 1, "float32", 3);
  const ys = tf.oneHot(tf.tensor1d([0, 0, 0, 1], "int32"), 2);
  const loss = (await transfer.model.trainOnBatch(xs, ys)) as number;
  tf.dispose([xs, ys]);
  return loss;
}

describe("transfer modes on MobileNet α=0.25 at 32 px", () => {
  test("frozen: every base weight incl. BN moving mean/variance stays bit-identical; the head learns", async () => {
    const transfer = await buildTransferModel("mobilenet", { alpha: 0.25, inputSize: 32, classes: 2, weights: "none", weightsDir: "/nonexistent", seed: 5 });
    try {
      const { trainableParams, trainableBlocks } = applyTransferMode(transfer, { kind: "frozen" });
      assert.equal(trainableParams, 256 * 2 + 2);
      assert.equal(trainableBlocks, 0);
      const before = snapshot(transfer.model.layers);
      assert.ok(Number.isFinite(await trainOneStep(transfer, 32)));
      assert.deepEqual(changedLayers(before, transfer.model.layers), ["head_predictions"]);
    } finally {
      disposeTransferModel(transfer);
    }
  });

  test("top:1 trains the last block (and its BN statistics) only; finetune unpins BN again", async () => {
    const transfer = await buildTransferModel("mobilenet", { alpha: 0.25, inputSize: 32, classes: 2, weights: "none", weightsDir: "/nonexistent", seed: 5 });
    try {
      const top = applyTransferMode(transfer, { kind: "top", blocks: 1 });
      assert.equal(top.totalBlocks, ARCHITECTURES.mobilenet.blocks.length);
      const before = snapshot(transfer.model.layers);
      const lastBlockAndHead = ["conv_dw_13", "conv_dw_13_bn", "conv_pw_13", "conv_pw_13_bn", "head_predictions"];
      const trainable = transfer.model.layers.filter((layer) => layer.trainableWeights.length > 0).map((layer) => layer.name);
      assert.deepEqual(trainable, lastBlockAndHead);
      await trainOneStep(transfer, 32);
      const changed = changedLayers(before, transfer.model.layers);
      assert.ok(changed.every((name) => lastBlockAndHead.includes(name)), `changed outside the last block: ${changed.join(", ")}`);
      assert.ok(changed.includes("conv_pw_13_bn") && changed.includes("head_predictions"), `changed: ${changed.join(", ")}`);

      applyTransferMode(transfer, { kind: "finetune" });
      const beforeFinetune = snapshot(transfer.model.layers);
      await trainOneStep(transfer, 32);
      assert.ok(changedLayers(beforeFinetune, transfer.model.layers).includes("conv1_bn"), "finetune must update the first BN layer");
      assert.equal(applyTransferMode(transfer, { kind: "top", blocks: 999 }).trainableBlocks, top.totalBlocks, "n is clamped to the number of blocks");
    } finally {
      disposeTransferModel(transfer);
    }
  });

  test("no weights file with WEIGHTS=imagenet: the error says which file to put where", async () => {
    await assert.rejects(
      buildTransferModel("resnet50", { inputSize: 32, classes: 2, weights: "imagenet", weightsDir: "/nonexistent/weights" }),
      /\/nonexistent\/weights\/resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5[\s\S]*https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/resnet\/resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5/,
    );
  });
});

test("SEED fixes every random initial weight, the base's included: same seed, same weights; another seed, others", async () => {
  const unseededRandom = Math.random;
  const weightsOf = async (seed: number) => {
    const transfer = await buildTransferModel("mobilenet", { alpha: 0.25, inputSize: 32, classes: 2, weights: "none", weightsDir: "/nonexistent", seed });
    try {
      return transfer.model.weights.map((weight) => Buffer.from((weight.read().dataSync() as Float32Array).buffer));
    } finally {
      disposeTransferModel(transfer);
    }
  };
  const [a, again, other] = [await weightsOf(7), await weightsOf(7), await weightsOf(8)];
  assert.ok(a.every((buffer, i) => buffer.equals(again[i])), "same seed: bit-identical");
  const conv1 = 0; // conv1/kernel: random (glorot), not a constant like BN's gamma
  assert.ok(!a[conv1].equals(other[conv1]), "another seed: another base");
  assert.equal(Math.random, unseededRandom, "Math.random is restored after the build");
});

test("BatchNormalization with scale=false trains like scale=true with gamma 1, and differentiates in inference mode", () => {
  patchScaleFreeBatchNormTraining();
  const x = tf.randomNormal([4, 3, 3, 5], 2, 3, "float32", 11);
  const [withoutScale, withScale] = [false, true].map((scale) => tf.layers.batchNormalization({ scale, momentum: 0.9, epsilon: 1e-3 }));
  const [outWithout, outWith] = [withoutScale, withScale].map((layer) => layer.apply(x, { training: true }) as tf.Tensor);
  assert.ok(tf.max(tf.abs(tf.sub(outWithout, outWith))).dataSync()[0] < 1e-5);
  const stats = (layer: tf.layers.Layer) => layer.getWeights().slice(-2).map((w) => Array.from(w.dataSync()));
  const [mean0, variance0] = stats(withoutScale);
  const [mean1, variance1] = stats(withScale);
  mean0.forEach((value, i) => assert.ok(Math.abs(value - mean1[i]) < 1e-5));
  variance0.forEach((value, i) => assert.ok(Math.abs(value - variance1[i]) < 1e-4));
  assert.ok(mean0.some((value) => value !== 0), "moving mean must move in training mode");
  // Inference mode under a gradient tape (a frozen scale-free BN inside fit) must differentiate too.
  const gradient = tf.grad((input: tf.Tensor) => (withoutScale.apply(input, { training: false }) as tf.Tensor).sum())(x);
  assert.ok(Number.isFinite(gradient.sum().dataSync()[0]));
  tf.dispose([x, outWithout, outWith, gradient]);
  withoutScale.dispose();
  withScale.dispose();
});

describe("preprocessInput from 0–255 RGB, against hand-computed Keras values", () => {
  const pixel = () => tf.tensor4d([255, 128, 0], [1, 1, 1, 3]);
  const cases = {
    tf: [1, 128 / 127.5 - 1, -1],
    torch: [(1 - 0.485) / 0.229, (128 / 255 - 0.456) / 0.224, (0 - 0.406) / 0.225],
    caffe: [0 - 103.939, 128 - 116.779, 255 - 123.68], // BGR order
  } as const;
  for (const [mode, expected] of Object.entries(cases)) {
    test(mode, () => {
      const input = pixel();
      const output = preprocessInput(input, mode as keyof typeof cases);
      Array.from(output.dataSync()).forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-4, `${mode}[${i}] = ${value}, expected ${expected[i]}`));
      tf.dispose([input, output]);
    });
  }
  test("unknown mode is refused with the allowed modes", () => {
    const input = pixel();
    assert.throws(() => preprocessInput(input, "bgr" as never), /unknown preprocess mode "bgr": allowed caffe, torch, tf/);
    input.dispose();
  });
});

describe("registry", () => {
  test("one spec per id, with Keras input sizes, preprocessing and weight files", () => {
    assert.deepEqual(Object.keys(ARCHITECTURES), [...ARCH_IDS]);
    for (const spec of Object.values(ARCHITECTURES)) {
      assert.equal(spec.defaultInputSize, spec.id.startsWith("inception") ? 299 : 224, spec.id);
      assert.equal(spec.preprocess, spec.id === "resnet50" ? "caffe" : spec.id.startsWith("densenet") ? "torch" : "tf", spec.id);
      assert.match(spec.weights.top.url, /^https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/.+\.h5$/);
      assert.match(spec.weights.noTop.file, /no_?top\.h5$/);
      if (!spec.id.startsWith("mobilenet")) assert.equal(spec.weights.noTop.hash?.algorithm, "md5");
      assert.ok(spec.blocks.length >= 11, `${spec.id} needs freezing blocks`);
    }
  });

  test("duplicate and missing ids are rejected", () => {
    const specs = Object.values(ARCHITECTURES);
    assert.throws(() => defineRegistry([...specs, specs[0]]), /duplicate id "densenet121"/);
    assert.throws(() => defineRegistry(specs.slice(1)), /no spec for densenet121/);
  });
});

test("the feature benchmark's logistic head separates separable features", () => {
  const rows = (count: number, shift: number, seed: number) =>
    tf.tidy(() => tf.unstack(tf.randomNormal([count, 8], 0, 1, "float32", seed).add(tf.tensor1d([shift, 0, 0, 0, 0, 0, 0, 0]))).map((row) => row.dataSync() as Float32Array));
  const train = [...rows(40, -2, 1), ...rows(40, 2, 2)];
  const evaluate = [...rows(40, -2, 3), ...rows(40, 2, 4)];
  const labels = [...Array(40).fill(0), ...Array(40).fill(1)];
  const separable = trainLogisticHead({ train, trainLabels: labels, evaluate, evaluateLabels: labels, epochs: 100 });
  assert.ok(separable.evaluateAccuracy > 0.9, `accuracy ${separable.evaluateAccuracy}`);
  assert.equal(separable.evaluateCorrect, Math.round(separable.evaluateAccuracy * 80));
});
