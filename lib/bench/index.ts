// `showcase bench`: runs the requested sections on the selected engine, prints one table per
// section, and returns the report (the CLI writes it atomically as JSON).
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { EngineChoice } from "../config";
import { formatKernelTable, type KernelTime } from "./kernel-profile";
import { benchFeatures, benchLatency, benchTraining } from "./models";
import { peakRssMiB, round, sampleWasmHeap } from "./measure";
import { formatTable, gflopsPerSecond, textTable } from "./table";
import { benchTorch, type TorchBlas, TorchReferenceRefused, torchAvailable, torchGraphsDir } from "./torch";
import { promises as fs } from "node:fs";
import { BENCH_SCHEMA, type BenchKind, type BenchReport, type BenchRow } from "./types";
import { benchWorkers } from "./workers";
import { collectInventory } from "../system/index";

export type BenchSection = "latency" | "train" | "features" | "data";
export const BENCH_SECTIONS: readonly BenchSection[] = ["latency", "train", "features", "data"];

export interface BenchOptions {
  sections: BenchSection[];
  engine: EngineChoice;
  /** Per section; undefined = the section's default list. */
  archs?: string[];
  /** Width of the MobileNets (ALPHA); the other networks ignore it. */
  alpha?: number;
  latencySize: number;
  latencyReps: number;
  trainSizes: number[];
  trainSteps: number;
  batch: number;
  microBatch?: number | "auto";
  featureSize: number;
  featureBatches: number;
  dataImages: number;
  /** Also train on this many concurrent worker processes (issue 7.4); 0 = skip. */
  workers: number;
  /** Device engines: also measure each training row with tfjs's own kernels (before/after). */
  compareKernels?: boolean;
  /** Also print where one training step's time goes, per kernel. */
  kernels?: boolean;
  torch: boolean;
  /** Also time the latency networks on ONNX Runtime (the same model exported), CPU, on the engine's threads. */
  onnx?: boolean;
  command: string;
  log?: (line: string) => void;
}

/** Defaults keep `npm run bench` to a few minutes on a 2-core machine; flags ask for more. */
export const DEFAULT_ARCHS: Record<BenchSection, string[]> = {
  latency: ["mobilenet_v2", "resnet50", "densenet121"],
  train: ["mobilenet_v2"],
  features: ["mobilenet_v2"],
  data: [],
};

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const { selectEngine } = await import("../engine/index");
  const engine = await selectEngine({ engine: opts.engine, quiet: true });
  const context = { engine: engine.engine, adapter: engine.adapter, threads: engine.threads, alpha: opts.alpha };
  const rows: BenchRow[] = [];
  const errors: BenchReport["errors"] = [];
  log(`engine ${engine.engine} (backend ${engine.backend}), ${engine.threads} thread(s); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
  const section = async (kind: BenchKind, title: string, subjects: string[], body: (subject: string) => Promise<BenchRow[]> | BenchRow[]) => {
    const sectionRows: BenchRow[] = [];
    for (const subject of subjects) {
      try {
        const produced = await body(subject);
        sectionRows.push(...produced);
        for (const r of produced) log(`  ${kind} ${r.subject} ${r.variant} ${r.inputSize}px: ${r.p50Ms !== undefined ? `p50 ${r.p50Ms} ms` : `${r.imagesPerSecond} img/s`}${r.imagesPerCpuSecond ? `, ${r.imagesPerCpuSecond} img/cpu-s` : ""}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.push({ kind, subject, message });
        log(`  ${kind} ${subject}: FAILED: ${message}`);
      }
    }
    rows.push(...sectionRows);
    if (sectionRows.length) log(`\n${formatTable(title, sectionRows)}\n`);
  };
  const archsFor = (s: BenchSection) => opts.archs ?? DEFAULT_ARCHS[s];

  if (opts.sections.includes("data")) {
    await section("data", "Data pipeline (decode + resize + augment)", ["pipeline"], async () => {
      const { benchDataPipeline } = await import("./data-pipeline");
      const dataRows = await benchDataPipeline({ imageSize: 224, images: opts.dataImages, batchSize: opts.batch });
      return dataRows.map((r) => ({
        kind: "data" as const, subject: r.stage, variant: r.source, engine: r.backend, threads: r.backend === "sharp" ? os.cpus().length : engine.threads,
        inputSize: r.imageSize, batch: opts.batch, imagesPerSecond: round(r.imagesPerSecond), repetitions: 1, note: `${r.images} images`,
      }));
    });
  }
  // The PyTorch reference: probed first (its BLAS recorded, the reference BLAS refused before any long
  // run), then timed right after tfjs and ONNX Runtime for each network, so that the three runtimes of a
  // network see the same minutes of a shared machine. Its twin of an architecture torchvision lacks is
  // the exported graph.
  let torchReference: TorchBlas | undefined;
  let torchUsable = false;
  const torchOptions = { threads: engine.threads, latencyReps: opts.latencyReps, latencySize: opts.latencySize, trainSteps: opts.trainSteps, batch: opts.batch };
  if (opts.torch) {
    const missing = await torchAvailable();
    try {
      if (missing) throw new Error(missing);
      torchReference = (await benchTorch({ ...torchOptions, archs: [], trainSizes: [] })).blas;
      torchUsable = true;
      log(`PyTorch reference: BLAS ${torchReference.kind} (${torchReference.libraries.join(", ")}), core ${torchReference.core ?? "?"}, OPENBLAS_CORETYPE=${torchReference.OPENBLAS_CORETYPE ?? "unset"}, OPENBLAS_NUM_THREADS=${torchReference.OPENBLAS_NUM_THREADS ?? "unset"}, torch threads ${torchReference.torchThreads}`);
    } catch (error) {
      if (error instanceof TorchReferenceRefused) torchReference = error.blas;
      const message = (error as Error).message;
      log(`PyTorch comparison skipped: ${message}`);
      errors.push({ kind: "torch", subject: "pytorch", message });
    }
  }
  if (opts.sections.includes("latency")) {
    const torchGraphs = torchUsable ? await torchGraphsDir() : undefined;
    try {
      await section("latency", `Batch-1 latency at ${opts.latencySize} px${torchUsable ? ", each network on tfjs, then ONNX Runtime, then PyTorch" : ""}`, archsFor("latency"), async (arch) => {
        const produced = await benchLatency(arch, { ...context, inputSize: opts.latencySize, repetitions: opts.latencyReps, onnx: opts.onnx, torchGraphs });
        if (!torchGraphs) return produced;
        const torch = await benchTorch({ ...torchOptions, archs: [arch], trainSizes: [], graphsDir: torchGraphs });
        return [...produced, ...withTfjsMacs(torch.rows, produced)];
      });
    } finally {
      if (torchGraphs) await fs.rm(torchGraphs, { recursive: true, force: true });
    }
  }
  if (opts.sections.includes("train")) {
    const pairs = archsFor("train").flatMap((arch) => opts.trainSizes.map((size) => `${arch}@${size}`));
    const { queuesWorkOnDevice } = await import("../engine/capabilities");
    if (queuesWorkOnDevice()) {
      const { benchDeviceTraining } = await import("./device-train");
      await section("train", `Full training on the device, batch ${opts.batch}, medians per step`, pairs, async (pair) => {
        const [arch, size] = pair.split("@");
        const produced: BenchRow[] = [];
        for (const kernelSet of opts.compareKernels ? (["tfjs", "showcase"] as const) : (["showcase"] as const)) {
          const result = await benchDeviceTraining(arch, { ...context, inputSize: Number(size), batch: opts.batch, steps: opts.trainSteps, kernelSet });
          log(`\n${formatKernelTable(`Device time per kernel (timestamp queries), one step: ${arch} ${result.row.inputSize} px, batch ${opts.batch}, ${result.row.variant}`, result.kernels, 8).replace("self ms", "GPU ms")}\n`);
          produced.push(result.row);
        }
        return produced;
      });
    } else await section("train", `Full training, batch ${opts.batch}`, pairs, (pair) => {
      const [arch, size] = pair.split("@");
      const onKernels = opts.kernels ? (times: KernelTime[]) => log(`\n${formatKernelTable(`Kernels of one training step: ${arch} ${size} px, batch ${opts.batch}`, times)}\n`) : undefined;
      return [benchTraining(arch, { ...context, inputSize: Number(size), batch: opts.batch, steps: opts.trainSteps, microBatch: opts.microBatch, onKernels })];
    });
    if (opts.workers > 1) {
      await section("train", `Training on ${opts.workers} worker processes at once (both cores)`, archsFor("train"), (arch) =>
        benchWorkers({ arch, workers: opts.workers, inputSize: opts.trainSizes[0], batch: opts.batch, steps: opts.trainSteps, engine: opts.engine }));
    }
  }
  if (opts.sections.includes("features")) {
    await section("features", `Frozen-feature extraction, batch ${opts.batch}`, archsFor("features"), (arch) =>
      benchFeatures(arch, { ...context, inputSize: opts.featureSize, batch: opts.batch, batches: opts.featureBatches }));
  }
  if (torchUsable && opts.sections.includes("train")) {
    await section("torch", `PyTorch CPU training, same session (${engine.threads} thread(s))`, archsFor("train"), async (arch) =>
      (await benchTorch({ ...torchOptions, archs: [arch], trainSizes: opts.trainSizes, skipLatency: true })).rows);
  }
  if (torchUsable) {
    const ratios = ratioLines(rows);
    if (ratios.length) log(["time / PyTorch time (same session):", ...ratios].join("\n"));
    const side = sideBySide(rows);
    if (side) log(`\n${side}\n`);
  }
  const heap = sampleWasmHeap();
  return {
    schema: BENCH_SCHEMA,
    createdAt: new Date().toISOString(),
    command: opts.command,
    engine: engine.engine,
    threads: engine.threads,
    tfjsVersion: tf.version.tfjs,
    host: { ...(await collectInventory({ engine })), loadAverage1m: round(os.loadavg()[0], 1) },
    rows,
    torchReference,
    peakRssMiB: round(peakRssMiB(), 0),
    peakWasmHeapMiB: heap ? round(heap / 1024 ** 2, 0) : undefined,
    errors,
  };
}

/** PyTorch latency rows get the same architecture's multiply-accumulates, for a GFLOP/s column to compare. */
function withTfjsMacs(torchRows: BenchRow[], rows: BenchRow[]): BenchRow[] {
  return torchRows.map((t) => ({ ...t, gmacPerImage: rows.find((r) => r.kind === "latency" && r.subject === t.subject && r.inputSize === t.inputSize)?.gmacPerImage }));
}

/**
 * tfjs time / PyTorch time for each latency and training row that has a PyTorch twin: by wall clock,
 * and by CPU time of each process (the fair one when other work shares the cores).
 */
export function ratioLines(rows: BenchRow[]): string[] {
  const torch = rows.filter((r) => r.kind === "torch");
  const lines: string[] = [];
  for (const r of rows) {
    if (r.kind === "latency" && r.p50Ms !== undefined) {
      const t = torch.find((x) => x.subject === r.subject && x.variant.startsWith("latency") && x.inputSize === r.inputSize);
      if (t?.p50Ms) lines.push(`  latency ${r.subject} ${r.variant}: ${(r.p50Ms / t.p50Ms).toFixed(2)}× (${r.p50Ms} vs ${t.p50Ms} ms)${cpuRatio(r, t)}`);
    }
    if (r.kind === "train" && r.imagesPerSecond !== undefined) {
      const t = torch.find((x) => x.subject === r.subject && x.variant.startsWith("train") && x.inputSize === r.inputSize);
      if (t?.imagesPerSecond) lines.push(`  train ${r.subject} ${r.inputSize}px: ${(t.imagesPerSecond / r.imagesPerSecond).toFixed(2)}× (${r.imagesPerSecond} vs ${t.imagesPerSecond} img/s)${cpuRatio(r, t)}`);
    }
  }
  return lines;
}

/**
 * One line per network: tfjs (BN folded), ONNX Runtime and PyTorch p50 with achieved GFLOP/s, and
 * ONNX Runtime's time as a multiple of PyTorch's (≤ 1.00 = at least as fast).
 */
export function sideBySide(rows: BenchRow[]): string | undefined {
  const latency = rows.filter((r) => r.kind === "latency" || (r.kind === "torch" && r.variant.startsWith("latency")));
  const subjects = [...new Set(latency.filter((r) => r.kind === "latency").map((r) => r.subject))];
  if (subjects.length === 0) return undefined;
  const gflops = (r: BenchRow) => (r.gmacPerImage ? gflopsPerSecond(r)!.toFixed(1) : "");
  const cell = (r?: BenchRow) => (r?.p50Ms ? `${r.p50Ms.toFixed(1)} ms (${gflops(r)} GFLOP/s)` : "—");
  const lines = subjects.map((subject) => {
    const tfjs = latency.find((r) => r.subject === subject && r.kind === "latency" && r.variant.startsWith("BN folded"));
    const ort = latency.find((r) => r.subject === subject && r.variant === "onnxruntime");
    const torch = latency.find((r) => r.subject === subject && r.kind === "torch");
    const ratio = ort?.p50Ms && torch?.p50Ms ? (ort.p50Ms / torch.p50Ms).toFixed(2) : "—";
    return [subject, String(tfjs?.inputSize ?? ort?.inputSize ?? ""), cell(tfjs), cell(ort), `${cell(torch)}${torch ? ` [${torch.variant.replace(/^latency \(|\)$/g, "")}]` : ""}`, ratio];
  });
  const header = ["network", "px", "tfjs-wasm (BN folded)", "ONNX Runtime", "PyTorch", "ORT / PyTorch"];
  return textTable("Batch-1 p50 side by side (single process, same session)", header, lines);
}

function cpuRatio(tfjs: BenchRow, torch: BenchRow): string {
  if (!tfjs.imagesPerCpuSecond || !torch.imagesPerCpuSecond) return "";
  return `; CPU time ${(torch.imagesPerCpuSecond / tfjs.imagesPerCpuSecond).toFixed(2)}× (${tfjs.imagesPerCpuSecond} vs ${torch.imagesPerCpuSecond} img/cpu-s)`;
}
