// Model files and per-epoch checkpoints. Models are written in the TensorFlow.js layers format
// (model.json + weights.bin, loadable by tf.loadLayersModel) through a custom save handler that
// writes both files atomically. A checkpoint is a folder per epoch with its state.json written last,
// recording every file's size and sha256: resume verifies them before loading anything and falls
// back to the previous epoch's folder (the last two are kept) when a disk or a crash damaged one. The optimizer's state (Adam's
// moments and step count, RMSProp's averages) is saved with the weights, so a resumed run continues
// exactly where the interrupted one stood — same numbers as a run that was never interrupted.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fileExists, readJson, writeFileAtomic, writeJsonAtomic } from "../io/atomic";
import { hashFile } from "../io/download";
import { fingerprintOf } from "../io/fingerprint";
import type { EpochLog } from "../schemas/history";
import { CHECKPOINT_SCHEMA } from "./types";

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";

/** Saves `model` to `dir` as model.json + weights.bin; weights first, so model.json marks completion. */
export async function saveModelFiles(model: tf.LayersModel, dir: string, stage = "model"): Promise<{ bytes: number }> {
  let bytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array();
      bytes = weightData.byteLength;
      await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weightData, stage);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeJsonAtomic(path.join(dir, MODEL_FILE), modelJson, stage);
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
  const expected = expectedWeightBytes(specs);
  if (expected !== undefined && expected !== joined.byteLength) {
    // tfjs would fail later with "the tensor should have 2560 values but has 1281" and no file name
    const files = json.weightsManifest.flatMap((group) => group.paths.map((file) => path.join(dir, file)));
    throw new Error(`${files.join(", ")}: ${joined.byteLength} bytes where ${modelFile} describes ${expected} (cut short or damaged): delete ${dir} and train again`);
  }
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  return { modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy, weightSpecs: specs, weightData };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** The weight bytes that `specs` describe; undefined for quantized or unusual ones (not checked). */
function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const bytes = DTYPE_BYTES[spec.dtype];
    if (spec.quantization || !bytes) return undefined;
    total += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
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

/** Size and sha256 of one checkpoint file, recorded when it was written and checked before it is loaded. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

export interface CheckpointState {
  schema: typeof CHECKPOINT_SCHEMA;
  arch: string;
  /** Last completed epoch (1-based). */
  epoch: number;
  /** Folder (relative to the checkpoint folder) with the trained weights after `epoch`; it also holds this state.json. */
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
  /** The optimizer's variables in trainedDir/optimizer.bin, in its getWeights() order. */
  optimizerWeights?: tf.io.WeightsManifestEntry[];
  /** Every file this checkpoint loads, by path relative to the checkpoint folder. */
  files: Record<string, FileDigest>;
  savedAt: string;
  /** fingerprintOf(this state without this field): a damaged state.json is caught even when it still parses. */
  stateSha256: string;
}

const OPTIMIZER_FILE = "optimizer.bin";
const STATE_FILE = "state.json";
const BASE_DIR = "base";
const EPOCH_DIR = /^epoch-(\d+)$/;
const CHECKPOINT_STAGE = "checkpoint";

export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, "0")}`;
}

async function digestOf(file: string): Promise<FileDigest> {
  return { bytes: (await fs.stat(file)).size, sha256: await hashFile(file, "sha256") };
}

function stateSha256(state: Omit<CheckpointState, "stateSha256"> & { stateSha256?: string }): string {
  return fingerprintOf({ ...state, stateSha256: undefined });
}

/**
 * Writes the checkpoint after `state.epoch` into a fresh epoch folder: the trained weights, the
 * optimizer's state, the frozen base once (shared by all epochs), then that folder's state.json with
 * every file's size and sha256 — written last, so a folder without it is incomplete. The previous
 * epoch's folder stays as the fallback; older ones are removed.
 */
export async function writeCheckpoint(opts: {
  checkpointDir: string;
  state: Omit<CheckpointState, "schema" | "trainedDir" | "baseDir" | "savedAt" | "optimizerWeights" | "files" | "stateSha256">;
  trained: tf.LayersModel;
  /** The frozen base, when `trained` is only the head. */
  frozenBase?: tf.LayersModel;
  optimizer?: tf.Optimizer;
}): Promise<void> {
  const { checkpointDir } = opts;
  const trainedDir = epochDirName(opts.state.epoch);
  await fs.rm(path.join(checkpointDir, trainedDir), { recursive: true, force: true });
  await saveModelFiles(opts.trained, path.join(checkpointDir, trainedDir), CHECKPOINT_STAGE);
  const written = [`${trainedDir}/${MODEL_FILE}`, `${trainedDir}/${WEIGHTS_FILE}`];
  const optimizerWeights = opts.optimizer ? await saveOptimizer(opts.optimizer, path.join(checkpointDir, trainedDir, OPTIMIZER_FILE)) : undefined;
  if (optimizerWeights) written.push(`${trainedDir}/${OPTIMIZER_FILE}`);
  let baseDir: string | null = null;
  if (opts.frozenBase) {
    baseDir = BASE_DIR;
    if (!(await fileExists(path.join(checkpointDir, baseDir, MODEL_FILE)))) await saveModelFiles(opts.frozenBase, path.join(checkpointDir, baseDir), CHECKPOINT_STAGE);
    written.push(`${baseDir}/${MODEL_FILE}`, `${baseDir}/${WEIGHTS_FILE}`);
  }
  // Digests of what is on disk now (read back), not of what was meant to be written.
  const files: Record<string, FileDigest> = {};
  for (const file of written) files[file] = await digestOf(path.join(checkpointDir, file));
  const unsigned: Omit<CheckpointState, "stateSha256"> = { schema: CHECKPOINT_SCHEMA, ...opts.state, trainedDir, baseDir, optimizerWeights, files, savedAt: new Date().toISOString() };
  const state: CheckpointState = { ...unsigned, stateSha256: stateSha256(unsigned) };
  await writeJsonAtomic(path.join(checkpointDir, trainedDir, STATE_FILE), state, CHECKPOINT_STAGE);
  const previous = (await epochDirs(checkpointDir)).find((dir) => dir.epoch < opts.state.epoch);
  await removeStaleEpochDirs(checkpointDir, [trainedDir, ...(previous ? [previous.name] : [])]);
}

/** Epoch folders of a checkpoint, newest first. */
async function epochDirs(checkpointDir: string): Promise<Array<{ name: string; epoch: number }>> {
  let entries: string[] = [];
  try {
    entries = await fs.readdir(checkpointDir);
  } catch {
    return [];
  }
  return entries
    .map((name) => ({ name, match: EPOCH_DIR.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ name: e.name, epoch: Number(e.match![1]) }))
    .sort((a, b) => b.epoch - a.epoch);
}

/** Removes epoch folders other than `keep` (left by an earlier epoch, a damaged one or a killed session). */
async function removeStaleEpochDirs(checkpointDir: string, keep: readonly string[]): Promise<void> {
  for (const { name } of await epochDirs(checkpointDir)) {
    if (!keep.includes(name)) await fs.rm(path.join(checkpointDir, name), { recursive: true, force: true });
  }
}

/** What is wrong with one epoch folder's checkpoint, or its state when nothing is. */
async function verifyCheckpoint(checkpointDir: string, epochDir: string): Promise<{ state: CheckpointState } | { problem: string }> {
  const stateFile = path.join(checkpointDir, epochDir, STATE_FILE);
  let text: string;
  try {
    text = await fs.readFile(stateFile, "utf8");
  } catch {
    return { problem: `${stateFile} is missing (the run stopped while writing this checkpoint)` };
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(text) as CheckpointState;
  } catch {
    return { problem: `${stateFile} is not valid JSON (cut short or damaged)` };
  }
  if (!state || typeof state !== "object" || state.stateSha256 !== stateSha256(state)) {
    return { problem: `${stateFile} is damaged (its content does not match its recorded sha256)` };
  }
  if (state.schema !== CHECKPOINT_SCHEMA) return { problem: `${stateFile} has schema ${JSON.stringify(state.schema)}, expected ${CHECKPOINT_SCHEMA} (another version)` };
  for (const [relative, expected] of Object.entries(state.files)) {
    const file = path.join(checkpointDir, relative);
    let actual: FileDigest;
    try {
      actual = await digestOf(file);
    } catch {
      return { problem: `${file} is missing` };
    }
    if (actual.bytes !== expected.bytes) return { problem: `${file} has ${actual.bytes} bytes, expected ${expected.bytes} (${actual.bytes < expected.bytes ? "cut short" : "overwritten"})` };
    if (actual.sha256 !== expected.sha256) return { problem: `${file} is damaged (its sha256 differs from the one its checkpoint recorded)` };
  }
  return { state };
}

/**
 * The newest intact checkpoint, verified (every file's size and sha256) before anything is loaded.
 * Each damaged or incomplete newer one is reported in one line (`notes`) naming the file, what is
 * wrong and what resume does instead: the previous epoch's checkpoint, or training from epoch 1.
 * Removes what is not used (newer epoch folders; everything when none is intact).
 */
export async function openCheckpoint(checkpointDir: string): Promise<{ state: CheckpointState | undefined; notes: string[] }> {
  const legacy = path.join(checkpointDir, STATE_FILE);
  if (await fileExists(legacy)) {
    const { schema } = await readJson<{ schema?: unknown }>(legacy).catch(() => ({ schema: undefined }));
    throw new Error(`${legacy} has schema ${JSON.stringify(schema)}, from another version of the project (this one writes ${CHECKPOINT_SCHEMA}, one state.json per epoch folder): delete the checkpoint folder to restart this architecture`);
  }
  const problems: string[] = [];
  let state: CheckpointState | undefined;
  for (const { name } of await epochDirs(checkpointDir)) {
    const verified = await verifyCheckpoint(checkpointDir, name);
    if ("state" in verified) {
      state = verified.state;
      break;
    }
    if (!problems.includes(verified.problem)) problems.push(verified.problem); // the shared base fails every checkpoint
  }
  const instead = state ? `resuming from the checkpoint of epoch ${state.epoch} instead` : "no intact checkpoint is left, training again from epoch 1";
  const notes = problems.map((problem) => `${problem}: ${instead}`);
  if (state) await removeStaleEpochDirs(checkpointDir, [state.trainedDir]);
  else await fs.rm(checkpointDir, { recursive: true, force: true });
  return { state, notes };
}

/** The optimizer's variables (and step count) as one binary file; returns their specs. */
async function saveOptimizer(optimizer: tf.Optimizer, file: string): Promise<tf.io.WeightsManifestEntry[]> {
  const weights = await optimizer.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights(weights);
    await writeFileAtomic(file, new Uint8Array(data), CHECKPOINT_STAGE);
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
    if (!opts.state.baseDir) throw new Error(`${path.join(opts.checkpointDir, opts.state.trainedDir, STATE_FILE)}: the checkpoint has no frozen base; delete the checkpoint folder to restart this architecture`);
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
