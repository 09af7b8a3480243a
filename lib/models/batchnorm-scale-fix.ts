// tfjs-layers 4.22 BatchNormalization with scale=false crashes in training mode (it reads the
// missing gamma: "Cannot read properties of undefined (reading 'read')"), and in inference mode
// under a gradient tape (the fused kernel cannot save a null scale for its gradient). Keras' Inception networks
// use scale=False everywhere, so we patch the class once: the training path of a scale-free layer
// is computed here with the same formulas tfjs uses (batch moments, moving-average update).
// Patching the class (not instances) also covers models reloaded with tf.loadLayersModel.
// Where the engine prefers the fused batch-norm op (webgpu), every layer's training path (with or
// without scale) runs here too, with the engine's fused channel moments: ~10 fewer dispatches per layer.
import * as tf from "@tensorflow/tfjs";
import { channelMoments, movingAverageUpdate, prefersFusedBatchNorm } from "../engine/capabilities";

interface BatchNormInternals {
  scale: boolean;
  center: boolean;
  axis: number;
  epsilon: number;
  momentum: number;
  beta?: { read(): tf.Tensor };
  gamma?: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
}

type Call = (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

let patched = false;

export function patchScaleFreeBatchNormTraining(): void {
  if (patched) return;
  const prototype = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: Call };
  const original = prototype.call;
  prototype.call = function (this: tf.layers.Layer, inputs, kwargs) {
    const layer = this as unknown as BatchNormInternals;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const fused = Boolean(kwargs?.training) && (layer.axis === -1 || layer.axis === input.rank - 1) && prefersFusedBatchNorm();
    if (layer.scale && !fused) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!kwargs?.training) {
        // Inference: tfjs passes scale=null to the fused kernel, which breaks under a gradient tape
        // (a frozen BN inside fit); an explicit scale of ones keeps the fused kernel and its gradient.
        const movingMean = layer.movingMean.read();
        const beta = layer.center && layer.beta ? layer.beta.read() : undefined;
        return tf.batchNorm(x, movingMean, layer.movingVariance.read(), beta, tf.onesLike(movingMean), layer.epsilon);
      }
      const axis = layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
      const reductionAxes = [...Array(x.rank).keys()].filter((i) => i !== axis);
      const broadcastShape = x.shape.map((size, i) => (i === axis ? size : 1));
      let normed: tf.Tensor;
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (fused) {
        // The fused op (a unit scale where the layer has none, as in inference): its gradient is one
        // fused kernel there, and so are the moments and theirs.
        ({ mean, variance } = channelMoments(x));
        const gamma = layer.scale && layer.gamma ? layer.gamma.read() : tf.onesLike(mean);
        normed = tf.batchNorm(x, mean, variance, layer.center && layer.beta ? layer.beta.read() : undefined, gamma, layer.epsilon);
      } else {
        ({ mean, variance } = tf.moments(x, reductionAxes));
        const beta = layer.center && layer.beta ? layer.beta.read().reshape(broadcastShape) : undefined;
        // Elementwise ops, not tf.batchNorm: its gradient also fails without a scale tensor.
        const scaled = tf.mul(tf.sub(x, mean.reshape(broadcastShape)), tf.rsqrt(tf.add(variance.reshape(broadcastShape), layer.epsilon)));
        normed = beta ? tf.add(scaled, beta) : scaled;
      }
      const decay = 1 - layer.momentum;
      for (const [variable, value] of [
        [layer.movingMean, mean],
        [layer.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          variable.write(movingAverageUpdate(variable.read(), value, decay));
        });
      }
      return normed;
    });
  };
  patched = true;
}
