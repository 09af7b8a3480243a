// The study's protocol projected from a short run's histories (scripts/project-study.ts): build + save
// + epochs × the mean measured epoch, per network and in total.
import { test } from "node:test";
import assert from "node:assert/strict";
import { projectStudy } from "../lib/train/projection";
import type { ArchHistory, EpochLog } from "../lib/schemas/history";

function history(arch: ArchHistory["arch"], epochSeconds: number[], buildSeconds: number, saveSeconds: number): ArchHistory {
  const epochs: EpochLog[] = epochSeconds.map((s, i) => ({ epoch: i + 1, trainLoss: 1, trainAccuracy: 0.5, validationLoss: 1, validationAccuracy: 0.5, epochSeconds: s, imagesPerSecond: 2000 / s }));
  return { schema: "showcase.history/1", arch, displayName: arch, status: "finished", inputSize: 224, parameters: 1, trainableParameters: 1, layers: 1, epochs, buildSeconds, saveSeconds, totalSeconds: 0, bestEpoch: null, overfittingEpoch: null, stoppedEarly: false };
}

test("projectStudy: build + save + epochs × mean epoch per network, summed; networks without an epoch are left out", () => {
  const { networks, totalSeconds } = projectStudy([history("mobilenet_v2", [20, 10], 3, 1), history("resnet50", [40], 5, 2), history("densenet121", [], 4, 0)], 10);
  assert.deepEqual(networks.map((n) => [n.arch, n.measuredEpochs, n.meanEpochSeconds, n.projectedSeconds]), [
    ["mobilenet_v2", 2, 15, 3 + 150 + 1],
    ["resnet50", 1, 40, 5 + 400 + 2],
  ]);
  assert.equal(networks[0].meanImagesPerSecond, (100 + 200) / 2);
  assert.equal(totalSeconds, 154 + 407);
});
