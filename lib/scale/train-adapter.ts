// The default trainer of a shard: one planned run (one architecture, one seed, one learning rate)
// trained by lib/train's runTraining into <runDir>/results/<key>/, which is lib/train's own run
// directory layout (run.json, <arch>/history.json, checkpoint/, model/, tensorboard/), so its resume
// and its configuration check apply per run. lib/train and the engine load lazily: planning,
// sharding and merging never load TensorFlow.js.
import * as path from "node:path";
import { parseRunId, type RunParams } from "../config";
import type { EngineDescription } from "../engine/types";
import type { ArchHistory } from "../schemas/history";
import type { RunMetrics, TrainOne } from "./execute";

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

/** The RunParams lib/train gets for one planned run: the shard's local paths, the run's own values. */
export function trainParamsFor(run: { key: string; arch: RunParams["archs"][number]; config: Record<string, unknown> }, opts: { runDir: string; params: RunParams }): RunParams {
  const { arch: _arch, ...config } = run.config;
  return { ...opts.params, ...(config as Partial<RunParams>), archs: [run.arch], runId: parseRunId(run.key), runsDir: path.join(opts.runDir, "results") };
}

export function createLibTrainAdapter(opts: { log?: (line: string) => void; quiet?: boolean } = {}): TrainOne {
  const log = opts.log ?? ((line: string) => console.log(line));
  let engine: EngineDescription | undefined; // chosen once per process, reused by every run of the shard
  return async (run, { runDir, params }) => {
    const train = await import("../train/index");
    engine ??= await (await import("../engine/index")).selectEngine({ engine: params.engine, quiet: opts.quiet });
    const runParams = trainParamsFor(run, { runDir, params });
    const summary = await train.runTraining(runParams, {
      engine,
      onProgress: opts.quiet ? undefined : train.createCliProgress(),
      onMessage: opts.quiet ? undefined : log,
    });
    if (summary.aborted) throw new Error(`training of ${run.key} was interrupted; run the shard again to resume it`);
    const history = summary.histories.find((candidate) => candidate.arch === run.arch);
    if (!history || history.status !== "finished") throw new Error(`lib/train returned no finished history for ${run.key}`);
    return summarizeHistory(history);
  };
}
