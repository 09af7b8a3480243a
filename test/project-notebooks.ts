// Runs the project's own notebooks (notebooks/NN-*.ipynb) through the real tslab kernel, with
// every file they write under a temporary folder. Shared by the tests that check what a JupyterLab
// user gets; the kernel is the point: it resolves imports differently from tsx (dynamic imports of a
// folder fail there, ../shared/notes/notebook-kernel.md).
import assert from "node:assert/strict";
import * as path from "node:path";
import { type Notebook, type Output, joinText, readNotebook } from "../lib/notebook/nbformat";
import { type NotebookRun, runNotebook } from "../lib/notebook/runner";
import { projectPath } from "../lib/paths";

/** A run small enough for a test: one network, 32 px, one epoch of one batch, one process. */
export function tinyRunEnv(dir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PROFILE: "quick",
    ARCHS: "mobilenet_v2",
    EPOCHS: "1",
    IMAGE_SIZE: "32",
    BATCH_SIZE: "4",
    STEPS_PER_EPOCH: "1",
    TRAIN_PER_CLASS: "4",
    VALIDATION_PER_CLASS: "2",
    SYNTHETIC_PER_CLASS: "6",
    WORKERS: "1",
    RUN_ID: "notebook-test",
    RUNS_DIR: path.join(dir, "runs"),
    PREPARED_DIR: path.join(dir, "prepared"),
    ...overrides,
  };
}

export interface ProjectNotebookOptions {
  /** Parameters (environment variables) of the kernel, added to this process's environment. */
  env: Record<string, string>;
  /** Stop before the first code cell whose source contains this text (e.g. a cell writing into reports/). */
  stopBefore?: string;
}

/** Executes notebooks/<name> in a fresh kernel; fails the test with the cell's error when a cell fails. */
export async function runProjectNotebook(name: string, opts: ProjectNotebookOptions): Promise<NotebookRun> {
  const notebookDir = projectPath("notebooks");
  const source = await readNotebook(path.join(notebookDir, name));
  const stop = opts.stopBefore === undefined ? -1 : source.cells.findIndex((cell) => cell.cell_type === "code" && joinText(cell.source).includes(opts.stopBefore!));
  const notebook: Notebook = stop < 0 ? source : { ...source, cells: source.cells.slice(0, stop) };
  const run = await runNotebook({ notebook, cwd: notebookDir, env: { ...process.env, ...opts.env } });
  assert.ok(run.ok, `${name} cell ${run.failure?.codeCellNumber}: ${run.failure?.ename}: ${run.failure?.evalue}`);
  return run;
}

/** Every text a reader sees in the outputs (streams, text/plain, Markdown, HTML, errors), one string. */
export function outputText(notebook: Notebook): string {
  return outputsOf(notebook).map(textOf).join("\n");
}

/** The text of the first output of the notebook: what a reader sees first. */
export function firstOutput(notebook: Notebook): string {
  const first = outputsOf(notebook)[0];
  return first ? textOf(first) : "";
}

function outputsOf(notebook: Notebook): Output[] {
  return notebook.cells.flatMap((cell) => (cell.cell_type === "code" ? cell.outputs : []));
}

function textOf(output: Output): string {
  if (output.output_type === "stream") return joinText(output.text);
  if (output.output_type === "error") return [output.ename, output.evalue, ...output.traceback].join("\n");
  const mimes = ["text/markdown", "text/html", "text/plain"].filter((mime) => mime in output.data);
  return mimes.map((mime) => joinText(output.data[mime] as string | string[])).join("\n");
}
