// Training of one architecture inside a run directory: build → transfer mode → EPOCHS epochs on
// augmented batches with validation after each → final model. Resumable: each epoch ends with a
// checkpoint, a finished architecture is skipped. The scale module calls this per planned run.
//
// Frozen mode (head only) extracts the base's features in inference mode for every augmented batch
// and trains the head on them: the same computation as the frozen Keras model, about 2× faster on
// CPU engines, no activations kept for backprop, and the base (BN moving statistics included)
// provably untouched. Validation features are computed once per architecture and reused.
import * as path from "node:path";
import { promises as fs } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { formatTransfer, type RunParams } from "../config";
import { evalBatches, STUDY_AUGMENT, stepsPerEpochFor, trainBatches, type DatasetManifest } from "../data/index";
import { planMicroBatch } from "../engine/capabilities";
import { foldBatchNormForInference } from "../models/fold-bn";
import type { EngineDescription } from "../engine/types";
import { fileExists, removeStaleTempFiles, writeJsonAtomic } from "../io/atomic";
import { alphaFor, applyTransferMode, buildTransferModel, disposeTransferModel, getArchSpec, inputSizeFor, preprocessInput, type TransferModel, widthLabel } from "../models/index";
import type { ArchId } from "../ids";
import { startGpuSampler } from "../system/index";
import { calibrateBatchNorm } from "./calibrate";
import { type CheckpointState, openCheckpoint, restoreCheckpoint, saveModelFiles, writeCheckpoint } from "./checkpoint";
import { bestEpoch, EpochAccumulator, overfittingEpoch, shouldStopEarly } from "./history";
import { archPaths } from "./run-dir";
import { createOptimizer, evaluateBatch, trainStepAsync } from "./step";
import { writeScalarEvents, type ScalarEvent } from "./tensorboard";
import { type ArchHistory, type EpochLog, HISTORY_SCHEMA, readHistory } from "../schemas/history";
import { skipOtherVersion } from "../schemas/check";
import type { TrainProgress } from "./types";

export interface TrainArchitectureOptions {
  params: RunParams;
  arch: ArchId;
  runDir: string;
  dataset: DatasetManifest;
  engine: EngineDescription;
  /** RunManifest.configFingerprint: a checkpoint of another configuration is never resumed. */
  configFingerprint: string;
  /** Decoded-pixel cache (lib/data); undefined = decode every time. */
  cacheDir?: string;
  /** Position in this session's list, for progress (1-based). */
  archIndex?: number;
  archCount?: number;
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
  /** Images per gradient computation; default the whole batch (or what the WebGPU binding limit allows). */
  microBatchSize?: number;
  /**
   * Architectures training at the same time in this session (WORKERS), recorded in the provenance:
   * epoch times were measured with that many trainings sharing the machine. Default 1.
   */
  workers?: number;
  /** Called once the model is ready to train (built, calibrated, transfer mode set, checkpoint restored): for tests and tools. */
  onModelReady?: (transfer: TransferModel) => void | Promise<void>;
}

export interface ArchOutcome {
  history: ArchHistory;
  outcome: "trained" | "resumed" | "skipped";
}

export class TrainingAbortedError extends Error {
  constructor(
    readonly arch: string,
    readonly epoch: number,
  ) {
    super(`training of ${arch} stopped during epoch ${epoch}; start again with the same RUN_ID to resume from the last completed epoch`);
    this.name = "AbortError";
  }
}

const seconds = (startMs: number) => (performance.now() - startMs) / 1000;

/** A finished architecture: history.json says so and the model is on disk. */
export async function isArchFinished(runDir: string, arch: string): Promise<ArchHistory | undefined> {
  const paths = archPaths(runDir, arch);
  if (!(await fileExists(paths.history)) || !(await fileExists(path.join(paths.model, "model.json")))) return undefined;
  // A history of another version is not finished work of this one: train it again.
  const history = await skipOtherVersion(readHistory(paths.history));
  return history?.status === "finished" ? history : undefined;
}

function countParams(weights: readonly tf.LayerVariable[]): number {
  return weights.reduce((sum, weight) => sum + weight.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** Features of the frozen base for one raw batch (inference mode: BN uses its moving statistics). */
function extractFeatures(extractor: tf.LayersModel, xs: tf.Tensor, mode: Parameters<typeof preprocessInput>[1]): tf.Tensor2D {
  return tf.tidy(() => extractor.predict(preprocessInput(xs, mode), { batchSize: xs.shape[0] }) as tf.Tensor2D);
}

/**
 * The frozen base with BatchNormalization folded into the convolutions (lib/models/fold-bn, any
 * backend): the same features up to float32 rounding, fewer kernels per image. The base itself is
 * untouched (it is what gets saved); falls back to it if folding is not possible.
 */
function featureExtractor(base: tf.LayersModel): { model: tf.LayersModel; folded: boolean } {
  try {
    return { model: foldBatchNormForInference(base).model, folded: true };
  } catch {
    return { model: base, folded: false };
  }
}

function scalarEvents(epochs: readonly EpochLog[], kind: "train" | "validation"): ScalarEvent[] {
  return epochs.flatMap((log) => {
    const wallTime = log.finishedAt ? Date.parse(log.finishedAt) / 1000 : 0;
    const values: Array<[string, number]> =
      kind === "train"
        ? [["epoch_loss", log.trainLoss], ["epoch_accuracy", log.trainAccuracy], ["epoch_seconds", log.epochSeconds], ["images_per_second", log.imagesPerSecond]]
        : [["epoch_loss", log.validationLoss], ["epoch_accuracy", log.validationAccuracy]];
    if (kind === "train" && log.gpu) values.push(["gpu_utilization_percent", log.gpu.meanUtilizationPercent], ["gpu_memory_used_mib", log.gpu.maxMemoryUsedMiB]);
    return values.map(([tag, value]) => ({ tag, value, step: log.epoch, wallTime }));
  });
}

/** A calibration record: null when none ran (ImageNet weights). */
type Calibration = NonNullable<CheckpointState["calibration"]> | null;

type Emit = (progress: Partial<TrainProgress> & Pick<TrainProgress, "phase" | "epoch">) => void;

/** What the phases of one architecture's training share; built by `build`, completed by `restore`. */
interface Training {
  opts: TrainArchitectureOptions;
  paths: ReturnType<typeof archPaths>;
  emit: Emit;
  frozen: boolean;
  inputSize: number;
  alpha: number | undefined;
  displayName: string;
  mode: Parameters<typeof preprocessInput>[1];
  prepare: (x: tf.Tensor) => tf.Tensor;
  transfer: TransferModel;
  optimizer: tf.Optimizer;
  buildStarted: number;
  cpuStarted: NodeJS.CpuUsage;
  /** Frozen mode: the base's feature extractor and the validation features, computed once. */
  extractor?: { model: tf.LayersModel; folded: boolean };
  validationFeatures?: { xs: tf.Tensor2D; ys: tf.Tensor2D };
}

/** After restore: the checkpointed state this session continues from (empty when it starts afresh). */
interface Restored extends Training {
  state: CheckpointState | undefined;
  calibration: Calibration;
  trained: tf.LayersModel;
  trainableParams: number;
  epochs: EpochLog[];
  resumedAtEpochs: number[];
  spent: { build: number; calibration: number; validationFeatures: number };
  cpuSeconds: () => number;
  batches: number;
  microBatchSize: number;
}

/**
 * Trains one architecture as a pipeline of phases: build, restore (checkpoint, calibration, transfer
 * mode), the epoch loop (each epoch checkpointed), save. A finished architecture is skipped.
 */
export async function trainArchitecture(opts: TrainArchitectureOptions): Promise<ArchOutcome> {
  const emit = progressEmitter(opts);
  const finished = await isArchFinished(opts.runDir, opts.arch);
  if (finished) {
    emit({ phase: "skip", epoch: finished.epochs.length, message: `finished in an earlier session (${finished.epochs.length} epochs), skipped` });
    return { history: finished, outcome: "skipped" };
  }
  const training = await build(opts, emit);
  try {
    const restored = await restore(training);
    if (restored.frozen) await extractValidationFeatures(restored);
    await opts.onModelReady?.(restored.transfer);
    const stoppedEarly = await epochLoop(restored);
    const history = await save(restored, stoppedEarly);
    return { history, outcome: restored.state ? "resumed" : "trained" };
  } finally {
    if (training.validationFeatures) tf.dispose([training.validationFeatures.xs, training.validationFeatures.ys]);
    if (training.extractor?.folded) training.extractor.model.dispose();
    training.optimizer.dispose();
    disposeTransferModel(training.transfer);
  }
}

function progressEmitter(opts: TrainArchitectureOptions): Emit {
  const progressBase = { arch: opts.arch, archIndex: opts.archIndex ?? 1, archCount: opts.archCount ?? 1, pid: process.pid, epochs: opts.params.epochs, batch: 0, batches: 0 };
  return (progress) => opts.onProgress?.({ ...progressBase, ...progress } as TrainProgress);
}

/** Phase: the network with its transfer head (and ImageNet weights when asked) and the optimizer. */
async function build(opts: TrainArchitectureOptions, emit: Emit): Promise<Training> {
  const { params, arch } = opts;
  const spec = getArchSpec(arch);
  const inputSize = inputSizeFor(arch, params.imageSize);
  const alpha = alphaFor(arch, params.alpha);
  const displayName = widthLabel(spec.displayName, alpha);
  const buildStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  emit({ phase: "build", epoch: 0, message: `building ${displayName} at ${inputSize} px (weights: ${params.weights})${inputSize !== params.imageSize ? ` — raised from IMAGE_SIZE=${params.imageSize}, its minimum` : ""}` });
  const transfer = await buildTransferModel(arch, { inputSize, classes: opts.dataset.classes.length, weights: params.weights, weightsDir: params.weightsDir, seed: params.seed, alpha });
  const optimizer = createOptimizer({ name: params.optimizer, learningRate: params.learningRate });
  const mode = spec.preprocess;
  return {
    opts, paths: archPaths(opts.runDir, arch), emit, frozen: params.transfer.kind === "frozen", inputSize, alpha, displayName,
    mode, prepare: (x: tf.Tensor) => preprocessInput(x, mode), transfer, optimizer, buildStarted, cpuStarted,
  };
}

/** Phase: the checkpoint to continue from, batch-norm calibration (new random weights only), the transfer mode and the restored weights. */
async function restore(training: Training): Promise<Restored> {
  const { opts, paths, emit, transfer, frozen } = training;
  const { params, arch } = opts;
  // Only this process trains this architecture: temp files in its folders are a killed session's.
  for (const dir of [paths.archDir, paths.tensorboard]) await removeStaleTempFiles(dir);
  const { state, notes } = await openCheckpoint(paths.checkpoint);
  for (const message of notes) emit({ phase: "build", epoch: 0, message, notice: true });
  if (state && state.configFingerprint !== opts.configFingerprint) {
    throw new Error(`${paths.checkpoint} belongs to another configuration: delete it (or the run folder) to train ${arch} again`);
  }
  const buildSeconds = seconds(training.buildStarted);
  const calibrationStarted = performance.now();
  const calibration = await calibrationPhase(training, state);
  const calibrationSeconds = seconds(calibrationStarted);
  const { trainableParams } = applyTransferMode(transfer, params.transfer);
  const trained = frozen ? transfer.head : transfer.model;
  if (state) await restoreCheckpoint({ checkpointDir: paths.checkpoint, state, trained, frozenBase: frozen ? transfer.base : undefined, optimizer: training.optimizer });
  const earlierCpuSeconds = state?.cpuSeconds ?? 0;
  // The same object, completed: what later phases add to it (frozen features) is disposed by trainArchitecture.
  return Object.assign(training, {
    state,
    calibration,
    trained,
    trainableParams,
    epochs: state ? [...state.history] : [],
    resumedAtEpochs: state ? [...state.resumedAtEpochs, state.epoch + 1] : [],
    spent: {
      build: (state?.spentSeconds?.build ?? 0) + buildSeconds,
      calibration: (state?.spentSeconds?.calibration ?? 0) + (state ? 0 : calibrationSeconds),
      validationFeatures: state?.spentSeconds?.validationFeatures ?? 0,
    },
    cpuSeconds: () => {
      const used = process.cpuUsage(training.cpuStarted);
      return earlierCpuSeconds + (used.user + used.system) / 1e6;
    },
    batches: stepsPerEpochFor({ manifest: opts.dataset, batchSize: params.batchSize, stepsPerEpoch: params.stepsPerEpoch }),
    // Frozen: only the small head trains, the whole batch fits everywhere.
    microBatchSize: opts.microBatchSize ?? (frozen ? params.batchSize : planMicroBatch({ engine: opts.engine, batchSize: params.batchSize, model: transfer.model, purpose: "training", what: `training ${arch}` })),
  });
}

/**
 * Phase: without ImageNet weights the BN statistics are placeholders: calibrate them once on data
 * (a resumed run restores them from the checkpoint instead).
 */
async function calibrationPhase(training: Training, state: CheckpointState | undefined): Promise<Calibration> {
  if (state || training.opts.params.weights !== "none") return state?.calibration ?? null;
  const calibration = await calibrate(training.transfer, { ...training.opts, inputSize: training.inputSize, prepare: training.prepare });
  training.emit({ phase: "build", epoch: 0, message: `batch-norm statistics calibrated on ${calibration.images} training images (${calibration.layers} layers; random weights have none)` });
  return calibration;
}

/** Phase (frozen mode): the validation split through the base, once per session. */
async function extractValidationFeatures(training: Restored): Promise<void> {
  const started = performance.now();
  training.extractor = featureExtractor(training.transfer.base);
  training.emit({ phase: "features", epoch: training.epochs.length, message: `validation features (${training.opts.dataset.splits.validation.length} images, once)` });
  training.validationFeatures = await validationFeaturesOf(training.extractor.model, { ...training.opts, inputSize: training.inputSize, mode: training.mode, nextEpoch: training.epochs.length + 1 });
  training.spent.validationFeatures += seconds(started);
}

/** Phase: epochs until EPOCHS or early stopping, each checkpointed; returns whether it stopped early. */
async function epochLoop(training: Restored): Promise<boolean> {
  const { params } = training.opts;
  let stoppedEarly = shouldStopEarly(training.epochs, params.patience);
  for (let epoch = training.epochs.length + 1; epoch <= params.epochs && !stoppedEarly; epoch++) {
    const log = await runEpoch(training, epoch);
    training.epochs.push(log);
    stoppedEarly = shouldStopEarly(training.epochs, params.patience);
    await checkpoint(training, epoch);
    training.emit({
      phase: "validate",
      epoch,
      batch: training.batches,
      batches: training.batches,
      loss: log.trainLoss,
      accuracy: log.trainAccuracy,
      validationLoss: log.validationLoss,
      validationAccuracy: log.validationAccuracy,
      imagesPerSecond: log.imagesPerSecond,
      message: `${log.epochSeconds.toFixed(1)} s${stoppedEarly && epoch < params.epochs ? ` · early stop (no better val_loss for ${params.patience} epochs; best epoch ${bestEpoch(training.epochs)})` : ""}`,
    });
  }
  return stoppedEarly;
}

/** One epoch: training steps, then validation; GPU utilisation sampled throughout. */
async function runEpoch(training: Restored, epoch: number): Promise<EpochLog> {
  const { transfer, optimizer, frozen, mode, microBatchSize, prepare } = training;
  const epochStarted = performance.now();
  const sampler = startGpuSampler({ intervalMs: 1000 });
  let epochRun: { accumulator: EpochAccumulator; trainMs: number };
  try {
    // One step per batch: the frozen head on the base's features, or the whole model (micro-batched).
    const step = frozen
      ? async (xs: tf.Tensor, ys: tf.Tensor) => {
          const features = extractFeatures(training.extractor!.model, xs, mode);
          try {
            return await trainStepAsync({ model: transfer.head, optimizer, xs: features, ys });
          } finally {
            features.dispose();
          }
        }
      : (xs: tf.Tensor, ys: tf.Tensor) => trainStepAsync({ model: transfer.model, optimizer, xs, ys, microBatchSize, prepare });
    epochRun = await trainEpoch({ ...training.opts, epoch, epochStarted, inputSize: training.inputSize, batches: training.batches, step, emit: training.emit });
  } catch (error) {
    sampler.stop();
    throw error;
  }
  const { accumulator, trainMs } = epochRun;
  const validation = await validate(transfer, { ...training.opts, inputSize: training.inputSize, prepare, validationFeatures: training.validationFeatures });
  const gpu = sampler.stop();
  return {
    epoch,
    trainLoss: accumulator.loss,
    trainAccuracy: accumulator.accuracy,
    validationLoss: validation.images ? validation.lossSum / validation.images : Number.NaN,
    validationAccuracy: validation.images ? validation.correct / validation.images : Number.NaN,
    epochSeconds: seconds(epochStarted),
    imagesPerSecond: accumulator.imageCount / (trainMs / 1000 || 1e-9),
    ...(gpu && gpu.samples > 0 ? { gpu: { meanUtilizationPercent: gpu.meanUtilizationPercent, maxMemoryUsedMiB: gpu.maxMemoryUsedMiB, samples: gpu.samples } } : {}),
    finishedAt: new Date().toISOString(),
  };
}

/** Phase: the checkpoint first (what resume trusts), then the history and TensorBoard derived from it. */
async function checkpoint(training: Restored, epoch: number): Promise<void> {
  const { opts, paths, epochs, transfer, frozen } = training;
  await writeCheckpoint({
    checkpointDir: paths.checkpoint,
    state: { arch: opts.arch, epoch, history: epochs, rng: { seed: opts.params.seed, nextEpoch: epoch + 1 }, configFingerprint: opts.configFingerprint, resumedAtEpochs: training.resumedAtEpochs, spentSeconds: training.spent, calibration: training.calibration, cpuSeconds: training.cpuSeconds() },
    trained: training.trained,
    frozenBase: frozen ? transfer.base : undefined,
    optimizer: training.optimizer,
  });
  await writeJsonAtomic(paths.history, historyOf(training, "running"), "history");
  await writeTensorBoard(paths.tensorboard, epochs, epoch);
}

/** Phase: the trained model, the finished history; the checkpoint is removed (the model folder supersedes it). */
async function save(training: Restored, stoppedEarly: boolean): Promise<ArchHistory> {
  const { opts, paths, epochs, emit } = training;
  const saveStarted = performance.now();
  emit({ phase: "save", epoch: epochs.length, message: `saving the model to ${path.relative(opts.runDir, paths.model)}/` });
  await saveModelFiles(training.transfer.model, paths.model);
  const final = historyOf(training, "finished", seconds(saveStarted), stoppedEarly);
  await writeJsonAtomic(paths.history, final, "history");
  await fs.rm(paths.checkpoint, { recursive: true, force: true });
  emit({
    phase: "done",
    epoch: epochs.length,
    message: `${epochs.length} epochs, best epoch ${final.bestEpoch ?? "–"} (val_acc ${epochs.find((e) => e.epoch === final.bestEpoch)?.validationAccuracy.toFixed(3) ?? "–"}), total ${final.totalSeconds.toFixed(1)} s`,
  });
  return final;
}

/** history.json as of now. */
function historyOf(training: Restored, status: ArchHistory["status"], saveSeconds = 0, stoppedEarly = false): ArchHistory {
  const { opts, transfer, epochs, spent, alpha } = training;
  const { params } = opts;
  return {
    schema: HISTORY_SCHEMA,
    arch: opts.arch,
    displayName: training.displayName,
    ...(alpha !== undefined ? { alpha } : {}),
    status,
    inputSize: training.inputSize,
    parameters: countParams(transfer.model.weights),
    trainableParameters: training.trainableParams,
    layers: transfer.model.layers.length,
    epochs,
    buildSeconds: spent.build,
    saveSeconds,
    totalSeconds: spent.build + spent.calibration + spent.validationFeatures + epochs.reduce((sum, log) => sum + log.epochSeconds, 0) + saveSeconds,
    bestEpoch: bestEpoch(epochs),
    overfittingEpoch: overfittingEpoch(epochs),
    stoppedEarly,
    provenance: {
      engine: opts.engine.engine,
      backend: opts.engine.backend,
      resumedAtEpochs: training.resumedAtEpochs,
      transfer: formatTransfer(params.transfer),
      weights: params.weights,
      ...(transfer.loadedWeights ? { weightsFile: transfer.loadedWeights } : {}),
      batchSize: params.batchSize,
      stepsPerEpoch: training.batches,
      trainImages: opts.dataset.splits.train.length,
      validationImages: opts.dataset.splits.validation.length,
      modelDir: path.relative(opts.runDir, training.paths.model),
      validationFeatureSeconds: spent.validationFeatures,
      calibrationSeconds: spent.calibration,
      batchNormCalibration: training.calibration,
      microBatchSize: training.microBatchSize,
      foldedFeatureExtractor: training.extractor?.folded ?? false,
      cpuSeconds: training.cpuSeconds(),
      workers: opts.workers ?? 1,
    },
  };
}

/** Phase: one epoch of training steps on augmented batches, with progress after each step. */
async function trainEpoch(
  opts: TrainArchitectureOptions & {
    epoch: number;
    epochStarted: number;
    inputSize: number;
    batches: number;
    step: (xs: tf.Tensor, ys: tf.Tensor) => Promise<{ loss: number; accuracy: number; images: number }>;
    emit: Emit;
  },
): Promise<{ accumulator: EpochAccumulator; trainMs: number }> {
  const { params, epoch, epochStarted, batches } = opts;
  const accumulator = new EpochAccumulator();
  let trainMs = 0;
  let batch = 0;
  for await (const { xs, ys } of trainBatches({
    manifest: opts.dataset,
    imageSize: opts.inputSize,
    batchSize: params.batchSize,
    seed: params.seed,
    epoch,
    stepsPerEpoch: params.stepsPerEpoch,
    augment: STUDY_AUGMENT,
    cacheDir: opts.cacheDir,
  })) {
    const stepStarted = performance.now();
    try {
      if (opts.signal?.aborted) throw new TrainingAbortedError(opts.arch, epoch);
      accumulator.add(await opts.step(xs, ys));
    } finally {
      tf.dispose([xs, ys]);
    }
    trainMs += performance.now() - stepStarted;
    batch += 1;
    const imagesPerSecond = accumulator.imageCount / (seconds(epochStarted) || 1e-9);
    const secondsPerBatch = seconds(epochStarted) / batch;
    opts.emit({
      phase: "train",
      epoch,
      batch,
      batches,
      loss: accumulator.loss,
      accuracy: accumulator.accuracy,
      imagesPerSecond,
      etaSeconds: secondsPerBatch * (batches - batch + (params.epochs - epoch) * batches),
    });
  }
  return { accumulator, trainMs };
}

/** Phase (frozen transfer): the validation split's features, extracted once in inference mode. */
async function validationFeaturesOf(
  extractor: tf.LayersModel,
  opts: TrainArchitectureOptions & { inputSize: number; mode: Parameters<typeof preprocessInput>[1]; nextEpoch: number },
): Promise<{ xs: tf.Tensor2D; ys: tf.Tensor2D }> {
  const parts: { xs: tf.Tensor2D[]; ys: tf.Tensor2D[] } = { xs: [], ys: [] };
  for await (const batch of evalBatches({ manifest: opts.dataset, split: "validation", imageSize: opts.inputSize, batchSize: opts.params.batchSize, cacheDir: opts.cacheDir })) {
    if (opts.signal?.aborted) {
      tf.dispose([...parts.xs, ...parts.ys, batch.xs, batch.ys]);
      throw new TrainingAbortedError(opts.arch, opts.nextEpoch);
    }
    parts.xs.push(extractFeatures(extractor, batch.xs, opts.mode));
    parts.ys.push(batch.ys);
    batch.xs.dispose();
  }
  const features = { xs: tf.concat(parts.xs) as tf.Tensor2D, ys: tf.concat(parts.ys) as tf.Tensor2D };
  tf.dispose([...parts.xs, ...parts.ys]);
  return features;
}

/** Phase: validation after an epoch (inference mode, no augmentation), summed over the split. */
async function validate(
  transfer: TransferModel,
  opts: TrainArchitectureOptions & { inputSize: number; prepare: (x: tf.Tensor) => tf.Tensor; validationFeatures?: { xs: tf.Tensor2D; ys: tf.Tensor2D } },
): Promise<{ lossSum: number; correct: number; images: number }> {
  if (opts.validationFeatures) return evaluateBatch({ model: transfer.head, xs: opts.validationFeatures.xs, ys: opts.validationFeatures.ys, batchSize: 256 });
  const validation = { lossSum: 0, correct: 0, images: 0 };
  const batchSize = opts.params.batchSize;
  for await (const { xs, ys } of evalBatches({ manifest: opts.dataset, split: "validation", imageSize: opts.inputSize, batchSize, cacheDir: opts.cacheDir })) {
    try {
      const part = await evaluateBatch({ model: transfer.model, xs, ys, prepare: opts.prepare, batchSize });
      validation.lossSum += part.lossSum;
      validation.correct += part.correct;
      validation.images += part.images;
    } finally {
      tf.dispose([xs, ys]);
    }
  }
  return validation;
}

export const CALIBRATION_IMAGES = 32;

/** BN calibration on a class-mixed, unaugmented sample of the training split (shuffle of "epoch 0"). */
async function calibrate(
  transfer: TransferModel,
  opts: TrainArchitectureOptions & { inputSize: number; prepare: (x: tf.Tensor) => tf.Tensor },
): Promise<{ images: number; layers: number }> {
  const batches = trainBatches({
    manifest: opts.dataset,
    imageSize: opts.inputSize,
    batchSize: Math.min(CALIBRATION_IMAGES, opts.dataset.splits.train.length),
    seed: opts.params.seed,
    epoch: 0,
    augment: null,
    cacheDir: opts.cacheDir,
  });
  for await (const { xs, ys } of batches) {
    try {
      const input = opts.prepare(xs);
      try {
        return { images: xs.shape[0], layers: calibrateBatchNorm(transfer.base, input) };
      } finally {
        input.dispose();
      }
    } finally {
      tf.dispose([xs, ys]);
    }
  }
  throw new Error(`dataset "${opts.dataset.dataset}" has no training images to calibrate batch normalisation with`);
}

async function writeTensorBoard(dir: string, epochs: readonly EpochLog[], newStep: number): Promise<void> {
  const createdWallTime = epochs[0]?.finishedAt ? Math.floor(Date.parse(epochs[0].finishedAt) / 1000) : Math.floor(Date.now() / 1000);
  for (const kind of ["train", "validation"] as const) {
    await writeScalarEvents({ logDir: path.join(dir, kind), createdWallTime, events: scalarEvents(epochs, kind), newStep });
  }
}
