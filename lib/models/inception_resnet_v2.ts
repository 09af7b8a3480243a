// Inception-ResNet-v2 (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of
// Residual Connections on Learning"), ported layer by layer from
// keras/src/applications/inception_resnet_v2.py, including its CustomScaleLayer (x + scale·r).
import * as tf from "@tensorflow/tfjs";
import { patchScaleFreeBatchNormTraining } from "./batchnorm-scale-fix";
import { apply, applyClassifierOrPooling, type BuildOptions, channelsOf, KerasNamer, resolveOptions } from "./common";

type Tensor = tf.SymbolicTensor;

/**
 * Keras' CustomScaleLayer: inputs [x, residual] → x + residual·scale. No weights, so it does not
 * change the weight order of .h5 files. Registered for tfjs serialization under the Keras class name.
 */
export class CustomScaleLayer extends tf.layers.Layer {
  static className = "CustomScaleLayer";
  readonly scale: number;

  constructor(args: { scale: number; name?: string }) {
    super({ name: args.name });
    this.scale = args.scale;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[0];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, residual] = inputs as tf.Tensor[];
      return tf.add(x, tf.mul(residual, this.scale));
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

/** Makes the custom layers known to tf.loadLayersModel; idempotent. */
export function registerInceptionResNetLayers(): void {
  tf.serialization.registerClass(CustomScaleLayer);
  patchScaleFreeBatchNormTraining(); // its BN layers have no gamma
}

interface ConvBnOptions {
  strides?: number;
  padding?: "same" | "valid";
  activation?: "relu" | null;
  useBias?: boolean;
  name?: string;
}

/** Conv → BN (scale=False, only without bias) → activation; Keras' conv2d_bn of this file. */
function conv2dBn(n: KerasNamer, x: Tensor, filters: number, kernelSize: number | [number, number], opts: ConvBnOptions = {}): Tensor {
  const useBias = opts.useBias ?? false;
  const activation = opts.activation === undefined ? "relu" : opts.activation;
  x = apply(
    tf.layers.conv2d({ filters, kernelSize, strides: opts.strides ?? 1, padding: opts.padding ?? "same", useBias, name: opts.name ?? n.next("conv2d") }),
    x,
  );
  if (!useBias) {
    x = apply(tf.layers.batchNormalization({ axis: 3, scale: false, epsilon: 1e-3, name: opts.name ? `${opts.name}_bn` : n.next("batch_normalization") }), x);
  }
  if (activation) {
    x = apply(tf.layers.activation({ activation, name: opts.name ? `${opts.name}_ac` : n.next("activation") }), x);
  }
  return x;
}

type BlockType = "block35" | "block17" | "block8";

function inceptionResNetBlock(n: KerasNamer, x: Tensor, opts: { scale: number; type: BlockType; index: number; activation?: "relu" | null }): Tensor {
  let branches: Tensor[];
  if (opts.type === "block35") {
    const branch0 = conv2dBn(n, x, 32, 1);
    const branch1 = conv2dBn(n, conv2dBn(n, x, 32, 1), 32, 3);
    const branch2 = conv2dBn(n, conv2dBn(n, conv2dBn(n, x, 32, 1), 48, 3), 64, 3);
    branches = [branch0, branch1, branch2];
  } else if (opts.type === "block17") {
    const branch0 = conv2dBn(n, x, 192, 1);
    const branch1 = conv2dBn(n, conv2dBn(n, conv2dBn(n, x, 128, 1), 160, [1, 7]), 192, [7, 1]);
    branches = [branch0, branch1];
  } else {
    const branch0 = conv2dBn(n, x, 192, 1);
    const branch1 = conv2dBn(n, conv2dBn(n, conv2dBn(n, x, 192, 1), 224, [1, 3]), 256, [3, 1]);
    branches = [branch0, branch1];
  }
  const blockName = `${opts.type}_${opts.index}`;
  const mixed = apply(tf.layers.concatenate({ axis: 3, name: `${blockName}_mixed` }), branches);
  const up = conv2dBn(n, mixed, channelsOf(x), 1, { activation: null, useBias: true, name: `${blockName}_conv` });
  let out = apply(new CustomScaleLayer({ scale: opts.scale, name: n.next("custom_scale_layer") }), [x, up]);
  const activation = opts.activation === undefined ? "relu" : opts.activation;
  if (activation) out = apply(tf.layers.activation({ activation, name: `${blockName}_ac` }), out);
  return out;
}

export function buildInceptionResNetV2(opts: BuildOptions = {}): tf.LayersModel {
  registerInceptionResNetLayers();
  const options = resolveOptions(opts, { name: "inception_resnet_v2", defaultInputSize: 299, minInputSize: 75 });
  const n = new KerasNamer();
  const input = tf.input({ shape: options.inputShape, name: "input_layer" });
  const maxPool = (t: Tensor) => apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "valid", name: n.next("max_pooling2d") }), t);

  // Stem: 299 → 149 → 147 → 73 → 71 → 35.
  let x = conv2dBn(n, input, 32, 3, { strides: 2, padding: "valid" });
  x = conv2dBn(n, x, 32, 3, { padding: "valid" });
  x = conv2dBn(n, x, 64, 3);
  x = maxPool(x);
  x = conv2dBn(n, x, 80, 1, { padding: "valid" });
  x = conv2dBn(n, x, 192, 3, { padding: "valid" });
  x = maxPool(x);

  // Mixed 5b (Inception-A): 35 × 35 × 320.
  {
    const branch0 = conv2dBn(n, x, 96, 1);
    const branch1 = conv2dBn(n, conv2dBn(n, x, 48, 1), 64, 5);
    const branch2 = conv2dBn(n, conv2dBn(n, conv2dBn(n, x, 64, 1), 96, 3), 96, 3);
    const pooled = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same", name: n.next("average_pooling2d") }), x);
    const branchPool = conv2dBn(n, pooled, 64, 1);
    x = apply(tf.layers.concatenate({ axis: 3, name: "mixed_5b" }), [branch0, branch1, branch2, branchPool]);
  }
  for (let i = 1; i <= 10; i++) x = inceptionResNetBlock(n, x, { scale: 0.17, type: "block35", index: i });

  // Mixed 6a (Reduction-A): 17 × 17 × 1088.
  {
    const branch0 = conv2dBn(n, x, 384, 3, { strides: 2, padding: "valid" });
    const branch1 = conv2dBn(n, conv2dBn(n, conv2dBn(n, x, 256, 1), 256, 3), 384, 3, { strides: 2, padding: "valid" });
    x = apply(tf.layers.concatenate({ axis: 3, name: "mixed_6a" }), [branch0, branch1, maxPool(x)]);
  }
  for (let i = 1; i <= 20; i++) x = inceptionResNetBlock(n, x, { scale: 0.1, type: "block17", index: i });

  // Mixed 7a (Reduction-B): 8 × 8 × 2080.
  {
    const branch0 = conv2dBn(n, conv2dBn(n, x, 256, 1), 384, 3, { strides: 2, padding: "valid" });
    const branch1 = conv2dBn(n, conv2dBn(n, x, 256, 1), 288, 3, { strides: 2, padding: "valid" });
    const branch2 = conv2dBn(n, conv2dBn(n, conv2dBn(n, x, 256, 1), 288, 3), 320, 3, { strides: 2, padding: "valid" });
    x = apply(tf.layers.concatenate({ axis: 3, name: "mixed_7a" }), [branch0, branch1, branch2, maxPool(x)]);
  }
  for (let i = 1; i <= 9; i++) x = inceptionResNetBlock(n, x, { scale: 0.2, type: "block8", index: i });
  x = inceptionResNetBlock(n, x, { scale: 1.0, type: "block8", index: 10, activation: null });

  // Final 1×1 convolution: 8 × 8 × 1536.
  x = conv2dBn(n, x, 1536, 1, { name: "conv_7b" });
  const output = applyClassifierOrPooling(x, options, { avgPool: options.includeTop ? "avg_pool" : undefined, namer: n });
  return tf.model({ inputs: input, outputs: output, name: "inception_resnet_v2" });
}

/** Freezing unit for TRANSFER=top:n — the reduction modules and the 40 residual blocks. */
export function inceptionResNetV2BlockPrefixes(): string[] {
  const range = (count: number, type: string) => Array.from({ length: count }, (_, i) => `${type}_${i + 1}_`);
  return ["mixed_5b", ...range(10, "block35"), "mixed_6a", ...range(20, "block17"), "mixed_7a", ...range(10, "block8")];
}
