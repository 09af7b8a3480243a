// Resume after a forced kill: a child process trains two architectures, is killed with SIGKILL in
// the middle of the second architecture's second epoch, and a restart with the same RUN_ID skips
// the finished architecture and continues from the last completed epoch checkpoint — with the
// numbers of a run that was never interrupted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { isContinuous, loadRun, runTraining } from "../lib/train";
import { tinyEnv, trainUntilKilled } from "./train-fixtures";

const EPOCHS = 3;

test("a run killed with SIGKILL mid-epoch resumes from the last completed epoch and ends with exactly EPOCHS epochs", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-resume-"));
  try {
    const env = tinyEnv(dir, { ARCHS: "mobilenet,mobilenet_v2", EPOCHS: String(EPOCHS), RUN_ID: "killed" });
    const seen = await trainUntilKilled(env, "mobilenet_v2", 2);
    assert.ok(seen.some((p) => p.arch === "mobilenet" && p.phase === "done"), "the first architecture finished before the kill");

    const runDir = path.join(dir, "runs", "killed");
    const state = JSON.parse(await fs.readFile(path.join(runDir, "mobilenet_v2", "checkpoint", "epoch-001", "state.json"), "utf8"));
    assert.equal(state.epoch, 1, "the checkpoint holds the last completed epoch");
    const partial = JSON.parse(await fs.readFile(path.join(runDir, "mobilenet_v2", "history.json"), "utf8"));
    assert.equal(partial.status, "running");

    const engine = await selectEngine({ engine: "wasm", quiet: true });
    const resumed = await runTraining(resolveParams(env), { engine });
    assert.deepEqual(resumed.skipped, ["mobilenet"]);
    assert.deepEqual(resumed.resumed, ["mobilenet_v2"]);

    const { histories } = await loadRun(runDir);
    for (const history of histories) {
      assert.equal(history.status, "finished");
      assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2, 3], `${history.arch}: exactly EPOCHS continuous epochs`);
      assert.ok(isContinuous(history.epochs));
    }
    const v2 = histories.find((h) => h.arch === "mobilenet_v2")!;
    assert.deepEqual(v2.provenance?.resumedAtEpochs, [2]);
    assert.deepEqual(v2.epochs[0], partial.epochs[0], "epoch 1 is kept as it was recorded before the kill");
    const leftovers = (await fs.readdir(path.join(runDir, "mobilenet_v2"))).filter((name) => name.endsWith(".tmp") || name === "checkpoint");
    assert.deepEqual(leftovers, []);

    // Resume continues the same training: weights and the optimizer's state (Adam's moments and step
    // count) come back from the checkpoint, so the resumed epochs have the numbers of a run that was
    // never interrupted — to float32 rounding (tfjs recomputes Adam's β-powers from the step count
    // instead of carrying the running product). With fresh moments they differed by 2–12 %.
    const reference = await runTraining(resolveParams({ ...env, ARCHS: "mobilenet_v2", RUN_ID: "uninterrupted" }), { engine });
    const expected = reference.histories[0].epochs;
    assert.equal(v2.epochs.length, expected.length);
    v2.epochs.forEach((actual, i) => {
      assert.equal(actual.trainAccuracy, expected[i].trainAccuracy, `epoch ${actual.epoch} training accuracy`);
      assert.equal(actual.validationAccuracy, expected[i].validationAccuracy, `epoch ${actual.epoch} validation accuracy`);
      for (const key of ["trainLoss", "validationLoss"] as const) {
        assert.ok(Math.abs(actual[key] / expected[i][key] - 1) < 1e-5, `epoch ${actual.epoch} ${key}: resumed ${actual[key]} vs uninterrupted ${expected[i][key]}`);
      }
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
