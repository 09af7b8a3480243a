// `showcase report` (= `npm run report`): notebooks 01 → 02 → 03 headless in the tslab kernel.
// Parameters are validated before any kernel starts, so a typo fails at once with exit code 2.
import * as path from "node:path";
import { PARAMETER_NAMES, resolveParams } from "../config";
import { formatSeconds } from "../notebook/kernel-client";
import { NotebookSelectionError, listReportNotebooks, runReport } from "../notebook/report";
import { type CellProgress, cellTimeoutFromEnv } from "../notebook/runner";
import type { ReportEntry } from "../notebook/html";
import { projectPath, shareablePath } from "../paths";
import { readRunManifest, runDirFor } from "../train/run-dir";
import { type Command, UsageError, parseFlags, rejectUnknownFlags } from "./command";

const FLAGS = ["notebooks", "out", "notebook-dir"] as const;

export const command: Command = {
  name: "report",
  summary:
    "execute notebooks 01 → 02 → 03 in fresh tslab kernels (parameters from the environment, CELL_TIMEOUT_S per cell); " +
    "write <out>/executed/NN-name.ipynb and <out>/index.html",
  usage: "showcase report [--notebooks 01,02] [--out reports] [--notebook-dir notebooks]",
  async run(args) {
    const { flags, positional } = parseFlags(args);
    rejectUnknownFlags(flags, FLAGS);
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}": notebooks are chosen with --notebooks 01,02`);
    const params = resolveParams(process.env);
    const cellTimeoutMs = cellTimeoutFromEnv(process.env);
    const notebookDir = path.resolve(flags.get("notebook-dir") ?? projectPath("notebooks"));
    const outDir = path.resolve(flags.get("out") ?? projectPath("reports"));
    const select = flags.get("notebooks")?.split(",").map((name) => name.trim()).filter(Boolean);
    try {
      await listReportNotebooks(notebookDir, select);
    } catch (error) {
      throw new UsageError(error instanceof NotebookSelectionError ? error.message : `${(error as Error).message} (--notebook-dir)`);
    }

    const parameters: Record<string, string> = { PROFILE: params.profile };
    for (const name of [...PARAMETER_NAMES, "CELL_TIMEOUT_S"]) {
      const value = process.env[name]?.trim();
      if (value) parameters[name] = name.endsWith("_DIR") ? shareablePath(value) : value; // the report is shared: no /home/<user>/…
    }
    const progress = createProgressPrinter(process.stderr);
    // Ctrl-C: exit through process.exit so that the running kernel is killed with us.
    const interrupt = () => {
      process.stderr.write("\nshowcase report: interrupted\n");
      process.exit(130);
    };
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    const result = await runReport({
      notebookDir,
      outDir,
      select,
      // The kernels write the workbook beside the report, wherever --out puts it.
      env: { ...kernelEnv(process.env), REPORTS_DIR: outDir },
      parameters,
      // run.json once 02 has written it (engine, dataset), the parameters before that.
      facts: async () => (await readRunManifest(runDirFor(params)).catch(() => undefined)) ?? { params },
      cellTimeoutMs,
      onProgress: progress,
      onNotebookDone: (entry, cellsRun, codeCells) => console.log(summaryLine(entry, cellsRun, codeCells)),
    }).finally(() => {
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
    });

    for (const entry of result.entries) {
      if (entry.status !== "failed") continue;
      const failure = entry.failure;
      const where = failure?.cellIndex !== undefined ? ` cell ${failure.cellIndex + 1} (code cell ${failure.codeCellNumber})` : "";
      console.error(`showcase report: ${entry.name}${where} failed: ${failure ? `${failure.ename}: ${failure.evalue}` : entry.note}`);
      const detail = (failure?.traceback ?? []).filter((line) => line.trim() !== "").slice(0, 12);
      for (const line of detail) console.error(`    ${line}`);
    }
    console.log(`executed notebooks: ${shortPath(result.executedDir)}/  report: ${shortPath(result.htmlPath)}`);
    console.log(`${result.passed} passed, ${result.failed} failed`);
    return result.failed === 0 ? 0 : 1;
  },
};

function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

function summaryLine(entry: ReportEntry, cellsRun: number, codeCells: number): string {
  const status = entry.status === "passed" ? "ok" : "FAILED";
  const cells = entry.status === "not-run" ? "not run" : `${cellsRun}/${codeCells} cells`;
  const seconds = entry.seconds !== undefined ? `${entry.seconds.toFixed(1)} s` : "-";
  return `${entry.name.padEnd(22)} ${cells.padStart(11)} ${seconds.padStart(9)}  ${status}${entry.status === "not-run" && entry.note ? ` (${entry.note})` : ""}`;
}

/**
 * One line per cell on stderr. On a terminal the line appears when the cell starts and is
 * completed in place when it ends; in logs (CI) only the finished line is written.
 */
function createProgressPrinter(stream: NodeJS.WriteStream): (notebook: string, progress: CellProgress) => void {
  const tty = Boolean(stream.isTTY);
  return (notebook, progress) => {
    const name = notebook.replace(/\.ipynb$/, "");
    const counter = `[${progress.codeCellNumber}/${progress.codeCellCount}]`;
    if (progress.phase === "start") {
      if (progress.codeCellNumber === 1) stream.write(`${notebook}: kernel started\n`);
      if (tty) stream.write(`  ${name} ${counter} … ${progress.firstLine}`);
      return;
    }
    const status = progress.status === "ok" ? "ok" : progress.status!.toUpperCase();
    const seconds = formatSeconds((progress.seconds ?? 0) * 1000);
    const line = `  ${name} ${counter} ${status} ${seconds}${tty ? `  ${progress.firstLine}` : ""}`;
    stream.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  };
}

/**
 * The kernels run in the notebook folder: folder parameters given relative to where the command was
 * typed (DATA_DIR=../photos) are made absolute first, or they would point somewhere else.
 */
export function kernelEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of PARAMETER_NAMES) {
    const value = env[name]?.trim();
    if (name.endsWith("_DIR") && value) out[name] = path.resolve(value);
  }
  return out;
}
