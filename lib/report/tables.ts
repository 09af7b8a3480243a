// The study's tables as plain data (columns with a format and a "best" direction, rows of cells).
// frames.ts turns them into danfo DataFrames; the workbook and the notebook read those frames.
import type { LatencyRow } from "../evaluate/latency-file";
import { mergeLatency } from "../evaluate/latency-file";
import type { RunResults } from "../evaluate/run";
import { epochAdvice, type Summary } from "../evaluate/summary";
import type { ArchHistory } from "../schemas/history";
import { formatTransfer } from "../config";
import { type MachineInventory, machineSlug } from "../system/index";
import { shareablePath } from "../paths";

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

const RUNTIME_NAMES: Record<LatencyRow["runtime"], string> = { tfjs: "TensorFlow.js", onnxruntime: "ONNX Runtime" };

/** Study Tables 3–4: classification time per image on every machine/engine that measured. */
export function classificationTimeTable(rows: readonly LatencyRow[]): Table {
  const batchSizes = [...new Set(rows.flatMap((r) => Object.keys(r.imagesPerSecond).map(Number)))].sort((a, b) => a - b);
  return {
    sheet: "Classification Time",
    title: "Classification time per image (model only and end to end) and batched throughput",
    columns: [
      { name: "Machine", format: "text" },
      { name: "Runtime", format: "text" },
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
    rows: rows.map((r) => [r.machine, RUNTIME_NAMES[r.runtime], r.engine, r.displayName, r.inputSize, r.models, r.firstCallMs, r.modelOnlyMeanMs, r.modelOnlyP50Ms, r.modelOnlyP90Ms, r.modelOnlyP99Ms, r.endToEndMeanMs, r.endToEndP50Ms, r.endToEndP99Ms, ...batchSizes.map((b) => finite(r.imagesPerSecond[b]))]),
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
      return [e.displayName, ...classes.map((c) => e.wrongPerClass[c] ?? null), e.images - e.correct, e.images, e.accuracy, e.accuracyInterval95.low, e.accuracyInterval95.high, finite(e.logLoss ?? undefined), comparison ? comparison.pValue : null];
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
const gib = (bytes: number) => Math.round((10 * bytes) / GIB) / 10;

/** A machine's specs as (field, value) rows: numbers stay numbers, so a spreadsheet can compute with them. */
export function inventoryFields(inventory: Partial<MachineInventory>): [string, Cell][] {
  const fields: [string, Cell][] = [];
  const add = (name: string, value: Cell | undefined) => {
    if (value !== undefined && value !== null && value !== "") fields.push([name, value]);
  };
  add("Host", inventory.hostname);
  add("CPU", inventory.cpu?.model);
  add("Logical cores", inventory.cpu?.logicalCores);
  if (inventory.memory?.totalBytes) add("RAM (GiB)", gib(inventory.memory.totalBytes));
  if (inventory.disk && "totalBytes" in inventory.disk) {
    add("Disk total (GiB)", gib(inventory.disk.totalBytes));
    add("Disk free (GiB)", gib(inventory.disk.freeBytes));
  }
  if (inventory.os) add("OS", [inventory.os.distribution ?? inventory.os.platform, inventory.os.release, inventory.os.arch].filter(Boolean).join(" "));
  add("Node", inventory.node);
  for (const [name, version] of Object.entries(inventory.versions ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) add(name, version);
  const gpus = inventory.gpus ?? [];
  add("GPUs", gpus.length ? gpus.map((g) => g.name).join("; ") : (inventory.gpuNote ?? "none"));
  if (gpus.length) {
    add("GPU memory (MiB)", gpus.reduce((sum, g) => sum + g.memoryMiB, 0));
    add("GPU driver", [...new Set(gpus.map((g) => g.driverVersion))].join("; "));
  }
  return fields;
}

/**
 * One column per machine — the training machine (run.json) and every machine that measured latency,
 * each once: a machine that did both is one column whose "Used for" row says so.
 */
export function machineSpecsTable(results: Pick<RunResults, "manifest" | "latency">): Table {
  const machines = new Map<string, { inventory: Partial<MachineInventory>; uses: string[] }>();
  const use = (slug: string, inventory: Partial<MachineInventory>, what: string) => {
    const machine = machines.get(slug) ?? { inventory, uses: [] };
    machine.uses.push(what);
    machines.set(slug, machine);
  };
  const trained = results.manifest?.inventory;
  if (trained) use(slugOf(trained) ?? "Training machine", trained, `training (${results.manifest?.engine?.engine ?? "engine unknown"})`);
  for (const file of results.latency) use(file.machine, file.inventory as Partial<MachineInventory>, `latency (${file.engine.engine})`);
  const columns = [...machines.entries()].map(([slug, m]) => ({ slug, fields: new Map<string, Cell>([["Used for", m.uses.join(", ")], ...inventoryFields(m.inventory)]) }));
  const fieldNames = [...new Set(columns.flatMap((m) => [...m.fields.keys()]))];
  return {
    sheet: "Machine Specs",
    title: "Machine specifications",
    columns: [{ name: "Field", format: "text" }, ...columns.map((m): ColumnSpec => ({ name: m.slug, format: "text" }))],
    rows: fieldNames.map((field) => [field, ...columns.map((m) => m.fields.get(field) ?? null)]),
  };
}

/** The machine name latency files use, when the inventory has what it needs. */
function slugOf(inventory: Partial<MachineInventory>): string | undefined {
  return inventory.hostname && inventory.cpu ? machineSlug({ hostname: inventory.hostname, cpu: inventory.cpu, gpus: inventory.gpus ?? [] }) : undefined;
}

export function runTable(results: RunResults, summary: Summary): Table {
  const m = results.manifest;
  const params = m?.params;
  const rows: [string, Cell][] = [
    ["Run id", results.runId],
    ["Run directory", shareablePath(results.runDir)],
    ["Created", m?.createdAt ?? null],
    ["Profile", params?.profile ?? null],
    ["Architectures requested", (m?.archs ?? params?.archs ?? []).join(", ")],
    ["Epochs", params?.epochs ?? null],
    ["Image size (px)", params?.imageSize ?? null],
    ["Batch size", params?.batchSize ?? null],
    ["Seed", params?.seed ?? null],
    ["Dataset", m?.dataset ? `${m.dataset.dataset ?? ""} (${m.dataset.source ?? "?"})` : null],
    ["Synthetic data", m?.dataset?.synthetic === undefined ? null : m.dataset.synthetic ? "yes — the numbers show the pipeline, not the study's task" : "no"],
    ["Weights", params?.weights ?? null],
    ["Transfer", params?.transfer ? formatTransfer(params.transfer) : null],
    ["Engine", m?.engine?.engine ? `${m.engine.engine} (backend ${m.engine.backend ?? "?"})` : null],
    ["Device", m?.engine?.device ?? null],
    ["Git commit", m?.git?.commit ? `${m.git.commit.slice(0, 12)}${m.git.dirty ? " (dirty)" : ""}` : null],
    ["Finished", results.histories.map((h) => h.arch).join(", ") || "none"],
    ["Evaluated", results.evaluations.map((e) => e.arch).join(", ") || "none"],
    ["Failed", summary.failures.map((f) => `${f.key}: ${f.message}`).join("; ") || "none"],
    ["Missing", summary.missing.join(", ") || "none"],
    ["Unfinished", summary.unfinished.join(", ") || "none"],
  ];
  return { sheet: "Run", title: "Run", columns: [{ name: "Field", format: "text" }, { name: "Value", format: "text" }], rows: rows.map(([field, value]) => [field, value === undefined ? null : value]) };
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
