// Resume after SIGKILL when the base trains too (TRANSFER=top:1, as PROFILE=full fine-tunes): the
// checkpoint must bring back the whole model's weights — the last block's BatchNorm statistics
// included — and the optimizer's state for every trainable weight, not only the head's. The resumed
// run ends with the numbers of a run that was never interrupted. (Weights are not compared to 1e-5:
// Adam divides by √v, so weights with near-zero gradients — a BN beta here — move by ~LEARNING_RATE
// on float32 rounding alone: 3.7e-4 apart while every loss agreed to 1e-5, measured.)
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { isContinuous, loadRun, runTraining } from "../lib/train";
import { tempDir } from "./temp-dir";
import { tinyEnv, trainUntilKilled } from "./train-fixtures";

const ARCH = "mobilenet_v2";

test("TRANSFER=top:1 killed with SIGKILL mid-epoch resumes to the accuracies and losses (1e-5) of an uninterrupted run", { timeout: 300_000 }, async () => {
  const dir = await tempDir("showcase-resume-top-");
  const env = tinyEnv(dir, { ARCHS: ARCH, EPOCHS: "3", TRANSFER: "top:1", RUN_ID: "killed" });
  await trainUntilKilled(env, ARCH, 2);

  const engine = await selectEngine({ engine: "wasm", quiet: true });
  const resumed = await runTraining(resolveParams(env), { engine });
  assert.deepEqual(resumed.resumed, [ARCH]);
  const { histories } = await loadRun(resumed.runDir);
  const history = histories[0];
  assert.equal(history.status, "finished");
  assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.ok(isContinuous(history.epochs));
  assert.deepEqual(history.provenance?.resumedAtEpochs, [2]);

  const reference = await runTraining(resolveParams({ ...env, RUN_ID: "uninterrupted" }), { engine });
  const expected = reference.histories[0].epochs;
  history.epochs.forEach((actual, i) => {
    assert.equal(actual.trainAccuracy, expected[i].trainAccuracy, `epoch ${actual.epoch} training accuracy`);
    assert.equal(actual.validationAccuracy, expected[i].validationAccuracy, `epoch ${actual.epoch} validation accuracy`);
    for (const key of ["trainLoss", "validationLoss"] as const) {
      assert.ok(Math.abs(actual[key] / expected[i][key] - 1) < 1e-5, `epoch ${actual.epoch} ${key}: resumed ${actual[key]} vs uninterrupted ${expected[i][key]}`);
    }
  });
});
