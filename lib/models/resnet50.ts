// ResNet50 v1 (He et al. 2015, "Deep Residual Learning for Image Recognition"),
// ported layer by layer from keras/src/applications/resnet.py (ResNet50, residual_block_v1).
import * as tf from "@tensorflow/tfjs";
import { apply, applyClassifierOrPooling, type BuildOptions, KerasNamer, resolveOptions } from "./common";

// Bottleneck blocks per stage: conv2 (56×56 at 224 px, stride 1), conv3 (28×28), conv4 (14×14), conv5 (7×7).
export const RESNET50_STAGES = [
  { name: "conv2", filters: 64, blocks: 3, stride: 1 },
  { name: "conv3", filters: 128, blocks: 4, stride: 2 },
  { name: "conv4", filters: 256, blocks: 6, stride: 2 },
  { name: "conv5", filters: 512, blocks: 3, stride: 2 },
] as const;

const BN_EPSILON = 1.001e-5;

function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name });
}

/** 1×1 → 3×3 → 1×1(4f) bottleneck with an identity or projection (conv) shortcut. */
function residualBlock(x: tf.SymbolicTensor, opts: { filters: number; stride: number; convShortcut: boolean; name: string }): tf.SymbolicTensor {
  const { filters, stride, name } = opts;
  let shortcut = x;
  if (opts.convShortcut) {
    shortcut = apply(tf.layers.conv2d({ filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }), x);
    shortcut = apply(batchNorm(`${name}_0_bn`), shortcut);
  }
  let y = apply(tf.layers.conv2d({ filters, kernelSize: 1, strides: stride, name: `${name}_1_conv` }), x);
  y = apply(batchNorm(`${name}_1_bn`), y);
  y = apply(tf.layers.activation({ activation: "relu", name: `${name}_1_relu` }), y);
  y = apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", name: `${name}_2_conv` }), y);
  y = apply(batchNorm(`${name}_2_bn`), y);
  y = apply(tf.layers.activation({ activation: "relu", name: `${name}_2_relu` }), y);
  y = apply(tf.layers.conv2d({ filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }), y);
  y = apply(batchNorm(`${name}_3_bn`), y);
  const sum = apply(tf.layers.add({ name: `${name}_add` }), [shortcut, y]);
  return apply(tf.layers.activation({ activation: "relu", name: `${name}_out` }), sum);
}

export function buildResNet50(opts: BuildOptions = {}): tf.LayersModel {
  const options = resolveOptions(opts, { name: "resnet50", defaultInputSize: 224, minInputSize: 32 });
  const input = tf.input({ shape: options.inputShape, name: "input_layer" });

  let x = apply(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: "conv1_pad" }), input);
  x = apply(tf.layers.conv2d({ filters: 64, kernelSize: 7, strides: 2, name: "conv1_conv" }), x);
  x = apply(batchNorm("conv1_bn"), x);
  x = apply(tf.layers.activation({ activation: "relu", name: "conv1_relu" }), x);
  x = apply(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: "pool1_pad" }), x);
  x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1_pool" }), x);

  for (const stage of RESNET50_STAGES) {
    x = residualBlock(x, { filters: stage.filters, stride: stage.stride, convShortcut: true, name: `${stage.name}_block1` });
    for (let i = 2; i <= stage.blocks; i++) {
      x = residualBlock(x, { filters: stage.filters, stride: 1, convShortcut: false, name: `${stage.name}_block${i}` });
    }
  }
  const output = applyClassifierOrPooling(x, options, { avgPool: "avg_pool", maxPool: "max_pool", namer: new KerasNamer() });
  return tf.model({ inputs: input, outputs: output, name: "resnet50" });
}

/** Freezing unit for TRANSFER=top:n — the 16 bottleneck blocks. */
export function resNet50BlockPrefixes(): string[] {
  return RESNET50_STAGES.flatMap((stage) => Array.from({ length: stage.blocks }, (_, i) => `${stage.name}_block${i + 1}_`));
}
