// Rows of `showcase bench`: every row names engine, threads, input size and batch.
import type { MachineInventory } from "../system/index";
import type { TorchBlas } from "./torch";

export const BENCH_SCHEMA = "showcase.bench/2";

export type BenchKind = "latency" | "train" | "features" | "data" | "torch";

export interface BenchRow {
  kind: BenchKind;
  /** Architecture id, or the pipeline stage for data rows. */
  subject: string;
  /** "keras graph", "BN folded", "micro-batch 8", "torch 2 threads" … */
  variant: string;
  engine: string;
  threads: number;
  inputSize: number;
  batch: number;
  /** Latency rows: per-call milliseconds. */
  p50Ms?: number;
  p90Ms?: number;
  /** Latency rows: multiply-accumulates per image (lib/models/flops), so p50 converts to GFLOP/s. */
  gmacPerImage?: number;
  imagesPerSecond?: number;
  /** Images per second of this process's CPU time (robust when other processes share the cores). */
  imagesPerCpuSecond?: number;
  repetitions: number;
  /** Device engines (webgpu), training rows, medians per step: host time until the step's work is
   * enqueued, then the wait for the device; programs dispatched; host bytes uploaded as tensors;
   * GPU buffers created (0 in steady state). */
  hostMs?: number;
  deviceWaitMs?: number;
  kernelsPerStep?: number;
  uploadBytesPerStep?: number;
  createBuffersPerStep?: number;
  note?: string;
}

export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  createdAt: string;
  command: string;
  engine: string;
  threads: number;
  tfjsVersion: string;
  /** The same machine inventory as a training run records, plus the load while the bench ran. */
  host: MachineInventory & { loadAverage1m: number };
  rows: BenchRow[];
  /** The PyTorch reference's BLAS, core type and threads (--torch), as its own process found them. */
  torchReference?: TorchBlas;
  peakRssMiB: number;
  peakWasmHeapMiB?: number;
  errors: Array<{ kind: BenchKind; subject: string; message: string }>;
}
