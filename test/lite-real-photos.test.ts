// PROFILE=lite, one epoch, on the real photos and the genuine Keras weights in ../shared: prepare →
// train → evaluate through the same lib calls as notebooks 01–03. Skipped when either is missing.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { kernelEnv } from "../lib/cli/report";
import { resolveParams } from "../lib/config";
import { prepareDataset } from "../lib/data/index";
import { selectEngine } from "../lib/engine/index";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { sharedPath } from "../lib/paths";
import { runTraining } from "../lib/train/index";

const photos = sharedPath("data", "cats-dogs");
const weightsDir = sharedPath("weights", "keras");
const missing = !existsSync(path.join(photos, "train")) ? "../shared/data/cats-dogs lacks the photos" : !existsSync(path.join(weightsDir, "mobilenet_2_5_224_tf_no_top.h5")) ? "../shared/weights/keras lacks mobilenet_2_5_224_tf_no_top.h5" : false;
const GENUINE_SHA256 = "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf";

test("PROFILE=lite, one epoch: real photos, ImageNet weights, MobileNet α=0.25 fine-tuned → ≥ 85 % on the 800 validation photos", { skip: missing, timeout: 1_800_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lite-"));
  try {
    // The profile's protocol cut to one epoch (about 1 CPU-minute on wasm). Fewer photos instead
    // would be cheaper but is not the same training: with 150 or 400 photos per class the trained
    // blocks' batch-norm statistics lag behind and validation stayed at 78–83 % after 76–100 steps,
    // where the full split's first epoch (125 steps) reaches 92 % (docs/models.md).
    const params = resolveParams({
      PROFILE: "lite",
      DATA_DIR: photos,
      WEIGHTS_DIR: weightsDir,
      EPOCHS: "1",
      RUN_ID: "lite-test",
      RUNS_DIR: path.join(dir, "runs"),
      PREPARED_DIR: path.join(dir, "prepared"),
      ENGINE: process.env.ENGINE ?? "auto",
    });
    const { manifest } = await prepareDataset(params);
    assert.equal(manifest.source.synthetic, false);
    assert.deepEqual(manifest.counts.validation, { cat: 400, dog: 400 });

    const engine = await selectEngine({ engine: params.engine, quiet: true });
    const trained = await runTraining(params, { engine });
    const [history] = trained.histories;
    assert.equal(history.displayName, "MobileNet α=0.25");
    assert.equal(history.alpha, 0.25);
    assert.equal(history.provenance?.weights, "imagenet");
    assert.deepEqual(history.provenance?.weightsFile, { file: "mobilenet_2_5_224_tf_no_top.h5", sha256: GENUINE_SHA256, published: { algorithm: "sha256", value: GENUINE_SHA256 } });
    const run = JSON.parse(await readFile(path.join(trained.runDir, "run.json"), "utf8"));
    assert.equal(run.params.alpha, 0.25);
    assert.equal(run.config.alpha, 0.25);
    assert.equal(run.config.weights, "imagenet");
    assert.equal(run.dataset.synthetic, false);

    const outcome = await evaluateRun(params, { engine, budget: { warmupRuns: 1, minRuns: 3, minTotalMs: 0 }, batchBudget: { warmupRuns: 0, minRuns: 1, minTotalMs: 0 }, batchSizes: [1], log: () => {} });
    const [evaluation] = outcome.evaluations;
    assert.equal(evaluation.images, 800);
    assert.ok(evaluation.accuracy >= 0.85, `validation accuracy ${evaluation.accuracy} (history: ${history.epochs.map((e) => e.validationAccuracy.toFixed(3)).join(", ")})`);
    // the gallery's images are the real misclassified photos
    assert.ok(evaluation.misclassified.length > 0);
    for (const wrong of evaluation.misclassified) {
      const file = path.resolve(evaluation.imageRoot ?? "", wrong.path);
      assert.ok(file.startsWith(photos) && existsSync(file), file);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("`npm run report` hands the kernels absolute folders: DATA_DIR=../shared/… means the same place in notebooks/", () => {
  const env = kernelEnv({ DATA_DIR: "../shared/data/cats-dogs", WEIGHTS_DIR: " ../w ", RUNS_DIR: "", PROFILE: "lite", OTHER: "../x" });
  assert.equal(env.DATA_DIR, path.resolve("../shared/data/cats-dogs"));
  assert.equal(env.WEIGHTS_DIR, path.resolve("../w"));
  assert.equal(env.RUNS_DIR, "");
  assert.equal(env.OTHER, "../x");
  assert.equal(env.PROFILE, "lite");
});
