// <arch>/history.json: one architecture's training (epochs, sizes, timings, provenance). Written by
// lib/train/fit.ts; read by lib/train (resume, loadRun), lib/evaluate, lib/report, lib/scale.
import type { EngineName } from "../engine/types";
import type { ArchId } from "../ids";
import { type FileSchema, readSchemaFile } from "./check";

export const HISTORY_SCHEMA = "showcase.history/1";

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

const HISTORY: FileSchema = {
  schema: HISTORY_SCHEMA,
  redo: "train this architecture again (FORCE=1, or another RUN_ID)",
  fields: {
    arch: "string",
    displayName: "string",
    alpha: "number?",
    status: "string",
    inputSize: "number",
    parameters: "number",
    trainableParameters: "number",
    layers: "number",
    epochs: "array",
    buildSeconds: "number",
    saveSeconds: "number",
    totalSeconds: "number",
    bestEpoch: "number|null",
    overfittingEpoch: "number|null",
    stoppedEarly: "boolean",
    provenance: "object?",
  },
};

/** A history.json, checked; a damaged or other-version file is a one-line SchemaError naming it. */
export async function readHistory(file: string): Promise<ArchHistory> {
  return readSchemaFile<ArchHistory>(file, HISTORY);
}
