import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { resolveParams } from "../lib/config";
import { decodeResized, evalBatches, NO_AUGMENT, prepareDataset, STUDY_AUGMENT, trainBatches, type DatasetManifest } from "../lib/data";
import { tempDir } from "./data-helpers";

let manifest: DatasetManifest;
let cacheDir: string;

before(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
  const preparedDir = await tempDir();
  cacheDir = path.join(preparedDir, "cache");
  ({ manifest } = await prepareDataset({ ...resolveParams({ SEED: "3" }), preparedDir, syntheticPerClass: 14, trainPerClass: 10, validationPerClass: 4 }));
});

async function collect(batches: AsyncIterable<{ xs: tf.Tensor4D; ys: tf.Tensor2D; records: { path: string }[] }>) {
  const out: { paths: string[]; shape: number[]; labels: number[]; sum: number }[] = [];
  for await (const batch of batches) {
    const [labelTensor, sumTensor] = [batch.ys.argMax(1), batch.xs.sum()];
    const labels = Array.from(labelTensor.dataSync());
    const sum = sumTensor.dataSync()[0];
    tf.dispose([labelTensor, sumTensor]);
    out.push({ paths: batch.records.map((r) => r.path), shape: batch.xs.shape, labels, sum });
    tf.dispose([batch.xs, batch.ys]);
  }
  return out;
}

test("trainBatches: shuffled per (seed, epoch), reproducible, one-hot labels, no tensor leaks", async () => {
  const before = tf.memory().numTensors;
  const options = { manifest, imageSize: 32, batchSize: 6, seed: 1, augment: STUDY_AUGMENT, cacheDir };
  const epoch0 = await collect(trainBatches({ ...options, epoch: 0 }));
  const again = await collect(trainBatches({ ...options, epoch: 0 }));
  const epoch1 = await collect(trainBatches({ ...options, epoch: 1 }));
  assert.equal(tf.memory().numTensors, before, "every tensor created is handed to the consumer");
  assert.deepEqual(epoch0.map((b) => b.shape), [[6, 32, 32, 3], [6, 32, 32, 3], [6, 32, 32, 3], [2, 32, 32, 3]]);
  assert.deepEqual(again, epoch0, "same seed and epoch → same order and same augmented pixels (cached second time)");
  assert.notDeepEqual(epoch1.map((b) => b.paths), epoch0.map((b) => b.paths));
  assert.deepEqual(epoch0.flatMap((b) => b.paths).sort(), manifest.splits.train.map((r) => r.path).sort(), "one pass covers train exactly once");
  const labelOf = new Map(manifest.splits.train.map((r) => [r.path, r.labelIndex]));
  assert.deepEqual(epoch0.flatMap((b) => b.labels), epoch0.flatMap((b) => b.paths.map((p) => labelOf.get(p))));
});

test("trainBatches with stepsPerEpoch takes that many full batches; stopping early leaks nothing", async () => {
  const before = tf.memory().numTensors;
  const batches = await collect(trainBatches({ manifest, imageSize: 24, batchSize: 8, seed: 2, epoch: 0, stepsPerEpoch: 4, augment: null }));
  assert.equal(batches.length, 4);
  assert.ok(batches.every((b) => b.shape[0] === 8), "32 images from 20: continues into a fresh shuffle");
  for await (const batch of trainBatches({ manifest, imageSize: 24, batchSize: 4, seed: 2, epoch: 0, augment: STUDY_AUGMENT })) {
    tf.dispose([batch.xs, batch.ys]);
    break;
  }
  assert.equal(tf.memory().numTensors, before);
});

test("evalBatches: ordered as in the manifest, not augmented, pixels equal decodeResized", async () => {
  const before = tf.memory().numTensors;
  const batches = await collect(evalBatches({ manifest, split: "validation", imageSize: 32, batchSize: 3 }));
  assert.deepEqual(batches.flatMap((b) => b.paths), manifest.splits.validation.map((r) => r.path));
  const pixels = await decodeResized(manifest.splits.validation.slice(0, 3), { size: 32 });
  const expected = pixels.reduce((sum, image) => sum + image.reduce((a, v) => a + v, 0), 0);
  assert.equal(batches[0].sum, expected);
  const plain = await collect(trainBatches({ manifest, imageSize: 32, batchSize: 3, seed: 0, epoch: 0, augment: NO_AUGMENT }));
  assert.equal(plain.length, 7);
  assert.equal(tf.memory().numTensors, before);
});
