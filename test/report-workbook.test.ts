// The workbook round trip: every cell read back with exceljs equals the DataFrame it came from;
// header bold and frozen, number formats, best values highlighted; LibreOffice opens it when installed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import ExcelJS from "exceljs";
import { mergeLatency } from "../lib/evaluate/latency-file";
import { summarize } from "../lib/evaluate/summary";
import { BEST_FILL_ARGB, buildFrames, frameRows, NUMBER_FORMATS, type ReportFrame, SHEET_NAMES, writeWorkbook } from "../lib/report/index";
import { collectInventory, machineSlug } from "../lib/system/index";
import { fixtureResults } from "./report-fixture";
import { skipWithout, tool } from "./tools";

function fixtureFrames(): ReportFrame[] {
  const results = fixtureResults();
  const summary = summarize({ histories: results.histories, evaluations: results.evaluations, latency: mergeLatency(results.latency), failures: results.failures, missing: results.missing, synthetic: true });
  return buildFrames({ results, summary });
}

const isBest = (cell: ExcelJS.Cell) => (cell.fill as ExcelJS.FillPattern | undefined)?.fgColor?.argb === BEST_FILL_ARGB;

test("workbook round trip: sheets, every cell, formats, frozen bold header, best values", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "workbook-"));
  try {
    const frames = fixtureFrames();
    const file = await writeWorkbook({ frames, path: path.join(dir, "Deeplearning-showcase_Tables.xlsx") });
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith(".tmp")), [], "no temp file left behind");
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await readFile(file));
    assert.deepEqual(workbook.worksheets.map((s) => s.name), [...SHEET_NAMES]);
    for (const report of frames) {
      const sheet = workbook.getWorksheet(report.sheet)!;
      const columns = report.frame.columns;
      const rows = frameRows(report.frame);
      assert.ok(rows.length > 0, `${report.sheet} has rows`);
      assert.equal(sheet.rowCount, rows.length + 1, `${report.sheet}: header + ${rows.length} rows`);
      assert.equal(sheet.views[0]?.state, "frozen");
      assert.equal((sheet.views[0] as { ySplit?: number }).ySplit, 1);
      columns.forEach((name, c) => {
        const header = sheet.getCell(1, c + 1);
        assert.equal(header.value, name);
        assert.equal(header.font?.bold, true, `${report.sheet}: header ${name} bold`);
        assert.ok((sheet.getColumn(c + 1).width ?? 0) >= 10, `${report.sheet} "${name}" column width ${sheet.getColumn(c + 1).width}`);
      });
      rows.forEach((row, r) => {
        row.forEach((value, c) => {
          const cell = sheet.getCell(r + 2, c + 1);
          assert.deepEqual(cell.value, value ?? null, `${report.sheet} row ${r + 1} "${columns[c]}"`);
          const format = NUMBER_FORMATS[report.columns[c].format];
          if (format && typeof value === "number") assert.equal(cell.numFmt, format, `${report.sheet} "${columns[c]}" format`);
        });
      });
    }
    // Best values: accuracy max, latency min, throughput max, wrong min — checked against the fixture by name.
    const wrong = workbook.getWorksheet("Wrong Classifications")!;
    const wrongHeader = (wrong.getRow(1).values as unknown[]).slice(1);
    const accuracyColumn = wrongHeader.indexOf("Accuracy") + 1;
    const totalColumn = wrongHeader.indexOf("Wrong total") + 1;
    const bestAccuracyRows = [2, 3, 4].filter((r) => isBest(wrong.getCell(r, accuracyColumn)));
    assert.deepEqual(bestAccuracyRows.map((r) => wrong.getCell(r, 1).value), ["DenseNet121"]); // 36/40 beats 32/40 and 30/40
    assert.deepEqual([2, 3, 4].filter((r) => isBest(wrong.getCell(r, totalColumn))).map((r) => wrong.getCell(r, 1).value), ["DenseNet121"]);
    const time = workbook.getWorksheet("Classification Time")!;
    const timeHeader = (time.getRow(1).values as unknown[]).slice(1);
    const p50 = timeHeader.indexOf("p50 (ms)") + 1;
    const b32 = timeHeader.indexOf("Batch 32 (img/s)") + 1;
    const network = timeHeader.indexOf("Network") + 1;
    const rowsOf = (column: number) => [2, 3, 4, 5, 6, 7].filter((r) => isBest(time.getCell(r, column))).map((r) => `${time.getCell(r, 1).value}/${time.getCell(r, network).value}`);
    assert.deepEqual(rowsOf(p50), ["workstation/MobileNet"]);
    assert.deepEqual(rowsOf(b32), ["workstation/MobileNet"]);
    const loss = workbook.getWorksheet("Validation Loss")!;
    const lowest = (loss.getRow(1).values as unknown[]).slice(1).indexOf("Lowest") + 1;
    assert.deepEqual([2, 3, 4].filter((r) => isBest(loss.getCell(r, lowest))).map((r) => loss.getCell(r, 1).value), ["DenseNet121"]); // 0.30
    assert.equal(isBest(loss.getCell(2, 1)), false, "text columns are never highlighted");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// A second, independent reader: Python's openpyxl, every sheet, every cell, against the frames.
const READ_ALL_SHEETS = `
import json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1], data_only=True)
json.dump([{"name": sheet.title, "rows": [list(row) for row in sheet.iter_rows(values_only=True)]} for sheet in book.worksheets], sys.stdout)
`;

test("openpyxl reads every sheet back, cell by cell, equal to the frames", { skip: skipWithout("openpyxl") }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "workbook-openpyxl-"));
  try {
    const frames = fixtureFrames();
    const file = await writeWorkbook({ frames, path: path.join(dir, "tables.xlsx") });
    const sheets = JSON.parse(execFileSync(tool("openpyxl"), ["-c", READ_ALL_SHEETS, file], { encoding: "utf8", timeout: 60_000 })) as { name: string; rows: unknown[][] }[];
    assert.deepEqual(sheets.map((sheet) => sheet.name), frames.map((report) => report.sheet));
    frames.forEach((report, i) => {
      const [header, ...rows] = sheets[i].rows;
      assert.deepEqual(header, report.frame.columns, `${report.sheet}: header`);
      assert.deepEqual(rows, frameRows(report.frame).map((row) => row.map((value) => value ?? null)), `${report.sheet}: cells`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("LibreOffice opens the workbook (converted to CSV)", { skip: skipWithout("libreoffice") }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "workbook-lo-"));
  try {
    const frames = fixtureFrames();
    const file = await writeWorkbook({ frames, path: path.join(dir, "tables.xlsx") });
    execFileSync(tool("libreoffice"), ["--headless", `-env:UserInstallation=file://${dir}/profile`, "--convert-to", "csv", "--outdir", dir, file], { stdio: "pipe", timeout: 60_000 });
    const csv = (await readFile(path.join(dir, "tables.csv"), "utf8")).trim().split(/\r?\n/);
    // The first sheet (Training Duration): header and one line per network.
    assert.equal(csv[0], frames[0].frame.columns.join(","));
    assert.equal(csv.length, frameRows(frames[0].frame).length + 1);
    // LibreOffice writes the stored values (not the display format): they must be the frame's.
    frameRows(frames[0].frame).forEach((row, r) => assert.equal(csv[r + 1], row.map((v) => (v === null ? "" : String(v))).join(",")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("Machine Specs and Run sheets: GPU memory, numbers as numbers, one column per machine, the run's set-up, today's date", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "workbook-specs-"));
  try {
    // The inventory lib/system really writes, with a GPU from a fake nvidia-smi.
    const smi = path.join(dir, "nvidia-smi");
    await writeFile(smi, '#!/bin/sh\necho "NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04"\n');
    await chmod(smi, 0o755);
    const inventory = await collectInventory({ env: { PATH: `${dir}${path.delimiter}${process.env.PATH}` } });
    const results = fixtureResults();
    const engine = { engine: "webgpu" as const, backend: "webgpu", device: "gpu" as const, reason: "test", warnings: [], threads: 1, versions: {} };
    results.manifest = { ...results.manifest!, inventory, engine, params: { ...results.manifest!.params, weights: "imagenet", transfer: { kind: "top", blocks: 2 } } };
    const here = machineSlug(inventory);
    results.latency = [{ ...results.latency[1], machine: here, engine, inventory: { ...inventory } }, results.latency[0]];
    const summary = summarize({ histories: results.histories, evaluations: results.evaluations, latency: mergeLatency(results.latency), failures: results.failures, missing: results.missing, synthetic: true });
    const before = Date.now();
    const file = await writeWorkbook({ frames: buildFrames({ results, summary }), path: path.join(dir, "tables.xlsx") });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await readFile(file));
    assert.ok(workbook.created.getTime() >= before - 1000 && workbook.created.getTime() <= Date.now() + 1000, `created ${workbook.created.toISOString()}`);

    const specs = workbook.getWorksheet("Machine Specs")!;
    assert.deepEqual((specs.getRow(1).values as unknown[]).slice(1), ["Field", here, "laptop"], "the machine that trained and timed is one column");
    const field = (name: string) => {
      const row = (specs.getColumn(1).values as unknown[]).indexOf(name);
      assert.ok(row > 0, `Machine Specs has a "${name}" row`);
      return [specs.getCell(row, 2).value, specs.getCell(row, 3).value];
    };
    assert.deepEqual(field("Used for"), ["training (webgpu), latency (webgpu)", "latency (wasm)"]);
    assert.deepEqual(field("GPU memory (MiB)"), [81559, null]);
    assert.deepEqual(field("GPUs"), ["NVIDIA H100 80GB HBM3", "none"]);
    assert.deepEqual(field("Logical cores"), [inventory.cpu.logicalCores, 8]);
    assert.equal(typeof field("RAM (GiB)")[0], "number");
    assert.equal(typeof field("Disk free (GiB)")[0], "number");

    const run = workbook.getWorksheet("Run")!;
    const value = new Map((run.getSheetValues() as unknown[][]).slice(2).map((row) => [row[1], row[2]]));
    assert.equal(value.get("Weights"), "imagenet");
    assert.equal(value.get("Transfer"), "top:2");
    assert.equal(value.get("Engine"), "webgpu (backend webgpu)");
    assert.equal(value.get("Device"), "gpu");
    assert.equal(value.get("Epochs"), 3, "numbers as numbers");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
