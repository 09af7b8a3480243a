// `npm run report`: executes the numbered notebooks in order, each in a fresh tslab kernel, writes
// reports/executed/NN-name.ipynb (also the partial one of a failing notebook) and reports/index.html.
// Notebooks read each other's files, so after a failure the later ones are not run and count as failed.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import type { RunFactsSource } from "../report/run-facts";
import { type ReportEntry, renderReportHtml } from "./html";
import { readNotebook, writeNotebook } from "./nbformat";
import { type CellProgress, runNotebook } from "./runner";

const NOTEBOOK_FILE = /^\d{2}-.+\.ipynb$/;

export interface ReportOptions {
  /** Folder with the NN-name.ipynb notebooks; also the kernels' working directory. */
  notebookDir: string;
  /** reports/ : executed/ and index.html go here. */
  outDir: string;
  /** Prefixes ("01") or file names to run; default all numbered notebooks. */
  select?: string[];
  /** Environment of the kernels (parameters). */
  env: Record<string, string | undefined>;
  /** Parameters shown in the page and recorded in the executed notebooks. */
  parameters?: Record<string, string>;
  /** The run's facts for the page's first banner, read again whenever the page is written (run.json appears during 02). */
  facts?: () => Promise<RunFactsSource | undefined>;
  cellTimeoutMs?: number;
  onProgress?: (notebook: string, progress: CellProgress) => void;
  onNotebookDone?: (entry: ReportEntry, cellsRun: number, codeCells: number) => void;
}

export interface ReportResult {
  entries: ReportEntry[];
  passed: number;
  failed: number;
  htmlPath: string;
  executedDir: string;
}

/** The numbered notebooks of a folder in run order, filtered by `select`; unknown selections throw. */
export async function listReportNotebooks(notebookDir: string, select?: string[]): Promise<string[]> {
  let names: string[];
  try {
    names = (await fs.readdir(notebookDir)).filter((name) => NOTEBOOK_FILE.test(name)).sort();
  } catch {
    throw new Error(`notebook folder ${notebookDir} cannot be read`);
  }
  if (names.length === 0) throw new Error(`no NN-name.ipynb notebooks in ${notebookDir}`);
  if (!select || select.length === 0) return names;
  const chosen = new Set<string>();
  for (const wanted of select) {
    const match = names.filter((name) => name === wanted || name.startsWith(`${wanted}-`) || name === `${wanted}.ipynb`);
    if (match.length === 0) throw new NotebookSelectionError(wanted, names);
    for (const name of match) chosen.add(name);
  }
  return names.filter((name) => chosen.has(name));
}

export class NotebookSelectionError extends Error {
  constructor(wanted: string, available: string[]) {
    super(`unknown notebook "${wanted}": allowed ${available.map((name) => name.slice(0, 2)).join(", ")} (or a file name: ${available.join(", ")})`);
    this.name = "NotebookSelectionError";
  }
}

export async function runReport(options: ReportOptions): Promise<ReportResult> {
  const names = await listReportNotebooks(options.notebookDir, options.select);
  const executedDir = path.join(options.outDir, "executed");
  const htmlPath = path.join(options.outDir, "index.html");
  const entries: ReportEntry[] = names.map((name) => ({ name, status: "not-run", note: "not run yet" }));
  const writeHtml = async () => writeFileAtomic(htmlPath, renderReportHtml({ entries, parameters: options.parameters, facts: await options.facts?.() }), "HTML report");

  let failedBefore: string | undefined;
  for (const [index, name] of names.entries()) {
    if (failedBefore) {
      entries[index] = { name, status: "not-run", note: `not run: ${failedBefore} failed and this notebook reads its files` };
      // An executed copy from an earlier run would look like this run's result.
      await fs.rm(path.join(executedDir, name), { force: true });
      options.onNotebookDone?.(entries[index], 0, 0);
      continue;
    }
    let source;
    try {
      source = await readNotebook(path.join(options.notebookDir, name));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      entries[index] = { name, status: "failed", note: message, failure: { status: "error", ename: "NotebookReadError", evalue: message, traceback: [] } };
      failedBefore = name;
      await fs.rm(path.join(executedDir, name), { force: true });
      options.onNotebookDone?.(entries[index], 0, 0);
      continue;
    }
    const run = await runNotebook({
      notebook: source,
      cwd: options.notebookDir,
      env: options.env,
      cellTimeoutMs: options.cellTimeoutMs,
      metadata: { parameters: options.parameters ?? {} },
      onProgress: (progress) => options.onProgress?.(name, progress),
    });
    await writeNotebook(path.join(executedDir, name), run.notebook);
    entries[index] = {
      name,
      status: run.ok ? "passed" : "failed",
      notebook: run.notebook,
      failure: run.failure,
      seconds: run.seconds,
      note: run.failure && run.failure.cellIndex === undefined ? `the kernel did not start: ${run.failure.evalue}` : undefined,
    };
    if (!run.ok) failedBefore = name;
    options.onNotebookDone?.(entries[index], run.cellsRun, run.codeCells);
    await writeHtml();
  }
  await writeHtml();
  const passed = entries.filter((entry) => entry.status === "passed").length;
  return { entries, passed, failed: entries.length - passed, htmlPath, executedDir };
}
