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
import { openCheckpoint, restoreCheckpoint, saveModelFiles, writeCheckpoint } from "./checkpoint";
import { bestEpoch, EpochAccumulator, overfittingEpoch, shouldStopEarly } from "./history";
import { archPaths } from "./run-dir";
import { createOptimizer, evaluateBatch, trainStepAsync } from "./step";
import { writeScalarEvents, type ScalarEvent } from "./tensorboard";
import { type ArchHistory, type EpochLog, HISTORY_SCHEMA, readHistory } from "../schemas/history";
import { SchemaError } from "../schemas/check";
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
  const history = await readHistory(paths.history).catch((error: unknown) => {
    if (error instanceof SchemaError && error.reason === "version") return undefined;
    throw error;
  });
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

export async function trainArchitecture(opts: TrainArchitectureOptions): Promise<ArchOutcome> {
  const { params, arch, runDir } = opts;
  const archIndex = opts.archIndex ?? 1;
  const archCount = opts.archCount ?? 1;
  const paths = archPaths(runDir, arch);
  const spec = getArchSpec(arch);
  const progressBase = { arch, archIndex, archCount, pid: process.pid, epochs: params.epochs, batch: 0, batches: 0 };
  const emit = (progress: Omit<TrainProgress, keyof typeof progressBase> & Partial<TrainProgress>) => opts.onProgress?.({ ...progressBase, ...progress } as TrainProgress);

  const finished = await isArchFinished(runDir, arch);
  if (finished) {
    emit({ phase: "skip", epoch: finished.epochs.length, message: `finished in an earlier session (${finished.epochs.length} epochs), skipped` });
    return { history: finished, outcome: "skipped" };
  }

  const frozen = params.transfer.kind === "frozen";
  const inputSize = inputSizeFor(arch, params.imageSize);
  const alpha = alphaFor(arch, params.alpha);
  const displayName = widthLabel(spec.displayName, alpha);
  const buildStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  emit({ phase: "build", epoch: 0, message: `building ${displayName} at ${inputSize} px (weights: ${params.weights})${inputSize !== params.imageSize ? ` — raised from IMAGE_SIZE=${params.imageSize}, its minimum` : ""}` });
  const transfer = await buildTransferModel(arch, {
    inputSize,
    classes: opts.dataset.classes.length,
    weights: params.weights,
    weightsDir: params.weightsDir,
    seed: params.seed,
    alpha,
  });
  const optimizer = createOptimizer({ name: params.optimizer, learningRate: params.learningRate });
  let validationFeatures: { xs: tf.Tensor2D; ys: tf.Tensor2D } | undefined;
  let extractor: { model: tf.LayersModel; folded: boolean } | undefined;
  try {
    const mode = spec.preprocess;
    const prepare = (x: tf.Tensor) => preprocessInput(x, mode);
    // Only this process trains this architecture: temp files in its folders are a killed session's.
    for (const dir of [paths.archDir, paths.tensorboard]) await removeStaleTempFiles(dir);
    const { state, notes } = await openCheckpoint(paths.checkpoint);
    for (const message of notes) emit({ phase: "build", epoch: 0, message, notice: true });
    if (state && state.configFingerprint !== opts.configFingerprint) {
      throw new Error(`${paths.checkpoint} belongs to another configuration: delete it (or the run folder) to train ${arch} again`);
    }
    const buildSeconds = seconds(buildStarted);
    // Without ImageNet weights the BN statistics are placeholders: calibrate them once on data
    // (a resumed run restores them from the checkpoint instead).
    let calibration = state?.calibration ?? null;
    const calibrationStarted = performance.now();
    if (!state && params.weights === "none") {
      calibration = await calibrate(transfer, { ...opts, inputSize, prepare });
      emit({ phase: "build", epoch: 0, message: `batch-norm statistics calibrated on ${calibration.images} training images (${calibration.layers} layers; random weights have none)` });
    }
    const calibrationSeconds = seconds(calibrationStarted);
    const { trainableParams } = applyTransferMode(transfer, params.transfer);
    const trained = frozen ? transfer.head : transfer.model;
    if (state) await restoreCheckpoint({ checkpointDir: paths.checkpoint, state, trained, frozenBase: frozen ? transfer.base : undefined, optimizer });
    const epochs: EpochLog[] = state ? [...state.history] : [];
    const resumedAtEpochs = state ? [...state.resumedAtEpochs, state.epoch + 1] : [];
    const spent = {
      build: (state?.spentSeconds?.build ?? 0) + buildSeconds,
      calibration: (state?.spentSeconds?.calibration ?? 0) + (state ? 0 : calibrationSeconds),
      validationFeatures: state?.spentSeconds?.validationFeatures ?? 0,
    };
    const earlierCpuSeconds = state?.cpuSeconds ?? 0;
    const cpuSeconds = () => {
      const used = process.cpuUsage(cpuStarted);
      return earlierCpuSeconds + (used.user + used.system) / 1e6;
    };

    const batches = stepsPerEpochFor({ manifest: opts.dataset, batchSize: params.batchSize, stepsPerEpoch: params.stepsPerEpoch });
    // Frozen: only the small head trains, the whole batch fits everywhere.
    const microBatchSize = opts.microBatchSize ?? (frozen ? params.batchSize : planMicroBatch({ engine: opts.engine, batchSize: params.batchSize, model: transfer.model, purpose: "training", what: `training ${arch}` }));
    const history = (status: ArchHistory["status"], saveSeconds = 0, stoppedEarly = false): ArchHistory => ({
      schema: HISTORY_SCHEMA,
      arch,
      displayName,
      ...(alpha !== undefined ? { alpha } : {}),
      status,
      inputSize,
      parameters: countParams(transfer.model.weights),
      trainableParameters: trainableParams,
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
        resumedAtEpochs,
        transfer: formatTransfer(params.transfer),
        weights: params.weights,
        ...(transfer.loadedWeights ? { weightsFile: transfer.loadedWeights } : {}),
        batchSize: params.batchSize,
        stepsPerEpoch: batches,
        trainImages: opts.dataset.splits.train.length,
        validationImages: opts.dataset.splits.validation.length,
        modelDir: path.relative(runDir, paths.model),
        validationFeatureSeconds: spent.validationFeatures,
        calibrationSeconds: spent.calibration,
        batchNormCalibration: calibration,
        microBatchSize,
        foldedFeatureExtractor: extractor?.folded ?? false,
        cpuSeconds: cpuSeconds(),
        workers: opts.workers ?? 1,
      },
    });

    if (frozen) {
      const started = performance.now();
      extractor = featureExtractor(transfer.base);
      emit({ phase: "features", epoch: epochs.length, message: `validation features (${opts.dataset.splits.validation.length} images, once)` });
      validationFeatures = await validationFeaturesOf(extractor.model, { ...opts, inputSize, mode, nextEpoch: epochs.length + 1 });
      spent.validationFeatures += seconds(started);
    }

    await opts.onModelReady?.(transfer);
    let stoppedEarly = shouldStopEarly(epochs, params.patience);
    for (let epoch = epochs.length + 1; epoch <= params.epochs && !stoppedEarly; epoch++) {
      const epochStarted = performance.now();
      const sampler = startGpuSampler({ intervalMs: 1000 });
      let epochRun: { accumulator: EpochAccumulator; trainMs: number };
      try {
        // One step per batch: the frozen head on the base's features, or the whole model (micro-batched).
        const step = frozen
          ? async (xs: tf.Tensor, ys: tf.Tensor) => {
              const features = extractFeatures(extractor!.model, xs, mode);
              try {
                return await trainStepAsync({ model: transfer.head, optimizer, xs: features, ys });
              } finally {
                features.dispose();
              }
            }
          : (xs: tf.Tensor, ys: tf.Tensor) => trainStepAsync({ model: transfer.model, optimizer, xs, ys, microBatchSize, prepare });
        epochRun = await trainEpoch({ ...opts, epoch, epochStarted, inputSize, batches, step, emit });
      } catch (error) {
        sampler.stop();
        throw error;
      }
      const { accumulator, trainMs } = epochRun;

      const validation = await validate(transfer, { ...opts, inputSize, prepare, validationFeatures });
      const gpu = sampler.stop();
      const epochSeconds = seconds(epochStarted);
      const log: EpochLog = {
        epoch,
        trainLoss: accumulator.loss,
        trainAccuracy: accumulator.accuracy,
        validationLoss: validation.images ? validation.lossSum / validation.images : Number.NaN,
        validationAccuracy: validation.images ? validation.correct / validation.images : Number.NaN,
        epochSeconds,
        imagesPerSecond: accumulator.imageCount / (trainMs / 1000 || 1e-9),
        ...(gpu && gpu.samples > 0 ? { gpu: { meanUtilizationPercent: gpu.meanUtilizationPercent, maxMemoryUsedMiB: gpu.maxMemoryUsedMiB, samples: gpu.samples } } : {}),
        finishedAt: new Date().toISOString(),
      };
      epochs.push(log);
      stoppedEarly = shouldStopEarly(epochs, params.patience);

      // checkpoint first (what resume trusts), then the history and TensorBoard derived from it
      await writeCheckpoint({
        checkpointDir: paths.checkpoint,
        state: { arch, epoch, history: epochs, rng: { seed: params.seed, nextEpoch: epoch + 1 }, configFingerprint: opts.configFingerprint, resumedAtEpochs, spentSeconds: spent, calibration, cpuSeconds: cpuSeconds() },
        trained,
        frozenBase: frozen ? transfer.base : undefined,
        optimizer,
      });
      await writeJsonAtomic(paths.history, history("running"), "history");
      await writeTensorBoard(paths.tensorboard, epochs, epoch);
      emit({
        phase: "validate",
        epoch,
        batch: batches,
        batches,
        loss: log.trainLoss,
        accuracy: log.trainAccuracy,
        validationLoss: log.validationLoss,
        validationAccuracy: log.validationAccuracy,
        imagesPerSecond: log.imagesPerSecond,
        message: `${log.epochSeconds.toFixed(1)} s${stoppedEarly && epoch < params.epochs ? ` · early stop (no better val_loss for ${params.patience} epochs; best epoch ${bestEpoch(epochs)})` : ""}`,
      });
    }

    const saveStarted = performance.now();
    emit({ phase: "save", epoch: epochs.length, message: `saving the model to ${path.relative(runDir, paths.model)}/` });
    await saveModelFiles(transfer.model, paths.model);
    const saveSeconds = seconds(saveStarted);
    const final = history("finished", saveSeconds, stoppedEarly);
    await writeJsonAtomic(paths.history, final, "history");
    await fs.rm(paths.checkpoint, { recursive: true, force: true }); // the model folder supersedes it
    emit({
      phase: "done",
      epoch: epochs.length,
      message: `${epochs.length} epochs, best epoch ${final.bestEpoch ?? "–"} (val_acc ${epochs.find((e) => e.epoch === final.bestEpoch)?.validationAccuracy.toFixed(3) ?? "–"}), total ${final.totalSeconds.toFixed(1)} s`,
    });
    return { history: final, outcome: state ? "resumed" : "trained" };
  } finally {
    if (validationFeatures) tf.dispose([validationFeatures.xs, validationFeatures.ys]);
    if (extractor?.folded) extractor.model.dispose();
    optimizer.dispose();
    disposeTransferModel(transfer);
  }
}

/** Phase: one epoch of training steps on augmented batches, with progress after each step. */
async function trainEpoch(
  opts: TrainArchitectureOptions & {
    epoch: number;
    epochStarted: number;
    inputSize: number;
    batches: number;
    step: (xs: tf.Tensor, ys: tf.Tensor) => Promise<{ loss: number; accuracy: number; images: number }>;
    emit: (progress: Partial<TrainProgress> & Pick<TrainProgress, "phase" | "epoch">) => void;
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
