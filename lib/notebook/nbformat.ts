// The slice of nbformat 4.x the runner and the HTML renderer need: types, reading, writing.
import { promises as fs } from "node:fs";
import { writeFileAtomic } from "../io/atomic";

export type MimeBundle = Record<string, unknown>;

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: string | string[];
}
export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** What happened to a code cell during a headless run (kept in cell.metadata.showcase). */
export type CellStatus = "ok" | "error" | "timeout" | "crashed" | "not-run";

export interface CodeCell {
  cell_type: "code";
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs: Output[];
  execution_count: number | null;
}
export interface TextCell {
  cell_type: "markdown" | "raw";
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  attachments?: Record<string, MimeBundle>;
}
export type Cell = CodeCell | TextCell;

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown> & {
    kernelspec?: { name: string; display_name: string; language?: string };
    language_info?: Record<string, unknown>;
  };
  cells: Cell[];
}

/** nbformat stores multi-line strings either whole or as a list of lines. */
export function joinText(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join("") : (text ?? "");
}

export async function readNotebook(file: string): Promise<Notebook> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read notebook ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const notebook = parsed as Notebook;
  if (!notebook || notebook.nbformat !== 4 || !Array.isArray(notebook.cells)) {
    throw new Error(`${file} is not an nbformat 4 notebook (expected "nbformat": 4 and a "cells" list)`);
  }
  return notebook;
}

export async function writeNotebook(file: string, notebook: Notebook): Promise<void> {
  // One space indent and a trailing newline, as Jupyter writes them, so diffs stay familiar.
  await writeFileAtomic(file, `${JSON.stringify(notebook, null, 1)}\n`, "notebook");
}
