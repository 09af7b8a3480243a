// A small end-to-end report: a real tiny training run of two architectures (lib/train on the
// embedded synthetic set), then evaluation (predictions + latency) and the report with its workbook.
// Also: a run directory written in two different orders gives identical tables and summary.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import ExcelJS from "exceljs";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine/index";
import { writeJsonAtomic } from "../lib/io/atomic";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { buildReport, frameRows, SHEET_NAMES, writeReport } from "../lib/report/index";
import { runTraining } from "../lib/train/index";
import { HISTORIES, MANIFEST, writeFixtureRun } from "./report-fixture";

test("train two tiny networks, evaluate them, write the report and the workbook", { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "report-e2e-"));
  try {
    const params = resolveParams({
      ARCHS: "mobilenet,mobilenet_v2",
      EPOCHS: "2",
      IMAGE_SIZE: "32",
      BATCH_SIZE: "8",
      TRAIN_PER_CLASS: "8",
      VALIDATION_PER_CLASS: "6",
      SYNTHETIC_PER_CLASS: "14",
      RUN_ID: "e2e",
      RUNS_DIR: path.join(dir, "runs"),
      PREPARED_DIR: path.join(dir, "prepared"),
      ENGINE: process.env.ENGINE ?? "auto",
    });
    const engine = await selectEngine({ engine: params.engine, quiet: true });
    const trained = await runTraining(params, { engine });
    assert.deepEqual(trained.histories.map((h) => h.arch), ["mobilenet", "mobilenet_v2"]);
    // A failed architecture, as a shard would record it: the report must list it.
    await writeJsonAtomic(path.join(trained.runDir, "densenet121", "error.json"), { schema: "showcase.scale-error/1", arch: "densenet121", kind: "deterministic", error: { name: "Error", message: "out of memory (injected by the test)" } });

    const lines: string[] = [];
    const tiny = { warmupRuns: 1, minRuns: 3, minTotalMs: 0 };
    const outcome = await evaluateRun(params, { engine, budget: tiny, batchBudget: { warmupRuns: 0, minRuns: 2, minTotalMs: 0 }, batchSizes: [1, 8], log: (line) => lines.push(line) });
    assert.equal(outcome.models, "trained");
    assert.deepEqual(outcome.evaluations.map((e) => [e.arch, e.images]), [["mobilenet", 12], ["mobilenet_v2", 12]]);
    assert.match(path.basename(outcome.latencyPath), new RegExp(`^latency-.+-${engine.engine}\\.json$`));
    const files = await readdir(trained.runDir);
    assert.ok(files.includes(path.basename(outcome.latencyPath)));
    assert.deepEqual((await readdir(path.join(trained.runDir, "evaluation"))).sort(), ["mobilenet.json", "mobilenet_v2.json"]);

    // A second pass keeps what exists (resumable) and measures nothing again.
    const again = await evaluateRun(params, { engine, budget: tiny, batchSizes: [1], log: (line) => lines.push(line) });
    assert.deepEqual(again.latency.archs.map((a) => a.arch), ["mobilenet", "mobilenet_v2"]);
    assert.ok(lines.filter((l) => /exists, kept/.test(l)).length >= 4, lines.join("\n"));

    const workbookPath = path.join(dir, "Deeplearning-showcase_Tables.xlsx");
    const report = await writeReport({ runDir: trained.runDir, workbookPath });
    assert.deepEqual(report.frames.map((f) => f.sheet), [...SHEET_NAMES]);
    for (const frame of report.frames) assert.ok(frameRows(frame.frame).length > 0, `${frame.sheet} has rows`);
    // the trade-off chart: networks + Pareto front for tfjs (wasm) and for ONNX Runtime
    assert.deepEqual(report.charts.map((c) => c.data.length), [2, 2, 2, 8, 4]);
    assert.equal(report.summary.failures[0]?.arch, "densenet121");
    assert.match(report.markdown, /Synthetic data/);
    assert.match(report.markdown, /Failed:\*\* densenet121 — out of memory \(injected by the test\)/);
    const best = [...outcome.evaluations].sort((x, y) => y.accuracy - x.accuracy || (x.arch === "mobilenet" ? -1 : 1))[0];
    assert.ok(report.markdown.includes(`**Most accurate:** ${best.displayName}, ${(100 * best.accuracy).toFixed(1)} %`), report.markdown);
    assert.match(report.markdown, /exact McNemar p = /);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(workbookPath);
    assert.deepEqual(workbook.worksheets.map((s) => s.name), [...SHEET_NAMES]);
    assert.equal(workbook.getWorksheet("Wrong Classifications")!.rowCount, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("merged tables are identical whatever order the results were written in", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "report-order-"));
  try {
    await writeFixtureRun(path.join(dir, "a"), "forward");
    await writeFixtureRun(path.join(dir, "b"), "reverse");
    const [a, b] = await Promise.all([buildReport({ runDir: path.join(dir, "a") }), buildReport({ runDir: path.join(dir, "b") })]);
    const tables = (r: typeof a) => r.frames.map((f) => [f.sheet, f.frame.columns, frameRows(f.frame).map((row) => row.map((cell) => (typeof cell === "string" ? cell.replace(/\/(a|b)$/, "/x") : cell)))]);
    assert.deepEqual(tables(a), tables(b));
    assert.equal(a.markdown, b.markdown);
    assert.deepEqual(a.summary.missing, ["inception_v3"]);
    assert.deepEqual(a.summary.failures.map((f) => f.key), ["densenet169"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a sharded run directory: one row per run key, failed and missing keys listed", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "report-sharded-"));
  try {
    const [history] = HISTORIES.filter((h) => h.arch === "mobilenet");
    const keys = ["mobilenet__seed-1__lr-0.001", "mobilenet__seed-2__lr-0.001", "resnet50__seed-1__lr-0.001", "resnet50__seed-2__lr-0.001"];
    await writeJsonAtomic(path.join(dir, "runlist.json"), { schema: "showcase.runlist/1", runId: "grid", runs: keys.map((key, index) => ({ index, key, arch: key.split("__")[0] })) });
    for (const key of keys.slice(0, 2)) {
      await writeJsonAtomic(path.join(dir, "results", key, "run.json"), { ...MANIFEST, runId: "grid" });
      await writeJsonAtomic(path.join(dir, "results", key, "mobilenet", "history.json"), history);
      await writeJsonAtomic(path.join(dir, "results", key, "result.json"), { key });
    }
    await writeJsonAtomic(path.join(dir, "results", keys[2], "error.json"), { arch: "resnet50", error: { name: "Error", message: "out of memory" } });
    const report = await buildReport({ runDir: dir });
    assert.deepEqual(report.results.histories.map((h) => h.displayName), ["MobileNet [seed-1 lr-0.001]", "MobileNet [seed-2 lr-0.001]"]);
    assert.deepEqual(report.summary.failures.map((f) => [f.key, f.message]), [[keys[2], "out of memory"]]);
    assert.equal(report.summary.missing.length, 1);
    assert.match(report.summary.missing[0], /^resnet50__seed-2__lr-0\.001 /);
    assert.equal(frameRows(report.frames[0].frame).length, 2);
    assert.match(report.markdown, /Missing:\*\* resnet50__seed-2/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
