// Model files and per-epoch checkpoints. Models are written in the TensorFlow.js layers format
// (model.json + weights.bin, loadable by tf.loadLayersModel) through a custom save handler that
// writes both files atomically. A checkpoint is a folder per epoch plus state.json, written last:
// a crash leaves the previous state.json pointing at complete files. The optimizer's state (Adam's
// moments and step count, RMSProp's averages) is saved with the weights, so a resumed run continues
// exactly where the interrupted one stood — same numbers as a run that was never interrupted.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fileExists, readJson, writeFileAtomic, writeJsonAtomic } from "../io/atomic";
import { CHECKPOINT_SCHEMA, type EpochLog } from "./types";

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";

/** Saves `model` to `dir` as model.json + weights.bin; weights first, so model.json marks completion. */
export async function saveModelFiles(model: tf.LayersModel, dir: string): Promise<{ bytes: number }> {
  let bytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array();
      bytes = weightData.byteLength;
      await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeJsonAtomic(path.join(dir, MODEL_FILE), modelJson);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: bytes } };
    }),
  );
  return { bytes };
}

/** The artifacts of a folder written by saveModelFiles (or by tfjs-node's file:// handler). */
export async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const modelFile = path.join(dir, MODEL_FILE);
  if (!(await fileExists(modelFile))) throw new Error(`no ${MODEL_FILE} in ${dir}: the model was not saved (training unfinished?)`);
  const json = await readJson<tf.io.ModelJSON>(modelFile);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const file of group.paths) buffers.push(await fs.readFile(path.join(dir, file)));
  }
  const joined = Buffer.concat(buffers);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  return { modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy, weightSpecs: specs, weightData };
}

/** A whole model from a folder (custom layers must be registered first). */
export async function loadModelFiles(dir: string): Promise<tf.LayersModel> {
  const artifacts = await readModelArtifacts(dir);
  return tf.loadLayersModel({ load: async () => artifacts });
}

/** Loads saved weights into an existing model of the same architecture (matched by weight name). */
export async function loadWeightsInto(model: tf.LayersModel, dir: string): Promise<void> {
  const artifacts = await readModelArtifacts(dir);
  const named = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  try {
    model.loadWeights(named, true);
  } finally {
    tf.dispose(Object.values(named));
  }
}

export interface CheckpointState {
  schema: typeof CHECKPOINT_SCHEMA;
  arch: string;
  /** Last completed epoch (1-based). */
  epoch: number;
  /** Folder (relative to the checkpoint folder) with the trained weights after `epoch`. */
  trainedDir: string;
  /** Folder with the frozen base's weights, saved once (frozen mode); null when trainedDir holds everything. */
  baseDir: string | null;
  history: EpochLog[];
  /** Seeds are derived from (seed, epoch, batch): the next epoch number is the whole RNG state. */
  rng: { seed: number; nextEpoch: number };
  configFingerprint: string;
  /** Epochs at which earlier sessions resumed. */
  resumedAtEpochs: number[];
  /** Seconds spent outside epochs so far (model builds of every session, validation features). */
  spentSeconds?: { build: number; calibration: number; validationFeatures: number };
  /** Batch-norm calibration of a randomly initialised base (lib/train/calibrate), if it was done. */
  calibration?: { images: number; layers: number } | null;
  /** Process CPU seconds spent on this architecture so far (all sessions). */
  cpuSeconds?: number;
  /** The optimizer's variables in trainedDir/optimizer.bin, in its getWeights() order; absent in older checkpoints. */
  optimizerWeights?: tf.io.WeightsManifestEntry[];
  savedAt: string;
}

const OPTIMIZER_FILE = "optimizer.bin";

const STATE_FILE = "state.json";

export async function readCheckpoint(checkpointDir: string): Promise<CheckpointState | undefined> {
  const file = path.join(checkpointDir, STATE_FILE);
  if (!(await fileExists(file))) return undefined;
  const state = await readJson<CheckpointState>(file);
  if (state.schema !== CHECKPOINT_SCHEMA) throw new Error(`${file} has schema ${JSON.stringify(state.schema)}, expected ${CHECKPOINT_SCHEMA}: delete the checkpoint folder to restart this architecture`);
  return state;
}

export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, "0")}`;
}

/**
 * Writes the checkpoint after `state.epoch`: the trained weights into a fresh epoch folder, the frozen
 * base once, then state.json; folders of other epochs are removed afterwards.
 */
export async function writeCheckpoint(opts: {
  checkpointDir: string;
  state: Omit<CheckpointState, "schema" | "trainedDir" | "baseDir" | "savedAt" | "optimizerWeights">;
  trained: tf.LayersModel;
  /** The frozen base, when `trained` is only the head. */
  frozenBase?: tf.LayersModel;
  optimizer?: tf.Optimizer;
}): Promise<void> {
  const trainedDir = epochDirName(opts.state.epoch);
  await fs.rm(path.join(opts.checkpointDir, trainedDir), { recursive: true, force: true });
  await saveModelFiles(opts.trained, path.join(opts.checkpointDir, trainedDir));
  const optimizerWeights = opts.optimizer ? await saveOptimizer(opts.optimizer, path.join(opts.checkpointDir, trainedDir, OPTIMIZER_FILE)) : undefined;
  let baseDir: string | null = null;
  if (opts.frozenBase) {
    baseDir = "base";
    if (!(await fileExists(path.join(opts.checkpointDir, baseDir, MODEL_FILE)))) {
      await saveModelFiles(opts.frozenBase, path.join(opts.checkpointDir, baseDir));
    }
  }
  const state: CheckpointState = { schema: CHECKPOINT_SCHEMA, ...opts.state, trainedDir, baseDir, optimizerWeights, savedAt: new Date().toISOString() };
  await writeJsonAtomic(path.join(opts.checkpointDir, STATE_FILE), state);
  await removeStaleEpochDirs(opts.checkpointDir, trainedDir);
}

/** Removes epoch folders other than `keep` (left by an earlier epoch or by a killed session). */
export async function removeStaleEpochDirs(checkpointDir: string, keep: string | null): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await fs.readdir(checkpointDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if ((/^epoch-\d+$/.test(entry) && entry !== keep) || entry.endsWith(".tmp")) {
      await fs.rm(path.join(checkpointDir, entry), { recursive: true, force: true });
    }
  }
}

/** The optimizer's variables (and step count) as one binary file; returns their specs. */
async function saveOptimizer(optimizer: tf.Optimizer, file: string): Promise<tf.io.WeightsManifestEntry[]> {
  const weights = await optimizer.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights(weights);
    await writeFileAtomic(file, new Uint8Array(data));
    return specs;
  } finally {
    // getWeights returns the live slot variables plus a fresh scalar for the step count
    tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
}

/** Restores the weights of a checkpoint (and the optimizer's state, when saved) into freshly built models. */
export async function restoreCheckpoint(opts: {
  checkpointDir: string;
  state: CheckpointState;
  trained: tf.LayersModel;
  frozenBase?: tf.LayersModel;
  optimizer?: tf.Optimizer;
}): Promise<void> {
  if (opts.frozenBase) {
    if (!opts.state.baseDir) throw new Error(`${opts.checkpointDir}: the checkpoint has no frozen base; delete the folder to restart this architecture`);
    await loadWeightsInto(opts.frozenBase, path.join(opts.checkpointDir, opts.state.baseDir));
  }
  await loadWeightsInto(opts.trained, path.join(opts.checkpointDir, opts.state.trainedDir));
  const specs = opts.state.optimizerWeights;
  if (opts.optimizer && specs) {
    const data = await fs.readFile(path.join(opts.checkpointDir, opts.state.trainedDir, OPTIMIZER_FILE));
    const named = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, specs);
    try {
      // setWeights matches by position (the order getWeights gave), and copies into new variables
      await opts.optimizer.setWeights(specs.map((spec) => ({ name: spec.name, tensor: named[spec.name] })));
    } finally {
      tf.dispose(Object.values(named));
    }
  }
}
