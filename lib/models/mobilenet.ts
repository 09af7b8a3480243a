// MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
// Vision Applications"), ported layer by layer from keras/src/applications/mobilenet.py.
import * as tf from "@tensorflow/tfjs";
import { apply, type BuildOptions, KerasNamer, resolveOptions } from "./common";
import { formatAlpha, WIDTH_MULTIPLIERS } from "./width";

/** Width multipliers Keras publishes ImageNet weights for. */
export const MOBILENET_ALPHAS = WIDTH_MULTIPLIERS.mobilenet!;

// Pointwise filters (before alpha) and stride of the 13 depthwise-separable blocks;
// a stride-2 block halves the resolution: 112 → 56 (block 2) → 28 (4) → 14 (6) → 7 (12) at 224 px.
const DEPTHWISE_BLOCKS: ReadonlyArray<{ filters: number; stride: 1 | 2 }> = [
  { filters: 64, stride: 1 },
  { filters: 128, stride: 2 },
  { filters: 128, stride: 1 },
  { filters: 256, stride: 2 },
  { filters: 256, stride: 1 },
  { filters: 512, stride: 2 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 1024, stride: 2 },
  { filters: 1024, stride: 1 },
];

function checkAlpha(alpha: number): void {
  if (!(MOBILENET_ALPHAS as readonly number[]).includes(alpha)) {
    throw new Error(`mobilenet: alpha must be one of ${MOBILENET_ALPHAS.map(formatAlpha).join(", ")} (the Keras values), got ${alpha}`);
  }
}

/** 3×3 depthwise (stride 2: explicit bottom/right zero pad + valid) → BN → ReLU6 → 1×1 → BN → ReLU6. */
function depthwiseConvBlock(x: tf.SymbolicTensor, opts: { filters: number; stride: 1 | 2; id: number }): tf.SymbolicTensor {
  const { id, stride } = opts;
  if (stride === 2) x = apply(tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `conv_pad_${id}` }), x);
  x = apply(
    tf.layers.depthwiseConv2d({ kernelSize: 3, padding: stride === 1 ? "same" : "valid", depthMultiplier: 1, strides: stride, useBias: false, name: `conv_dw_${id}` }),
    x,
  );
  x = apply(tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3, name: `conv_dw_${id}_bn` }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: `conv_dw_${id}_relu` }), x);
  x = apply(tf.layers.conv2d({ filters: opts.filters, kernelSize: 1, padding: "same", useBias: false, name: `conv_pw_${id}` }), x);
  x = apply(tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3, name: `conv_pw_${id}_bn` }), x);
  return apply(tf.layers.reLU({ maxValue: 6, name: `conv_pw_${id}_relu` }), x);
}

export function buildMobileNet(opts: BuildOptions = {}): tf.LayersModel {
  const options = resolveOptions(opts, { name: "mobilenet", defaultInputSize: 224, minInputSize: 32 });
  const alpha = opts.alpha ?? 1.0;
  checkAlpha(alpha);
  const namer = new KerasNamer();
  const input = tf.input({ shape: options.inputShape, name: "input_layer" });

  let x = apply(tf.layers.conv2d({ filters: Math.floor(32 * alpha), kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "conv1" }), input);
  x = apply(tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3, name: "conv1_bn" }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: "conv1_relu" }), x);
  DEPTHWISE_BLOCKS.forEach((block, index) => {
    x = depthwiseConvBlock(x, { filters: Math.floor(block.filters * alpha), stride: block.stride, id: index + 1 });
  });

  if (options.includeTop) {
    // Keras: GlobalAveragePooling2D(keepdims=True); tfjs has no keepdims, so pool and reshape to 1×1×C.
    const channels = x.shape[3] as number;
    x = apply(tf.layers.globalAveragePooling2d({ name: namer.next("global_average_pooling2d") }), x);
    x = apply(tf.layers.reshape({ targetShape: [1, 1, channels], name: "reshape_1" }), x);
    x = apply(tf.layers.dropout({ rate: 1e-3, name: "dropout" }), x);
    x = apply(tf.layers.conv2d({ filters: options.classes, kernelSize: 1, padding: "same", name: "conv_preds" }), x);
    x = apply(tf.layers.reshape({ targetShape: [options.classes], name: "reshape_2" }), x);
    x = apply(tf.layers.activation({ activation: "softmax", name: "predictions" }), x);
  } else if (options.pooling === "avg") {
    x = apply(tf.layers.globalAveragePooling2d({ name: namer.next("global_average_pooling2d") }), x);
  } else if (options.pooling === "max") {
    x = apply(tf.layers.globalMaxPooling2d({ name: namer.next("global_max_pooling2d") }), x);
  }
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_${alpha.toFixed(2)}_${options.inputShape[0]}` });
}

/** Freezing unit for TRANSFER=top:n — the stem and the 13 depthwise-separable blocks. */
export function mobileNetBlockPrefixes(): string[] {
  return ["conv1_", ...DEPTHWISE_BLOCKS.map((_, i) => `conv_pw_${i + 1}_`)];
}
