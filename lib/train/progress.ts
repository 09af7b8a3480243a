// Showing training progress: a progress bar on an interactive terminal, one line per epoch
// otherwise (CI logs stay short), and a live notebook display updated in place. tslab is imported
// lazily, so lib/train works outside the kernel.
import type { TrainProgress } from "./types";
import { escapeHtml } from "../html";

export type ProgressHandler = (progress: TrainProgress) => void;

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

const number = (value: number | undefined, digits = 3) => (value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits));

/** One human line for any progress event. */
export function formatProgressLine(p: TrainProgress): string {
  const head = `[${p.archIndex}/${p.archCount}] ${p.arch}`;
  switch (p.phase) {
    case "build":
    case "features":
    case "save":
    case "skip":
      return `${head}: ${p.message ?? p.phase}`;
    case "validate":
      return (
        `${head} epoch ${p.epoch}/${p.epochs}: loss ${number(p.loss)} acc ${number(p.accuracy)} · ` +
        `val_loss ${number(p.validationLoss)} val_acc ${number(p.validationAccuracy)} · ${number(p.imagesPerSecond, 1)} img/s` +
        (p.message ? ` · ${p.message}` : "")
      );
    case "done":
      return `${head}: ${p.message ?? "done"}`;
    case "train":
      return (
        `${head} epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${number(p.loss)} acc ${number(p.accuracy)} ` +
        `${number(p.imagesPerSecond, 1)} img/s ETA ${formatDuration(p.etaSeconds)}`
      );
  }
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

/**
 * Progress for `npx showcase train`: on a TTY a bar redrawn in place for batches, plus a line per
 * epoch; on a pipe or in CI only the per-epoch and per-architecture lines.
 */
export function createCliProgress(opts: { stream?: NodeJS.WriteStream; interactive?: boolean } = {}): ProgressHandler {
  const stream = opts.stream ?? process.stderr;
  const interactive = opts.interactive ?? (Boolean(stream.isTTY) && !process.env.CI);
  let barShown = false;
  let lastDraw = 0;
  const clearBar = () => {
    if (barShown) stream.write("\r\x1b[2K");
    barShown = false;
  };
  return (p) => {
    if (p.phase === "train") {
      if (!interactive) return;
      const now = Date.now();
      if (now - lastDraw < 100 && p.batch !== p.batches) return;
      lastDraw = now;
      const columns = stream.columns ?? 100;
      const text = ` ${formatProgressLine(p)}`;
      const width = Math.max(10, Math.min(30, columns - text.length - 2));
      stream.write(`\r\x1b[2K${bar(p.batch / Math.max(1, p.batches), width)}${text}`.slice(0, columns + 12));
      barShown = true;
      return;
    }
    clearBar();
    stream.write(`${formatProgressLine(p)}\n`);
  };
}


/** The HTML of the live notebook display: current state plus the epochs finished so far. */
export function renderProgressHtml(state: { current?: TrainProgress; finished: TrainProgress[] }): string {
  const p = state.current;
  const fraction = p && p.batches > 0 ? ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches) : 0;
  const status = !p
    ? ""
    : p.phase === "train"
      ? `<div><b>${escapeHtml(p.arch)}</b> (${p.archIndex}/${p.archCount}) · epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches}` +
        ` · loss ${number(p.loss)} · acc ${number(p.accuracy)} · ${number(p.imagesPerSecond, 1)} img/s · ETA ${formatDuration(p.etaSeconds)}</div>` +
        `<progress value="${fraction.toFixed(4)}" max="1" style="width:100%"></progress>`
      : `<div><b>${escapeHtml(p.arch)}</b> (${p.archIndex}/${p.archCount}) · ${escapeHtml(formatProgressLine(p).replace(/^\[\d+\/\d+\] \S+:? ?/, ""))}</div>`;
  const rows = state.finished
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.arch)}</td><td>${e.epoch}</td><td>${number(e.loss)}</td><td>${number(e.accuracy)}</td>` +
        `<td>${number(e.validationLoss)}</td><td>${number(e.validationAccuracy)}</td><td>${number(e.imagesPerSecond, 1)}</td></tr>`,
    )
    .join("");
  const table = rows
    ? `<table><thead><tr><th>architecture</th><th>epoch</th><th>loss</th><th>acc</th><th>val loss</th><th>val acc</th><th>img/s</th></tr></thead><tbody>${rows}</tbody></table>`
    : "";
  return `<div class="showcase-progress">${status}${table}</div>`;
}

interface Display {
  html(s: string): void;
}

/**
 * A live display for notebooks (tslab's newDisplay, updated in place at most every `intervalMs`).
 * Outside a tslab kernel it falls back to the CLI progress on stderr.
 */
export function createNotebookProgress(opts: { intervalMs?: number } = {}): ProgressHandler & { flush(): void } {
  let display: Display | undefined;
  try {
    // Only inside the kernel does tslab's display sink exist; elsewhere newDisplay() would throw on use.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sink = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (sink.lastWriteDisplayData != null) display = (require("tslab") as { newDisplay(): Display }).newDisplay();
  } catch {
    display = undefined;
  }
  if (!display) {
    const cli = createCliProgress({ interactive: false });
    return Object.assign((p: TrainProgress) => cli(p), { flush() {} });
  }
  const state: { current?: TrainProgress; finished: TrainProgress[] } = { finished: [] };
  const intervalMs = opts.intervalMs ?? 500;
  let lastDraw = 0;
  const draw = () => {
    lastDraw = Date.now();
    display!.html(renderProgressHtml(state));
  };
  const handler = (p: TrainProgress) => {
    if (p.phase === "validate") state.finished.push(p);
    state.current = p;
    if (p.phase !== "train" || Date.now() - lastDraw >= intervalMs) draw();
  };
  return Object.assign(handler, { flush: draw });
}
