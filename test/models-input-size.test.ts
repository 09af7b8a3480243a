// One rule decides the input size of an architecture (lib/models inputSizeFor): IMAGE_SIZE raised to
// the architecture's minimum. Training uses it, and so does `evaluate --latency-only` (and sharded
// evaluation, the same path): below 75 px the Inceptions would fail there, or time another size.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { resolveParams } from "../lib/config";
import { prepareDataset } from "../lib/data/index";
import { selectEngine } from "../lib/engine/index";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { ARCH_IDS, getArchSpec, inputSizeFor } from "../lib/models/index";

test("inputSizeFor raises IMAGE_SIZE to each architecture's minimum and keeps larger sizes", () => {
  for (const arch of ARCH_IDS) {
    const minimum = getArchSpec(arch).minInputSize;
    assert.equal(inputSizeFor(arch, 32), Math.max(32, minimum), arch);
    assert.equal(inputSizeFor(arch, 224), 224, arch);
  }
  assert.equal(inputSizeFor("inception_v3", 32), 75);
  assert.throws(() => inputSizeFor("vgg16", 32), /unknown architecture "vgg16"/);
});

test("evaluate --latency-only times an Inception at its minimum size, as training would build it", { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "input-size-"));
  try {
    const params = resolveParams({ ARCHS: "inception_v3", IMAGE_SIZE: "32", SYNTHETIC_PER_CLASS: "2", TRAIN_PER_CLASS: "1", VALIDATION_PER_CLASS: "1", RUN_ID: "latency-only", RUNS_DIR: path.join(dir, "runs"), PREPARED_DIR: path.join(dir, "prepared") });
    await prepareDataset(params);
    const engine = await selectEngine({ engine: "wasm", quiet: true });
    const once = { warmupRuns: 0, minRuns: 1, minTotalMs: 0 };
    const outcome = await evaluateRun(params, { engine, latencyOnly: true, budget: once, batchBudget: once, batchSizes: [1], log: () => {} });
    assert.deepEqual(outcome.latency.archs.map((a) => [a.arch, a.inputSize]), [["inception_v3", 75]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
