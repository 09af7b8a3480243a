// Predictions on the validation split: accuracy, log loss, confusion matrix, wrong classifications per
// class (the study's "false positives" chart) and the misclassified images with their probabilities.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { relativeImagePath } from "../data/image-root";
import type { ImageRecord } from "../data/types";
import { writeJsonAtomic } from "../io/atomic";
import { EVALUATION_SCHEMA, type Evaluation, evaluationDir, type ImagePrediction, type Misclassified } from "../schemas/evaluation";
import { wilsonInterval } from "./stats";

/** What lib/data's evalBatches yields: 0–255 RGB images (not preprocessed), one-hot labels. */
export interface EvalBatch {
  xs: tf.Tensor4D;
  ys: tf.Tensor2D;
  records: ImageRecord[];
}

const EPSILON = 1e-7; // Keras backend epsilon, used by categorical_crossentropy

/** Pure: turns per-image probabilities into the evaluation (no tensors). */
export function scorePredictions(opts: {
  arch: string;
  displayName: string;
  split: string;
  classes: string[];
  rows: { path: string; labelIndex: number; probabilities: number[] }[];
  imageRoot?: string;
  seconds?: number;
}): Evaluation {
  const { classes, rows } = opts;
  const confusion = classes.map(() => classes.map(() => 0));
  const wrong = classes.map(() => 0);
  const predictions: ImagePrediction[] = [];
  const misclassified: Misclassified[] = [];
  let lossSum = 0;
  let correct = 0;
  let invalid = 0;
  for (const row of rows) {
    if (row.probabilities.length !== classes.length) throw new Error(`${row.path}: ${row.probabilities.length} probabilities for ${classes.length} classes`);
    if (!row.probabilities.every(Number.isFinite)) {
      // NaN or ∞ outputs (a diverged model) are no prediction: wrong, outside the confusion matrix.
      invalid++;
      wrong[row.labelIndex]++;
      predictions.push({ path: row.path, label: classes[row.labelIndex], predicted: "", probabilities: row.probabilities, correct: false });
      continue;
    }
    let predictedIndex = 0;
    row.probabilities.forEach((p, i) => {
      if (p > row.probabilities[predictedIndex]) predictedIndex = i;
    });
    const trueProbability = row.probabilities[row.labelIndex];
    lossSum += -Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, trueProbability)));
    confusion[row.labelIndex][predictedIndex]++;
    const isCorrect = predictedIndex === row.labelIndex;
    if (isCorrect) correct++;
    else {
      wrong[row.labelIndex]++;
      misclassified.push({ path: row.path, label: classes[row.labelIndex], predicted: classes[predictedIndex], predictedProbability: row.probabilities[predictedIndex], trueProbability });
    }
    predictions.push({ path: row.path, label: classes[row.labelIndex], predicted: classes[predictedIndex], probabilities: row.probabilities, correct: isCorrect });
  }
  // Most confident mistakes first: the interesting ones for a gallery.
  misclassified.sort((a, b) => b.predictedProbability - a.predictedProbability || (a.path < b.path ? -1 : 1));
  const images = rows.length;
  return {
    schema: EVALUATION_SCHEMA,
    arch: opts.arch,
    displayName: opts.displayName,
    split: opts.split,
    classes,
    images,
    correct,
    accuracy: images ? correct / images : 0,
    accuracyInterval95: wilsonInterval({ successes: correct, trials: images }),
    logLoss: invalid ? null : images ? lossSum / images : 0,
    ...(invalid ? { invalidPredictions: invalid } : {}),
    confusion,
    wrongPerClass: Object.fromEntries(classes.map((name, i) => [name, wrong[i]])),
    misclassified,
    predictions,
    ...(opts.imageRoot ? { imageRoot: opts.imageRoot } : {}),
    seconds: opts.seconds ?? 0,
    createdAt: new Date().toISOString(),
  };
}

/** Runs the model over the batches (preprocessing each) and scores the result. Disposes every batch. */
export async function predictSplit(opts: {
  arch: string;
  displayName: string;
  model: tf.LayersModel;
  batches: AsyncIterable<EvalBatch>;
  preprocess: (x: tf.Tensor4D) => tf.Tensor;
  classes: string[];
  split?: string;
  /** Image paths are stored relative to this folder (lib/data imageRootOf), so that what is shared holds no local path. */
  imageRoot?: string;
  /** Stops at the next batch (the kernel's interrupt). */
  signal?: AbortSignal;
}): Promise<Evaluation> {
  const started = performance.now();
  const rows: { path: string; labelIndex: number; probabilities: number[] }[] = [];
  for await (const batch of opts.batches) {
    try {
      opts.signal?.throwIfAborted();
      const output = tf.tidy(() => opts.model.predict(opts.preprocess(batch.xs)) as tf.Tensor2D);
      const probabilities = (await output.array()) as number[][];
      output.dispose();
      batch.records.forEach((record, i) => rows.push({ path: relativeImagePath(opts.imageRoot ?? "", record.path), labelIndex: record.labelIndex, probabilities: probabilities[i] }));
    } finally {
      batch.xs.dispose();
      batch.ys.dispose();
    }
  }
  if (rows.length === 0) throw new Error(`no ${opts.split ?? "validation"} images to evaluate ${opts.arch} on — prepare the dataset first (notebook 01 or \`npx showcase data\`)`);
  return scorePredictions({ arch: opts.arch, displayName: opts.displayName, split: opts.split ?? "validation", classes: opts.classes, rows, imageRoot: opts.imageRoot, seconds: (performance.now() - started) / 1000 });
}

export function evaluationPath(opts: { runDir: string; arch: string }): string {
  return path.join(evaluationDir(opts.runDir), `${opts.arch}.json`);
}

export async function saveEvaluation(opts: { runDir: string; evaluation: Evaluation }): Promise<string> {
  const target = evaluationPath({ runDir: opts.runDir, arch: opts.evaluation.arch });
  await writeJsonAtomic(target, opts.evaluation, "predictions");
  return target;
}
