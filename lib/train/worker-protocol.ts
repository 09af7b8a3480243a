// The IPC messages between runTraining's worker pool (worker-pool.ts) and a worker process
// (worker-child.ts). Sent with Node's "advanced" serialization (structured clone): NaN losses and
// undefined fields arrive as they were sent.
import type { RunParams } from "../config";
import type { DatasetManifest } from "../data/types";
import type { EngineName } from "../engine/types";
import type { FileWriteFailure } from "../io/file-error";
import type { ArchId } from "../ids";
import type { ArchOutcome } from "./fit";
import type { TrainProgress } from "./types";

/** What every architecture of the session shares; sent once, before the first job. */
export interface WorkerContext {
  params: RunParams;
  /** The parent's engine, selected again by name in the worker. */
  engine: EngineName;
  runDir: string;
  dataset: DatasetManifest;
  configFingerprint: string;
  cacheDir: string;
  archCount: number;
  workers: number;
}

export type ToWorker =
  | { type: "context"; context: WorkerContext }
  | { type: "train"; arch: ArchId; archIndex: number }
  /** Stop after the current batch (the AbortSignal of runTraining fired). */
  | { type: "abort" };

export type FromWorker =
  | { type: "progress"; progress: TrainProgress }
  | { type: "done"; arch: ArchId; result: ArchOutcome }
  /** `epoch`: the epoch it stopped in (the ones before it are checkpointed). */
  | { type: "aborted"; arch: ArchId; epoch: number; message: string }
  | { type: "failed"; arch: ArchId; message: string; stack?: string; fileWrite?: FileWriteFailure };
