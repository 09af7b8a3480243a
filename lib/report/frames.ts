// The study's tables as danfo DataFrames (what the notebook displays and the workbook writes).
// Only lib/report imports danfojs-node; it is loaded on first use, not at import time.
import type { DataFrame } from "danfojs-node";
import type { RunResults } from "../evaluate/run";
import type { Summary } from "../evaluate/summary";
import { buildTables, type ColumnSpec, type SheetName, type Table } from "./tables";

export interface ReportFrame {
  sheet: SheetName;
  title: string;
  /** Format and best-value direction per column, in the frame's column order. */
  columns: ColumnSpec[];
  frame: DataFrame;
}

type Danfo = typeof import("danfojs-node");
let danfo: Danfo | undefined;
export function loadDanfo(): Danfo {
  danfo ??= require("danfojs-node") as Danfo;
  return danfo;
}

export function tableToFrame(table: Table): ReportFrame {
  const { DataFrame } = loadDanfo();
  const frame = new DataFrame(table.rows, { columns: table.columns.map((c) => c.name) });
  return { sheet: table.sheet, title: table.title, columns: table.columns, frame };
}

/** Every table of the report, in sheet order. */
export function buildFrames(opts: { results: RunResults; summary: Summary }): ReportFrame[] {
  return buildTables(opts).map(tableToFrame);
}

/** Rows of a frame as plain arrays (danfo's `values` for a frame is a 2-D array). */
export function frameRows(frame: DataFrame): (string | number | boolean | null)[][] {
  return frame.shape[0] === 0 ? [] : (frame.values as (string | number | boolean | null)[][]);
}
