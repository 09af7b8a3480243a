// A training run: the dataset manifest, the run directory (run.json) and every configured
// architecture — one after another in this process, or WORKERS at a time in worker processes
// (worker-pool.ts) — plus the readers that notebook 03 and the report use.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { RunParams } from "../config";
import { assertPhotos, loadManifest, manifestPathFor, prepareDataset, type DatasetManifest } from "../data/index";
import type { EngineDescription } from "../engine/types";
import { fileExists } from "../io/atomic";
import { registerCustomLayers } from "../models/index";
import { collectInventory } from "../system/index";
import { loadModelFiles } from "./checkpoint";
import type { ArchId } from "../ids";
import { type ArchOutcome, isArchFinished, trainArchitecture, type TrainArchitectureOptions, TrainingAbortedError } from "./fit";
import { archPaths, openRunDir, readRunManifest, runDirFor } from "./run-dir";
import { acquireRunLock, takeOverMessage } from "./run-lock";
import { type ArchHistory, readHistory } from "../schemas/history";
import type { RunManifest } from "../schemas/run-manifest";
import type { RunSummary, TrainProgress } from "./types";
import { resolveWorkerCount } from "./worker-count";
import { trainInWorkerProcesses } from "./worker-pool";

export interface RunTrainingOptions {
  engine: EngineDescription;
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
  /** Status lines (dataset preparation, run directory); default none. */
  onMessage?: (message: string) => void;
  /** See TrainArchitectureOptions.onModelReady (tests inspect the model before training). */
  onModelReady?: TrainArchitectureOptions["onModelReady"];
  /** What this writer runs, for the run folder's lock (lib/train/run-lock); default this process's command line. */
  command?: string;
}

/**
 * The prepared dataset for these parameters: the manifest notebook 01 wrote when it matches (same
 * seed and split sizes), else prepared now (the embedded synthetic set, or DATA_DIR).
 */
export async function datasetFor(params: RunParams, opts: { onMessage?: (message: string) => void } = {}): Promise<{ manifest: DatasetManifest; manifestPath: string }> {
  const manifestPath = manifestPathFor(params);
  if (await fileExists(manifestPath)) {
    const manifest = await loadManifest(manifestPath);
    assertPhotos(params, manifest);
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
  // One writer per run folder: taken before anything is read or written there, released at the end.
  const lock = await acquireRunLock({ dir: runDirFor(params), label: params.runId, command: opts.command });
  const tookOver = takeOverMessage(lock);
  if (tookOver) opts.onMessage?.(tookOver);
  try {
    return await trainLocked(params, opts, { started, dataset, manifestPath });
  } finally {
    await lock.release();
  }
}

async function trainLocked(
  params: RunParams,
  opts: RunTrainingOptions,
  { started, dataset, manifestPath }: { started: number; dataset: DatasetManifest; manifestPath: string },
): Promise<RunSummary> {
  const pending = await unfinishedArchs(params);
  const workers = resolveWorkerCount({ workers: params.workers, engine: opts.engine, pendingArchs: pending.length });
  if (workers > 1 && opts.onModelReady) {
    throw new Error(`onModelReady needs the models in this process, but WORKERS=${params.workers} trains them in ${workers} worker processes: set WORKERS=1`);
  }
  const { runDir, manifest, created } = await openRunDir({
    params,
    engine: opts.engine,
    dataset,
    datasetManifestPath: manifestPath,
    collectInventory: () => collectInventory({ engine: opts.engine }),
    workers,
  });
  opts.onMessage?.(`${created ? "new run" : "resuming run"} ${runDir}${workers > 1 ? ` (${workers} architectures at a time, each in its own process)` : ""}`);
  const cacheDir = path.join(path.dirname(manifestPath), "cache");
  const stopped: RunSummary["stopped"] = [];
  const onStopped = (arch: string, epoch: number) => stopped.push({ arch, completedEpochs: epoch - 1 });
  const outcomes =
    workers > 1
      ? await trainInWorkerProcesses({
          context: { params, engine: opts.engine.engine, runDir, dataset, configFingerprint: manifest.configFingerprint, cacheDir, archCount: params.archs.length, workers },
          archs: params.archs,
          workers,
          onProgress: opts.onProgress,
          onMessage: opts.onMessage,
          signal: opts.signal,
          onStopped,
        })
      : await trainOneAfterAnother(params, { ...opts, runDir, dataset, configFingerprint: manifest.configFingerprint, cacheDir, onStopped });
  const summary: RunSummary = { runDir, manifest, histories: [], skipped: [], resumed: [], totalSeconds: 0, aborted: false, stopped, workers };
  for (const [index, arch] of params.archs.entries()) {
    const result = outcomes[index];
    if (!result) {
      summary.aborted = true; // stopped by the signal: this one and the rest resume next time
      continue;
    }
    summary.histories.push(result.history);
    if (result.outcome === "skipped") summary.skipped.push(arch);
    if (result.outcome === "resumed") summary.resumed.push(arch);
  }
  summary.totalSeconds = (performance.now() - started) / 1000;
  return summary;
}

/**
 * Where an aborted run stopped, for the message that ends the cell or command: "stopped after
 * epoch 1 of 3 (mobilenet_v2)", or one entry per architecture that was training at the time.
 */
export function stoppedText(summary: Pick<RunSummary, "stopped" | "histories" | "manifest">): string {
  const epochs = summary.manifest.params.epochs;
  const [only, ...more] = summary.stopped;
  if (!only) return `stopped before the next architecture (${summary.histories.length} finished)`;
  if (more.length === 0) return `stopped after epoch ${only.completedEpochs} of ${epochs} (${only.arch})`;
  return `stopped: ${summary.stopped.map((s) => `${s.arch} after epoch ${s.completedEpochs} of ${epochs}`).join(", ")}`;
}

/** The architectures of ARCHS not finished in an earlier session (those need a worker). */
async function unfinishedArchs(params: RunParams): Promise<ArchId[]> {
  const runDir = runDirFor(params);
  const unfinished: ArchId[] = [];
  for (const arch of params.archs) if (!(await isArchFinished(runDir, arch))) unfinished.push(arch);
  return unfinished;
}

/** WORKERS=1: every architecture in this process, in ARCHS order; undefined from the one the signal stopped on. */
async function trainOneAfterAnother(
  params: RunParams,
  opts: RunTrainingOptions & { runDir: string; dataset: DatasetManifest; configFingerprint: string; cacheDir: string; onStopped: (arch: string, epoch: number) => void },
): Promise<Array<ArchOutcome | undefined>> {
  const outcomes: Array<ArchOutcome | undefined> = params.archs.map(() => undefined);
  for (const [index, arch] of params.archs.entries()) {
    if (opts.signal?.aborted) break; // not even built: this one and the rest start next time
    try {
      outcomes[index] = await trainArchitecture({
        params,
        arch,
        runDir: opts.runDir,
        dataset: opts.dataset,
        engine: opts.engine,
        configFingerprint: opts.configFingerprint,
        cacheDir: opts.cacheDir,
        archIndex: index + 1,
        archCount: params.archs.length,
        onProgress: opts.onProgress,
        signal: opts.signal,
        onModelReady: opts.onModelReady,
      });
    } catch (error) {
      if (error instanceof TrainingAbortedError) {
        opts.onMessage?.(error.message);
        opts.onStopped(error.arch, error.epoch);
        break;
      }
      throw error;
    }
  }
  return outcomes;
}

/** run.json and the history of every architecture that has one (finished or still running). */
export async function loadRun(runDir: string): Promise<{ manifest: RunManifest; histories: ArchHistory[] }> {
  const manifest = await readRunManifest(runDir);
  const histories: ArchHistory[] = [];
  for (const arch of manifest.archs) {
    const file = archPaths(runDir, arch).history;
    if (!(await fileExists(file))) continue;
    histories.push(await readHistory(file));
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
