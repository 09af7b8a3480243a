// Latency results are saved per machine and engine under the run (latency-<machine>-<engine>.json),
// so that a laptop and a GPU workstation can both measure the same run and be merged into one table.
// The runtime (TensorFlow.js, or ONNX Runtime on the exported model) is part of the engine's name.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "../io/atomic";
import { ARCH_IDS } from "../ids";
import { type LatencyFile, type LatencyRuntime, readLatencyFile } from "../schemas/latency";

const FILE_PATTERN = /^latency-(.+)\.json$/;

export function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "unknown";
}

export function latencyFileName(opts: { machine: string; engine: string }): string {
  return `latency-${slugify(opts.machine)}-${slugify(opts.engine)}.json`;
}

export async function saveLatencyFile(opts: { runDir: string; file: LatencyFile }): Promise<string> {
  const target = path.join(opts.runDir, latencyFileName({ machine: opts.file.machine, engine: opts.file.engine.engine }));
  await writeJsonAtomic(target, opts.file, "latency");
  return target;
}

/** Every latency file of a run, sorted by machine then engine (the order never depends on the file system). */
export async function loadLatencyFiles(runDir: string): Promise<LatencyFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(runDir);
  } catch {
    return [];
  }
  const files: LatencyFile[] = [];
  for (const name of names.filter((n) => FILE_PATTERN.test(n))) {
    files.push(await readLatencyFile(path.join(runDir, name)));
  }
  return files.sort((a, b) => compareText(a.machine, b.machine) || compareText(a.engine.engine, b.engine.engine));
}

export interface LatencyRow {
  machine: string;
  runtime: LatencyRuntime;
  engine: string;
  device: string;
  models: LatencyFile["models"];
  arch: string;
  displayName: string;
  inputSize: number;
  firstCallMs: number;
  modelOnlyMeanMs: number;
  modelOnlyP50Ms: number;
  modelOnlyP90Ms: number;
  modelOnlyP99Ms: number;
  endToEndMeanMs: number;
  endToEndP50Ms: number;
  endToEndP90Ms: number;
  endToEndP99Ms: number;
  /** images/s by batch size, e.g. {1: 12.3, 8: 40.1, 32: 52.0} */
  imagesPerSecond: Record<number, number>;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Study order for known architectures, then by name, so that tables read the same everywhere. */
export function compareArchs(a: string, b: string): number {
  const ia = (ARCH_IDS as readonly string[]).indexOf(a);
  const ib = (ARCH_IDS as readonly string[]).indexOf(b);
  return (ia < 0 ? ARCH_IDS.length : ia) - (ib < 0 ? ARCH_IDS.length : ib) || compareText(a, b);
}

/** One row per (machine, engine, architecture), deterministic order whatever order the files came in. */
export function mergeLatency(files: readonly LatencyFile[]): LatencyRow[] {
  const rows: LatencyRow[] = [];
  for (const file of files) {
    for (const arch of file.archs) {
      rows.push({
        machine: file.machine,
        runtime: file.runtime ?? "tfjs",
        engine: file.engine.engine,
        device: file.engine.device,
        models: file.models,
        arch: arch.arch,
        displayName: arch.displayName,
        inputSize: arch.inputSize,
        firstCallMs: arch.modelOnly.firstCallMs,
        modelOnlyMeanMs: arch.modelOnly.meanMs,
        modelOnlyP50Ms: arch.modelOnly.p50Ms,
        modelOnlyP90Ms: arch.modelOnly.p90Ms,
        modelOnlyP99Ms: arch.modelOnly.p99Ms,
        endToEndMeanMs: arch.endToEnd.meanMs,
        endToEndP50Ms: arch.endToEnd.p50Ms,
        endToEndP90Ms: arch.endToEnd.p90Ms,
        endToEndP99Ms: arch.endToEnd.p99Ms,
        imagesPerSecond: Object.fromEntries(arch.throughput.map((t) => [t.batchSize, t.imagesPerSecond])),
      });
    }
  }
  return rows.sort((a, b) => compareText(a.machine, b.machine) || compareText(a.engine, b.engine) || compareArchs(a.arch, b.arch));
}
