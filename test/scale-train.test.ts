// The default trainer wired to the real lib/train: one tiny sharded run, trained, recorded and merged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { runShardFromCli } from "../lib/cli/shard";
import { mergeResults } from "../lib/scale";
import { loadRun } from "../lib/train";
import { tempDir } from "./temp-dir";

test("a shard trains its run with lib/train into results/<key>/ and the merge reads it", async () => {
  const root = await tempDir("scale-train-");
  const env = {
    RUNS_DIR: path.join(root, "runs"), PREPARED_DIR: path.join(root, "prepared"), RUN_ID: "tiny", ARCHS: "mobilenet", SEEDS: "7",
    EPOCHS: "1", IMAGE_SIZE: "32", TRAIN_PER_CLASS: "4", VALIDATION_PER_CLASS: "2", SYNTHETIC_PER_CLASS: "6", BATCH_SIZE: "4", ENGINE: "cpu",
  };
  const lines: string[] = [];
  const tensorsBefore = tf.memory().numTensors;
  assert.equal(await runShardFromCli({ args: ["--shard", "0/1"], env, log: (line) => lines.push(line) }), 0, lines.join("\n"));
  assert.equal(tf.memory().numTensors, tensorsBefore, "models and tensors disposed");
  const runDir = path.join(env.RUNS_DIR, "tiny");
  const merged = await mergeResults(runDir);
  assert.deepEqual(merged.completed.map((run) => run.key), ["mobilenet__seed-7__lr-0.001"]);
  const metrics = merged.completed[0].metrics;
  assert.equal(metrics.epochs, 1);
  assert.ok(typeof metrics.finalValidationAccuracy === "number" && metrics.finalValidationAccuracy >= 0 && metrics.finalValidationAccuracy <= 1);
  const [history] = (await loadRun(path.join(runDir, merged.completed[0].resultDir))).histories;
  assert.equal(history.status, "finished");
  assert.equal(history.epochs[0].validationAccuracy, metrics.finalValidationAccuracy, "the result summarises lib/train's history");
  const runManifest = JSON.parse(await fs.readFile(path.join(runDir, "results", "mobilenet__seed-7__lr-0.001", "run.json"), "utf8"));
  assert.equal(runManifest.params.seed, 7, "the run's seed reaches lib/train");
  // A second pass skips the run without loading a model.
  lines.length = 0;
  assert.equal(await runShardFromCli({ args: ["--shard", "0/1"], env, log: (line) => lines.push(line) }), 0);
  assert.match(lines.join("\n"), /0 trained, 1 skipped/);
});
