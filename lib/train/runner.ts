// A training run: the dataset manifest, the run directory (run.json) and every configured
// architecture in turn; plus the readers that notebook 03 and the report use.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { RunParams } from "../config";
import { loadManifest, manifestPathFor, prepareDataset, type DatasetManifest } from "../data/index";
import type { EngineDescription } from "../engine/types";
import { fileExists, readJson } from "../io/atomic";
import { registerCustomLayers } from "../models/index";
import { collectInventory } from "../system/index";
import { loadModelFiles } from "./checkpoint";
import { trainArchitecture, type TrainArchitectureOptions, TrainingAbortedError } from "./fit";
import { archPaths, openRunDir, readRunManifest } from "./run-dir";
import { type ArchHistory, HISTORY_SCHEMA, type RunManifest, type RunSummary, type TrainProgress } from "./types";

export interface RunTrainingOptions {
  engine: EngineDescription;
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
  /** Status lines (dataset preparation, run directory); default none. */
  onMessage?: (message: string) => void;
  /** See TrainArchitectureOptions.onModelReady (tests inspect the model before training). */
  onModelReady?: TrainArchitectureOptions["onModelReady"];
}

/**
 * The prepared dataset for these parameters: the manifest notebook 01 wrote when it matches (same
 * seed and split sizes), else prepared now (the embedded synthetic set, or DATA_DIR).
 */
export async function datasetFor(params: RunParams, opts: { onMessage?: (message: string) => void } = {}): Promise<{ manifest: DatasetManifest; manifestPath: string }> {
  const manifestPath = manifestPathFor(params);
  if (await fileExists(manifestPath)) {
    const manifest = await loadManifest(manifestPath);
    const requested = manifest.requested;
    if (
      manifest.seed === params.seed &&
      requested.trainPerClass === params.trainPerClass &&
      requested.validationPerClass === params.validationPerClass &&
      requested.testPerClass === params.testPerClass
    ) {
      return { manifest, manifestPath };
    }
    opts.onMessage?.(`${manifestPath} was prepared with other split sizes or seed: preparing it again for this run`);
  }
  return prepareDataset(params, { onMessage: opts.onMessage });
}

export async function runTraining(params: RunParams, opts: RunTrainingOptions): Promise<RunSummary> {
  const started = performance.now();
  const { manifest: dataset, manifestPath } = await datasetFor(params, { onMessage: opts.onMessage });
  const { runDir, manifest, created } = await openRunDir({
    params,
    engine: opts.engine,
    dataset,
    datasetManifestPath: manifestPath,
    collectInventory: () => collectInventory({ engine: opts.engine }),
  });
  opts.onMessage?.(`${created ? "new run" : "resuming run"} ${runDir}`);
  const cacheDir = path.join(path.dirname(manifestPath), "cache");
  const summary: RunSummary = { runDir, manifest, histories: [], skipped: [], resumed: [], totalSeconds: 0, aborted: false };
  for (const [index, arch] of params.archs.entries()) {
    try {
      const { history, outcome } = await trainArchitecture({
        params,
        arch,
        runDir,
        dataset,
        engine: opts.engine,
        configFingerprint: manifest.configFingerprint,
        cacheDir,
        archIndex: index + 1,
        archCount: params.archs.length,
        onProgress: opts.onProgress,
        signal: opts.signal,
        onModelReady: opts.onModelReady,
      });
      summary.histories.push(history);
      if (outcome === "skipped") summary.skipped.push(arch);
      if (outcome === "resumed") summary.resumed.push(arch);
    } catch (error) {
      if (error instanceof TrainingAbortedError) {
        summary.aborted = true;
        opts.onMessage?.(error.message);
        break;
      }
      throw error;
    }
  }
  summary.totalSeconds = (performance.now() - started) / 1000;
  return summary;
}

/** run.json and the history of every architecture that has one (finished or still running). */
export async function loadRun(runDir: string): Promise<{ manifest: RunManifest; histories: ArchHistory[] }> {
  const manifest = await readRunManifest(runDir);
  const histories: ArchHistory[] = [];
  for (const arch of manifest.archs) {
    const file = archPaths(runDir, arch).history;
    if (!(await fileExists(file))) continue;
    const history = await readJson<ArchHistory>(file);
    if (history.schema !== HISTORY_SCHEMA) throw new Error(`${file} has schema ${JSON.stringify(history.schema)}, expected ${HISTORY_SCHEMA}`);
    histories.push(history);
  }
  return { manifest, histories };
}

/** The trained end-to-end model of one architecture (custom layers registered first). */
export async function loadTrainedModel(runDir: string, arch: string): Promise<tf.LayersModel> {
  registerCustomLayers();
  const dir = archPaths(runDir, arch).model;
  if (!(await fileExists(path.join(dir, "model.json")))) {
    throw new Error(`no trained ${arch} model in ${dir}: train it first (notebook 02 or \`npx showcase train --archs ${arch}\`)`);
  }
  return loadModelFiles(dir);
}
