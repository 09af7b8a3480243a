// Batches for training (shuffled per (seed, epoch), augmented) and evaluation (ordered, plain).
// Decoding of the next batches overlaps the consumer's work on the current one; tensors are created
// only when a batch is handed out, and the consumer disposes xs and ys.
import * as tf from "@tensorflow/tfjs";
import { augmentsOnHost, writeBatchTensor } from "../engine/capabilities";
import { augmentBatch, augmentedBatch } from "./augment";
import { decodeResized } from "./decode";
import { createRng, deriveSeed, shuffled } from "./prng";
import type { AugmentConfig, DatasetManifest, ImageRecord, SplitName } from "./types";

export interface Batch {
  /** float32 0–255 RGB, NHWC, NOT model-preprocessed. */
  xs: tf.Tensor4D;
  /** One-hot over manifest.classes. */
  ys: tf.Tensor2D;
  records: ImageRecord[];
}

export interface TrainBatchOptions {
  manifest: DatasetManifest;
  imageSize: number;
  batchSize: number;
  seed: number;
  epoch: number;
  /** Batches per epoch (the study's steps_per_epoch); undefined = one pass over train. */
  stepsPerEpoch?: number;
  augment: AugmentConfig | null;
  cacheDir?: string;
}

export interface EvalBatchOptions {
  manifest: DatasetManifest;
  split: SplitName;
  imageSize: number;
  batchSize: number;
  cacheDir?: string;
}

/**
 * The records of one training epoch. With stepsPerEpoch, the epoch takes stepsPerEpoch full
 * batches from the epoch's shuffle, continuing into a fresh shuffle if it needs more images.
 */
export function trainEpochRecords(opts: Pick<TrainBatchOptions, "manifest" | "batchSize" | "seed" | "epoch" | "stepsPerEpoch">): ImageRecord[] {
  const records = opts.manifest.splits.train;
  if (records.length === 0) throw new Error(`dataset "${opts.manifest.dataset}" has no training images: prepare it with TRAIN_PER_CLASS ≥ 1`);
  const order = shuffled(records, createRng(deriveSeed(opts.seed, opts.epoch, 1)));
  if (opts.stepsPerEpoch === undefined) return order;
  const wanted = opts.stepsPerEpoch * opts.batchSize;
  for (let round = 2; order.length < wanted; round++) order.push(...shuffled(records, createRng(deriveSeed(opts.seed, opts.epoch, round))));
  return order.slice(0, wanted);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toTensors(pixels: Uint8Array[], records: ImageRecord[], size: number, classCount: number, augment?: AugmentHook): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const shape: [number, number, number, number] = [pixels.length, size, size, 3];
  const joined = () => writeBatchTensor<tf.Rank.R4>(shape, (batch) => pixels.forEach((image, i) => batch.set(image, i * image.length)));
  return tf.tidy(() => ({
    // host backends augment the decoded bytes straight into the batch; others upload, then use tensor ops
    xs: !augment ? joined() : augmentsOnHost() ? augmentedBatch(pixels, [size, size, 3], augment) : augmentBatch(joined(), augment),
    ys: tf.oneHot(tf.tensor1d(records.map((record) => record.labelIndex), "int32"), classCount).toFloat() as tf.Tensor2D,
  }));
}

type AugmentHook = { config: AugmentConfig; seed: number };

/**
 * Batches decoded ahead of use. Each batch's images are all queued on the thread pool at once, and
 * PREFETCH_BATCHES batches are in flight, so the pool never waits for this (busy) thread to hand it
 * the next image: decoding overlaps augmentation here and the consumer's training step.
 */
const PREFETCH_BATCHES = 2;

async function* batchesOf(groups: ImageRecord[][], opts: { size: number; classCount: number; cacheDir?: string; augment?: (index: number) => AugmentHook }): AsyncGenerator<Batch> {
  const decode = (i: number) => {
    const pending = decodeResized(groups[i], { size: opts.size, cacheDir: opts.cacheDir, concurrency: groups[i].length });
    pending.catch(() => undefined); // surfaced when awaited; avoids an unhandled rejection if the consumer stops early
    return pending;
  };
  const queue = groups.slice(0, PREFETCH_BATCHES).map((_, i) => decode(i));
  for (let i = 0; i < groups.length; i++) {
    const pixels = await queue.shift()!;
    if (i + PREFETCH_BATCHES < groups.length) queue.push(decode(i + PREFETCH_BATCHES));
    const { xs, ys } = toTensors(pixels, groups[i], opts.size, opts.classCount, opts.augment?.(i));
    yield { xs, ys, records: groups[i] };
  }
}

export function trainBatches(opts: TrainBatchOptions): AsyncIterable<Batch> {
  const groups = chunk(trainEpochRecords(opts), opts.batchSize);
  const config = opts.augment;
  return batchesOf(groups, {
    size: opts.imageSize,
    classCount: opts.manifest.classes.length,
    cacheDir: opts.cacheDir,
    augment: config ? (index) => ({ config, seed: deriveSeed(opts.seed, opts.epoch, index, 2) }) : undefined,
  });
}

export function evalBatches(opts: EvalBatchOptions): AsyncIterable<Batch> {
  const records = opts.manifest.splits[opts.split];
  return batchesOf(chunk(records, opts.batchSize), { size: opts.imageSize, classCount: opts.manifest.classes.length, cacheDir: opts.cacheDir });
}

/** Batches per epoch for progress bars: ceil(train / batch) or stepsPerEpoch. */
export function stepsPerEpochFor(opts: Pick<TrainBatchOptions, "manifest" | "batchSize" | "stepsPerEpoch">): number {
  return opts.stepsPerEpoch ?? Math.ceil(opts.manifest.splits.train.length / opts.batchSize);
}
