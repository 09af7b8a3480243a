// DenseNet-121/169/201 (Huang et al. 2017, "Densely Connected Convolutional Networks"),
// ported layer by layer from keras/src/applications/densenet.py.
import * as tf from "@tensorflow/tfjs";
import { apply, applyClassifierOrPooling, type BuildOptions, channelsOf, KerasNamer, resolveOptions } from "./common";

// Dense blocks per stage; stage inputs at 224 px: 56×56 (conv2), 28×28 (conv3), 14×14 (conv4), 7×7 (conv5).
export const DENSENET_BLOCKS = {
  densenet121: [6, 12, 24, 16],
  densenet169: [6, 12, 32, 32],
  densenet201: [6, 12, 48, 32],
} as const;

export type DenseNetVariant = keyof typeof DENSENET_BLOCKS;

const BN_EPSILON = 1.001e-5;
const GROWTH_RATE = 32;

function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name });
}

/** BN-ReLU-Conv1×1(4k) → BN-ReLU-Conv3×3(k), concatenated to the input. */
function convBlock(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  let y = apply(batchNorm(`${name}_0_bn`), x);
  y = apply(tf.layers.activation({ activation: "relu", name: `${name}_0_relu` }), y);
  y = apply(tf.layers.conv2d({ filters: 4 * GROWTH_RATE, kernelSize: 1, useBias: false, name: `${name}_1_conv` }), y);
  y = apply(batchNorm(`${name}_1_bn`), y);
  y = apply(tf.layers.activation({ activation: "relu", name: `${name}_1_relu` }), y);
  y = apply(tf.layers.conv2d({ filters: GROWTH_RATE, kernelSize: 3, padding: "same", useBias: false, name: `${name}_2_conv` }), y);
  return apply(tf.layers.concatenate({ axis: 3, name: `${name}_concat` }), [x, y]);
}

function denseBlock(x: tf.SymbolicTensor, blocks: number, name: string): tf.SymbolicTensor {
  for (let i = 1; i <= blocks; i++) x = convBlock(x, `${name}_block${i}`);
  return x;
}

/** BN-ReLU-Conv1×1 halving the channels, then 2×2 average pooling. */
function transitionBlock(x: tf.SymbolicTensor, reduction: number, name: string): tf.SymbolicTensor {
  x = apply(batchNorm(`${name}_bn`), x);
  x = apply(tf.layers.activation({ activation: "relu", name: `${name}_relu` }), x);
  x = apply(tf.layers.conv2d({ filters: Math.floor(channelsOf(x) * reduction), kernelSize: 1, useBias: false, name: `${name}_conv` }), x);
  return apply(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
}

export function buildDenseNet(variant: DenseNetVariant, opts: BuildOptions = {}): tf.LayersModel {
  const options = resolveOptions(opts, { name: variant, defaultInputSize: 224, minInputSize: 32 });
  const blocks = DENSENET_BLOCKS[variant];
  const namer = new KerasNamer();
  const input = tf.input({ shape: options.inputShape, name: "input_layer" });

  let x = apply(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: namer.next("zero_padding2d") }), input);
  x = apply(tf.layers.conv2d({ filters: 64, kernelSize: 7, strides: 2, useBias: false, name: "conv1_conv" }), x);
  x = apply(batchNorm("conv1_bn"), x);
  x = apply(tf.layers.activation({ activation: "relu", name: "conv1_relu" }), x);
  x = apply(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: namer.next("zero_padding2d") }), x);
  x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1" }), x);

  x = denseBlock(x, blocks[0], "conv2");
  x = transitionBlock(x, 0.5, "pool2");
  x = denseBlock(x, blocks[1], "conv3");
  x = transitionBlock(x, 0.5, "pool3");
  x = denseBlock(x, blocks[2], "conv4");
  x = transitionBlock(x, 0.5, "pool4");
  x = denseBlock(x, blocks[3], "conv5");

  x = apply(batchNorm("bn"), x);
  x = apply(tf.layers.activation({ activation: "relu", name: "relu" }), x);
  const output = applyClassifierOrPooling(x, options, { avgPool: "avg_pool", maxPool: "max_pool", namer });
  return tf.model({ inputs: input, outputs: output, name: variant });
}

/** Freezing unit for TRANSFER=top:n — every dense conv block and every transition. */
export function denseNetBlockPrefixes(variant: DenseNetVariant): string[] {
  const prefixes: string[] = [];
  DENSENET_BLOCKS[variant].forEach((count, stage) => {
    for (let i = 1; i <= count; i++) prefixes.push(`conv${stage + 2}_block${i}_`);
    if (stage < 3) prefixes.push(`pool${stage + 2}_`);
  });
  return prefixes;
}
