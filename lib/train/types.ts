// What a training run records (reports/runs/<run-id>/…); notebook 03 and the report read these.
import type { RunParams } from "../config";
import type { EngineDescription, EngineName } from "../engine/types";
import type { ArchId } from "../ids";
import type { MachineInventory } from "../system/inventory";

export const RUN_MANIFEST_SCHEMA = "showcase.run-manifest/1";
export const HISTORY_SCHEMA = "showcase.history/1";

export interface GpuSample {
  utilizationPercent: number;
  memoryUsedMiB: number;
}

export interface EpochLog {
  epoch: number; // 1-based
  trainLoss: number;
  trainAccuracy: number;
  validationLoss: number;
  validationAccuracy: number;
  epochSeconds: number;
  imagesPerSecond: number;
  /** Mean GPU utilisation and peak memory over the epoch; absent without a GPU. */
  gpu?: { meanUtilizationPercent: number; maxMemoryUsedMiB: number; samples: number };
  /** ISO time the epoch ended (TensorBoard wall time); written by lib/train. */
  finishedAt?: string;
}

export interface ArchHistory {
  schema: typeof HISTORY_SCHEMA;
  arch: ArchId;
  /** The label of every table and chart: "MobileNet α=0.25" when ALPHA set the width. */
  displayName: string;
  /** Width multiplier the network was built with (MobileNets with ALPHA set); absent = none / Keras' 1.0. */
  alpha?: number;
  status: "running" | "finished";
  inputSize: number;
  parameters: number;
  trainableParameters: number;
  layers: number;
  epochs: EpochLog[];
  buildSeconds: number;
  saveSeconds: number;
  /** load + train + save, as the study's "Total Duration". */
  totalSeconds: number;
  bestEpoch: number | null; // by validation loss
  overfittingEpoch: number | null; // first epoch where val loss rises while train loss falls
  stoppedEarly: boolean;
  /** Engine, resumes and data sizes behind these numbers (written by lib/train). */
  provenance?: ArchHistoryProvenance;
}

// --- extensions by the train module (the fields above stay as they are) ---

export const CHECKPOINT_SCHEMA = "showcase.checkpoint/2";

/** A finished or running architecture also records where its numbers came from. */
export interface ArchHistoryProvenance {
  /** Engine and backend of the session that ran the last epoch. */
  engine: EngineName;
  backend: string;
  /** Epochs at which a resumed session continued (e.g. [3] after a kill during epoch 3). */
  resumedAtEpochs: number[];
  transfer: string;
  /** WEIGHTS of the run (absent in histories written before it was recorded). */
  weights?: "imagenet" | "none";
  /** WEIGHTS=imagenet: the Keras file loaded, its SHA-256 and the hash Keras publishes (null: none published). */
  weightsFile?: { file: string; sha256: string; published: { algorithm: "md5" | "sha256"; value: string } | null };
  batchSize: number;
  stepsPerEpoch: number;
  trainImages: number;
  validationImages: number;
  /** Where the trained model is saved, relative to the run directory. */
  modelDir: string;
  /** Frozen mode: seconds spent once per session extracting validation features (in totalSeconds). */
  validationFeatureSeconds: number;
  /** Seconds spent calibrating batch-norm statistics (WEIGHTS=none only; in totalSeconds). */
  calibrationSeconds: number;
  /** Random weights: BN moving statistics set from this many training images before training. */
  batchNormCalibration: { images: number; layers: number } | null;
  /** Images per gradient computation (smaller than batchSize when a batch is split). */
  microBatchSize: number;
  /** Frozen mode: features came from the base with BatchNormalization folded into the convolutions. */
  foldedFeatureExtractor: boolean;
  /**
   * Process CPU seconds (user + system, all threads) spent on this architecture: on an
   * oversubscribed machine wall-clock seconds overstate the cost, CPU seconds do not.
   */
  cpuSeconds: number;
  /**
   * Architectures that trained at the same time, each in its own process, in the session that ran
   * the last epoch (WORKERS): its epoch times were measured with that many trainings sharing the
   * machine. Absent in histories written before WORKERS existed (= 1).
   */
  workers?: number;
}

/** What identifies a dataset's content independently of where it lies and when it was prepared. */
export interface DatasetIdentity {
  manifestPath: string;
  /** sha256 of the manifest file's bytes when the run was created. */
  sha256: string;
  /** sha256 of classes + each split's (image sha256, label): stable across re-preparation and machines. */
  contentSha256: string;
  dataset: string;
  source: string;
  synthetic: boolean;
  counts: Record<string, Record<string, number>>;
}

export interface RunSession {
  startedAt: string;
  hostname: string;
  engine: EngineName;
  backend: string;
  archs: string[];
  /** Architectures trained at the same time in this session, each in its own process (WORKERS); absent = 1. */
  workers?: number;
}

export interface RunManifest {
  schema: typeof RUN_MANIFEST_SCHEMA;
  runId: string;
  /** The parameters of the session that created the run (paths are those of that machine). */
  params: RunParams;
  /** sha256 of the result-relevant parameters + dataset content; equal fingerprint = same run. */
  configFingerprint: string;
  config: Record<string, unknown>;
  dataset: DatasetIdentity;
  engine: EngineDescription;
  /** The machine that trained (lib/system's schema of it). */
  inventory: MachineInventory;
  versions: Record<string, string>;
  git: { commit: string | null; dirty: boolean | null };
  createdAt: string;
  /** Every session that trained in this run directory, in order. */
  sessions: RunSession[];
  /** Architectures ever requested under this run id. */
  archs: string[];
}

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
