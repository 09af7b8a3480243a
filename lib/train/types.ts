// What a training run records (reports/runs/<run-id>/…); notebook 03 and the report read these.
import type { ArchId } from "../models/ids";

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
}

export interface ArchHistory {
  schema: typeof HISTORY_SCHEMA;
  arch: ArchId;
  displayName: string;
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
}
