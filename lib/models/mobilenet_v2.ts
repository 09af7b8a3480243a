// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks"),
// ported layer by layer from keras/src/applications/mobilenet_v2.py.
import * as tf from "@tensorflow/tfjs";
import { apply, applyClassifierOrPooling, type BuildOptions, channelsOf, KerasNamer, resolveOptions } from "./common";
import { formatAlpha, WIDTH_MULTIPLIERS } from "./width";

/** Width multipliers Keras publishes ImageNet weights for. */
export const MOBILENET_V2_ALPHAS = WIDTH_MULTIPLIERS.mobilenet_v2!;

// Inverted residual blocks 0–16: output filters (before alpha), stride, expansion.
// Resolution at 224 px: 112 (blocks 0–2), 56 (3–5), 28 (6–9), 14 (10–15), 7 (16).
const INVERTED_RESIDUAL_BLOCKS: ReadonlyArray<{ filters: number; stride: 1 | 2; expansion: number }> = [
  { filters: 16, stride: 1, expansion: 1 },
  { filters: 24, stride: 2, expansion: 6 },
  { filters: 24, stride: 1, expansion: 6 },
  { filters: 32, stride: 2, expansion: 6 },
  { filters: 32, stride: 1, expansion: 6 },
  { filters: 32, stride: 1, expansion: 6 },
  { filters: 64, stride: 2, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 160, stride: 2, expansion: 6 },
  { filters: 160, stride: 1, expansion: 6 },
  { filters: 160, stride: 1, expansion: 6 },
  { filters: 320, stride: 1, expansion: 6 },
];

/** Keras/TF-slim _make_divisible: round to a multiple of `divisor`, never dropping more than 10 %. */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** imagenet_utils.correct_pad for a 3×3 kernel: pad so that stride 2 'valid' matches TF 'same'. */
function correctPad(x: tf.SymbolicTensor): [[number, number], [number, number]] {
  const [height, width] = [x.shape[1], x.shape[2]];
  const adjust = [height == null ? 1 : 1 - (height % 2), width == null ? 1 : 1 - (width % 2)];
  return [
    [1 - adjust[0], 1],
    [1 - adjust[1], 1],
  ];
}

function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3, momentum: 0.999, name });
}

function invertedResidualBlock(inputs: tf.SymbolicTensor, opts: { filters: number; stride: 1 | 2; expansion: number; alpha: number; id: number }): tf.SymbolicTensor {
  const inChannels = channelsOf(inputs);
  const pointwiseFilters = makeDivisible(Math.floor(opts.filters * opts.alpha), 8);
  let x = inputs;
  let prefix = `block_${opts.id}_`;
  if (opts.id > 0) {
    x = apply(tf.layers.conv2d({ filters: opts.expansion * inChannels, kernelSize: 1, padding: "same", useBias: false, name: `${prefix}expand` }), x);
    x = apply(batchNorm(`${prefix}expand_BN`), x);
    x = apply(tf.layers.reLU({ maxValue: 6, name: `${prefix}expand_relu` }), x);
  } else {
    prefix = "expanded_conv_";
  }
  if (opts.stride === 2) x = apply(tf.layers.zeroPadding2d({ padding: correctPad(x), name: `${prefix}pad` }), x);
  x = apply(
    tf.layers.depthwiseConv2d({ kernelSize: 3, strides: opts.stride, useBias: false, padding: opts.stride === 1 ? "same" : "valid", name: `${prefix}depthwise` }),
    x,
  );
  x = apply(batchNorm(`${prefix}depthwise_BN`), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: `${prefix}depthwise_relu` }), x);
  x = apply(tf.layers.conv2d({ filters: pointwiseFilters, kernelSize: 1, padding: "same", useBias: false, name: `${prefix}project` }), x);
  x = apply(batchNorm(`${prefix}project_BN`), x);
  if (inChannels === pointwiseFilters && opts.stride === 1) return apply(tf.layers.add({ name: `${prefix}add` }), [inputs, x]);
  return x;
}

export function buildMobileNetV2(opts: BuildOptions = {}): tf.LayersModel {
  const options = resolveOptions(opts, { name: "mobilenet_v2", defaultInputSize: 224, minInputSize: 32 });
  const alpha = opts.alpha ?? 1.0;
  if (!(MOBILENET_V2_ALPHAS as readonly number[]).includes(alpha)) {
    throw new Error(`mobilenet_v2: alpha must be one of ${MOBILENET_V2_ALPHAS.map(formatAlpha).join(", ")} (the Keras values), got ${alpha}`);
  }
  const input = tf.input({ shape: options.inputShape, name: "input_layer" });

  let x = apply(tf.layers.conv2d({ filters: makeDivisible(32 * alpha, 8), kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "Conv1" }), input);
  x = apply(batchNorm("bn_Conv1"), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: "Conv1_relu" }), x);
  INVERTED_RESIDUAL_BLOCKS.forEach((block, id) => {
    x = invertedResidualBlock(x, { ...block, alpha, id });
  });

  // The last 1×1 convolution widens only for alpha > 1 (as in Keras).
  const lastBlockFilters = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = apply(tf.layers.conv2d({ filters: lastBlockFilters, kernelSize: 1, useBias: false, name: "Conv_1" }), x);
  x = apply(batchNorm("Conv_1_bn"), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: "out_relu" }), x);
  const output = applyClassifierOrPooling(x, options, { namer: new KerasNamer() });
  return tf.model({ inputs: input, outputs: output, name: `mobilenetv2_${alpha.toFixed(2)}_${options.inputShape[0]}` });
}

/** Freezing unit for TRANSFER=top:n — the 17 inverted residual blocks. */
export function mobileNetV2BlockPrefixes(): string[] {
  return ["expanded_conv_", ...INVERTED_RESIDUAL_BLOCKS.slice(1).map((_, i) => `block_${i + 1}_`)];
}
