// The training stage's own types (progress events, the session summary). The files it writes have
// their schema modules: lib/schemas/run-manifest.ts (run.json) and lib/schemas/history.ts.
import type { ArchHistory } from "../schemas/history";
import type { RunManifest } from "../schemas/run-manifest";

export interface GpuSample {
  utilizationPercent: number;
  memoryUsedMiB: number;
}

export const CHECKPOINT_SCHEMA = "showcase.checkpoint/2";

export interface TrainProgress {
  phase: "build" | "features" | "train" | "validate" | "save" | "skip" | "done";
  arch: string;
  /** 1-based position of the architecture and the count in this session. */
  archIndex: number;
  archCount: number;
  /** The process that trains it: runTraining's own, or a worker's when WORKERS > 1. */
  pid?: number;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running means over the epoch so far. */
  loss?: number;
  accuracy?: number;
  validationLoss?: number;
  validationAccuracy?: number;
  imagesPerSecond?: number;
  /** Remaining seconds for this architecture, from the measured speed; undefined before the first batch. */
  etaSeconds?: number;
  /** The message must stay in view (a damaged checkpoint and what resume did instead), not be replaced by the next event. */
  notice?: boolean;
  message?: string;
}

export interface RunSummary {
  runDir: string;
  manifest: RunManifest;
  histories: ArchHistory[];
  /** Architectures skipped because they had finished in an earlier session. */
  skipped: string[];
  /** Architectures resumed from a checkpoint. */
  resumed: string[];
  totalSeconds: number;
  aborted: boolean;
  /** Architectures the AbortSignal stopped mid-training, with the epochs they had completed (checkpointed). */
  stopped: Array<{ arch: string; completedEpochs: number }>;
  /** Architectures trained at the same time, each in its own process (1 = in this process, one after another). */
  workers: number;
}
