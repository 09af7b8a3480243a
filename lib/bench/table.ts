// Plain-text table of bench rows (one table per kind).
import type { BenchRow } from "./types";

const COLUMNS: Array<[string, (r: BenchRow) => string]> = [
  ["subject", (r) => r.subject],
  ["variant", (r) => r.variant],
  ["engine", (r) => r.engine],
  ["threads", (r) => String(r.threads)],
  ["input", (r) => String(r.inputSize)],
  ["batch", (r) => String(r.batch)],
  ["p50 ms", (r) => (r.p50Ms === undefined ? "" : r.p50Ms.toFixed(1))],
  ["p90 ms", (r) => (r.p90Ms === undefined ? "" : r.p90Ms.toFixed(1))],
  ["GFLOP/s", (r) => gflopsPerSecond(r)?.toFixed(1) ?? ""],
  ["img/s", (r) => (r.imagesPerSecond === undefined ? "" : r.imagesPerSecond.toFixed(2))],
  ["img/cpu-s", (r) => (r.imagesPerCpuSecond === undefined ? "" : r.imagesPerCpuSecond.toFixed(2))],
  ["host ms", (r) => (r.hostMs === undefined ? "" : r.hostMs.toFixed(1))],
  ["device wait ms", (r) => (r.deviceWaitMs === undefined ? "" : r.deviceWaitMs.toFixed(1))],
  ["kernels/step", (r) => (r.kernelsPerStep === undefined ? "" : String(r.kernelsPerStep))],
  ["upload B/step", (r) => (r.uploadBytesPerStep === undefined ? "" : String(r.uploadBytesPerStep))],
  ["createBuffer/step", (r) => (r.createBuffersPerStep === undefined ? "" : String(r.createBuffersPerStep))],
  ["reps", (r) => String(r.repetitions)],
  ["note", (r) => r.note ?? ""],
];

/** Achieved GFLOP/s of a latency row (2 FLOP per multiply-accumulate at the p50), or undefined without both. */
export function gflopsPerSecond(row: BenchRow): number | undefined {
  return row.gmacPerImage === undefined || !row.p50Ms ? undefined : (2 * row.gmacPerImage) / (row.p50Ms / 1000);
}

/** A title line, then left-aligned columns two spaces apart under a header and a line of dashes. */
export function textTable(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((name, i) => Math.max(name.length, ...rows.map((c) => c[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [title, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function formatTable(title: string, rows: BenchRow[]): string {
  const used = COLUMNS.filter(([, get]) => rows.some((r) => get(r) !== ""));
  return textTable(title, used.map(([name]) => name), rows.map((r) => used.map(([, get]) => get(r))));
}
