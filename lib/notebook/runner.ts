// Executes a notebook's code cells in order in a fresh tslab kernel and returns the executed
// notebook (nbformat 4, outputs, execution counts, cell timings). Fills tslab's protocol gaps:
// - no execute_result: the last value arrives as a stdout stream, which is kept as such;
// - no `error` message: an error output is synthesized from the failing cell's stderr text;
// - 200 ms abort window after an error: the run stops at the first failing cell, later cells
//   are marked not run (their inputs would depend on the failed one anyway).
// A cell timeout or a kernel crash also ends the run with an error output on that cell.
import { randomUUID } from "node:crypto";
import { parseInteger } from "../config";
import { KernelClient, KernelDiedError, type KernelMessage, RequestTimeoutError, formatSeconds } from "./kernel-client";
import { type CellStatus, type CodeCell, type ErrorOutput, type Notebook, type Output, joinText } from "./nbformat";

/**
 * Per-cell limit by profile: a full-profile training cell runs for hours on a CPU; a lite one about
 * ten minutes on an idle 2-core CPU, but several times that on a busy one (docs/models.md).
 */
export const DEFAULT_CELL_TIMEOUT_S = { quick: 30 * 60, lite: 2 * 60 * 60, full: 12 * 60 * 60 } as const;

export interface CellProgress {
  phase: "start" | "end";
  /** Index in notebook.cells (0-based). */
  cellIndex: number;
  /** 1-based number among the code cells, and how many there are. */
  codeCellNumber: number;
  codeCellCount: number;
  /** First line of the cell's code, for progress lines. */
  firstLine: string;
  status?: CellStatus;
  seconds?: number;
}

export interface CellFailure {
  /** Index in notebook.cells (0-based); undefined when the kernel itself did not start. */
  cellIndex?: number;
  codeCellNumber?: number;
  status: "error" | "timeout" | "crashed";
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface NotebookRun {
  notebook: Notebook;
  ok: boolean;
  /** Code cells that were executed (including the failing one). */
  cellsRun: number;
  codeCells: number;
  seconds: number;
  failure?: CellFailure;
}

export interface RunNotebookOptions {
  notebook: Notebook;
  /** Working directory of the kernel: the notebooks folder, so `./lib/...` imports resolve. */
  cwd: string;
  /** Environment of the kernel process; notebooks read their parameters from process.env. */
  env: Record<string, string | undefined>;
  /** Per-cell limit; default CELL_TIMEOUT_S from `env`, else 30 min (12 h with PROFILE=full). */
  cellTimeoutMs?: number;
  startTimeoutMs?: number;
  /** Extra facts recorded in notebook.metadata.showcase (e.g. the run parameters). */
  metadata?: Record<string, unknown>;
  onProgress?: (progress: CellProgress) => void;
}

/** CELL_TIMEOUT_S from an environment, in milliseconds (throws ParameterError when malformed). */
export function cellTimeoutFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.CELL_TIMEOUT_S?.trim();
  const profile = env.PROFILE?.trim();
  const fallback = profile === "full" || profile === "lite" ? DEFAULT_CELL_TIMEOUT_S[profile] : DEFAULT_CELL_TIMEOUT_S.quick;
  return (raw ? parseInteger("CELL_TIMEOUT_S", raw, { min: 1 }) : fallback) * 1000;
}

export async function runNotebook(options: RunNotebookOptions): Promise<NotebookRun> {
  const started = Date.now();
  const cellTimeoutMs = options.cellTimeoutMs ?? cellTimeoutFromEnv(options.env);
  const notebook = prepareForRun(options.notebook);
  const codeIndexes = notebook.cells.flatMap((cell, index) => (cell.cell_type === "code" ? [index] : []));
  const displays = new Map<string, Output[]>();
  let cellsRun = 0;
  let failure: CellFailure | undefined;
  let kernel: KernelClient | undefined;

  try {
    kernel = await KernelClient.start({ cwd: options.cwd, env: options.env, startTimeoutMs: options.startTimeoutMs });
    notebook.metadata.language_info = kernel.kernelInfo.language_info as Record<string, unknown> | undefined ?? notebook.metadata.language_info;
  } catch (error) {
    failure = { status: "crashed", ename: "KernelStartError", evalue: messageOf(error), traceback: [messageOf(error)] };
  }

  for (const [position, cellIndex] of codeIndexes.entries()) {
    const cell = notebook.cells[cellIndex] as CodeCell;
    const code = joinText(cell.source);
    const progress = { cellIndex, codeCellNumber: position + 1, codeCellCount: codeIndexes.length, firstLine: firstLine(code) };
    if (failure || !kernel) {
      setStatus(cell, { status: "not-run" });
      continue;
    }
    if (code.trim() === "") {
      setStatus(cell, { status: "ok" });
      continue;
    }
    options.onProgress?.({ phase: "start", ...progress });
    const collector = new OutputCollector(cell.outputs, displays);
    const busyAt = new Date();
    cellsRun++;
    let status: CellStatus = "ok";
    try {
      const { reply } = await kernel.execute(code, { timeoutMs: cellTimeoutMs, onIopub: (message) => collector.add(message) });
      cell.execution_count = typeof reply.content.execution_count === "number" ? reply.content.execution_count : null;
      cell.metadata.execution = {
        "iopub.status.busy": busyAt.toISOString(),
        "shell.execute_reply": reply.header.date ?? new Date().toISOString(),
        "iopub.status.idle": new Date().toISOString(),
      };
      if (reply.content.status !== "ok") {
        status = "error";
        const error = collector.errorOutput() ?? collector.synthesizeError(String(reply.content.status));
        failure = { cellIndex, codeCellNumber: position + 1, status, ename: error.ename, evalue: error.evalue, traceback: error.traceback };
      }
    } catch (error) {
      status = error instanceof RequestTimeoutError ? "timeout" : "crashed";
      const output: ErrorOutput =
        error instanceof RequestTimeoutError
          ? {
              output_type: "error",
              ename: "CellTimeoutError",
              evalue: `cell did not finish within ${formatSeconds(cellTimeoutMs)} (raise CELL_TIMEOUT_S, in seconds, if it needs longer)`,
              traceback: [],
            }
          : {
              output_type: "error",
              ename: error instanceof KernelDiedError ? "KernelDiedError" : "KernelError",
              evalue: messageOf(error),
              traceback: error instanceof KernelDiedError && error.kernelLog ? error.kernelLog.split("\n").slice(-20) : [],
            };
      output.traceback = [`${output.ename}: ${output.evalue}`, ...output.traceback];
      cell.outputs.push(output);
      failure = { cellIndex, codeCellNumber: position + 1, status, ename: output.ename, evalue: output.evalue, traceback: output.traceback };
    }
    const seconds = (Date.now() - busyAt.getTime()) / 1000;
    setStatus(cell, { status, seconds });
    options.onProgress?.({ phase: "end", ...progress, status, seconds });
  }

  // A timed-out cell may still be spinning: do not wait long for a polite exit.
  await kernel?.shutdown({ graceMs: failure?.status === "timeout" ? 300 : 1500 });
  const seconds = (Date.now() - started) / 1000;
  notebook.metadata.showcase = {
    ...(options.metadata ?? {}),
    executedAt: new Date(started).toISOString(),
    seconds: round(seconds),
    ok: !failure,
    ...(failure ? { failure: { cellIndex: failure.cellIndex, status: failure.status, ename: failure.ename, evalue: failure.evalue } } : {}),
  };
  return { notebook, ok: !failure, cellsRun, codeCells: codeIndexes.length, seconds, failure };
}

/** A deep copy with code outputs cleared, and cell ids where nbformat ≥ 4.5 requires them. */
function prepareForRun(source: Notebook): Notebook {
  const notebook = structuredClone(source);
  notebook.nbformat_minor = Math.max(notebook.nbformat_minor ?? 0, 4);
  for (const cell of notebook.cells) {
    cell.metadata ??= {};
    if (notebook.nbformat_minor >= 5 && !cell.id) cell.id = randomUUID().slice(0, 8);
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
      delete cell.metadata.execution;
      delete cell.metadata.showcase;
    }
  }
  return notebook;
}

function setStatus(cell: CodeCell, { status, seconds }: { status: CellStatus; seconds?: number }): void {
  cell.metadata.showcase = seconds === undefined ? { status } : { status, seconds: round(seconds) };
}

/**
 * Turns a cell's iopub messages into nbformat outputs as they arrive: consecutive stream chunks
 * merge, display updates replace the output with the same display_id in place (in any cell).
 */
class OutputCollector {
  /** The stderr chunks written since the last other output: where tslab prints a cell's error. */
  private trailingStderr: string[] = [];
  private clearOnNextOutput = false;

  constructor(
    private readonly outputs: Output[],
    private readonly displays: Map<string, Output[]>,
  ) {}

  add(message: KernelMessage): void {
    const content = message.content;
    switch (message.header.msg_type) {
      case "stream": {
        const name = content.name === "stderr" ? "stderr" : "stdout";
        const text = String(content.text ?? "");
        this.trailingStderr = name === "stderr" ? [...this.trailingStderr, text] : [];
        const last = this.outputs.at(-1);
        if (!this.clearOnNextOutput && last?.output_type === "stream" && last.name === name) last.text = joinText(last.text) + text;
        else this.push({ output_type: "stream", name, text });
        break;
      }
      case "display_data":
      case "execute_result": {
        const output: Output =
          message.header.msg_type === "display_data"
            ? { output_type: "display_data", data: bundle(content.data), metadata: bundle(content.metadata) }
            : { output_type: "execute_result", execution_count: (content.execution_count as number) ?? null, data: bundle(content.data), metadata: bundle(content.metadata) };
        this.push(output);
        const displayId = (content.transient as { display_id?: string } | undefined)?.display_id;
        if (displayId) this.displays.set(displayId, [...(this.displays.get(displayId) ?? []), output]);
        break;
      }
      case "update_display_data": {
        const displayId = (content.transient as { display_id?: string } | undefined)?.display_id;
        for (const output of (displayId && this.displays.get(displayId)) || []) {
          if (output.output_type === "display_data" || output.output_type === "execute_result") {
            output.data = bundle(content.data);
            output.metadata = bundle(content.metadata);
          }
        }
        break;
      }
      case "error":
        this.push({ output_type: "error", ename: String(content.ename ?? "Error"), evalue: String(content.evalue ?? ""), traceback: (content.traceback as string[]) ?? [] });
        break;
      case "clear_output":
        if (content.wait) this.clearOnNextOutput = true;
        else this.outputs.length = 0;
        break;
    }
  }

  errorOutput(): ErrorOutput | undefined {
    return this.outputs.find((output): output is ErrorOutput => output.output_type === "error");
  }

  /** tslab sends no `error` message: move the trailing stderr text into a proper error output. */
  synthesizeError(replyStatus: string): ErrorOutput {
    const errorText = this.trailingStderr.join("");
    const last = this.outputs.at(-1);
    if (errorText && last?.output_type === "stream" && last.name === "stderr") {
      const rest = joinText(last.text).slice(0, -errorText.length);
      if (rest) last.text = rest;
      else this.outputs.pop();
    }
    const error: ErrorOutput = { output_type: "error", ...describeError(errorText, replyStatus) };
    this.outputs.push(error);
    return error;
  }

  private push(output: Output): void {
    if (this.clearOnNextOutput) {
      this.outputs.length = 0;
      this.clearOnNextOutput = false;
    }
    if (output.output_type !== "stream" || output.name !== "stderr") this.trailingStderr = [];
    this.outputs.push(output);
  }
}

const DIAGNOSTIC = /^(?:\S+ )?\d+:\d+ - (.*)$/;
const ERROR_LINE = /^(?:Uncaught )?([A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[\w.-]+\])?(?:: (.*))?$/;
// Frames of tslab and node's vm wrap every cell; they say nothing about the notebook.
const INTERNAL_FRAME = /^\s+at .*(node:vm|node:internal|tslab[\\/]dist|sigintHandlersWrap)/;

/** ename/evalue/traceback from the text tslab printed to stderr for a failing cell. */
export function describeError(errorText: string, replyStatus = "error"): Omit<ErrorOutput, "output_type"> {
  const lines = errorText.replace(/\s+$/, "").split("\n");
  const traceback = lines.filter((line) => !INTERNAL_FRAME.test(line));
  if (errorText.trim() === "") {
    return { ename: "Error", evalue: `cell failed without an error message (kernel status "${replyStatus}")`, traceback: [] };
  }
  const diagnostics = lines.map((line) => DIAGNOSTIC.exec(line)).filter((match): match is RegExpExecArray => match !== null);
  if (diagnostics.length > 0 && DIAGNOSTIC.test(lines[0])) {
    // The first message names the problem; the traceback keeps them all.
    const more = diagnostics.length - 1;
    return { ename: "CompileError", evalue: `${diagnostics[0][1]}${more > 0 ? ` (+${more} more type error${more > 1 ? "s" : ""})` : ""}`, traceback };
  }
  for (const line of lines) {
    const match = ERROR_LINE.exec(line);
    if (match) return { ename: match[1], evalue: match[2] ?? "", traceback };
  }
  return { ename: "Error", evalue: lines.find((line) => line.trim() !== "") ?? "", traceback };
}

function bundle(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

function firstLine(code: string): string {
  const line = code.split("\n").find((text) => text.trim() !== "" && !text.trim().startsWith("//")) ?? code.split("\n")[0] ?? "";
  return line.trim().slice(0, 60);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

