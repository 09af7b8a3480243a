// tfjs-layers 4.22 BatchNormalization with scale=false crashes in training mode (it reads the
// missing gamma: "Cannot read properties of undefined (reading 'read')"), and in inference mode
// under a gradient tape (the fused kernel cannot save a null scale for its gradient). Keras' Inception networks
// use scale=False everywhere, so we patch the class once: the training path of a scale-free layer
// is computed here with the same formulas tfjs uses (batch moments, moving-average update).
// Patching the class (not instances) also covers models reloaded with tf.loadLayersModel.
// Where the engine has a fused batch norm for training (webgpu), every layer's training path (with or
// without scale) runs here too, as that one kernel: ~8 dispatches per layer and step instead of ~20.
import * as tf from "@tensorflow/tfjs";
import { fusedBatchNormTraining } from "../engine/capabilities";

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
    const training = Boolean(kwargs?.training);
    const channelsLast = layer.axis === -1 || layer.axis === input.rank - 1;
    if (training && channelsLast) {
      const fused = tf.tidy(() =>
        fusedBatchNormTraining(input, {
          movingMean: layer.movingMean.read(),
          movingVariance: layer.movingVariance.read(),
          scale: layer.scale ? layer.gamma?.read() : undefined,
          offset: layer.center ? layer.beta?.read() : undefined,
          epsilon: layer.epsilon,
          momentum: layer.momentum,
        }),
      );
      if (fused) {
        layer.movingMean.write(fused.movingMean);
        layer.movingVariance.write(fused.movingVariance);
        tf.dispose([fused.movingMean, fused.movingVariance]); // the variables hold their data now
        return fused.y;
      }
    }
    if (layer.scale) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const x = input;
      if (!training) {
        // Inference: tfjs passes scale=null to the fused kernel, which breaks under a gradient tape
        // (a frozen BN inside fit); an explicit scale of ones keeps the fused kernel and its gradient.
        const movingMean = layer.movingMean.read();
        const beta = layer.center && layer.beta ? layer.beta.read() : undefined;
        return tf.batchNorm(x, movingMean, layer.movingVariance.read(), beta, tf.onesLike(movingMean), layer.epsilon);
      }
      const axis = layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
      const reductionAxes = [...Array(x.rank).keys()].filter((i) => i !== axis);
      const broadcastShape = x.shape.map((size, i) => (i === axis ? size : 1));
      const { mean, variance } = tf.moments(x, reductionAxes);
      const beta = layer.center && layer.beta ? layer.beta.read().reshape(broadcastShape) : undefined;
      // Elementwise ops, not tf.batchNorm: its gradient also fails without a scale tensor.
      const scaled = tf.mul(tf.sub(x, mean.reshape(broadcastShape)), tf.rsqrt(tf.add(variance.reshape(broadcastShape), layer.epsilon)));
      const decay = 1 - layer.momentum;
      for (const [variable, value] of [
        [layer.movingMean, mean],
        [layer.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          variable.write(tf.sub(variable.read(), tf.mul(tf.sub(variable.read(), value), decay)));
        });
      }
      return beta ? tf.add(scaled, beta) : scaled;
    });
  };
  patched = true;
}
