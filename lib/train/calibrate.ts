// Batch-normalisation statistics for a randomly initialised network (WEIGHTS=none). Its moving
// mean/variance start at 0/1 and describe no data, so in inference mode (a frozen base, validation)
// activations shrink or explode layer after layer: measured at 96 px, MobileNet's features then
// differ between images by ~1e-27 and a head cannot learn anything. Before training, one forward
// pass sets each BN layer's moving statistics to the statistics of its own input on a calibration
// batch (a data-dependent initialisation); the layers run in inference mode meanwhile, so every
// later layer already sees calibrated inputs. Afterwards these are ordinary weights: frozen layers
// keep them bit-identical during training. (Training-mode BN would do the same with momentum 0,
// but tfjs-layers fails in training mode for BN without a scale, as InceptionV3 uses.)
import * as tf from "@tensorflow/tfjs";

interface BatchNormInternals {
  axis: number | number[];
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

export function batchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((layer) => layer.getClassName() === "BatchNormalization");
}

/**
 * Sets the moving statistics of every BatchNormalization layer of `model` to the batch statistics of
 * its input for `inputs` (already preprocessed). Returns the number of BN layers calibrated.
 */
export function calibrateBatchNorm(model: tf.LayersModel, inputs: tf.Tensor): number {
  const layers = batchNormLayers(model);
  const originals = layers.map((layer) => layer.call);
  try {
    for (const layer of layers) {
      const call = layer.call.bind(layer);
      const internals = layer as unknown as BatchNormInternals;
      layer.call = (input, kwargs) => {
        const x = Array.isArray(input) ? input[0] : input;
        const axes = Array.isArray(internals.axis) ? internals.axis : [internals.axis];
        const channelAxes = axes.map((axis) => (axis < 0 ? x.rank + axis : axis));
        const reduction = [...Array(x.rank).keys()].filter((axis) => !channelAxes.includes(axis));
        tf.tidy(() => {
          const { mean, variance } = tf.moments(x, reduction);
          internals.movingMean.write(mean);
          internals.movingVariance.write(variance);
        });
        return call(input, { ...kwargs, training: false });
      };
    }
    tf.tidy(() => {
      model.predict(inputs, { batchSize: inputs.shape[0] });
    });
  } finally {
    layers.forEach((layer, i) => (layer.call = originals[i]));
  }
  return layers.length;
}
