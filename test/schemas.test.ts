// Each file a stage writes has one schema module (lib/schemas): the files a tiny real run writes pass
// their reader's check, and a damaged file or one of another version is a one-line error naming it.
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { SchemaError } from "../lib/schemas/check";
import { readEvaluation } from "../lib/schemas/evaluation";
import { readHistory } from "../lib/schemas/history";
import { INVENTORY_SCHEMA } from "../lib/schemas/inventory";
import { readLatencyFile } from "../lib/schemas/latency";
import { readRunManifestFile } from "../lib/schemas/run-manifest";
import { runTraining } from "../lib/train";
import { tinyEnv } from "./train-fixtures";

const once = { warmupRuns: 0, minRuns: 1, minTotalMs: 0 };

/** A copy of `file` with `change` applied to its JSON, for the readers to refuse. */
async function damaged(file: string, change: (value: Record<string, unknown>) => void): Promise<string> {
  const value = JSON.parse(await fs.readFile(file, "utf8")) as Record<string, unknown>;
  change(value);
  const target = `${file}.damaged.json`;
  await fs.writeFile(target, JSON.stringify(value));
  return target;
}

test("the files of a tiny real run pass their schema modules; damaged ones are one-line errors naming file and field", { timeout: 300_000 }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "schemas-"));
  try {
    const params = resolveParams(tinyEnv(dir, { ARCHS: "mobilenet", EPOCHS: "1", RUN_ID: "schemas" }));
    const engine = await selectEngine({ engine: "wasm", quiet: true });
    const { runDir } = await runTraining(params, { engine });
    const outcome = await evaluateRun(params, { engine, onnx: false, budget: once, batchBudget: once, batchSizes: [1], log: () => {} });

    const manifest = await readRunManifestFile(path.join(runDir, "run.json"));
    assert.equal(manifest.inventory.schema, INVENTORY_SCHEMA);
    assert.deepEqual(manifest.archs, ["mobilenet"]);
    const history = await readHistory(path.join(runDir, "mobilenet", "history.json"));
    assert.equal(history.epochs.length, 1);
    const evaluation = await readEvaluation(path.join(runDir, "evaluation", "mobilenet.json"));
    assert.equal(evaluation.images, 8);
    const latency = await readLatencyFile(outcome.latencyPath);
    assert.deepEqual(latency.archs.map((a) => a.arch), ["mobilenet"]);

    const oneLine = (pattern: RegExp, reason: SchemaError["reason"]) => (error: unknown) =>
      error instanceof SchemaError && error.reason === reason && !error.message.includes("\n") && pattern.test(error.message);
    const historyFile = path.join(runDir, "mobilenet", "history.json");
    await assert.rejects(readHistory(await damaged(historyFile, (h) => (h.epochs = "none"))), oneLine(/history\.json\.damaged\.json: field "epochs" should be an array, found string: train this architecture again/, "field"));
    await assert.rejects(readHistory(await damaged(historyFile, (h) => (h.schema = "showcase.history/0"))), oneLine(/written by an older version \(schema "showcase\.history\/0"; this version reads showcase\.history\/1\)/, "version"));
    await assert.rejects(readRunManifestFile(await damaged(path.join(runDir, "run.json"), (m) => delete (m.inventory as Record<string, unknown>).hostname)), oneLine(/run\.json\.damaged\.json: field "inventory\.hostname" should be a string, found nothing/, "field"));
    await assert.rejects(readEvaluation(await damaged(path.join(runDir, "evaluation", "mobilenet.json"), (e) => (e.accuracy = null))), oneLine(/field "accuracy" should be a number, found null: evaluate again/, "field"));
    await assert.rejects(readLatencyFile(await damaged(outcome.latencyPath, (l) => delete l.schema)), oneLine(/written by an older version \(no schema field\).*re-measure/, "version"));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
