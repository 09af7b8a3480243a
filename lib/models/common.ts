// What every Keras Applications builder shares: the options, input-shape validation (Keras'
// obtain_input_shape rules), Keras-style automatic layer names, and the classifier/pooling tail.
import * as tf from "@tensorflow/tfjs";

export type Pooling = "avg" | "max" | "none";

export interface BuildOptions {
  /** Keep the 1000-class ImageNet classifier (or `classes` outputs); default true, as in Keras. */
  includeTop?: boolean;
  classes?: number;
  /** [height, width, 3]; default: the architecture's default input size. */
  inputShape?: [number, number, number];
  /** Only without the top: global average / max pooling of the last feature map, or none (4-D output). */
  pooling?: Pooling;
  /** Width multiplier (MobileNet and MobileNetV2 only). */
  alpha?: number;
}

export interface ResolvedOptions {
  includeTop: boolean;
  classes: number;
  inputShape: [number, number, number];
  pooling: Pooling;
}

export function resolveOptions(
  opts: BuildOptions,
  arch: { name: string; defaultInputSize: number; minInputSize: number },
): ResolvedOptions {
  const includeTop = opts.includeTop ?? true;
  const classes = opts.classes ?? 1000;
  const pooling = opts.pooling ?? "none";
  const inputShape = opts.inputShape ?? [arch.defaultInputSize, arch.defaultInputSize, 3];
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`${arch.name}: classes must be a whole number ≥ 1, got ${classes}`);
  }
  if (!["avg", "max", "none"].includes(pooling)) {
    throw new Error(`${arch.name}: pooling must be "avg", "max" or "none", got ${JSON.stringify(pooling)}`);
  }
  const [height, width, channels] = inputShape;
  if (inputShape.length !== 3 || channels !== 3) {
    throw new Error(`${arch.name}: inputShape must be [height, width, 3] (RGB), got ${JSON.stringify(inputShape)}`);
  }
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < arch.minInputSize || width < arch.minInputSize) {
    throw new Error(`${arch.name}: input height and width must be whole numbers ≥ ${arch.minInputSize}, got ${height}×${width}`);
  }
  return { includeTop, classes, inputShape: [height, width, channels], pooling };
}

/**
 * Keras names unnamed layers after their class, counted per model: conv2d, conv2d_1, conv2d_2 …
 * tfjs would use a process-wide counter instead, so we name them ourselves for stable names.
 */
export class KerasNamer {
  private readonly counts = new Map<string, number>();

  next(base: string): string {
    const count = this.counts.get(base) ?? 0;
    this.counts.set(base, count + 1);
    return count === 0 ? base : `${base}_${count}`;
  }
}

/** The tail of Inception/DenseNet/ResNet/MobileNetV2: GAP + dense softmax, or optional pooling. */
export function applyClassifierOrPooling(
  x: tf.SymbolicTensor,
  options: ResolvedOptions,
  names: { avgPool?: string; maxPool?: string; namer: KerasNamer },
): tf.SymbolicTensor {
  if (options.includeTop) {
    const pooled = tf.layers.globalAveragePooling2d({ name: names.avgPool ?? names.namer.next("global_average_pooling2d") }).apply(x) as tf.SymbolicTensor;
    return tf.layers.dense({ units: options.classes, activation: "softmax", name: "predictions" }).apply(pooled) as tf.SymbolicTensor;
  }
  if (options.pooling === "avg") {
    return tf.layers.globalAveragePooling2d({ name: names.avgPool ?? names.namer.next("global_average_pooling2d") }).apply(x) as tf.SymbolicTensor;
  }
  if (options.pooling === "max") {
    return tf.layers.globalMaxPooling2d({ name: names.maxPool ?? names.namer.next("global_max_pooling2d") }).apply(x) as tf.SymbolicTensor;
  }
  return x;
}

export function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

export function channelsOf(x: tf.SymbolicTensor): number {
  return x.shape[x.shape.length - 1] as number;
}
