// Multiply-accumulates of one forward pass, counted from the layers' configurations and output
// shapes (convolutions, depthwise/separable convolutions, dense; element-wise layers are left out as
// negligible). Turns a latency into achieved GFLOP/s, the number that says how close an engine is
// to its hardware (1 MAC = 2 FLOP).
import type * as tf from "@tensorflow/tfjs";

type Shape = Array<number | null>;

function outputShape(layer: tf.layers.Layer): Shape {
  const shape = layer.outputShape as Shape | Shape[];
  return (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
}

function inputChannels(layer: tf.layers.Layer): number {
  const shape = layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape;
  return shape[shape.length - 1] as number;
}

/** Multiply-accumulates per image of one forward pass. */
export function forwardMacs(model: tf.LayersModel): number {
  let macs = 0;
  for (const layer of model.layers) {
    const config = layer.getConfig() as { kernelSize?: number[]; depthMultiplier?: number; units?: number; filters?: number };
    const out = outputShape(layer);
    const pixels = out.length === 4 ? (out[1] as number) * (out[2] as number) : 1;
    const kernel = (config.kernelSize ?? [1, 1]).reduce((a, b) => a * b, 1);
    switch (layer.getClassName()) {
      case "Conv2D":
        macs += pixels * kernel * inputChannels(layer) * (out[3] as number);
        break;
      case "DepthwiseConv2D":
        macs += pixels * kernel * (out[3] as number);
        break;
      case "SeparableConv2D": {
        const depthwiseChannels = inputChannels(layer) * (config.depthMultiplier ?? 1);
        macs += pixels * (kernel * depthwiseChannels + depthwiseChannels * (out[3] as number));
        break;
      }
      case "Dense":
        macs += inputChannels(layer) * (config.units as number);
        break;
    }
  }
  return macs;
}
