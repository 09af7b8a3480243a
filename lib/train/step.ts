// One optimisation step and one evaluation pass, written out instead of model.fit so that a batch
// can be split into micro-batches with accumulated gradients (the WebGPU binding limit, the wasm
// heap) and so that BatchNormalization follows each layer's own mode (see lib/models).
import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "../config";
import { fusedOptimizer } from "../engine/capabilities";

export function createOptimizer(opts: { name: OptimizerName; learningRate: number }): tf.Optimizer {
  switch (opts.name) {
    case "adam":
      return fusedOptimizer("adam", opts.learningRate) ?? tf.train.adam(opts.learningRate);
    case "sgd":
      return fusedOptimizer("sgd", opts.learningRate) ?? tf.train.sgd(opts.learningRate);
    case "rmsprop":
      return tf.train.rmsprop(opts.learningRate);
  }
}

/** Keras' categorical cross-entropy on probabilities (clipped to [1e-7, 1 − 1e-7]), one value per sample. */
function crossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D {
  return tf.metrics.categoricalCrossentropy(yTrue, yPred) as tf.Tensor1D;
}

function correctCount(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(yTrue, -1), tf.argMax(yPred, -1)), "float32"));
}

export interface StepResult {
  /** Mean loss over the batch (before the update, as Keras reports it). */
  loss: number;
  accuracy: number;
  images: number;
  /** Forward/backward passes the batch was split into. */
  microBatches: number;
}

export interface StepInput {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  xs: tf.Tensor;
  ys: tf.Tensor;
  microBatchSize?: number;
  prepare?: (x: tf.Tensor) => tf.Tensor;
}

/** A step whose work is enqueued: per-micro-batch loss and correct-count scalars still to be read. */
interface EnqueuedStep {
  losses: tf.Scalar[];
  corrects: tf.Scalar[];
  images: number;
}

/**
 * One optimizer update on (xs, ys): gradients of the mean loss, summed over micro-batches of at
 * most `microBatchSize` images (each weighted by its share), applied once. `prepare` maps a raw
 * micro-batch to the model's input (e.g. preprocess_input) inside the same tidy scope. Nothing is
 * read back here, so a device engine (webgpu) receives the whole step before anything waits for it.
 */
function enqueueStep(opts: StepInput): EnqueuedStep {
  const { model, optimizer, xs, ys } = opts;
  const batch = xs.shape[0];
  const micro = Math.max(1, Math.min(opts.microBatchSize ?? batch, batch));
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  if (variables.length === 0) throw new Error(`${model.name} has no trainable weights: nothing to train (check TRANSFER)`);
  let accumulated: tf.NamedTensorMap | undefined;
  const losses: tf.Scalar[] = [];
  const corrects: tf.Scalar[] = [];
  for (let start = 0; start < batch; start += micro) {
    const size = Math.min(micro, batch - start);
    const share = size / batch;
    let correctTensor: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const x = size === batch ? xs : tf.slice(xs, start, size);
      const y = size === batch ? ys : tf.slice(ys, start, size);
      const input = opts.prepare ? opts.prepare(x) : x;
      const prediction = model.apply(input, { training: true }) as tf.Tensor;
      correctTensor = tf.keep(correctCount(y, prediction));
      return tf.mul(tf.mean(crossEntropy(y, prediction)), share) as tf.Scalar;
    }, variables);
    losses.push(value);
    corrects.push(correctTensor!);
    if (!accumulated) accumulated = grads;
    else {
      const previous: tf.NamedTensorMap = accumulated;
      accumulated = Object.fromEntries(Object.entries(grads).map(([name, grad]) => [name, tf.add(previous[name], grad)]));
      tf.dispose([...Object.values(previous), ...Object.values(grads)]);
    }
  }
  optimizer.applyGradients(accumulated!);
  tf.dispose(Object.values(accumulated!));
  return { losses, corrects, images: batch };
}

/** Sums what was read (in double precision, as before) and frees the scalars. */
function settle(step: EnqueuedStep, losses: number[], corrects: number[]): StepResult {
  tf.dispose([...step.losses, ...step.corrects]);
  const correct = corrects.reduce((a, b) => a + b, 0);
  return { loss: losses.reduce((a, b) => a + b, 0), accuracy: correct / step.images, images: step.images, microBatches: step.losses.length };
}

/** One training step, read back synchronously (cpu, wasm, tfjs-node: not webgpu under Node). */
export function trainStep(opts: StepInput): StepResult {
  const step = enqueueStep(opts);
  return settle(step, step.losses.map((t) => t.dataSync()[0]), step.corrects.map((t) => t.dataSync()[0]));
}

/** One training step, read back asynchronously: works on every engine, the only way on webgpu. */
export async function trainStepAsync(opts: StepInput): Promise<StepResult> {
  const step = enqueueStep(opts);
  const read = (tensors: tf.Scalar[]) => Promise.all(tensors.map(async (t) => (await t.data())[0]));
  return settle(step, await read(step.losses), await read(step.corrects));
}

/** Loss and correct count of a model in inference mode on one batch (summed, for exact means). */
export async function evaluateBatch(opts: {
  model: tf.LayersModel;
  xs: tf.Tensor;
  ys: tf.Tensor;
  prepare?: (x: tf.Tensor) => tf.Tensor;
  batchSize?: number;
}): Promise<{ lossSum: number; correct: number; images: number }> {
  const [lossSum, correct] = tf.tidy(() => {
    const input = opts.prepare ? opts.prepare(opts.xs) : opts.xs;
    const prediction = opts.model.predict(input, { batchSize: opts.batchSize ?? 32 }) as tf.Tensor;
    return [tf.sum(crossEntropy(opts.ys, prediction)), correctCount(opts.ys, prediction)];
  });
  // Awaited reads: synchronous ones do not work on webgpu under Node.
  const values = [(await lossSum.data())[0], (await correct.data())[0]];
  tf.dispose([lossSum, correct]);
  return { lossSum: values[0], correct: values[1], images: opts.xs.shape[0] };
}
