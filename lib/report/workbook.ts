// The Excel workbook reports/Deeplearning-showcase_Tables.xlsx: one sheet per table, bold frozen
// header, number formats (seconds 0.0, fractions 0.0%, milliseconds 0.00), column widths and the
// best value of each numeric column highlighted (max for accuracy/throughput, min for loss/time/errors).
import * as path from "node:path";
import type { Workbook, Worksheet } from "exceljs";
import { writeFileAtomic } from "../io/atomic";
import { reportsDir } from "../paths";
import type { ReportFrame } from "./frames";
import { frameRows } from "./frames";
import type { ColumnFormat, ColumnSpec } from "./tables";

export const WORKBOOK_FILE = "Deeplearning-showcase_Tables.xlsx";
export const defaultWorkbookPath = () => path.join(reportsDir(), WORKBOOK_FILE);

export const NUMBER_FORMATS: Record<ColumnFormat, string | undefined> = {
  text: undefined,
  integer: "0",
  seconds: "0.0",
  percent: "0.0%",
  ms: "0.00",
  loss: "0.0000",
  rate: "0.0",
  pvalue: "0.000",
};

/** Fill of the best cell in a column (light green, as spreadsheet users expect for "good"). */
export const BEST_FILL_ARGB = "FFC6EFCE";

type ExcelJs = typeof import("exceljs");
const loadExcel = (): ExcelJs => require("exceljs") as ExcelJs;

/** Row indexes (0-based, data rows) holding the best value of a column; all ties are marked. */
export function bestRowIndexes(values: readonly unknown[], best: ColumnSpec["best"]): number[] {
  if (!best) return [];
  const numbers = values.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : undefined));
  const present = numbers.filter((v): v is number => v !== undefined);
  if (present.length < 2) return []; // one value is not "best" of anything
  const target = best === "max" ? Math.max(...present) : Math.min(...present);
  return numbers.flatMap((v, i) => (v === target ? [i] : []));
}

function widthOf(value: unknown, format: ColumnFormat): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === "number") return format === "integer" ? String(Math.round(value)).length : 8;
  return String(value).length;
}

function addSheet(workbook: Workbook, report: ReportFrame): Worksheet {
  const sheet = workbook.addWorksheet(report.sheet, { views: [{ state: "frozen", ySplit: 1, xSplit: 0 }] });
  const names = report.frame.columns;
  const rows = frameRows(report.frame);
  sheet.columns = names.map((name, c) => {
    const spec = report.columns[c];
    const longest = Math.max(name.length, ...rows.map((r) => widthOf(r[c], spec.format)));
    // ≥ 10: exceljs leaves a width of 9 (its default) out of the file.
    return { header: name, key: `c${c}`, width: Math.min(60, Math.max(10, longest + 2)), style: NUMBER_FORMATS[spec.format] ? { numFmt: NUMBER_FORMATS[spec.format] } : {} };
  });
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).alignment = { vertical: "middle", wrapText: false };
  for (const row of rows) sheet.addRow(row.map((v) => (v === null || v === undefined ? null : v)));
  report.columns.forEach((spec, c) => {
    for (const r of bestRowIndexes(rows.map((row) => row[c]), spec.best)) {
      const cell = sheet.getCell(r + 2, c + 1);
      cell.fill = { type: "pattern", pattern: "solid", fgColor: { argb: BEST_FILL_ARGB } };
      cell.font = { bold: true };
    }
  });
  return sheet;
}

/** Builds the workbook in memory (one sheet per frame, in the given order). */
export function buildWorkbook(frames: readonly ReportFrame[], opts: { title?: string } = {}): Workbook {
  const ExcelJS = loadExcel();
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "deeplearning-showcase";
  workbook.title = opts.title ?? "Deeplearning showcase tables";
  // The day it was written: spreadsheet clients show it in the file's properties.
  workbook.created = new Date();
  workbook.modified = workbook.created;
  for (const frame of frames) addSheet(workbook, frame);
  return workbook;
}

/** Writes the workbook atomically (buffer, then temp file + rename) and returns its path. */
export async function writeWorkbook(opts: { frames: readonly ReportFrame[]; path?: string }): Promise<string> {
  const target = opts.path ?? defaultWorkbookPath();
  const buffer = await buildWorkbook(opts.frames).xlsx.writeBuffer();
  await writeFileAtomic(target, new Uint8Array(buffer as ArrayBuffer), "workbook");
  return target;
}
