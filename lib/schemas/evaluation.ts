// evaluation/<arch>.json: predictions on the validation split and their scores. Written by
// lib/evaluate/predict.ts; read by lib/evaluate (reuse, loadRunResults), lib/report and the ONNX predictor.
import type { Interval } from "../evaluate/stats";
import * as path from "node:path";
import { type FileSchema, readSchemaFile } from "./check";

export const EVALUATION_SCHEMA = "showcase.evaluation/1";

/** The folder of a run's evaluation/<arch>.json files. */
export function evaluationDir(runDir: string): string {
  return path.join(runDir, "evaluation");
}

export interface ImagePrediction {
  /** Relative to Evaluation.imageRoot ("/" separators); absolute in evaluations written before it existed. */
  path: string;
  label: string;
  /** "" when the outputs were not numbers. */
  predicted: string;
  /** Softmax probability per class, in `classes` order. */
  probabilities: number[];
  correct: boolean;
}

export interface Misclassified {
  path: string;
  label: string;
  predicted: string;
  /** Probability the model gave its (wrong) answer. */
  predictedProbability: number;
  /** Probability it gave the right class. */
  trueProbability: number;
}

export interface Evaluation {
  schema: typeof EVALUATION_SCHEMA;
  arch: string;
  displayName: string;
  split: string;
  classes: string[];
  images: number;
  correct: number;
  accuracy: number;
  accuracyInterval95: Interval;
  /** Mean categorical cross-entropy with Keras' clipping (ε = 1e-7); null when some outputs were not numbers. */
  logLoss: number | null;
  /** Images whose outputs were NaN or ∞ (a diverged model): counted wrong, outside the confusion matrix. */
  invalidPredictions?: number;
  /** confusion[trueIndex][predictedIndex], over the images with a prediction */
  confusion: number[][];
  /** Images of each true class that were classified as something else. */
  wrongPerClass: Record<string, number>;
  misclassified: Misclassified[];
  predictions: ImagePrediction[];
  /** This machine's folder the image paths are relative to (lib/data imageRootOf): for thumbnails, never shown. */
  imageRoot?: string;
  seconds: number;
  createdAt: string;
}

const EVALUATION: FileSchema = {
  schema: EVALUATION_SCHEMA,
  redo: "evaluate again (`npx showcase evaluate --force`, or FORCE=1 in notebook 03)",
  fields: {
    arch: "string",
    displayName: "string",
    split: "string",
    classes: "array",
    images: "number",
    correct: "number",
    accuracy: "number",
    accuracyInterval95: "object",
    logLoss: "number|null",
    invalidPredictions: "number?",
    confusion: "array",
    wrongPerClass: "object",
    misclassified: "array",
    predictions: "array",
    imageRoot: "string?",
    seconds: "number",
    createdAt: "string",
  },
};

/** An evaluation file, checked; a damaged or other-version file is a one-line SchemaError naming it. */
export async function readEvaluation(file: string): Promise<Evaluation> {
  return readSchemaFile<Evaluation>(file, EVALUATION);
}
