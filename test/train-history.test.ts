import { test } from "node:test";
import assert from "node:assert/strict";
import { EpochAccumulator, bestEpoch, isContinuous, overfittingEpoch, shouldStopEarly } from "../lib/train/history";
import type { EpochLog } from "../lib/schemas/history";

function logs(trainLoss: number[], validationLoss: number[]): EpochLog[] {
  return trainLoss.map((loss, i) => ({
    epoch: i + 1,
    trainLoss: loss,
    trainAccuracy: 0.5,
    validationLoss: validationLoss[i],
    validationAccuracy: 0.5,
    epochSeconds: 1,
    imagesPerSecond: 1,
  }));
}

test("EpochAccumulator weights batches by their image count", () => {
  const acc = new EpochAccumulator();
  assert.ok(Number.isNaN(acc.loss));
  acc.add({ loss: 1, accuracy: 0.5, images: 16 });
  acc.add({ loss: 4, accuracy: 1, images: 4 });
  assert.equal(acc.imageCount, 20);
  assert.equal(acc.loss, (16 + 16) / 20);
  assert.equal(acc.accuracy, (8 + 4) / 20);
});

test("best epoch is the lowest validation loss, earliest on ties, NaN ignored", () => {
  assert.equal(bestEpoch(logs([1, 0.9, 0.8, 0.7], [0.9, 0.5, 0.6, 0.5])), 2);
  assert.equal(bestEpoch(logs([1, 0.9], [Number.NaN, 0.7])), 2);
  assert.equal(bestEpoch([]), null);
});

test("overfitting starts at the first epoch where validation loss rises while training loss falls", () => {
  // val rises at 3 but train rises too (not overfitting); at 5 val rises while train falls.
  assert.equal(overfittingEpoch(logs([1.0, 0.8, 0.85, 0.7, 0.6, 0.5], [0.9, 0.7, 0.75, 0.65, 0.7, 0.8])), 5);
  assert.equal(overfittingEpoch(logs([1.0, 0.8, 0.6], [0.9, 0.7, 0.5])), null); // steady improvement
  assert.equal(overfittingEpoch(logs([1.0, 0.8], [0.5, 0.6])), 2);
  assert.equal(overfittingEpoch(logs([1.0], [0.5])), null);
});

test("early stopping: patience epochs without a new best; off when undefined", () => {
  const history = logs([1, 0.9, 0.8, 0.7, 0.6], [0.5, 0.6, 0.7, 0.4, 0.45]);
  assert.equal(shouldStopEarly(history.slice(0, 2), 2), false);
  assert.equal(shouldStopEarly(history.slice(0, 3), 2), true);
  assert.equal(shouldStopEarly(history, 2), false); // epoch 4 is a new best
  assert.equal(shouldStopEarly(history.slice(0, 3), undefined), false);
});

test("continuity: epochs 1..n with no gap or repeat", () => {
  assert.equal(isContinuous(logs([1, 1, 1], [1, 1, 1])), true);
  const broken = logs([1, 1, 1], [1, 1, 1]);
  broken[2].epoch = 2;
  assert.equal(isContinuous(broken), false);
});
