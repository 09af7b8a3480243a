// One optimizer step over a batch, computed in micro-batches whose gradients are summed
// (weighted by their share of the batch) before a single applyGradients: the same update as one
// big batch for the loss, with BatchNormalization statistics taken per micro-batch (as PyTorch
// gradient accumulation does). It keeps the wasm heap bounded at 224 px.
import * as tf from "@tensorflow/tfjs";
import { planMicroBatch, trainingBytesPerImage, WASM_HEAP_MAX_BYTES, WasmMemoryError } from "./memory";

export interface MicroBatchStepOptions {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  xs: tf.Tensor;
  ys: tf.Tensor;
  /** Images per forward/backward pass; "auto" (default) = the largest that fits the heap budget. */
  microBatchSize?: number | "auto";
  /** Loss of one micro-batch (mean over its images); default categorical cross-entropy on probabilities. */
  loss?: (ys: tf.Tensor, predictions: tf.Tensor) => tf.Scalar;
  budgetBytes?: number;
}

export interface MicroBatchStepResult {
  loss: number;
  microBatchSize: number;
  microBatches: number;
}

const categoricalCrossentropy = (ys: tf.Tensor, predictions: tf.Tensor): tf.Scalar =>
  tf.mean(tf.metrics.categoricalCrossentropy(ys, predictions)) as tf.Scalar;

export function trainStepMicroBatched(opts: MicroBatchStepOptions): MicroBatchStepResult {
  const { model, optimizer, xs, ys } = opts;
  const batch = xs.shape[0];
  const what = `training ${model.name} at ${xs.shape.slice(1, 3).join("×")} px`;
  const planned = planMicroBatch({ batchSize: batch, bytesPerImage: trainingBytesPerImage(model), budgetBytes: opts.budgetBytes, what });
  const microBatchSize = opts.microBatchSize === undefined || opts.microBatchSize === "auto" ? planned : Math.max(1, Math.min(batch, Math.floor(opts.microBatchSize)));
  if (tf.getBackend() === "wasm" && microBatchSize * trainingBytesPerImage(model) > WASM_HEAP_MAX_BYTES * 0.9) {
    throw new WasmMemoryError(`${what} with micro-batches of ${microBatchSize} needs more than the 4 GiB wasm heap: use microBatchSize "auto" (${planned} fits)`);
  }
  const lossOf = opts.loss ?? categoricalCrossentropy;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let summed: tf.NamedTensorMap | undefined;
  let lossTotal = 0;
  let microBatches = 0;
  for (let start = 0; start < batch; start += microBatchSize) {
    const size = Math.min(microBatchSize, batch - start);
    const share = size / batch;
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const x = xs.shape[0] === size ? xs : tf.slice(xs, start, size);
      const y = ys.shape[0] === size ? ys : tf.slice(ys, start, size);
      return tf.mul(lossOf(y, model.apply(x, { training: true }) as tf.Tensor), share) as tf.Scalar;
    }), variables);
    lossTotal += value.dataSync()[0];
    value.dispose();
    if (!summed) summed = grads;
    else {
      for (const name of Object.keys(grads)) {
        const next = tf.add(summed[name], grads[name]);
        summed[name].dispose();
        grads[name].dispose();
        summed[name] = next;
      }
    }
    microBatches++;
  }
  optimizer.applyGradients(summed!);
  tf.dispose(summed!);
  return { loss: lossTotal, microBatchSize, microBatches };
}
