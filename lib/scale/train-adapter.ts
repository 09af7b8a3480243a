// Adapter from a planned run to lib/train: one architecture, one seed, one learning rate, trained
// into <runDir>/results/<key>/ (lib/train's own run directory layout, so its resume applies there).
// lib/train is loaded lazily: sharding, planning and merging never load TensorFlow.js.
import * as path from "node:path";
import { parseRunId, type RunParams } from "../config";
import type { ArchHistory } from "../train/types";
import type { RunMetrics, TrainOne } from "./execute";

// The contract of lib/train and lib/engine from the team brief, typed here until those modules land.
interface TrainApi {
  runTraining(params: RunParams, opts: { engine: unknown }): Promise<unknown>;
  loadRun(runDir: string): Promise<{ histories: ArchHistory[] }>;
}
interface EngineApi {
  selectEngine(opts: { engine?: RunParams["engine"]; quiet?: boolean }): Promise<unknown>;
}

/** The numbers the merged table needs from one architecture's history. */
export function summarizeHistory(history: ArchHistory): RunMetrics {
  const last = history.epochs.at(-1);
  const best = history.epochs.find((epoch) => epoch.epoch === history.bestEpoch);
  return {
    epochs: history.epochs.length,
    bestEpoch: history.bestEpoch,
    bestValidationAccuracy: best?.validationAccuracy ?? null,
    bestValidationLoss: best?.validationLoss ?? null,
    finalValidationAccuracy: last?.validationAccuracy ?? null,
    finalValidationLoss: last?.validationLoss ?? null,
    overfittingEpoch: history.overfittingEpoch,
    parameters: history.parameters,
    trainableParameters: history.trainableParameters,
    totalSeconds: history.totalSeconds,
  };
}

export function createLibTrainAdapter(): TrainOne {
  let engine: unknown; // chosen once per process, reused by every run of the shard
  return async (run, { runDir, params }) => {
    const trainModule = "../train";
    const engineModule = "../engine";
    const train = (await import(trainModule)) as TrainApi;
    engine ??= await ((await import(engineModule)) as EngineApi).selectEngine({ engine: params.engine, quiet: true });
    const { arch: _arch, ...config } = run.config;
    const runParams: RunParams = { ...params, ...config, archs: [run.arch], runId: parseRunId(run.key), runsDir: path.join(runDir, "results") };
    await train.runTraining(runParams, { engine });
    const { histories } = await train.loadRun(path.join(runParams.runsDir, runParams.runId));
    const history = histories.find((candidate) => candidate.arch === run.arch);
    if (!history) throw new Error(`lib/train finished ${run.key} but wrote no history for ${run.arch}`);
    return summarizeHistory(history);
  };
}
