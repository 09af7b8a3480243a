// ONNX Runtime against tfjs on the same input: the one rule for "the exported model agrees".
import * as tf from "@tensorflow/tfjs";
import { type OnnxSession, runOnnx } from "./onnx-runtime";

/** Max abs difference on softmax outputs that still counts as the same model (float32 rounding). */
export const ONNX_AGREEMENT_TOLERANCE = 1e-4;

export interface Agreement {
  images: number;
  maxAbsDiff: number;
  /** Largest difference relative to the largest tfjs magnitude (features, logits). */
  relativeDiff: number;
  /** Both runtimes pick the same class for every image. */
  sameClass: boolean;
  /** Images whose class differs, by index in the batch. */
  disagreements: number[];
}

export function compareOutputs(expected: Float32Array, actual: Float32Array, images: number): Agreement {
  if (expected.length !== actual.length) throw new Error(`outputs differ in size: tfjs ${expected.length} values, ONNX Runtime ${actual.length}`);
  let maxAbsDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(expected[i] - actual[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  const width = expected.length / images;
  const argmax = (v: Float32Array, row: number) => {
    let best = 0;
    for (let j = 1; j < width; j++) if (v[row * width + j] > v[row * width + best]) best = j;
    return best;
  };
  const disagreements = Array.from({ length: images }, (_, i) => i).filter((i) => argmax(expected, i) !== argmax(actual, i));
  return { images, maxAbsDiff, relativeDiff: scale > 0 ? maxAbsDiff / scale : maxAbsDiff, sameClass: disagreements.length === 0, disagreements };
}

/** Runs `input` (NHWC, preprocessed) through both and compares. */
export async function agreeWithTfjs(model: tf.LayersModel, session: OnnxSession, input: tf.Tensor4D): Promise<Agreement> {
  const expected = tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array);
  const actual = await runOnnx(session, input.dataSync() as Float32Array, input.shape);
  return compareOutputs(expected, actual, input.shape[0]);
}
