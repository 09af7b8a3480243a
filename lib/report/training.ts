// Tables of a training run for the CLI (text) and notebook 02 (HTML): one row per architecture, and
// the per-epoch table of one architecture. Plain strings; dataframes belong to lib/report.
import * as path from "node:path";
import { formatTransfer, type RunParams } from "../config";
import type { EngineDescription } from "../engine/types";
import type { MachineInventory } from "../system/index";
import type { ArchHistory, EpochLog } from "../schemas/history";
import { resolveWorkerCount } from "../train/worker-count";
import { escapeHtml } from "../html";
import { archsWithWidth } from "../models/width";

const fixed = (value: number | undefined | null, digits: number) => (value === undefined || value === null || !Number.isFinite(value) ? "–" : value.toFixed(digits));


export interface RunRow {
  arch: string;
  displayName: string;
  status: string;
  epochs: number;
  bestEpoch: number | null;
  bestValidationAccuracy: number | null;
  finalValidationAccuracy: number | null;
  overfittingEpoch: number | null;
  meanImagesPerSecond: number;
  meanEpochSeconds: number;
  totalSeconds: number;
  trainableParameters: number;
}

export function runRows(histories: readonly ArchHistory[]): RunRow[] {
  return histories.map((h) => {
    const mean = (pick: (e: EpochLog) => number) => (h.epochs.length ? h.epochs.reduce((sum, e) => sum + pick(e), 0) / h.epochs.length : Number.NaN);
    return {
      arch: h.arch,
      displayName: h.displayName,
      status: h.status,
      epochs: h.epochs.length,
      bestEpoch: h.bestEpoch,
      bestValidationAccuracy: h.epochs.find((e) => e.epoch === h.bestEpoch)?.validationAccuracy ?? null,
      finalValidationAccuracy: h.epochs.at(-1)?.validationAccuracy ?? null,
      overfittingEpoch: h.overfittingEpoch,
      meanImagesPerSecond: mean((e) => e.imagesPerSecond),
      meanEpochSeconds: mean((e) => e.epochSeconds),
      totalSeconds: h.totalSeconds,
      trainableParameters: h.trainableParameters,
    };
  });
}

const RUN_COLUMNS: Array<[string, (r: RunRow) => string]> = [
  ["architecture", (r) => r.displayName],
  ["epochs", (r) => String(r.epochs)],
  ["best epoch", (r) => String(r.bestEpoch ?? "–")],
  ["val acc (best)", (r) => fixed(r.bestValidationAccuracy, 3)],
  ["val acc (last)", (r) => fixed(r.finalValidationAccuracy, 3)],
  ["overfitting from", (r) => String(r.overfittingEpoch ?? "–")],
  ["img/s", (r) => fixed(r.meanImagesPerSecond, 1)],
  ["s/epoch", (r) => fixed(r.meanEpochSeconds, 1)],
  ["total s", (r) => fixed(r.totalSeconds, 1)],
];

const EPOCH_COLUMNS: Array<[string, (e: EpochLog) => string]> = [
  ["epoch", (e) => String(e.epoch)],
  ["loss", (e) => fixed(e.trainLoss, 4)],
  ["acc", (e) => fixed(e.trainAccuracy, 3)],
  ["val loss", (e) => fixed(e.validationLoss, 4)],
  ["val acc", (e) => fixed(e.validationAccuracy, 3)],
  ["seconds", (e) => fixed(e.epochSeconds, 1)],
  ["img/s", (e) => fixed(e.imagesPerSecond, 1)],
  ["GPU %", (e) => fixed(e.gpu?.meanUtilizationPercent, 0)],
  ["GPU MiB", (e) => fixed(e.gpu?.maxMemoryUsedMiB, 0)],
];

/** Fixed-width text: the first column left-aligned, the rest right-aligned. */
export function textTable<T>(rows: readonly T[], columns: Array<[string, (row: T) => string]>): string {
  const cells = [columns.map(([name]) => name), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")).join("\n");
}

function htmlTable<T>(rows: readonly T[], columns: Array<[string, (row: T) => string]>, caption?: string): string {
  const head = columns.map(([name]) => `<th>${escapeHtml(name)}</th>`).join("");
  const body = rows.map((row) => `<tr>${columns.map(([, cell]) => `<td>${escapeHtml(cell(row))}</td>`).join("")}</tr>`).join("");
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ""}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function runSummaryText(histories: readonly ArchHistory[]): string {
  return textTable(runRows(histories), RUN_COLUMNS);
}

export function runSummaryHtml(histories: readonly ArchHistory[]): string {
  return htmlTable(runRows(histories), RUN_COLUMNS);
}

/** Columns without values in any row (e.g. GPU columns on a CPU machine) are left out. */
function usedEpochColumns(epochs: readonly EpochLog[]) {
  return EPOCH_COLUMNS.filter(([, cell]) => epochs.some((e) => cell(e) !== "–"));
}

export function epochTableHtml(history: ArchHistory): string {
  const caption =
    `${history.displayName} — ${history.inputSize} px, ${history.trainableParameters.toLocaleString("en")} of ` +
    `${history.parameters.toLocaleString("en")} parameters trained; build ${fixed(history.buildSeconds, 1)} s, ` +
    `save ${fixed(history.saveSeconds, 1)} s, total ${fixed(history.totalSeconds, 1)} s; best epoch ${history.bestEpoch ?? "–"}` +
    (history.overfittingEpoch ? `, overfitting from epoch ${history.overfittingEpoch}` : "");
  return htmlTable(history.epochs, usedEpochColumns(history.epochs), caption);
}

/** One captioned epoch table per architecture, in run order. */
export function epochTablesHtml(histories: readonly ArchHistory[]): string {
  return histories.map(epochTableHtml).join("\n");
}

/** The set-up of this run in a few Markdown lines: what is trained, how, on which engine. */
export function runSetupMarkdown(opts: { params: RunParams; engine: EngineDescription }): string {
  const { params, engine } = opts;
  const lines = [
    `- **Architectures** (${params.archs.length}): ${archsWithWidth(params.archs, params.alpha)}`,
    `- **Protocol**: ${params.epochs} epochs · ${params.imageSize} px · batch ${params.batchSize}` +
      ` · ${params.stepsPerEpoch ? `${params.stepsPerEpoch} steps per epoch` : "one pass over the training split per epoch"}` +
      ` · ${params.optimizer} (learning rate ${params.learningRate})` +
      ` · transfer **${formatTransfer(params.transfer)}** · weights **${params.weights}**` +
      (params.patience ? ` · early stopping after ${params.patience} epochs without a better validation loss` : " · no early stopping"),
    `- **Data**: ${params.dataDir ?? "the embedded SYNTHETIC set"} — ${params.trainPerClass} + ${params.trainPerClass} training, ${params.validationPerClass} + ${params.validationPerClass} validation images, augmented as in the study`,
    `- **Engine**: ${engine.engine} on ${engine.device} (backend \`${engine.backend}\`, ${engine.threads} thread${engine.threads === 1 ? "" : "s"}) — ${engine.reason}`,
    ...engine.warnings.map((warning) => `- **Engine warning**: ${warning}`),
    `- **Workers**: ${workersLine(params, engine)}`,
    `- **Run directory**: \`${path.join(params.runsDir, params.runId)}\` (RUN_ID \`${params.runId}\`: run again to resume)`,
  ];
  return lines.join("\n");
}

/** What WORKERS means for this run, before it starts (finished architectures may lower the count). */
function workersLine(params: RunParams, engine: EngineDescription): string {
  const count = resolveWorkerCount({ workers: params.workers, engine, pendingArchs: params.archs.length });
  const choice = `WORKERS=${params.workers}`;
  if (count === 1) return `one architecture at a time, in this process (${choice})`;
  return (
    `up to ${count} architectures at the same time, each in its own process (${choice}` +
    `${params.workers === "auto" ? `: ${engine.engine} uses one core per process` : ""}) — ` +
    `epoch times are measured with ${count} trainings sharing the machine (run.json and each history record the count)`
  );
}

/** The machine of run.json's inventory in one Markdown line. */
export function machineMarkdown(inventory: Partial<MachineInventory> | Record<string, unknown>): string {
  const inv = inventory as Partial<MachineInventory>;
  const gib = (bytes?: number) => (bytes ? `${(bytes / 2 ** 30).toFixed(0)} GiB` : "?");
  const gpus = inv.gpus?.length
    ? inv.gpus.map((g) => `${g.name} (${g.memoryMiB} MiB, driver ${g.driverVersion})`).join(", ")
    : `none${inv.gpuNote ? ` (${inv.gpuNote})` : ""}`;
  return `**This machine**: ${inv.cpu?.model ?? "unknown CPU"}, ${inv.cpu?.logicalCores ?? "?"} logical cores, ${gib(inv.memory?.totalBytes)} RAM, ${inv.os?.distribution ?? inv.os?.platform ?? "?"}; GPU: ${gpus}.`;
}
