// The study's tables as plain data (columns with a format and a "best" direction, rows of cells).
// frames.ts turns them into danfo DataFrames; the workbook and the notebook read those frames.
import type { LatencyFile, LatencyRow } from "../evaluate/latency-file";
import { mergeLatency } from "../evaluate/latency-file";
import type { RunResults } from "../evaluate/run";
import { epochAdvice, type Summary } from "../evaluate/summary";
import type { ArchHistory } from "../train/types";

export const SHEET_NAMES = ["Training Duration", "Validation Accuracy", "Validation Loss", "Classification Time", "Wrong Classifications", "Models", "Machine Specs", "Run"] as const;
export type SheetName = (typeof SHEET_NAMES)[number];

/** How a column is shown: seconds "0.0", fractions as "0.0%", milliseconds "0.00", … */
export type ColumnFormat = "text" | "integer" | "seconds" | "percent" | "ms" | "loss" | "rate" | "pvalue";
/** Which value of a numeric column is best: max for accuracy and throughput, min for loss, time and errors. */
export type Best = "max" | "min";

export interface ColumnSpec {
  name: string;
  format: ColumnFormat;
  best?: Best;
}

export type Cell = string | number | null;

export interface Table {
  sheet: SheetName;
  title: string;
  columns: ColumnSpec[];
  rows: Cell[][];
}

const finite = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

function maxEpochs(histories: readonly ArchHistory[]): number {
  return Math.max(0, ...histories.map((h) => h.epochs.length));
}

function epochColumns(count: number, suffix: string, format: ColumnFormat, best: Best): ColumnSpec[] {
  return Array.from({ length: count }, (_, i) => ({ name: `Epoch ${i + 1}${suffix}`, format, best }));
}

function epochCells(history: ArchHistory, count: number, pick: (e: ArchHistory["epochs"][number]) => number): Cell[] {
  return Array.from({ length: count }, (_, i) => (history.epochs[i] ? finite(pick(history.epochs[i])) : null));
}

/** Study Table 1: seconds per epoch and in total (load + train + save). */
export function trainingDurationTable(histories: readonly ArchHistory[]): Table {
  const n = maxEpochs(histories);
  return {
    sheet: "Training Duration",
    title: "Training duration per epoch and in total (seconds)",
    columns: [{ name: "Network", format: "text" }, ...epochColumns(n, " (s)", "seconds", "min"), { name: "Training (s)", format: "seconds", best: "min" }, { name: "Build (s)", format: "seconds", best: "min" }, { name: "Save (s)", format: "seconds", best: "min" }, { name: "Total (s)", format: "seconds", best: "min" }],
    rows: histories.map((h) => [h.displayName, ...epochCells(h, n, (e) => e.epochSeconds), h.epochs.reduce((s, e) => s + e.epochSeconds, 0), finite(h.buildSeconds), finite(h.saveSeconds), finite(h.totalSeconds)]),
  };
}

export function validationAccuracyTable(histories: readonly ArchHistory[]): Table {
  const n = maxEpochs(histories);
  return {
    sheet: "Validation Accuracy",
    title: "Validation accuracy per epoch",
    columns: [{ name: "Network", format: "text" }, ...epochColumns(n, "", "percent", "max"), { name: "Best", format: "percent", best: "max" }, { name: "Best epoch (by loss)", format: "integer" }],
    rows: histories.map((h) => [h.displayName, ...epochCells(h, n, (e) => e.validationAccuracy), finite(Math.max(...h.epochs.map((e) => e.validationAccuracy))), epochAdvice(h).bestEpoch]),
  };
}

/** Study Table 2. */
export function validationLossTable(histories: readonly ArchHistory[]): Table {
  const n = maxEpochs(histories);
  return {
    sheet: "Validation Loss",
    title: "Validation loss per epoch",
    columns: [{ name: "Network", format: "text" }, ...epochColumns(n, "", "loss", "min"), { name: "Lowest", format: "loss", best: "min" }, { name: "Best epoch", format: "integer" }, { name: "Overfitting from epoch", format: "integer" }],
    rows: histories.map((h) => {
      const advice = epochAdvice(h);
      return [h.displayName, ...epochCells(h, n, (e) => e.validationLoss), advice.bestValidationLoss, advice.bestEpoch, advice.overfittingEpoch];
    }),
  };
}

/** Study Tables 3–4: classification time per image on every machine/engine that measured. */
export function classificationTimeTable(rows: readonly LatencyRow[]): Table {
  const batchSizes = [...new Set(rows.flatMap((r) => Object.keys(r.imagesPerSecond).map(Number)))].sort((a, b) => a - b);
  return {
    sheet: "Classification Time",
    title: "Classification time per image (model only and end to end) and batched throughput",
    columns: [
      { name: "Machine", format: "text" },
      { name: "Engine", format: "text" },
      { name: "Network", format: "text" },
      { name: "Input (px)", format: "integer" },
      { name: "Models", format: "text" },
      { name: "First call (ms)", format: "ms", best: "min" },
      { name: "Mean (ms)", format: "ms", best: "min" },
      { name: "p50 (ms)", format: "ms", best: "min" },
      { name: "p90 (ms)", format: "ms", best: "min" },
      { name: "p99 (ms)", format: "ms", best: "min" },
      { name: "End-to-end mean (ms)", format: "ms", best: "min" },
      { name: "End-to-end p50 (ms)", format: "ms", best: "min" },
      { name: "End-to-end p99 (ms)", format: "ms", best: "min" },
      ...batchSizes.map((b): ColumnSpec => ({ name: `Batch ${b} (img/s)`, format: "rate", best: "max" })),
    ],
    rows: rows.map((r) => [r.machine, r.engine, r.displayName, r.inputSize, r.models, r.firstCallMs, r.modelOnlyMeanMs, r.modelOnlyP50Ms, r.modelOnlyP90Ms, r.modelOnlyP99Ms, r.endToEndMeanMs, r.endToEndP50Ms, r.endToEndP99Ms, ...batchSizes.map((b) => finite(r.imagesPerSecond[b]))]),
  };
}

/** The study's "false positives" chart as a table, with the statistics it lacked. */
export function wrongClassificationsTable(results: Pick<RunResults, "evaluations">, summary: Summary): Table {
  const classes = [...new Set(results.evaluations.flatMap((e) => e.classes))];
  return {
    sheet: "Wrong Classifications",
    title: "Wrong classifications per true class on the validation split",
    columns: [
      { name: "Network", format: "text" },
      ...classes.map((c): ColumnSpec => ({ name: `Wrong ${c}`, format: "integer", best: "min" })),
      { name: "Wrong total", format: "integer", best: "min" },
      { name: "Images", format: "integer" },
      { name: "Accuracy", format: "percent", best: "max" },
      { name: "95 % low", format: "percent", best: "max" },
      { name: "95 % high", format: "percent", best: "max" },
      { name: "Log loss", format: "loss", best: "min" },
      { name: "McNemar p vs most accurate", format: "pvalue" },
    ],
    rows: results.evaluations.map((e) => {
      const comparison = summary.comparisons.find((c) => c.arch === e.arch);
      return [e.displayName, ...classes.map((c) => e.wrongPerClass[c] ?? null), e.images - e.correct, e.images, e.accuracy, e.accuracyInterval95.low, e.accuracyInterval95.high, finite(e.logLoss), comparison ? comparison.pValue : null];
    }),
  };
}

export function modelsTable(histories: readonly ArchHistory[]): Table {
  return {
    sheet: "Models",
    title: "Model facts",
    columns: [{ name: "Network", format: "text" }, { name: "Id", format: "text" }, { name: "Parameters", format: "integer" }, { name: "Trainable parameters", format: "integer" }, { name: "Layers", format: "integer" }, { name: "Input (px)", format: "integer" }, { name: "Build (s)", format: "seconds", best: "min" }],
    rows: histories.map((h) => [h.displayName, h.arch, h.parameters, h.trainableParameters, h.layers, h.inputSize, finite(h.buildSeconds)]),
  };
}

const GIB = 1024 ** 3;

/** Readable fields of a lib/system MachineInventory; unknown shapes fall back to flattened keys. */
export function inventoryFields(inventory: Record<string, unknown>): [string, string][] {
  const inv = inventory as {
    hostname?: string;
    cpu?: { model?: string; logicalCores?: number };
    memory?: { totalBytes?: number };
    disk?: { totalBytes?: number; freeBytes?: number };
    os?: { platform?: string; release?: string; arch?: string; distribution?: string };
    node?: string;
    versions?: Record<string, string>;
    gpus?: { name?: string; memoryTotalMiB?: number; driverVersion?: string }[];
    gpuNote?: string;
  };
  const fields: [string, string][] = [];
  const add = (name: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== "") fields.push([name, String(value)]);
  };
  add("Host", inv.hostname);
  add("CPU", inv.cpu?.model);
  add("Logical cores", inv.cpu?.logicalCores);
  if (inv.memory?.totalBytes) add("RAM (GiB)", (inv.memory.totalBytes / GIB).toFixed(1));
  if (inv.disk?.totalBytes) add("Disk free / total (GiB)", `${((inv.disk.freeBytes ?? 0) / GIB).toFixed(0)} / ${(inv.disk.totalBytes / GIB).toFixed(0)}`);
  if (inv.os) add("OS", [inv.os.distribution ?? inv.os.platform, inv.os.release, inv.os.arch].filter(Boolean).join(" "));
  add("Node", inv.node);
  for (const [name, version] of Object.entries(inv.versions ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) add(name, version);
  add("GPUs", inv.gpus && inv.gpus.length ? inv.gpus.map((g) => [g.name, g.memoryTotalMiB ? `${g.memoryTotalMiB} MiB` : "", g.driverVersion ? `driver ${g.driverVersion}` : ""].filter(Boolean).join(", ")).join("; ") : (inv.gpuNote ?? "none"));
  if (fields.length <= 1) {
    const flatten = (prefix: string, value: unknown): void => {
      if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v);
      else add(prefix, value);
    };
    fields.length = 0;
    flatten("", inventory);
  }
  return fields;
}

/** One column per machine: the training machine (from run.json) and every machine that measured latency. */
export function machineSpecsTable(results: Pick<RunResults, "manifest" | "latency">): Table {
  const machines: { label: string; inventory: Record<string, unknown>; engine?: string }[] = [];
  if (results.manifest?.inventory) machines.push({ label: "Training machine", inventory: results.manifest.inventory, engine: results.manifest.engine?.engine });
  const seen = new Set<string>();
  for (const file of results.latency as LatencyFile[]) {
    if (seen.has(file.machine)) continue;
    seen.add(file.machine);
    machines.push({ label: file.machine, inventory: file.inventory, engine: [...new Set(results.latency.filter((f) => f.machine === file.machine).map((f) => f.engine.engine))].join(", ") });
  }
  const perMachine = machines.map((m) => new Map([...inventoryFields(m.inventory), ...(m.engine ? ([["Engine", m.engine]] as [string, string][]) : [])]));
  const fieldNames = [...new Set(perMachine.flatMap((m) => [...m.keys()]))];
  return {
    sheet: "Machine Specs",
    title: "Machine specifications",
    columns: [{ name: "Field", format: "text" }, ...machines.map((m): ColumnSpec => ({ name: m.label, format: "text" }))],
    rows: fieldNames.map((field) => [field, ...perMachine.map((m) => m.get(field) ?? null)]),
  };
}

export function runTable(results: RunResults, summary: Summary): Table {
  const m = results.manifest;
  const params = m?.params;
  const rows: [string, Cell][] = [
    ["Run id", results.runId],
    ["Run directory", results.runDir],
    ["Created", m?.createdAt ?? null],
    ["Profile", params?.profile ?? null],
    ["Architectures requested", (m?.archs ?? params?.archs ?? []).join(", ")],
    ["Epochs", params?.epochs ?? null],
    ["Image size (px)", params?.imageSize ?? null],
    ["Batch size", params?.batchSize ?? null],
    ["Seed", params?.seed ?? null],
    ["Dataset", m?.dataset ? `${m.dataset.dataset ?? ""} (${m.dataset.source ?? "?"})` : null],
    ["Synthetic data", m?.dataset?.synthetic === undefined ? null : m.dataset.synthetic ? "yes — the numbers show the pipeline, not the study's task" : "no"],
    ["Training engine", m?.engine ? `${m.engine.engine} (${m.engine.backend}, ${m.engine.device})` : null],
    ["Git commit", m?.git?.commit ? `${m.git.commit.slice(0, 12)}${m.git.dirty ? " (dirty)" : ""}` : null],
    ["Finished", results.histories.map((h) => h.arch).join(", ") || "none"],
    ["Evaluated", results.evaluations.map((e) => e.arch).join(", ") || "none"],
    ["Failed", summary.failures.map((f) => `${f.key}: ${f.message}`).join("; ") || "none"],
    ["Missing", summary.missing.join(", ") || "none"],
    ["Unfinished", summary.unfinished.join(", ") || "none"],
  ];
  return { sheet: "Run", title: "Run", columns: [{ name: "Field", format: "text" }, { name: "Value", format: "text" }], rows: rows.map(([field, value]) => [field, value === null ? null : String(value)]) };
}

export function buildTables(opts: { results: RunResults; summary: Summary }): Table[] {
  const { results, summary } = opts;
  return [
    trainingDurationTable(results.histories),
    validationAccuracyTable(results.histories),
    validationLossTable(results.histories),
    classificationTimeTable(mergeLatency(results.latency)),
    wrongClassificationsTable(results, summary),
    modelsTable(results.histories),
    machineSpecsTable(results),
    runTable(results, summary),
  ];
}
