// Inception-v3 (Szegedy et al. 2015, "Rethinking the Inception Architecture for Computer Vision"),
// ported layer by layer from keras/src/applications/inception_v3.py. Conv/BN/ReLU layers are
// unnamed in Keras, so they get Keras' automatic names (conv2d_N, batch_normalization_N, activation_N);
// the module outputs are mixed0 … mixed10.
import * as tf from "@tensorflow/tfjs";
import { patchScaleFreeBatchNormTraining } from "./batchnorm-scale-fix";
import { apply, applyClassifierOrPooling, type BuildOptions, KerasNamer, resolveOptions } from "./common";

type Tensor = tf.SymbolicTensor;

/** Conv (no bias) → BN (scale=False, ε=1e-3) → ReLU. */
function conv2dBn(namer: KerasNamer, x: Tensor, filters: number, rows: number, cols: number, opts: { strides?: number; padding?: "same" | "valid" } = {}): Tensor {
  x = apply(
    tf.layers.conv2d({ filters, kernelSize: [rows, cols], strides: opts.strides ?? 1, padding: opts.padding ?? "same", useBias: false, name: namer.next("conv2d") }),
    x,
  );
  x = apply(tf.layers.batchNormalization({ axis: 3, scale: false, epsilon: 1e-3, name: namer.next("batch_normalization") }), x);
  return apply(tf.layers.activation({ activation: "relu", name: namer.next("activation") }), x);
}

function concat(namer: KerasNamer, inputs: Tensor[], name?: string): Tensor {
  return apply(tf.layers.concatenate({ axis: 3, name: name ?? namer.next("concatenate") }), inputs);
}

function avgPool3x3(namer: KerasNamer, x: Tensor): Tensor {
  return apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same", name: namer.next("average_pooling2d") }), x);
}

function maxPool3x3s2(namer: KerasNamer, x: Tensor): Tensor {
  return apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: namer.next("max_pooling2d") }), x);
}

export function buildInceptionV3(opts: BuildOptions = {}): tf.LayersModel {
  patchScaleFreeBatchNormTraining(); // its BN layers have no gamma
  const options = resolveOptions(opts, { name: "inception_v3", defaultInputSize: 299, minInputSize: 75 });
  const n = new KerasNamer();
  const input = tf.input({ shape: options.inputShape, name: "input_layer" });

  // Stem: 299 → 147 → 73 → 35.
  let x = conv2dBn(n, input, 32, 3, 3, { strides: 2, padding: "valid" });
  x = conv2dBn(n, x, 32, 3, 3, { padding: "valid" });
  x = conv2dBn(n, x, 64, 3, 3);
  x = maxPool3x3s2(n, x);
  x = conv2dBn(n, x, 80, 1, 1, { padding: "valid" });
  x = conv2dBn(n, x, 192, 3, 3, { padding: "valid" });
  x = maxPool3x3s2(n, x);

  // mixed0–2: 35 × 35 × 256/288.
  for (const [index, poolFilters] of [32, 64, 64].entries()) {
    const branch1x1 = conv2dBn(n, x, 64, 1, 1);
    let branch5x5 = conv2dBn(n, x, 48, 1, 1);
    branch5x5 = conv2dBn(n, branch5x5, 64, 5, 5);
    let branch3x3dbl = conv2dBn(n, x, 64, 1, 1);
    branch3x3dbl = conv2dBn(n, branch3x3dbl, 96, 3, 3);
    branch3x3dbl = conv2dBn(n, branch3x3dbl, 96, 3, 3);
    const branchPool = conv2dBn(n, avgPool3x3(n, x), poolFilters, 1, 1);
    x = concat(n, [branch1x1, branch5x5, branch3x3dbl, branchPool], `mixed${index}`);
  }

  // mixed3: reduction to 17 × 17 × 768.
  {
    const branch3x3 = conv2dBn(n, x, 384, 3, 3, { strides: 2, padding: "valid" });
    let branch3x3dbl = conv2dBn(n, x, 64, 1, 1);
    branch3x3dbl = conv2dBn(n, branch3x3dbl, 96, 3, 3);
    branch3x3dbl = conv2dBn(n, branch3x3dbl, 96, 3, 3, { strides: 2, padding: "valid" });
    const branchPool = maxPool3x3s2(n, x);
    x = concat(n, [branch3x3, branch3x3dbl, branchPool], "mixed3");
  }

  // mixed4–7: 17 × 17 × 768 with factorised 7×7 convolutions.
  for (const [index, width] of [128, 160, 160, 192].entries()) {
    const branch1x1 = conv2dBn(n, x, 192, 1, 1);
    let branch7x7 = conv2dBn(n, x, width, 1, 1);
    branch7x7 = conv2dBn(n, branch7x7, width, 1, 7);
    branch7x7 = conv2dBn(n, branch7x7, 192, 7, 1);
    let branch7x7dbl = conv2dBn(n, x, width, 1, 1);
    branch7x7dbl = conv2dBn(n, branch7x7dbl, width, 7, 1);
    branch7x7dbl = conv2dBn(n, branch7x7dbl, width, 1, 7);
    branch7x7dbl = conv2dBn(n, branch7x7dbl, width, 7, 1);
    branch7x7dbl = conv2dBn(n, branch7x7dbl, 192, 1, 7);
    const branchPool = conv2dBn(n, avgPool3x3(n, x), 192, 1, 1);
    x = concat(n, [branch1x1, branch7x7, branch7x7dbl, branchPool], `mixed${4 + index}`);
  }

  // mixed8: reduction to 8 × 8 × 1280.
  {
    let branch3x3 = conv2dBn(n, x, 192, 1, 1);
    branch3x3 = conv2dBn(n, branch3x3, 320, 3, 3, { strides: 2, padding: "valid" });
    let branch7x7x3 = conv2dBn(n, x, 192, 1, 1);
    branch7x7x3 = conv2dBn(n, branch7x7x3, 192, 1, 7);
    branch7x7x3 = conv2dBn(n, branch7x7x3, 192, 7, 1);
    branch7x7x3 = conv2dBn(n, branch7x7x3, 192, 3, 3, { strides: 2, padding: "valid" });
    const branchPool = maxPool3x3s2(n, x);
    x = concat(n, [branch3x3, branch7x7x3, branchPool], "mixed8");
  }

  // mixed9–10: 8 × 8 × 2048 with expanded filter banks.
  for (let i = 0; i < 2; i++) {
    const branch1x1 = conv2dBn(n, x, 320, 1, 1);
    const branch3x3 = conv2dBn(n, x, 384, 1, 1);
    const branch3x3Split = concat(n, [conv2dBn(n, branch3x3, 384, 1, 3), conv2dBn(n, branch3x3, 384, 3, 1)], `mixed9_${i}`);
    let branch3x3dbl = conv2dBn(n, x, 448, 1, 1);
    branch3x3dbl = conv2dBn(n, branch3x3dbl, 384, 3, 3);
    const branch3x3dblSplit = concat(n, [conv2dBn(n, branch3x3dbl, 384, 1, 3), conv2dBn(n, branch3x3dbl, 384, 3, 1)]);
    const branchPool = conv2dBn(n, avgPool3x3(n, x), 192, 1, 1);
    x = concat(n, [branch1x1, branch3x3Split, branch3x3dblSplit, branchPool], `mixed${9 + i}`);
  }

  const output = applyClassifierOrPooling(x, options, { avgPool: options.includeTop ? "avg_pool" : undefined, namer: n });
  return tf.model({ inputs: input, outputs: output, name: "inception_v3" });
}

/** Freezing unit for TRANSFER=top:n — the 11 Inception modules, each ending in its mixedN concatenation. */
export function inceptionV3BlockEnds(): string[] {
  return Array.from({ length: 11 }, (_, i) => `mixed${i}`);
}
