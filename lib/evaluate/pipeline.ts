// Notebook 03's work on a run: predictions on the validation split and the classification-time
// benchmark on this machine and engine, each saved under the run as soon as it is done (so an
// interrupted evaluation resumes, and other machines add their own latency files).
// Directory modules are imported as ".../index": tslab (notebooks) does not resolve a bare folder import.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { RunParams } from "../config";
import { decodeOne, evalBatches, imageRootOf, loadManifest, manifestPathFor } from "../data/index";
import type { DatasetManifest } from "../data/types";
import type { EngineDescription } from "../engine/types";
import { fileExists, readJson, removeStaleTempFiles } from "../io/atomic";
import { buildTransferModel, disposeTransferModel, getArchSpec, inputSizeFor, preprocessInput } from "../models/index";
import { collectInventory, machineSlug } from "../system/index";
import { acquireRunLock, datasetFor, loadTrainedModel, runDirFor } from "../train/index";
import type { ArchHistory } from "../train/types";
import { type ArchLatency, type LatencyBudget, measureModelLatency } from "./latency";
import { LATENCY_SCHEMA, type LatencyFile, latencyFileName, saveLatencyFile } from "./latency-file";
import { type Evaluation, evaluationPath, predictSplit, saveEvaluation } from "./predict";
import { loadRunResults, RUN_LIST_FILE, type RunManifestLike } from "./run";

/** The run to evaluate is not there: says where it looked and what to do. */
export class RunNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunNotFoundError";
  }
}

export interface EvaluateOptions {
  engine: EngineDescription;
  /** Only the latency benchmark (a machine that did not train). */
  latencyOnly?: boolean;
  /** Redo evaluations and latency measurements that already exist for this machine/engine. */
  force?: boolean;
  batchSizes?: number[];
  budget?: Partial<LatencyBudget>;
  batchBudget?: Partial<LatencyBudget>;
  log?: (line: string) => void;
  /** Stops predictions and the benchmark at the next batch or call; what finished is saved. */
  signal?: AbortSignal;
}

export interface EvaluateOutcome {
  runDir: string;
  /** "trained": the run's saved models; "untrained": built from the registry because no trained model exists here. */
  models: "trained" | "untrained";
  evaluations: Evaluation[];
  latencyPath: string;
  latency: LatencyFile;
}

/** The dataset the run was trained on: its manifest where it is, else prepared with the run's split parameters. */
async function datasetOfRun(params: RunParams, manifest: RunManifestLike | undefined, log: (line: string) => void): Promise<{ manifest: DatasetManifest; manifestPath: string }> {
  const recorded = manifest?.dataset?.manifestPath;
  if (recorded && (await fileExists(recorded))) return { manifest: await loadManifest(recorded), manifestPath: recorded };
  const runParams = (manifest?.params ?? {}) as Partial<RunParams>;
  const dataParams: RunParams = {
    ...params,
    seed: runParams.seed ?? params.seed,
    trainPerClass: runParams.trainPerClass ?? params.trainPerClass,
    validationPerClass: runParams.validationPerClass ?? params.validationPerClass,
    testPerClass: runParams.testPerClass ?? params.testPerClass,
    syntheticPerClass: runParams.syntheticPerClass ?? params.syntheticPerClass,
  };
  if (recorded) log(`dataset manifest ${recorded} is not on this machine: preparing the dataset with the run's parameters`);
  return datasetFor(dataParams, { onMessage: log });
}

const preprocessFor = (arch: string) => {
  const mode = getArchSpec(arch).preprocess;
  return (x: tf.Tensor4D) => preprocessInput(x, mode);
};

/** Evaluates as the run folder's one writer (lib/train/run-lock): not while it is trained or evaluated elsewhere. */
export async function evaluateRun(params: RunParams, opts: EvaluateOptions): Promise<EvaluateOutcome> {
  const runDir = runDirFor(params);
  if (!opts.latencyOnly && !(await fileExists(runDir))) return evaluateLocked(params, opts); // says there is no run
  const lock = await acquireRunLock({ dir: runDir, label: params.runId });
  // The one writer now: temp files of a killed evaluation (predictions, latency files) are stale.
  await removeStaleTempFiles(runDir, { recursive: false });
  await removeStaleTempFiles(path.dirname(evaluationPath({ runDir, arch: "any" })));
  try {
    return await evaluateLocked(params, opts);
  } finally {
    await lock.release();
  }
}

async function evaluateLocked(params: RunParams, opts: EvaluateOptions): Promise<EvaluateOutcome> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const runDir = runDirFor(params);
  const hasRun = await fileExists(path.join(runDir, "run.json"));
  const sharded = !hasRun && (await fileExists(path.join(runDir, RUN_LIST_FILE)));
  if (!hasRun && !sharded && !opts.latencyOnly) {
    throw new RunNotFoundError(`no run at ${runDir}: train first (notebook 02 or \`npx showcase train\`), choose a run with RUN_ID / --run-id, or measure latency only with --latency-only`);
  }
  const results = hasRun || sharded ? await loadRunResults(runDir) : undefined;
  const histories: ArchHistory[] = results?.histories ?? [];
  // Latency alone needs only one image: any prepared manifest will do, so nothing is re-prepared.
  const anyManifest = manifestPathFor(params);
  const { manifest: dataset, manifestPath } =
    !results && (await fileExists(anyManifest)) ? { manifest: await loadManifest(anyManifest), manifestPath: anyManifest } : await datasetOfRun(params, results?.manifest, log);
  const cacheDir = path.join(path.dirname(manifestPath), "cache"); // the decode cache training filled

  const evaluations: Evaluation[] = [];
  if (sharded) log("sharded run (results/<key>/): tables and charts come from every key's history; per-image predictions are computed for single-machine runs only");
  if (!opts.latencyOnly && !sharded) {
    for (const history of histories) {
      const target = evaluationPath({ runDir, arch: history.arch });
      if (!opts.force && (await fileExists(target))) {
        evaluations.push(await readJson<Evaluation>(target));
        log(`${history.arch}: evaluation exists, kept (${target})`);
        continue;
      }
      let model: tf.LayersModel;
      try {
        model = await loadTrainedModel(runDir, history.arch);
      } catch (error) {
        // A history without its model (copied without model/, or saved by an older version): say so, go on.
        log(`${history.arch}: no predictions — ${(error as Error).message}`);
        continue;
      }
      try {
        const evaluation = await predictSplit({
          arch: history.arch,
          displayName: history.displayName,
          model,
          batches: evalBatches({ manifest: dataset, split: "validation", imageSize: history.inputSize, batchSize: params.batchSize, cacheDir }),
          preprocess: preprocessFor(history.arch),
          classes: dataset.classes,
          imageRoot: imageRootOf(dataset),
          signal: opts.signal,
        });
        await saveEvaluation({ runDir, evaluation });
        evaluations.push(evaluation);
        log(`${history.arch}: accuracy ${(100 * evaluation.accuracy).toFixed(1)} % on ${evaluation.images} validation images, log loss ${evaluation.logLoss.toFixed(4)}`);
      } finally {
        model.dispose();
      }
    }
  }

  // Latency: trained models when this machine has them, else untrained ones of the same graph
  // (the cost of a forward pass does not depend on the weights' values).
  const inventory = await collectInventory({ engine: opts.engine });
  const machine = machineSlug(inventory);
  const latencyPath = path.join(runDir, latencyFileName({ machine, engine: opts.engine.engine }));
  const previous = !opts.force && (await fileExists(latencyPath)) ? await readJson<LatencyFile>(latencyPath) : undefined;
  const archs = histories.length > 0 && !sharded ? histories.map((h) => ({ arch: h.arch as string, displayName: h.displayName, inputSize: h.inputSize })) : params.archs.map((arch) => ({ arch: arch as string, displayName: getArchSpec(arch).displayName, inputSize: inputSizeFor(arch, params.imageSize) }));
  const imagePath = dataset.splits.validation[0]?.path ?? dataset.splits.train[0]?.path;
  if (!imagePath) throw new Error(`dataset ${dataset.dataset} has no images to time predictions on — prepare it first (notebook 01 or \`npx showcase data\`)`);
  let models: LatencyFile["models"] = "trained";
  const measured: ArchLatency[] = previous ? [...previous.archs] : [];
  for (const { arch, displayName, inputSize } of archs) {
    if (measured.some((m) => m.arch === arch && m.inputSize === inputSize)) {
      log(`${arch}: latency on ${machine} (${opts.engine.engine}) exists, kept`);
      continue;
    }
    const trainedHere = hasRun && (await fileExists(path.join(runDir, arch, "model", "model.json")));
    let model: tf.LayersModel;
    let dispose: () => void;
    if (trainedHere) {
      model = await loadTrainedModel(runDir, arch);
      dispose = () => model.dispose();
    } else {
      models = "untrained";
      const transfer = await buildTransferModel(arch, { inputSize, classes: dataset.classes.length, weights: "none", weightsDir: params.weightsDir });
      model = transfer.model;
      dispose = () => disposeTransferModel(transfer);
    }
    try {
      const latency = await measureModelLatency({ arch, displayName, model, inputSize, preprocess: preprocessFor(arch), decode: decodeOne, imagePath, batchSizes: opts.batchSizes, budget: opts.budget, batchBudget: opts.batchBudget, signal: opts.signal });
      measured.push(latency);
      log(`${arch}: p50 ${latency.modelOnly.p50Ms.toFixed(2)} ms model only, ${latency.endToEnd.p50Ms.toFixed(2)} ms end to end, first call ${latency.modelOnly.firstCallMs.toFixed(0)} ms (${trainedHere ? "trained" : "untrained"} model)`);
    } finally {
      dispose();
    }
    // Saved after every architecture: an interrupted benchmark keeps what it measured.
    await saveLatencyFile({ runDir, file: latencyFileOf({ previous, machine, engine: opts.engine, inventory, runId: params.runId, models, imageSize: params.imageSize, archs: measured }) });
  }
  const latency = latencyFileOf({ previous, machine, engine: opts.engine, inventory, runId: params.runId, models, imageSize: params.imageSize, archs: measured });
  if (!previous || measured.length !== previous.archs.length) await saveLatencyFile({ runDir, file: latency });
  return { runDir, models, evaluations, latencyPath, latency };
}

function latencyFileOf(opts: { previous?: LatencyFile; machine: string; engine: EngineDescription; inventory: object; runId: string; models: LatencyFile["models"]; imageSize: number; archs: ArchLatency[] }): LatencyFile {
  return {
    schema: LATENCY_SCHEMA,
    runId: opts.runId,
    machine: opts.machine,
    engine: opts.engine,
    inventory: { ...opts.inventory },
    models: opts.previous?.models === "untrained" ? "untrained" : opts.models,
    imageSize: opts.imageSize,
    createdAt: new Date().toISOString(),
    archs: opts.archs,
  };
}
