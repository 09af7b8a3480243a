// Inference model with every BatchNormalization folded into the convolution before it, and a
// following ReLU / ReLU6 fused into that convolution (one fused op: conv + bias + activation):
//   W' = W·s,  b' = (b − μ)·s + β,  s = γ/√(σ² + ε)   (per output channel)
// The graph is rebuilt layer by layer (Keras layer names kept); everything else is copied as is.
import * as tf from "@tensorflow/tfjs";

type Layer = tf.layers.Layer;
type Sym = tf.SymbolicTensor;

export interface FoldResult {
  model: tf.LayersModel;
  foldedBatchNorms: number;
  fusedActivations: number;
}

interface LayerConfigLike {
  [key: string]: unknown;
}

function producersOf(layer: Layer): Layer[] {
  const node = layer.inboundNodes[0];
  return node ? (node.inboundLayers as Layer[]) : [];
}

function consumerCounts(model: tf.LayersModel): Map<Layer, number> {
  const counts = new Map<Layer, number>();
  for (const layer of model.layers) for (const p of producersOf(layer)) counts.set(p, (counts.get(p) ?? 0) + 1);
  for (const out of model.outputs) counts.set(out.sourceLayer as Layer, (counts.get(out.sourceLayer as Layer) ?? 0) + 1);
  return counts;
}

const CONV_CLASSES = new Set(["Conv2D", "DepthwiseConv2D"]);

function isFoldableBatchNorm(bn: Layer, counts: Map<Layer, number>): Layer | undefined {
  if (bn.getClassName() !== "BatchNormalization") return undefined;
  const axis = (bn.getConfig() as LayerConfigLike).axis;
  if (axis !== -1 && axis !== 3) return undefined;
  const [conv] = producersOf(bn);
  if (!conv || producersOf(bn).length !== 1 || !CONV_CLASSES.has(conv.getClassName())) return undefined;
  if ((counts.get(conv) ?? 0) !== 1) return undefined;
  const activation = (conv.getConfig() as LayerConfigLike).activation;
  if (activation !== "linear" && activation !== undefined) return undefined;
  return conv;
}

type Activation = "linear" | "relu" | "relu6";

/** "relu" / "relu6" when the layer is a plain ReLU (max 6 or none) or Activation(relu|relu6). */
function fusableActivation(layer: Layer): Exclude<Activation, "linear"> | undefined {
  const config = layer.getConfig() as LayerConfigLike;
  if (layer.getClassName() === "ReLU") {
    if (config.maxValue === 6) return "relu6";
    return config.maxValue === undefined || config.maxValue === null ? "relu" : undefined;
  }
  if (layer.getClassName() === "Activation" && (config.activation === "relu" || config.activation === "relu6")) return config.activation;
  return undefined;
}

/**
 * A folded convolution as one fused op (conv + bias + ReLU/ReLU6 in XNNPACK on wasm). tfjs-layers'
 * own Conv2D fuses only "relu": a "relu6" activation runs as relu, then minimum(6) (measured:
 * MobileNetV2 49 ms that way vs 28 ms unfused), and DepthwiseConv2D adds its bias separately.
 * Inference only (no gradient, not serialisable).
 */
class FusedConvolution extends tf.layers.Layer {
  static className = "ShowcaseFusedConvolution";
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(
    private readonly conv: { depthwise: boolean; strides: [number, number]; padding: "same" | "valid"; dilations: [number, number]; activation: Activation },
    private readonly shapes: { kernel: number[]; bias: number[]; output: tf.Shape },
    name: string,
  ) {
    super({ name });
  }

  override build(): void {
    this.kernel = this.addWeight("kernel", this.shapes.kernel, "float32", tf.initializers.zeros());
    this.bias = this.addWeight("bias", this.shapes.bias, "float32", tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(): tf.Shape {
    return this.shapes.output;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const args = { x, strides: this.conv.strides, pad: this.conv.padding, dilations: this.conv.dilations, bias: this.bias!.read(), activation: this.conv.activation };
    return this.conv.depthwise
      ? tf.fused.depthwiseConv2d({ ...args, filter: this.kernel!.read() as tf.Tensor4D })
      : tf.fused.conv2d({ ...args, filter: this.kernel!.read() as tf.Tensor4D });
  }
}

function fusedConvolution(conv: Layer, activation: Activation, kernel: tf.Tensor, bias: tf.Tensor): FusedConvolution {
  const config = conv.getConfig() as { strides?: number[]; padding?: string; dilationRate?: number | number[] };
  const pair = (v: number | number[] | undefined): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v ?? 1, v ?? 1]);
  const outputShape = conv.outputShape as tf.Shape;
  return new FusedConvolution(
    { depthwise: conv.getClassName() === "DepthwiseConv2D", strides: pair(config.strides), padding: config.padding as "same" | "valid", dilations: pair(config.dilationRate), activation },
    { kernel: kernel.shape, bias: bias.shape, output: outputShape },
    conv.name,
  );
}

/** A fresh layer of the same class from its (possibly changed) config: works for custom layers too. */
function cloneLayer(layer: Layer, configChanges: LayerConfigLike = {}): Layer {
  const config = { ...(layer.getConfig() as LayerConfigLike), ...configChanges };
  const LayerClass = layer.constructor as new (config: LayerConfigLike) => Layer;
  return new LayerClass(config);
}

/** Folded kernel and bias of conv → bn. */
function foldedWeights(conv: Layer, bn: Layer): tf.Tensor[] {
  return tf.tidy(() => {
    const bnConfig = bn.getConfig() as LayerConfigLike;
    const weights = bn.getWeights();
    let i = 0;
    const gamma = bnConfig.scale === false ? undefined : weights[i++];
    const beta = bnConfig.center === false ? undefined : weights[i++];
    const mean = weights[i++];
    const variance = weights[i++];
    const scale = tf.div(gamma ?? tf.onesLike(mean), tf.sqrt(tf.add(variance, Number(bnConfig.epsilon ?? 1e-3))));
    const [kernel, bias] = conv.getWeights();
    const isDepthwise = conv.getClassName() === "DepthwiseConv2D";
    const kernelScale = isDepthwise ? tf.reshape(scale, [1, 1, kernel.shape[2] as number, kernel.shape[3] as number]) : scale;
    const newKernel = tf.mul(kernel, kernelScale);
    const convBias = bias ?? tf.zerosLike(mean);
    const newBias = tf.add(tf.mul(tf.sub(convBias, mean), scale), beta ?? tf.zerosLike(mean));
    return [newKernel, newBias];
  });
}

/**
 * Returns a new inference-only model; the original is unchanged. Dispose the returned model when done.
 * Numerically equal to `model.predict` (inference-mode BN) up to float32 rounding.
 */
export function foldBatchNormForInference(model: tf.LayersModel): FoldResult {
  const counts = consumerCounts(model);
  const mapped = new Map<Layer, Sym | Sym[]>();
  const foldedInto = new Map<Layer, Layer>(); // bn → conv
  const fusedAfter = new Map<Layer, Layer>(); // activation → bn
  for (const layer of model.layers) {
    const conv = isFoldableBatchNorm(layer, counts);
    if (conv) foldedInto.set(layer, conv);
  }
  for (const layer of model.layers) {
    const [producer] = producersOf(layer);
    if (producer && producersOf(layer).length === 1 && foldedInto.has(producer) && (counts.get(producer) ?? 0) === 1 && fusableActivation(layer)) {
      fusedAfter.set(layer, producer);
    }
  }
  const inputs: Sym[] = [];
  let foldedBatchNorms = 0;
  let fusedActivations = 0;
  const input = (layer: Layer): Sym | Sym[] => {
    const node = layer.inboundNodes[0];
    const tensors = node.inputTensors.map((t) => {
      const source = mapped.get(t.sourceLayer as Layer);
      if (!source) throw new Error(`foldBatchNormForInference: ${layer.name} uses ${t.sourceLayer.name} before it is built`);
      return Array.isArray(source) ? source[t.outputTensorIndex ?? 0] : source;
    });
    return tensors.length === 1 ? tensors[0] : tensors;
  };
  const pendingConvs = new Set(foldedInto.values());
  for (const layer of model.layers) {
    if (layer.getClassName() === "InputLayer") {
      const t = tf.input({ shape: (layer.batchInputShape ?? (layer.getConfig() as LayerConfigLike).batchInputShape as number[]).slice(1) as number[], name: layer.name });
      inputs.push(t);
      mapped.set(layer, t);
      continue;
    }
    if (pendingConvs.has(layer)) continue; // built when its BatchNormalization is reached
    const conv = foldedInto.get(layer);
    if (conv) {
      const activationLayer = [...fusedAfter.entries()].find(([, bn]) => bn === layer)?.[0];
      const activation = (activationLayer && fusableActivation(activationLayer)) || "linear";
      const weights = foldedWeights(conv, layer);
      const folded = fusedConvolution(conv, activation, weights[0], weights[1]);
      const out = folded.apply(input(conv)) as Sym;
      folded.setWeights(weights);
      tf.dispose(weights);
      mapped.set(layer, out);
      foldedBatchNorms++;
      if (activationLayer) fusedActivations++;
      continue;
    }
    const fusedBn = fusedAfter.get(layer);
    if (fusedBn) {
      mapped.set(layer, mapped.get(fusedBn)!);
      continue;
    }
    const clone = cloneLayer(layer);
    const out = clone.apply(input(layer)) as Sym | Sym[];
    clone.setWeights(layer.getWeights());
    mapped.set(layer, out);
  }
  const outputs = model.outputs.map((o) => {
    const m = mapped.get(o.sourceLayer as Layer)!;
    return Array.isArray(m) ? m[o.outputTensorIndex ?? 0] : m;
  });
  return { model: tf.model({ inputs, outputs, name: `${model.name}_folded` }), foldedBatchNorms, fusedActivations };
}
