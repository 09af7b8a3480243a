// The judgement, computed from the data: who is most accurate, who is fastest, which models are
// worth considering at all (the Pareto set), whether the winner's margin is real, and where training
// could have stopped. Nothing here names a model; change the numbers and the text changes.
import { bestEpoch, overfittingEpoch } from "../train/history";
import type { ArchHistory } from "../schemas/history";
import { compareArchs, type LatencyRow } from "./latency-file";
import type { Evaluation } from "../schemas/evaluation";
import type { FailureRecord } from "./run";
import { compareClassifiers, type Interval, wilsonInterval } from "./stats";

export const SIGNIFICANCE_LEVEL = 0.05;

export interface ModelScore {
  arch: string;
  displayName: string;
  accuracy: number;
  interval95?: Interval;
  /** Validation log loss of the evaluated model, else the last epoch's validation loss. */
  loss: number;
  wrong?: number;
  wrongPerClass?: Record<string, number>;
  images?: number;
  source: "evaluation" | "history";
}

export interface Comparison {
  arch: string;
  /** Images the top model got right and this one wrong, and the reverse. */
  onlyTop: number;
  onlyThis: number;
  pValue: number;
  significant: boolean;
}

export interface EpochAdvice {
  arch: string;
  displayName: string;
  epochs: number;
  bestEpoch: number | null;
  bestValidationLoss: number | null;
  overfittingEpoch: number | null;
}

export interface MachineSummary {
  machine: string;
  engine: string;
  fastest: { arch: string; displayName: string; p50Ms: number };
  /** Non-dominated in (accuracy ↑, model-only p50 ↓), fastest first. */
  pareto: { arch: string; displayName: string; accuracy: number; p50Ms: number }[];
}

export interface Summary {
  scores: ModelScore[];
  mostAccurate?: ModelScore;
  lowestLoss?: ModelScore;
  fewestWrong?: ModelScore;
  /** McNemar of every other evaluated model against the most accurate, on the same images. */
  comparisons: Comparison[];
  /** The most accurate model against the runner-up; undefined without per-image predictions for both. */
  topMargin?: Comparison & { runnerUp: string; accuracyMargin: number };
  machines: MachineSummary[];
  epochs: EpochAdvice[];
  recommendation: { accuracyCritical?: string; latencyCritical?: string; balanced?: string };
  failures: FailureRecord[];
  missing: string[];
  unfinished: string[];
  synthetic: boolean;
  /** The bases started from random weights (WEIGHTS=none), not ImageNet: the ranking is not one of transfer learners. */
  randomWeights: boolean;
}

function argBest<T>(items: readonly T[], better: (a: T, b: T) => number): T | undefined {
  return [...items].sort(better)[0];
}

/** Best epoch by validation loss and the onset of overfitting: lib/train/history's rule, not a copy. */
export function epochAdvice(history: ArchHistory): EpochAdvice {
  const best = bestEpoch(history.epochs);
  const bestValidationLoss = best === null ? null : history.epochs.find((log) => log.epoch === best)!.validationLoss;
  return { arch: history.arch, displayName: history.displayName, epochs: history.epochs.length, bestEpoch: best, bestValidationLoss, overfittingEpoch: overfittingEpoch(history.epochs) };
}

export function scoreModels(opts: { histories: readonly ArchHistory[]; evaluations: readonly Evaluation[] }): ModelScore[] {
  const scores = new Map<string, ModelScore>();
  for (const history of opts.histories) {
    const last = history.epochs[history.epochs.length - 1];
    if (!last) continue;
    scores.set(history.arch, { arch: history.arch, displayName: history.displayName, accuracy: last.validationAccuracy, loss: last.validationLoss, source: "history" });
  }
  for (const evaluation of opts.evaluations) {
    scores.set(evaluation.arch, {
      arch: evaluation.arch,
      displayName: evaluation.displayName,
      accuracy: evaluation.accuracy,
      interval95: wilsonInterval({ successes: evaluation.correct, trials: evaluation.images }),
      loss: evaluation.logLoss ?? NaN,
      wrong: evaluation.images - evaluation.correct,
      wrongPerClass: evaluation.wrongPerClass,
      images: evaluation.images,
      source: "evaluation",
    });
  }
  return [...scores.values()].sort((a, b) => compareArchs(a.arch, b.arch));
}

/** Non-dominated points: no other model is at least as accurate and at least as fast, and better in one. */
export function paretoFront<T extends { accuracy: number; p50Ms: number }>(points: readonly T[]): T[] {
  return points
    .filter((p) => !points.some((q) => q !== p && q.accuracy >= p.accuracy && q.p50Ms <= p.p50Ms && (q.accuracy > p.accuracy || q.p50Ms < p.p50Ms)))
    .sort((a, b) => a.p50Ms - b.p50Ms || b.accuracy - a.accuracy);
}

const byAccuracy = (a: ModelScore, b: ModelScore) => b.accuracy - a.accuracy || compareArchs(a.arch, b.arch);

export function summarize(opts: {
  histories: readonly ArchHistory[];
  evaluations: readonly Evaluation[];
  latency: readonly LatencyRow[];
  failures?: readonly FailureRecord[];
  missing?: readonly string[];
  unfinished?: readonly string[];
  synthetic?: boolean;
  randomWeights?: boolean;
}): Summary {
  const scores = scoreModels(opts);
  const mostAccurate = argBest(scores, byAccuracy);
  // A diverged model's loss is NaN (null once read back from JSON): it cannot be the lowest.
  const lowestLoss = argBest(scores.filter((s) => Number.isFinite(s.loss)), (a, b) => a.loss - b.loss || compareArchs(a.arch, b.arch));
  const withWrong = scores.filter((s) => s.wrong !== undefined);
  const fewestWrong = argBest(withWrong, (a, b) => a.wrong! - b.wrong! || compareArchs(a.arch, b.arch));

  const correctness = new Map(opts.evaluations.map((e) => [e.arch, new Map(e.predictions.map((p) => [p.path, p.correct]))]));
  const comparisons: Comparison[] = [];
  const topCorrect = mostAccurate && correctness.get(mostAccurate.arch);
  if (mostAccurate && topCorrect) {
    for (const score of scores) {
      const other = correctness.get(score.arch);
      if (score.arch === mostAccurate.arch || !other) continue;
      const test = compareClassifiers({ a: topCorrect, b: other });
      comparisons.push({ arch: score.arch, onlyTop: test.onlyA, onlyThis: test.onlyB, pValue: test.pValue, significant: test.pValue < SIGNIFICANCE_LEVEL });
    }
  }
  const runnerUp = mostAccurate && [...scores].sort(byAccuracy).find((s) => s.arch !== mostAccurate.arch && correctness.has(s.arch));
  const runnerUpTest = runnerUp && comparisons.find((c) => c.arch === runnerUp.arch);
  const topMargin = runnerUp && runnerUpTest && mostAccurate ? { ...runnerUpTest, runnerUp: runnerUp.arch, accuracyMargin: mostAccurate.accuracy - runnerUp.accuracy } : undefined;

  const accuracyOf = new Map(scores.map((s) => [s.arch, s.accuracy]));
  const groups = new Map<string, LatencyRow[]>();
  for (const row of opts.latency) {
    const key = `${row.machine}\u0000${row.engine}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const machines: MachineSummary[] = [...groups.values()].map((rows) => {
    const fastestRow = argBest(rows, (a, b) => a.modelOnlyP50Ms - b.modelOnlyP50Ms || compareArchs(a.arch, b.arch))!;
    const points = rows.filter((r) => accuracyOf.has(r.arch)).map((r) => ({ arch: r.arch, displayName: r.displayName, accuracy: accuracyOf.get(r.arch)!, p50Ms: r.modelOnlyP50Ms }));
    return { machine: rows[0].machine, engine: rows[0].engine, fastest: { arch: fastestRow.arch, displayName: fastestRow.displayName, p50Ms: fastestRow.modelOnlyP50Ms }, pareto: paretoFront(points) };
  });
  machines.sort((a, b) => (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : a.engine < b.engine ? -1 : a.engine > b.engine ? 1 : 0));

  // Recommendations on the first machine (sorted) that measured latency; accuracy needs no machine.
  const primary = machines[0];
  const notWorse = new Set([mostAccurate?.arch, ...comparisons.filter((c) => !c.significant).map((c) => c.arch)]);
  const balanced = primary && argBest(primary.pareto.filter((p) => notWorse.has(p.arch)), (a, b) => a.p50Ms - b.p50Ms);
  return {
    scores,
    mostAccurate,
    lowestLoss,
    fewestWrong,
    comparisons,
    topMargin,
    machines,
    epochs: [...opts.histories].sort((a, b) => compareArchs(a.arch, b.arch)).map(epochAdvice),
    recommendation: { accuracyCritical: mostAccurate?.arch, latencyCritical: primary?.fastest.arch, balanced: balanced?.arch },
    failures: [...(opts.failures ?? [])],
    missing: [...(opts.missing ?? [])],
    unfinished: [...(opts.unfinished ?? [])],
    synthetic: opts.synthetic ?? false,
    randomWeights: opts.randomWeights ?? false,
  };
}
