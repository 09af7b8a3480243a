// Showing training progress: a progress bar on an interactive terminal, one line per epoch
// otherwise (CI logs stay short), and a live notebook display updated in place. tslab is imported
// lazily, so lib/train works outside the kernel.
import type { TrainProgress } from "./types";
import { escapeHtml } from "../html";
import { insideTslab } from "../notebook/in-kernel";

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
 * The latest event of every architecture in training, in ARCHS order: with WORKERS > 1 several
 * train at once, so the displays keep one entry per architecture instead of a single "current".
 */
export class ActiveArchitectures {
  private readonly byArch = new Map<string, TrainProgress>();

  /** Records `p`; an architecture leaves the list when it is done or skipped. */
  update(p: TrainProgress): void {
    if (p.phase === "done" || p.phase === "skip") this.byArch.delete(p.arch);
    else this.byArch.set(p.arch, p);
  }

  list(): TrainProgress[] {
    return [...this.byArch.values()].sort((a, b) => a.archIndex - b.archIndex);
  }
}

/**
 * Progress for `npx showcase train`: on a TTY one bar per architecture in training (two or more
 * with WORKERS > 1), redrawn in place below the per-epoch lines; on a pipe or in CI only the
 * per-epoch and per-architecture lines, each naming its architecture.
 */
export function createCliProgress(opts: { stream?: NodeJS.WriteStream; interactive?: boolean } = {}): ProgressHandler {
  const stream = opts.stream ?? process.stderr;
  const interactive = opts.interactive ?? (Boolean(stream.isTTY) && !process.env.CI);
  const training = new Map<string, TrainProgress>(); // the bars: architectures between batches
  let barsShown = 0;
  let lastDraw = 0;
  const clearBars = () => {
    if (barsShown > 0) stream.write(`\r\x1b[2K${"\x1b[1A\x1b[2K".repeat(barsShown - 1)}`);
    barsShown = 0;
  };
  const drawBars = () => {
    const bars = [...training.values()].sort((a, b) => a.archIndex - b.archIndex);
    if (bars.length === 0) return;
    const columns = stream.columns ?? 100;
    // Each bar stays within one terminal line, so that clearing by lines stays exact.
    const lines = bars.map((p) => {
      const text = ` ${formatProgressLine(p)}`;
      const width = Math.max(10, Math.min(30, columns - text.length - 2));
      return `${bar(p.batch / Math.max(1, p.batches), width)}${text}`.slice(0, columns - 1);
    });
    stream.write(`\r\x1b[2K${lines.join("\n\x1b[2K")}`);
    barsShown = lines.length;
    lastDraw = Date.now();
  };
  return (p) => {
    if (p.phase === "train") {
      if (!interactive) return;
      const newBar = !training.has(p.arch);
      training.set(p.arch, p);
      if (!newBar && Date.now() - lastDraw < 100 && p.batch !== p.batches) return;
      clearBars();
      drawBars();
      return;
    }
    training.delete(p.arch);
    clearBars();
    stream.write(`${formatProgressLine(p)}\n`);
    if (interactive) drawBars();
  };
}

/** The HTML of the live notebook display: notices, one status line per architecture in training, the epochs finished so far. */
export function renderProgressHtml(state: { active: readonly TrainProgress[]; finished: readonly TrainProgress[]; notices?: readonly TrainProgress[] }): string {
  const notices = (state.notices ?? []).map((p) => `<div style="color:#a15c00">⚠ ${escapeHtml(formatProgressLine(p))}</div>`).join("");
  const status = [...state.active]
    .sort((a, b) => a.archIndex - b.archIndex)
    .map((p) => {
      const fraction = p.batches > 0 ? ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches) : 0;
      return p.phase === "train"
        ? `<div><b>${escapeHtml(p.arch)}</b> (${p.archIndex}/${p.archCount}) · epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches}` +
            ` · loss ${number(p.loss)} · acc ${number(p.accuracy)} · ${number(p.imagesPerSecond, 1)} img/s · ETA ${formatDuration(p.etaSeconds)}</div>` +
            `<progress value="${fraction.toFixed(4)}" max="1" style="width:100%"></progress>`
        : `<div><b>${escapeHtml(p.arch)}</b> (${p.archIndex}/${p.archCount}) · ${escapeHtml(formatProgressLine(p).replace(/^\[\d+\/\d+\] \S+:? ?/, ""))}</div>`;
    })
    .join("");
  // Several architectures finish epochs interleaved: the table is kept in ARCHS order.
  const rows = [...state.finished]
    .sort((a, b) => a.archIndex - b.archIndex || a.epoch - b.epoch)
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.arch)}</td><td>${e.epoch}</td><td>${number(e.loss)}</td><td>${number(e.accuracy)}</td>` +
        `<td>${number(e.validationLoss)}</td><td>${number(e.validationAccuracy)}</td><td>${number(e.imagesPerSecond, 1)}</td></tr>`,
    )
    .join("");
  const table = rows
    ? `<table><thead><tr><th>architecture</th><th>epoch</th><th>loss</th><th>acc</th><th>val loss</th><th>val acc</th><th>img/s</th></tr></thead><tbody>${rows}</tbody></table>`
    : "";
  return `<div class="showcase-progress">${notices}${status}${table}</div>`;
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
  // Only inside the kernel does tslab's display sink exist; elsewhere newDisplay() would throw on use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (insideTslab()) display = (require("tslab") as { newDisplay(): Display }).newDisplay();
  if (!display) {
    const cli = createCliProgress({ interactive: false });
    return Object.assign((p: TrainProgress) => cli(p), { flush() {} });
  }
  const active = new ActiveArchitectures();
  const finished: TrainProgress[] = [];
  const notices: TrainProgress[] = [];
  const intervalMs = opts.intervalMs ?? 500;
  let lastDraw = 0;
  const draw = () => {
    lastDraw = Date.now();
    display!.html(renderProgressHtml({ active: active.list(), finished, notices }));
  };
  const handler = (p: TrainProgress) => {
    if (p.phase === "validate") finished.push(p);
    if (p.notice) notices.push(p);
    active.update(p);
    if (p.phase !== "train" || Date.now() - lastDraw >= intervalMs) draw();
  };
  return Object.assign(handler, { flush: draw });
}
