// Latency, training and frozen-feature throughput of the architectures on the active backend.
import * as tf from "@tensorflow/tfjs";
import { planMicroBatch } from "../engine/capabilities";
import type { EngineName, GpuAdapterInfo } from "../engine/types";
import { foldBatchNormForInference } from "../models/fold-bn";
import { alphaFor, buildArchitecture, widthLabel } from "../models/index";
import { forwardMacs } from "../models/flops";
import { type KernelTime, profileKernels } from "./kernel-profile";
import { trainStep } from "../train/step";
import { percentileNearestRank } from "../evaluate/latency";
import { round, sampleWasmHeap, timeRuns, timeRunsAsync } from "./measure";
import { createOnnxSession, runOnnx } from "../export/onnx-runtime";
import { exportToOnnx } from "../export/to-onnx";
import { writeTorchGraph } from "./torch";
import type { BenchRow } from "./types";

export interface ModelBenchContext {
  engine: string;
  /** The WebGPU adapter (its limits size the micro-batches, as in training). */
  adapter?: GpuAdapterInfo;
  threads: number;
  /** ALPHA: the MobileNets' width (rows are labelled "mobilenet α=0.25"); others ignore it. */
  alpha?: number;
  onRow?: (row: BenchRow) => void;
}

/**
 * Batch-1 latency of the ImageNet classifier at `inputSize`, as built and with BatchNorm folded; with
 * `onnx`, also the same model exported and run by ONNX Runtime on `threads` thread(s). `torchGraphs`
 * receives the exported graph for PyTorch's twin of the architectures torchvision lacks.
 */
export async function benchLatency(arch: string, opts: ModelBenchContext & { inputSize: number; repetitions: number; warmup?: number; onnx?: boolean; torchGraphs?: string }): Promise<BenchRow[]> {
  const model = buildArchitecture(arch, { includeTop: true, inputShape: [opts.inputSize, opts.inputSize, 3], alpha: alphaFor(arch, opts.alpha) });
  const rows: BenchRow[] = [];
  try {
    if (opts.onnx || opts.torchGraphs) {
      const exported = exportToOnnx(model);
      if (opts.torchGraphs) await writeTorchGraph(exported.bytes, opts.torchGraphs, arch);
      if (opts.onnx) rows.push(await benchOnnxLatency(widthLabel(arch, alphaFor(arch, opts.alpha)), exported.bytes, forwardMacs(model), opts));
    }
    const folded = foldBatchNormForInference(model);
    try {
      const x = tf.randomUniform([1, opts.inputSize, opts.inputSize, 3], -1, 1, "float32", 1);
      for (const [variant, m] of [["keras graph", model], [`BN folded (${folded.foldedBatchNorms} BN, ${folded.fusedActivations} act fused)`, folded.model]] as const) {
        const timed = timeRuns(() => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync()), { warmup: opts.warmup ?? 2, runs: opts.repetitions });
        const times = timed.wallSeconds.map((s) => s * 1000);
        const cpuSeconds = timed.cpuSeconds;
        sampleWasmHeap();
        const row: BenchRow = {
          kind: "latency", subject: widthLabel(arch, alphaFor(arch, opts.alpha)), variant, engine: opts.engine, threads: opts.threads, inputSize: opts.inputSize, batch: 1,
          p50Ms: round(percentileNearestRank(times, 50)), p90Ms: round(percentileNearestRank(times, 90)), gmacPerImage: round(forwardMacs(model) / 1e9, 3), imagesPerCpuSecond: round(opts.repetitions / cpuSeconds), repetitions: opts.repetitions,
        };
        rows.push(row);
        opts.onRow?.(row);
      }
      x.dispose();
    } finally {
      folded.model.dispose();
    }
  } finally {
    model.dispose();
  }
  return rows;
}

async function benchOnnxLatency(subject: string, bytes: Uint8Array, macs: number, opts: ModelBenchContext & { inputSize: number; repetitions: number; warmup?: number }): Promise<BenchRow> {
  const session = await createOnnxSession(bytes, { provider: "cpu", threads: opts.threads });
  try {
    const x = Float32Array.from({ length: opts.inputSize * opts.inputSize * 3 }, (_, i) => ((i * 7919) % 2001) / 1000 - 1);
    const shape = [1, opts.inputSize, opts.inputSize, 3];
    const timed = await timeRunsAsync(() => runOnnx(session, x, shape), { warmup: opts.warmup ?? 2, runs: opts.repetitions });
    const times = timed.wallSeconds.map((s) => s * 1000);
    const row: BenchRow = {
      kind: "latency", subject, variant: "onnxruntime", engine: `onnxruntime-node ${session.version} cpu`, threads: opts.threads, inputSize: opts.inputSize, batch: 1,
      p50Ms: round(percentileNearestRank(times, 50)), p90Ms: round(percentileNearestRank(times, 90)), gmacPerImage: round(macs / 1e9, 3), imagesPerCpuSecond: round(opts.repetitions / timed.cpuSeconds), repetitions: opts.repetitions,
    };
    opts.onRow?.(row);
    return row;
  } finally {
    await session.session.release();
  }
}

/** Full training (every layer trainable, 2 classes, Adam) images/s with batch `batch`, micro-batched to fit the heap. */
export function benchTraining(
  arch: string,
  opts: ModelBenchContext & { inputSize: number; batch: number; steps: number; microBatch?: number | "auto"; onKernels?: (times: KernelTime[]) => void },
): BenchRow {
  const model = buildArchitecture(arch, { includeTop: true, classes: 2, inputShape: [opts.inputSize, opts.inputSize, 3], alpha: alphaFor(arch, opts.alpha) });
  const optimizer = tf.train.adam(1e-4);
  const xs = tf.randomUniform([opts.batch, opts.inputSize, opts.inputSize, 3], -1, 1, "float32", 2);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: opts.batch }, (_, i) => i % 2), "int32"), 2));
  try {
    const microBatchSize = opts.microBatch === undefined || opts.microBatch === "auto"
      ? planMicroBatch({ engine: { engine: opts.engine as EngineName, adapter: opts.adapter }, batchSize: opts.batch, model, purpose: "training", what: `training ${arch} at ${opts.inputSize} px` })
      : Math.max(1, Math.min(opts.batch, Math.floor(opts.microBatch)));
    const step = () => trainStep({ model, optimizer, xs, ys, microBatchSize });
    // one warm-up step: kernel setup, optimizer slots
    const { totalWallSeconds: wall, cpuSeconds: cpu } = timeRuns(step, { warmup: 1, runs: opts.steps });
    sampleWasmHeap();
    // one more step, timed per kernel (the wrapper's own cost stays out of the rows above)
    if (opts.onKernels) opts.onKernels(profileKernels(step));
    const images = opts.steps * opts.batch;
    const row: BenchRow = {
      kind: "train", subject: widthLabel(arch, alphaFor(arch, opts.alpha)), variant: microBatchSize < opts.batch ? `micro-batch ${microBatchSize}` : "one pass", engine: opts.engine, threads: opts.threads,
      inputSize: opts.inputSize, batch: opts.batch, imagesPerSecond: round(images / wall), imagesPerCpuSecond: round(images / cpu), repetitions: opts.steps,
    };
    opts.onRow?.(row);
    return row;
  } finally {
    tf.dispose([xs, ys]);
    optimizer.dispose();
    model.dispose();
  }
}

/** Frozen-base feature extraction (no top, average pooled, inference mode) images/s, as built and BN folded. */
export function benchFeatures(arch: string, opts: ModelBenchContext & { inputSize: number; batch: number; batches: number }): BenchRow[] {
  const base = buildArchitecture(arch, { includeTop: false, pooling: "avg", inputShape: [opts.inputSize, opts.inputSize, 3], alpha: alphaFor(arch, opts.alpha) });
  const rows: BenchRow[] = [];
  try {
    const folded = foldBatchNormForInference(base);
    const chunk = planMicroBatch({ engine: { engine: opts.engine as EngineName, adapter: opts.adapter }, batchSize: opts.batch, model: base, purpose: "inference", what: `feature extraction with ${arch}` });
    const xs = tf.randomUniform([opts.batch, opts.inputSize, opts.inputSize, 3], -1, 1, "float32", 3);
    try {
      for (const [variant, m] of [["keras graph", base], ["BN folded", folded.model]] as const) {
        const run = () => tf.tidy(() => (m.predict(xs, { batchSize: chunk }) as tf.Tensor).dataSync());
        const { totalWallSeconds: wall, cpuSeconds: cpu } = timeRuns(run, { warmup: 1, runs: opts.batches });
        sampleWasmHeap();
        const images = opts.batches * opts.batch;
        const row: BenchRow = {
          kind: "features", subject: widthLabel(arch, alphaFor(arch, opts.alpha)), variant: chunk < opts.batch ? `${variant}, chunks of ${chunk}` : variant, engine: opts.engine, threads: opts.threads,
          inputSize: opts.inputSize, batch: opts.batch, imagesPerSecond: round(images / wall), imagesPerCpuSecond: round(images / cpu), repetitions: opts.batches,
        };
        rows.push(row);
        opts.onRow?.(row);
      }
    } finally {
      xs.dispose();
      folded.model.dispose();
    }
  } finally {
    base.dispose();
  }
  return rows;
}
