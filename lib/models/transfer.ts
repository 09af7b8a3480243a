// The study's transfer-learning model: a no-top base with global average pooling, a head
// (optional dropout → dense softmax), and the freezing modes frozen | finetune | top:<n>.
import * as tf from "@tensorflow/tfjs";
import type { TransferMode } from "../config";
import type { ArchId } from "../ids";
import { loadKerasWeights } from "./keras-h5";
import { buildArchitecture, getArchSpec } from "./registry";
import { withSeededInitialisation } from "./seeded-init";
import { checkWeightsFile, ensureWeights, type LoadedWeights, weightsFileFor } from "./weights";

export interface TransferModel {
  arch: ArchId;
  /** No top, global-average-pooled features. */
  base: tf.LayersModel;
  /** features → softmax; shares its layers with `model`. */
  head: tf.LayersModel;
  /** base + head end to end (the same layer objects, so the same weights). */
  model: tf.LayersModel;
  featureSize: number;
  buildSeconds: number;
  /** The ImageNet weights file loaded into the base (WEIGHTS=imagenet), hashed; undefined = random. */
  loadedWeights?: LoadedWeights;
}

export interface TransferOptions {
  inputSize: number;
  classes: number;
  weights: "imagenet" | "none";
  weightsDir: string;
  /** Dropout rate before the classifier; 0 or undefined = none. */
  dropout?: number;
  /** Seed of every random initial weight (head and base); undefined = unseeded. */
  seed?: number;
  /** Width multiplier for the MobileNets (default 1.0). */
  alpha?: number;
}

export async function buildTransferModel(id: string, opts: TransferOptions): Promise<TransferModel> {
  const started = performance.now();
  const spec = getArchSpec(id);
  if (!Number.isInteger(opts.classes) || opts.classes < 2) throw new Error(`transfer model: classes must be a whole number ≥ 2, got ${opts.classes}`);
  // Resolve the weights file first: a missing file should fail before minutes of model building.
  const location = { weightsDir: opts.weightsDir, includeTop: false, alpha: opts.alpha, inputSize: opts.inputSize };
  const weightsPath = opts.weights === "imagenet" ? await ensureWeights(spec.id, location) : undefined;
  // A wrong or damaged file fails here, naming it, rather than as a shape error or silent nonsense.
  const loadedWeights = weightsPath ? await checkWeightsFile(weightsPath, weightsFileFor(spec.id, location)) : undefined;

  const build = () => {
    const base = buildArchitecture(spec.id, {
      includeTop: false,
      pooling: "avg",
      inputShape: [opts.inputSize, opts.inputSize, 3],
      ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
    });
    const featureSize = base.outputs[0].shape[1] as number;
    const dropout = opts.dropout && opts.dropout > 0 ? tf.layers.dropout({ rate: opts.dropout, name: "head_dropout" }) : undefined;
    const dense = tf.layers.dense({
      units: opts.classes,
      activation: "softmax",
      name: "head_predictions",
      kernelInitializer: tf.initializers.glorotUniform({ seed: opts.seed }),
    });
    const attachHead = (features: tf.SymbolicTensor) => dense.apply(dropout ? dropout.apply(features) : features) as tf.SymbolicTensor;
    const model = tf.model({ inputs: base.inputs, outputs: attachHead(base.outputs[0]), name: `${spec.id}_transfer` });
    const featureInput = tf.input({ shape: [featureSize], name: "features" });
    const head = tf.model({ inputs: featureInput, outputs: attachHead(featureInput), name: `${spec.id}_head` });
    return { base, head, model, featureSize };
  };
  // With a seed, every random initial weight (the base's too, which WEIGHTS=none keeps) follows it.
  const { base, head, model, featureSize } = opts.seed === undefined ? build() : withSeededInitialisation(opts.seed, build);
  if (weightsPath) await loadKerasWeights(base, weightsPath);
  return { arch: spec.id, base, head, model, featureSize, buildSeconds: (performance.now() - started) / 1000, loadedWeights };
}

/** Releases every weight of a transfer model once (base, head and model share layers). */
export function disposeTransferModel(transfer: TransferModel): void {
  transfer.model.dispose(); // base layers + head layers (the head's dense is also used by `head`)
  transfer.head.dispose();
}

// Original `call` of every BatchNormalization instance we pinned to inference mode.
const pinnedBatchNorms = new WeakMap<tf.layers.Layer, tf.layers.Layer["call"]>();

/**
 * tfjs-layers' BatchNormalization follows the call's `training` flag and ignores `trainable`, so a
 * frozen BN inside fit() would use batch statistics and update its moving averages. Pinning the
 * instance's call to training=false makes frozen BN layers behave as in TF2 Keras.
 */
function pinBatchNormToInference(layer: tf.layers.Layer, pinned: boolean): void {
  const original = pinnedBatchNorms.get(layer);
  if (pinned && !original) {
    const call = layer.call.bind(layer);
    pinnedBatchNorms.set(layer, layer.call);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  } else if (!pinned && original) {
    layer.call = original;
    pinnedBatchNorms.delete(layer);
  }
}

function isBatchNorm(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === "BatchNormalization";
}

/**
 * Index (in base.layers) of the first layer of each block, from the spec's block-end entries:
 * an entry ending in "_" is a name prefix whose last matching layer ends the block, else an exact name.
 */
export function blockStartIndices(layers: readonly tf.layers.Layer[], blockEnds: readonly string[]): number[] {
  const starts: number[] = [];
  let previousEnd = -1;
  for (const entry of blockEnds) {
    const matches = (name: string) => (entry.endsWith("_") ? name.startsWith(entry) : name === entry);
    let end = -1;
    layers.forEach((layer, index) => {
      if (matches(layer.name)) end = index;
    });
    if (end <= previousEnd) throw new Error(`transfer blocks: no layer after position ${previousEnd} matches "${entry}"`);
    starts.push(previousEnd + 1);
    previousEnd = end;
  }
  return starts;
}

export interface TransferModeResult {
  trainableParams: number;
  /** Blocks of the base that train (0 = frozen, all = finetune). */
  trainableBlocks: number;
  totalBlocks: number;
}

/**
 * Sets trainable flags for frozen (head only), finetune (everything) or top:n (last n blocks + head,
 * n clamped to the number of blocks). Frozen BatchNormalization layers always run in inference mode,
 * so frozen weights and moving statistics never change. Recompile the model after calling this.
 */
export function applyTransferMode(transfer: TransferModel, mode: TransferMode): TransferModeResult {
  const spec = getArchSpec(transfer.arch);
  const baseLayers = transfer.base.layers;
  const starts = blockStartIndices(baseLayers, spec.blocks);
  const totalBlocks = starts.length;
  const trainableBlocks = mode.kind === "frozen" ? 0 : mode.kind === "finetune" ? totalBlocks : Math.min(mode.blocks, totalBlocks);
  const firstTrainable = trainableBlocks === 0 ? baseLayers.length : trainableBlocks === totalBlocks ? 0 : starts[totalBlocks - trainableBlocks];

  baseLayers.forEach((layer, index) => {
    const trainable = index >= firstTrainable;
    layer.trainable = trainable;
    if (isBatchNorm(layer)) pinBatchNormToInference(layer, !trainable);
  });
  for (const layer of transfer.head.layers) layer.trainable = true;
  const trainableParams = transfer.model.trainableWeights.reduce((sum, weight) => sum + (weight.shape as number[]).reduce((a, b) => a * b, 1), 0);
  return { trainableParams, trainableBlocks, totalBlocks };
}
