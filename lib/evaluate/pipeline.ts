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
import { fileExists, removeStaleTempFiles } from "../io/atomic";
import { alphaFor, buildTransferModel, disposeTransferModel, getArchSpec, inputSizeFor, preprocessInput, widthLabel } from "../models/index";
import { collectInventory, machineSlug } from "../system/index";
import { acquireRunLock, datasetFor, loadTrainedModel, runDirFor } from "../train/index";
import type { ArchHistory } from "../schemas/history";
import { RUN_MANIFEST_FILE, type RunManifest } from "../schemas/run-manifest";
import { type Evaluation, evaluationDir } from "../schemas/evaluation";
import { LATENCY_SCHEMA, type LatencyEngine, type LatencyFile, type LatencyRuntime, readLatencyFile } from "../schemas/latency";
import { type ArchLatency, type LatencyBudget, measureModelLatency, type PredictionAgreement, type Predictor } from "./latency";
import { latencyFileName, saveLatencyFile } from "./latency-file";
import { evaluationPath, predictSplit, saveEvaluation } from "./predict";
import { loadRunResults, RUN_LIST_FILE } from "./run";

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
  /** Also time ONNX Runtime on the exported models (default true; CPU, plus CUDA/WebGPU where present). */
  onnx?: boolean;
  /** ONNX Runtime intra-op threads (default 1, like the single-threaded wasm engine). */
  onnxThreads?: number;
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
  /** ONNX Runtime's latency files, one per execution provider timed. */
  onnx: Array<{ latencyPath: string; latency: LatencyFile }>;
}

/** The dataset the run was trained on: its manifest where it is, else prepared with the run's split parameters. */
async function datasetOfRun(params: RunParams, manifest: RunManifest | undefined, log: (line: string) => void): Promise<{ manifest: DatasetManifest; manifestPath: string }> {
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
  await removeStaleTempFiles(evaluationDir(runDir));
  try {
    return await evaluateLocked(params, opts);
  } finally {
    await lock.release();
  }
}

/** The phases: find the run, predict (validation split), time on tfjs, time on ONNX Runtime; each writes its files. */
async function evaluateLocked(params: RunParams, opts: EvaluateOptions): Promise<EvaluateOutcome> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const run = await findRun(params, opts, log);
  const { runDir, sharded, histories, dataset, cacheDir } = run;
  const evaluations = opts.latencyOnly || sharded ? [] : await predictValidation({ runDir, histories, existing: run.evaluations, dataset, cacheDir, params, opts, log });
  const timing = await latencyTargets({ run, params, opts, log });
  const tfjs = await measureRuntimeLatency({ ...timing, runtime: "tfjs", engine: opts.engine });
  const onnx = opts.onnx === false ? [] : await measureOnnxLatency({ timing, run, evaluations });
  return { runDir, models: tfjs.file.models, evaluations, latencyPath: tfjs.path, latency: tfjs.file, onnx };
}

type FoundRun = Awaited<ReturnType<typeof findRun>>;

/** What every runtime's latency phase shares: this machine, the architectures to time and the image to time them on. */
interface LatencyTargets {
  runDir: string;
  hasRun: boolean;
  params: RunParams;
  machine: string;
  inventory: object;
  archs: Array<{ arch: string; displayName: string; inputSize: number }>;
  imagePath: string;
  classes: number;
  opts: EvaluateOptions;
  log: (line: string) => void;
}

/**
 * Phase 3: what latency times. Trained models when this machine has them, else untrained ones of the
 * same graph (the cost of a forward pass does not depend on the weights' values).
 */
async function latencyTargets(opts: { run: FoundRun; params: RunParams; opts: EvaluateOptions; log: (line: string) => void }): Promise<LatencyTargets> {
  const { run, params } = opts;
  const inventory = await collectInventory({ engine: opts.opts.engine });
  const archs =
    run.histories.length > 0 && !run.sharded
      ? run.histories.map((h) => ({ arch: h.arch as string, displayName: h.displayName, inputSize: h.inputSize }))
      : params.archs.map((arch) => ({ arch: arch as string, displayName: widthLabel(getArchSpec(arch).displayName, alphaFor(arch, params.alpha)), inputSize: inputSizeFor(arch, params.imageSize) }));
  const imagePath = run.dataset.splits.validation[0]?.path ?? run.dataset.splits.train[0]?.path;
  if (!imagePath) throw new Error(`dataset ${run.dataset.dataset} has no images to time predictions on — prepare it first (notebook 01 or \`npx showcase data\`)`);
  return { runDir: run.runDir, hasRun: run.hasRun, params, machine: machineSlug(inventory), inventory, archs, imagePath, classes: run.dataset.classes.length, opts: opts.opts, log: opts.log };
}

/**
 * Phase 5: the same models exported to ONNX and timed on ONNX Runtime with the same protocol, one
 * latency file per execution provider; each checks its predictions against tfjs' evaluation.
 */
async function measureOnnxLatency(opts: { timing: LatencyTargets; run: FoundRun; evaluations: Evaluation[] }): Promise<EvaluateOutcome["onnx"]> {
  const { timing, run } = opts;
  const { opts: evaluateOpts, params, log } = timing;
  const { onnxProvidersToTime, onnxLatencyEngine, onnxPredictorFor, agreementWithEvaluation } = await import("../export/onnx-predictor");
  const { providers, unavailable } = onnxProvidersToTime(evaluateOpts.engine.device);
  if (unavailable) log(`ONNX Runtime not timed: ${unavailable}`);
  const threads = evaluateOpts.onnxThreads ?? 1;
  const onnx: EvaluateOutcome["onnx"] = [];
  for (const provider of providers) {
    const measured = await measureRuntimeLatency({
      ...timing,
      runtime: "onnxruntime",
      engine: onnxLatencyEngine(provider, threads),
      wrap: async (model, arch, inputSize) => {
        const predictor = await onnxPredictorFor(model, { provider, threads });
        const evaluation = opts.evaluations.find((e) => e.arch === arch);
        let agreement: PredictionAgreement | undefined;
        if (evaluation) {
          agreement = await agreementWithEvaluation({ predictor, evaluation, imageRoot: imageRootOf(run.dataset), preprocess: preprocessFor(arch), batches: evalBatches({ manifest: run.dataset, split: "validation", imageSize: inputSize, batchSize: params.batchSize, cacheDir: run.cacheDir }) });
          log(`${arch}: ONNX Runtime (${provider}) and tfjs ${agreement.disagreements.length === 0 ? "agree" : "DISAGREE"} on ${agreement.images - agreement.disagreements.length}/${agreement.images} validation images (max |Δp| ${agreement.maxAbsDiff.toExponential(1)})${agreement.disagreements.length ? `: ${agreement.disagreements.join(", ")}` : ""}`);
        }
        return { predictor: predictor.predict, release: predictor.release, agreement };
      },
    });
    onnx.push({ latencyPath: measured.path, latency: measured.file });
  }
  return onnx;
}

/** Phase 1: the run to evaluate (single machine, or a sharded grid) and the dataset it was trained on. */
async function findRun(params: RunParams, opts: EvaluateOptions, log: (line: string) => void) {
  const runDir = runDirFor(params);
  const hasRun = await fileExists(path.join(runDir, RUN_MANIFEST_FILE));
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
  if (sharded) log("sharded run (results/<key>/): tables and charts come from every key's history; per-image predictions are computed for single-machine runs only");
  // Evaluations already on disk (another version's left out: written anew below).
  return { runDir, hasRun, sharded, histories, evaluations: results?.evaluations ?? [], dataset, cacheDir };
}

/** Phase 2: predictions on the validation split for every finished architecture, each saved at once (kept when present). */
async function predictValidation(opts: {
  runDir: string;
  histories: ArchHistory[];
  /** Read with the run (loadRunResults). */
  existing: Evaluation[];
  dataset: DatasetManifest;
  cacheDir: string;
  params: RunParams;
  opts: EvaluateOptions;
  log: (line: string) => void;
}): Promise<Evaluation[]> {
  const { runDir, dataset, cacheDir, params, log } = opts;
  const evaluations: Evaluation[] = [];
  for (const history of opts.histories) {
    const existing = opts.existing.find((e) => e.arch === history.arch);
    if (!opts.opts.force && existing) {
      evaluations.push(existing);
      log(`${history.arch}: evaluation exists, kept (${evaluationPath({ runDir, arch: history.arch })})`);
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
        signal: opts.opts.signal,
      });
      await saveEvaluation({ runDir, evaluation });
      evaluations.push(evaluation);
      const invalid = evaluation.invalidPredictions ? `; ${evaluation.invalidPredictions} of ${evaluation.images} outputs were not numbers (NaN or ∞: the model diverged), counted wrong` : "";
      log(`${history.arch}: accuracy ${(100 * evaluation.accuracy).toFixed(1)} % on ${evaluation.images} validation images, log loss ${evaluation.logLoss?.toFixed(4) ?? "–"}${invalid}`);
    } finally {
      model.dispose();
    }
  }
  return evaluations;
}

type Wrap = (model: tf.LayersModel, arch: string, inputSize: number) => Promise<{ predictor: Predictor; release: () => Promise<void>; agreement?: PredictionAgreement }>;

/** Phase 4 (and 5 per provider): every architecture on one runtime; keeps what this machine already measured unless forced. */
async function measureRuntimeLatency(
  opts: LatencyTargets & {
    runtime: LatencyRuntime;
    engine: LatencyEngine;
    /** Turns the tfjs model into what this runtime times (ONNX Runtime); tfjs itself when absent. */
    wrap?: Wrap;
  },
): Promise<{ path: string; file: LatencyFile }> {
  const { runDir, params, machine, engine, log } = opts;
  const latencyPath = path.join(runDir, latencyFileName({ machine, engine: engine.engine }));
  const previous = !opts.opts.force && (await fileExists(latencyPath)) ? await readLatencyFile(latencyPath) : undefined;
  let models: LatencyFile["models"] = "trained";
  const measured: ArchLatency[] = previous ? [...previous.archs] : [];
  let saved = false;
  const fileOf = () => latencyFileOf({ previous, machine, engine, runtime: opts.runtime, inventory: opts.inventory, runId: params.runId, models, imageSize: params.imageSize, archs: measured });
  for (const target of opts.archs) {
    if (measured.some((m) => m.arch === target.arch && m.inputSize === target.inputSize)) {
      log(`${target.arch}: latency on ${machine} (${engine.engine}) exists, kept`);
      continue;
    }
    const { latency, trained } = await timeArch({ ...opts, target });
    if (!trained) models = "untrained";
    measured.push(latency);
    // Saved after every architecture: an interrupted benchmark keeps what it measured.
    await saveLatencyFile({ runDir, file: fileOf() });
    saved = true;
  }
  const file = fileOf();
  if (!previous && !saved) await saveLatencyFile({ runDir, file });
  return { path: latencyPath, file };
}

/** One architecture's latency on one runtime: its model (trained here, else untrained), wrapped for the runtime, timed, released. */
async function timeArch(opts: LatencyTargets & { engine: LatencyEngine; wrap?: Wrap; target: LatencyTargets["archs"][number] }): Promise<{ latency: ArchLatency; trained: boolean }> {
  const { runDir, params } = opts;
  const { arch, displayName, inputSize } = opts.target;
  const trainedHere = opts.hasRun && (await fileExists(path.join(runDir, arch, "model", "model.json")));
  let model: tf.LayersModel;
  let dispose: () => void;
  if (trainedHere) {
    model = await loadTrainedModel(runDir, arch);
    dispose = () => model.dispose();
  } else {
    const transfer = await buildTransferModel(arch, { inputSize, classes: opts.classes, weights: "none", weightsDir: params.weightsDir, alpha: alphaFor(arch, params.alpha) });
    model = transfer.model;
    dispose = () => disposeTransferModel(transfer);
  }
  try {
    const wrapped = opts.wrap ? await opts.wrap(model, arch, inputSize) : undefined;
    try {
      const latency = await measureModelLatency({ arch, displayName, model: wrapped?.predictor ?? model, inputSize, preprocess: preprocessFor(arch), decode: decodeOne, imagePath: opts.imagePath, batchSizes: opts.opts.batchSizes, budget: opts.opts.budget, batchBudget: opts.opts.batchBudget, signal: opts.opts.signal });
      opts.log(`${arch}: ${opts.engine.engine} p50 ${latency.modelOnly.p50Ms.toFixed(2)} ms model only, ${latency.endToEnd.p50Ms.toFixed(2)} ms end to end, first call ${latency.modelOnly.firstCallMs.toFixed(0)} ms (${trainedHere ? "trained" : "untrained"} model)`);
      return { latency: wrapped?.agreement ? { ...latency, agreement: wrapped.agreement } : latency, trained: trainedHere };
    } finally {
      await wrapped?.release();
    }
  } finally {
    dispose();
  }
}

function latencyFileOf(opts: { previous?: LatencyFile; machine: string; engine: LatencyEngine; runtime: LatencyRuntime; inventory: object; runId: string; models: LatencyFile["models"]; imageSize: number; archs: ArchLatency[] }): LatencyFile {
  return {
    schema: LATENCY_SCHEMA,
    runId: opts.runId,
    machine: opts.machine,
    engine: opts.engine,
    runtime: opts.runtime,
    inventory: { ...opts.inventory },
    models: opts.previous?.models === "untrained" ? "untrained" : opts.models,
    imageSize: opts.imageSize,
    createdAt: new Date().toISOString(),
    archs: opts.archs,
  };
}
