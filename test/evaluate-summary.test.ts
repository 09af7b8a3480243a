// Summary logic on synthetic metrics where each criterion has a different winner: nothing hard-coded.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LatencyRow } from "../lib/evaluate/latency-file";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { saveEvaluation, scorePredictions } from "../lib/evaluate/predict";
import { type Evaluation, readEvaluation } from "../lib/schemas/evaluation";
import { paretoFront, summarize } from "../lib/evaluate/summary";
import { summaryMarkdown } from "../lib/report/summary-markdown";
import type { ArchHistory, EpochLog } from "../lib/schemas/history";

function history(arch: ArchHistory["arch"], valLoss: number[], trainLoss: number[], valAcc: number[]): ArchHistory {
  const epochs: EpochLog[] = valLoss.map((v, i) => ({ epoch: i + 1, trainLoss: trainLoss[i], trainAccuracy: 0.5, validationLoss: v, validationAccuracy: valAcc[i], epochSeconds: 10, imagesPerSecond: 5 }));
  return { schema: "showcase.history/1", arch, displayName: arch.toUpperCase(), status: "finished", inputSize: 32, parameters: 1, trainableParameters: 1, layers: 1, epochs, buildSeconds: 1, saveSeconds: 1, totalSeconds: 32, bestEpoch: null, overfittingEpoch: null, stoppedEarly: false };
}

/** 100 images, 50 per class; `wrong` lists the indices this model gets wrong; confidence sets the loss. */
function evaluation(arch: string, wrong: Set<number>, confidence: number): Evaluation {
  const rows = Array.from({ length: 100 }, (_, i) => {
    const labelIndex = i < 50 ? 0 : 1;
    const right = wrong.has(i) ? 1 - confidence : confidence;
    return { path: `/img/${i}.jpg`, labelIndex, probabilities: labelIndex === 0 ? [right, 1 - right] : [1 - right, right] };
  });
  return scorePredictions({ arch, displayName: arch.toUpperCase(), split: "validation", classes: ["cat", "dog"], rows });
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function latency(machine: string, arch: string, p50: number): LatencyRow {
  return { machine, runtime: "tfjs", engine: "wasm", device: "cpu", models: "trained", arch, displayName: arch.toUpperCase(), inputSize: 32, firstCallMs: p50 * 5, modelOnlyMeanMs: p50, modelOnlyP50Ms: p50, modelOnlyP90Ms: p50, modelOnlyP99Ms: p50, endToEndMeanMs: p50 + 1, endToEndP50Ms: p50 + 1, endToEndP90Ms: p50 + 1, endToEndP99Ms: p50 + 1, imagesPerSecond: { 1: 1000 / p50 } };
}

test("scorePredictions: accuracy, log loss, confusion, wrong per class", () => {
  const e = evaluation("x", new Set([0, 1, 60]), 0.9);
  assert.equal(e.correct, 97);
  assert.equal(e.accuracy, 0.97);
  assert.deepEqual(e.confusion, [[48, 2], [1, 49]]);
  assert.deepEqual(e.wrongPerClass, { cat: 2, dog: 1 });
  // loss = (97·(−ln 0.9) + 3·(−ln 0.1)) / 100 = (97·0.1053605 + 3·2.3025851)/100 = 0.1712773
  assert.ok(Math.abs(e.logLoss! - 0.1712773) < 1e-6);
  assert.equal(e.misclassified.length, 3);
  assert.ok(Math.abs(e.misclassified[0].predictedProbability - 0.9) < 1e-12);
});

test("winners differ by criterion and the summary follows the data", () => {
  // densenet121: most accurate (12 wrong) but unconfident → higher loss; resnet50: 22 wrong, very confident → lowest loss
  // mobilenet: 30 wrong, fastest. densenet121 vs resnet50 discordant: resnet50 wrong on 0..21, densenet121 wrong on 0..9 and 22..23:
  // only densenet121 right on 10..21 (12), only resnet50 right on 22,23 (2)... see below for the exact sets.
  const dense = evaluation("densenet121", new Set([...range(0, 10), 22, 23]), 0.52); // 12 wrong, loss 0.664
  const resnet = evaluation("resnet50", new Set(range(0, 22)), 0.9); // 22 wrong, loss 0.589
  const mobile = evaluation("mobilenet", new Set(range(0, 30)), 0.8); // 30 wrong, loss 0.639
  const histories = [
    history("mobilenet", [0.6, 0.5, 0.55], [0.7, 0.6, 0.5], [0.6, 0.65, 0.7]), // overfits from epoch 3
    history("densenet121", [0.7, 0.6, 0.5], [0.8, 0.7, 0.6], [0.6, 0.7, 0.88]),
    history("resnet50", [0.4, 0.3, 0.35], [0.5, 0.4, 0.45], [0.7, 0.75, 0.78]), // val loss up at 3, but train loss too: no overfitting signal
  ];
  const rows = [latency("laptop", "densenet121", 40), latency("laptop", "resnet50", 30), latency("laptop", "mobilenet", 5), latency("workstation", "densenet121", 4), latency("workstation", "resnet50", 6), latency("workstation", "mobilenet", 2)];
  const summary = summarize({ histories, evaluations: [mobile, dense, resnet], latency: rows, missing: ["inception_v3"], failures: [{ key: "densenet201", arch: "densenet201", message: "out of memory at batch 16", raw: {} }] });
  assert.equal(summary.mostAccurate?.arch, "densenet121");
  assert.equal(summary.lowestLoss?.arch, "resnet50");
  assert.equal(summary.fewestWrong?.arch, "densenet121");
  assert.deepEqual(summary.machines.map((m) => [m.machine, m.fastest.arch]), [["laptop", "mobilenet"], ["workstation", "mobilenet"]]);
  // laptop: every model is on the front (each faster one is less accurate)
  assert.deepEqual(summary.machines[0].pareto.map((p) => p.arch), ["mobilenet", "resnet50", "densenet121"]);
  // workstation: densenet121 (88 %, 4 ms) dominates resnet50 (78 %, 6 ms)
  assert.deepEqual(summary.machines[1].pareto.map((p) => p.arch), ["mobilenet", "densenet121"]);
  // densenet121 vs resnet50: only densenet right on 10..21 = 12 images, only resnet right on 22, 23 = 2 images
  // p = 2 · (C(14,0)+C(14,1)+C(14,2)) / 2¹⁴ = 2 · 106 / 16384 = 0.01294 → significant
  assert.equal(summary.topMargin?.runnerUp, "resnet50");
  assert.equal(summary.topMargin?.onlyTop, 12);
  assert.equal(summary.topMargin?.onlyThis, 2);
  assert.ok(Math.abs(summary.topMargin!.pValue - 212 / 16384) < 1e-12);
  assert.equal(summary.topMargin?.significant, true);
  assert.deepEqual(summary.epochs.map((e) => [e.arch, e.bestEpoch, e.overfittingEpoch]), [["densenet121", 3, null], ["resnet50", 2, null], ["mobilenet", 2, 3]]);
  assert.equal(summary.recommendation.accuracyCritical, "densenet121");
  assert.equal(summary.recommendation.latencyCritical, "mobilenet");
  const markdown = summaryMarkdown(summary);
  assert.match(markdown, /Most accurate:\*\* DENSENET121, 88\.0 %/);
  assert.match(markdown, /margin is statistically significant/);
  assert.match(markdown, /Failed:\*\* densenet201 — out of memory at batch 16/);
  assert.match(markdown, /Missing:\*\* inception_v3/);
  assert.match(markdown, /MOBILENET: best validation loss at epoch 2 of 3; overfitting from epoch 3/);
  // the same inputs in another order give the same summary
  const again = summarize({ histories: [...histories].reverse(), evaluations: [resnet, dense, mobile], latency: [...rows].reverse(), missing: ["inception_v3"], failures: [{ key: "densenet201", arch: "densenet201", message: "out of memory at batch 16", raw: {} }] });
  assert.equal(summaryMarkdown(again), markdown);
});

test("a slight margin is reported as not significant and the balanced pick follows", () => {
  // top wrong on 0..9 (10), runner-up wrong on 0..7 and 50..53 (12): only top right on 50..53 (4), only runner-up right on 8, 9 (2)
  // p = 2 · (1 + 6 + 15) / 64 = 0.6875 → not significant
  const top = evaluation("inception_v3", new Set(range(0, 10)), 0.9);
  const second = evaluation("mobilenet_v2", new Set([...range(0, 8), 50, 51, 52, 53]), 0.9);
  const summary = summarize({ histories: [], evaluations: [second, top], latency: [latency("m", "inception_v3", 50), latency("m", "mobilenet_v2", 10)], synthetic: true });
  assert.equal(summary.mostAccurate?.arch, "inception_v3");
  assert.ok(Math.abs(summary.topMargin!.pValue - 0.6875) < 1e-12);
  assert.equal(summary.topMargin?.significant, false);
  assert.equal(summary.recommendation.balanced, "mobilenet_v2");
  const markdown = summaryMarkdown(summary);
  assert.match(markdown, /\*\*not\*\* statistically significant/);
  assert.match(markdown, /Synthetic data/);
  assert.doesNotMatch(markdown, /randomly initialised/);
  // Random bases: the recommendation says so where it is made.
  const random = summaryMarkdown(summarize({ histories: [], evaluations: [second, top], latency: [latency("m", "inception_v3", 50), latency("m", "mobilenet_v2", 10)], synthetic: true, randomWeights: true }));
  assert.match(random.split("### Recommendation")[1], /^\s*> \*\*The bases were randomly initialised\*\* \(`WEIGHTS=none`\)/);
});

test("pareto front", () => {
  const points = [{ accuracy: 0.9, p50Ms: 10 }, { accuracy: 0.8, p50Ms: 20 }, { accuracy: 0.95, p50Ms: 30 }, { accuracy: 0.95, p50Ms: 40 }, { accuracy: 0.5, p50Ms: 1 }];
  assert.deepEqual(paretoFront(points), [points[4], points[0], points[2]]);
});

test("one network: its accuracy with the Wilson interval, and no ranking", () => {
  const only = evaluation("mobilenet", new Set(range(0, 6)), 0.9); // 94 of 100
  const summary = summarize({ histories: [history("mobilenet", [0.3, 0.2], [0.4, 0.3], [0.9, 0.94])], evaluations: [only], latency: [latency("laptop", "mobilenet", 5)] });
  const markdown = summaryMarkdown(summary);
  // Wilson 95 % for 94/100: centre (94 + 1.92)/(103.84), half-width 1.96·√(94·6/100 + 0.96)/103.84 → 87.5 %–97.2 %
  assert.match(markdown, /\*\*Validation accuracy:\*\* MOBILENET, 94\.0 % \(95 % Wilson interval 87\.5 %–97\.2 %, 100 images\)\. One network was trained, so this run ranks nothing\./);
  assert.doesNotMatch(markdown, /Most accurate|Fewest|Fastest|Lowest|Recommendation|Pareto/);
  assert.match(markdown, /\*\*Classification time on laptop \(wasm\):\*\* MOBILENET, 5\.00 ms p50/);
});

test("a diverged model (NaN log loss, null in JSON) is never the lowest loss, and the summary still renders", () => {
  const diverged: Evaluation = { ...evaluation("resnet50", new Set(range(0, 50)), 1), logLoss: null }; // as evaluation.json holds it
  const fine = evaluation("mobilenet", new Set(range(0, 10)), 0.8);
  const summary = summarize({ histories: [], evaluations: [diverged, fine], latency: [] });
  assert.equal(summary.lowestLoss?.arch, "mobilenet");
  assert.match(summaryMarkdown(summary), /Lowest validation loss:\*\* MOBILENET/);
});

test("outputs that are not numbers (a diverged model) count wrong, leave the confusion matrix and the log loss, and the file reads back", async () => {
  const rows = [
    { path: "cat/1.jpg", labelIndex: 0, probabilities: [0.9, 0.1] },
    { path: "cat/2.jpg", labelIndex: 0, probabilities: [Number.NaN, Number.NaN] },
    { path: "dog/1.jpg", labelIndex: 1, probabilities: [0.3, 0.7] },
    { path: "dog/2.jpg", labelIndex: 1, probabilities: [Number.POSITIVE_INFINITY, 0] },
  ];
  const e = scorePredictions({ arch: "resnet50", displayName: "ResNet50", split: "validation", classes: ["cat", "dog"], rows });
  assert.equal(e.invalidPredictions, 2);
  assert.equal(e.correct, 2);
  assert.equal(e.accuracy, 0.5);
  assert.equal(e.logLoss, null);
  assert.deepEqual(e.confusion, [[1, 0], [0, 1]]);
  assert.deepEqual(e.wrongPerClass, { cat: 1, dog: 1 });
  assert.deepEqual(e.predictions.map((p) => p.predicted), ["cat", "", "dog", ""]);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "eval-nan-"));
  try {
    const file = await saveEvaluation({ runDir, evaluation: e });
    const back = await readEvaluation(file);
    assert.equal(back.logLoss, null);
    assert.equal(back.invalidPredictions, 2);
    // The summary ranks it by accuracy and never as the lowest loss.
    const other = scorePredictions({ arch: "mobilenet", displayName: "MobileNet", split: "validation", classes: ["cat", "dog"], rows: rows.map((r) => ({ ...r, probabilities: r.labelIndex === 0 ? [0.8, 0.2] : [0.4, 0.6] })) });
    const summary = summarize({ histories: [], evaluations: [back, other], latency: [] });
    assert.equal(summary.lowestLoss?.arch, "mobilenet");
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});
