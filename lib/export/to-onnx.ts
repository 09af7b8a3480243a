// tfjs LayersModel → ONNX, walked in the builders' vocabulary (Keras layer classes and names), so an
// unsupported layer fails naming itself. tfjs is NHWC with HWIO kernels; ONNX Conv is NCHW with OIHW:
// the graph transposes once at the input and keeps every 4-D tensor NCHW after that.
// BatchNormalization is written as the ONNX op (ONNX Runtime folds it into the convolution).
import * as tf from "@tensorflow/tfjs";
import { type AttributeValue, ONNX_OPSET, OnnxGraphBuilder } from "./onnx-graph";

type Layer = tf.layers.Layer;
type Sym = tf.SymbolicTensor;
type Config = Record<string, unknown>;

export interface OnnxExport {
  bytes: Uint8Array;
  opset: number;
  /** The tfjs input layer's name; NHWC float32 [batch, height, width, 3], already preprocessed. */
  inputName: string;
  inputShape: Array<number | string>;
  outputNames: string[];
  /** Layers written, by Keras class. */
  layerCounts: Record<string, number>;
}

export class UnsupportedLayerError extends Error {
  constructor(layer: Layer, why: string) {
    super(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) ${why}`);
    this.name = "UnsupportedLayerError";
  }
}

export const SUPPORTED_LAYER_CLASSES = [
  "InputLayer", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "Activation", "ReLU", "ZeroPadding2D", "MaxPooling2D",
  "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Concatenate", "Add", "CustomScaleLayer", "Dense",
  "Dropout", "Reshape", "Flatten",
] as const;

interface Value {
  name: string;
  /** tfjs shape (NHWC for rank 4) without the batch dimension's value. */
  shape: tf.Shape;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [(v as number) ?? 1, (v as number) ?? 1]);

/** TensorFlow 'same' padding: total = max((out−1)·s + (k−1)·d + 1 − in, 0), the odd pixel at the end. */
export function samePads(inputHW: [number, number], kernel: [number, number], strides: [number, number], dilations: [number, number]): number[] {
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(inputHW[i] / strides[i]);
    const total = Math.max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inputHW[i], 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

function tensorData(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** Writes the ONNX model of `model` (any of the eight networks, with or without a head). */
export function exportToOnnx(model: tf.LayersModel, opts: { metadata?: Record<string, string> } = {}): OnnxExport {
  if (model.inputs.length !== 1) throw new Error(`ONNX export: ${model.name} has ${model.inputs.length} inputs; one image input is supported`);
  const g = new OnnxGraphBuilder();
  const values = new Map<number, Value>(); // SymbolicTensor id → ONNX value
  const layerCounts: Record<string, number> = {};
  const input = model.inputs[0];
  const inputShape = input.shape.slice(1) as number[];
  if (inputShape.length !== 3) throw new Error(`ONNX export: ${model.name}'s input must be [height, width, channels], got ${JSON.stringify(inputShape)}`);
  const inputName = input.sourceLayer.name;
  g.unique(inputName);
  values.set(input.id, { name: g.node("Transpose", [inputName], { name: `${inputName}_nchw`, attributes: { perm: [0, 3, 1, 2] } }), shape: input.shape });

  const visiting = new Set<number>();
  const emit = (t: Sym): Value => {
    const known = values.get(t.id);
    if (known) return known;
    if (visiting.has(t.id)) throw new Error(`ONNX export: cycle at ${t.sourceLayer.name}`);
    visiting.add(t.id);
    const layer = t.sourceLayer as Layer;
    const node = layer.inboundNodes[t.nodeIndex];
    const inputs = node.inputTensors.map(emit);
    const outputs = node.outputTensors;
    if (outputs.length !== 1) throw new UnsupportedLayerError(layer, `has ${outputs.length} outputs; one is supported`);
    const name = g.unique(t.nodeIndex === 0 ? layer.name : `${layer.name}_${t.nodeIndex}`);
    const out = convertLayer(g, layer, inputs, name, outputs[0].shape);
    layerCounts[layer.getClassName()] = (layerCounts[layer.getClassName()] ?? 0) + 1;
    const value = { name: out, shape: outputs[0].shape };
    values.set(t.id, value);
    visiting.delete(t.id);
    return value;
  };

  const outputNames: string[] = [];
  const outputInfos: Array<{ name: string; shape: Array<number | string> }> = [];
  for (const output of model.outputs) {
    const value = emit(output);
    const rank = output.shape.length;
    // A 4-D output goes back to the tfjs layout, so that both runtimes return the same array.
    const name = rank === 4 ? g.node("Transpose", [value.name], { name: `${value.name}_nhwc`, attributes: { perm: [0, 2, 3, 1] } }) : value.name;
    outputNames.push(name);
    outputInfos.push({ name, shape: ["batch", ...(output.shape.slice(1) as number[])] });
  }
  const shape = ["batch", ...inputShape];
  const bytes = g.encode({
    graphName: model.name,
    input: { name: inputName, shape },
    outputs: outputInfos,
    metadata: { inputLayout: "NHWC", ...opts.metadata },
    producerVersion: `tfjs ${tf.version.tfjs}`,
  });
  return { bytes, opset: ONNX_OPSET, inputName, inputShape: shape, outputNames, layerCounts };
}

/** ONNX nodes of one layer application; returns the name of its output value. */
function convertLayer(g: OnnxGraphBuilder, layer: Layer, inputs: Value[], name: string, outputShape: tf.Shape): string {
  const config = layer.getConfig() as Config;
  const className = layer.getClassName();
  const [x] = inputs;
  const rank = x?.shape.length ?? 0;
  const only4d = () => {
    if (rank !== 4) throw new UnsupportedLayerError(layer, `takes a ${rank}-D input; 4-D (NHWC) is supported`);
  };
  const channelsLast = () => {
    const axis = config.axis as number | undefined;
    if (axis !== undefined && axis !== -1 && axis !== rank - 1) throw new UnsupportedLayerError(layer, `works on axis ${axis}; only the channel (last) axis is supported`);
  };
  switch (className) {
    case "Conv2D":
    case "DepthwiseConv2D": {
      only4d();
      const weights = layer.getWeights();
      const kernel = weights[0];
      const [kh, kw, inC, m] = kernel.shape;
      const depthwise = className === "DepthwiseConv2D";
      // HWIO → OIHW; depthwise HW·C·M → (C·M)·1·H·W with group = C (output channel c·M + m, as tfjs).
      const w = tf.tidy(() => (depthwise ? tf.reshape(tf.transpose(kernel, [2, 3, 0, 1]), [inC * m, 1, kh, kw]) : tf.transpose(kernel, [3, 2, 0, 1])));
      const wName = g.floats(`${layer.name}/kernel`, w.shape, tensorData(w));
      w.dispose();
      const inputsOnnx = [x.name, wName];
      if (weights[1]) inputsOnnx.push(g.floats(`${layer.name}/bias`, weights[1].shape, tensorData(weights[1])));
      const strides = pair(config.strides);
      const dilations = pair(config.dilationRate);
      if (config.dataFormat && config.dataFormat !== "channelsLast") throw new UnsupportedLayerError(layer, `uses data format ${String(config.dataFormat)}; channelsLast is supported`);
      const attributes: Record<string, AttributeValue> = { kernel_shape: [kh, kw], strides, dilations, group: depthwise ? inC : 1 };
      attributes.pads = config.padding === "same" ? samePads([x.shape[1] as number, x.shape[2] as number], [kh, kw], strides, dilations) : [0, 0, 0, 0];
      if (config.padding !== "same" && config.padding !== "valid") throw new UnsupportedLayerError(layer, `has padding "${String(config.padding)}"; same and valid are supported`);
      const conv = g.node("Conv", inputsOnnx, { name, attributes, output: activationOf(config) === "linear" ? name : undefined });
      return activation(g, layer, conv, config, name, rank);
    }
    case "BatchNormalization": {
      channelsLast();
      const weights = layer.getWeights();
      let i = 0;
      const gamma = config.scale === false ? undefined : weights[i++];
      const beta = config.center === false ? undefined : weights[i++];
      const [mean, variance] = [weights[i++], weights[i++]];
      const channels = mean.shape[0];
      const ones = new Float32Array(channels).fill(1);
      const scale = g.floats(`${layer.name}/gamma`, [channels], gamma ? tensorData(gamma) : ones);
      const bias = g.floats(`${layer.name}/beta`, [channels], beta ? tensorData(beta) : new Float32Array(channels));
      const m = g.floats(`${layer.name}/moving_mean`, [channels], tensorData(mean));
      const v = g.floats(`${layer.name}/moving_variance`, [channels], tensorData(variance));
      return g.node("BatchNormalization", [x.name, scale, bias, m, v], { name, output: name, floatAttributes: { epsilon: Number(config.epsilon ?? 1e-3) } });
    }
    case "Activation":
      return activation(g, layer, x.name, config, name, rank, true);
    case "ReLU": {
      if (config.negativeSlope) throw new UnsupportedLayerError(layer, "has a negative slope; plain ReLU is supported");
      const max = config.maxValue as number | null | undefined;
      if (max === undefined || max === null) return g.node("Relu", [x.name], { name, output: name });
      return g.node("Clip", [x.name, g.scalar(`${layer.name}/min`, 0), g.scalar(`${layer.name}/max`, max)], { name, output: name });
    }
    case "ZeroPadding2D": {
      only4d();
      const [[top, bottom], [left, right]] = (config.padding as [[number, number], [number, number]]).map((p) => pair(p));
      return g.node("Pad", [x.name, g.int64s(`${layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right])], { name, output: name, attributes: { mode: "constant" } });
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      only4d();
      const kernel = pair(config.poolSize);
      const strides = pair(config.strides ?? config.poolSize);
      if (config.padding !== "same" && config.padding !== "valid") throw new UnsupportedLayerError(layer, `has padding "${String(config.padding)}"; same and valid are supported`);
      const pads = config.padding === "same" ? samePads([x.shape[1] as number, x.shape[2] as number], kernel, strides, [1, 1]) : [0, 0, 0, 0];
      // TensorFlow's average over 'same' padding divides by the pixels inside the image: count_include_pad = 0.
      return g.node(className === "MaxPooling2D" ? "MaxPool" : "AveragePool", [x.name], { name, output: name, attributes: { kernel_shape: kernel, strides, pads } });
    }
    case "GlobalAveragePooling2D":
    case "GlobalMaxPooling2D": {
      only4d();
      const pooled = g.node(className === "GlobalAveragePooling2D" ? "GlobalAveragePool" : "GlobalMaxPool", [x.name], { name: `${name}_pool` });
      return g.node("Flatten", [pooled], { name, output: name, attributes: { axis: 1 } });
    }
    case "Concatenate": {
      const axis = (config.axis as number | undefined) ?? -1;
      if (axis !== -1 && axis !== rank - 1) throw new UnsupportedLayerError(layer, `concatenates on axis ${axis}; only the channel (last) axis is supported`);
      return g.node("Concat", inputs.map((v) => v.name), { name, output: name, attributes: { axis: 1 } });
    }
    case "Add":
      return g.node(inputs.length === 2 ? "Add" : "Sum", inputs.map((v) => v.name), { name, output: name });
    case "CustomScaleLayer": {
      // InceptionResNetV2: inputs [x, residual] → x + residual·scale.
      const scale = (layer as unknown as { scale: number }).scale;
      if (inputs.length !== 2 || typeof scale !== "number") throw new UnsupportedLayerError(layer, "needs inputs [x, residual] and a numeric scale");
      const scaled = g.node("Mul", [inputs[1].name, g.scalar(`${layer.name}/scale`, scale)], { name: `${name}_scaled` });
      return g.node("Add", [inputs[0].name, scaled], { name, output: name });
    }
    case "Dense": {
      if (rank !== 2) throw new UnsupportedLayerError(layer, `takes a ${rank}-D input; 2-D (features) is supported`);
      const [kernel, bias] = layer.getWeights();
      const inputsOnnx = [x.name, g.floats(`${layer.name}/kernel`, kernel.shape, tensorData(kernel))];
      if (bias) inputsOnnx.push(g.floats(`${layer.name}/bias`, bias.shape, tensorData(bias)));
      const gemm = g.node("Gemm", inputsOnnx, { name, output: activationOf(config) === "linear" ? name : undefined });
      return activation(g, layer, gemm, config, name, rank);
    }
    case "Dropout":
      return g.node("Identity", [x.name], { name, output: name }); // inference: no dropout
    case "Reshape":
    case "Flatten": {
      // Reshape in the tfjs (NHWC) element order: back to NHWC first, to NCHW again after.
      const nhwc = rank === 4 ? g.node("Transpose", [x.name], { name: `${name}_nhwc`, attributes: { perm: [0, 2, 3, 1] } }) : x.name;
      const target = outputShape.slice(1) as number[];
      const outRank = outputShape.length;
      const reshaped = g.node("Reshape", [nhwc, g.int64s(`${layer.name}/shape`, [-1, ...target])], { name: `${name}_reshape`, output: outRank === 4 ? undefined : name });
      return outRank === 4 ? g.node("Transpose", [reshaped], { name, output: name, attributes: { perm: [0, 3, 1, 2] } }) : reshaped;
    }
    default:
      throw new UnsupportedLayerError(layer, `has no ONNX translation; supported classes: ${SUPPORTED_LAYER_CLASSES.join(", ")}`);
  }
}

function activationOf(config: Config): string {
  return (config.activation as string | undefined) ?? "linear";
}

/** The layer's activation on `x` ("linear" is `x` itself unless the layer is an Activation layer). */
function activation(g: OnnxGraphBuilder, layer: Layer, x: string, config: Config, name: string, rank: number, isLayer = false): string {
  const kind = activationOf(config);
  switch (kind) {
    case "linear":
      return isLayer ? g.node("Identity", [x], { name, output: name }) : x;
    case "relu":
      return g.node("Relu", [x], { name, output: name });
    case "relu6":
      return g.node("Clip", [x, g.scalar(`${layer.name}/min`, 0), g.scalar(`${layer.name}/max`, 6)], { name, output: name });
    case "sigmoid":
      return g.node("Sigmoid", [x], { name, output: name });
    case "tanh":
      return g.node("Tanh", [x], { name, output: name });
    case "softmax":
      // tfjs softmax is over the last axis: the channels, which is axis 1 of an NCHW tensor.
      return g.node("Softmax", [x], { name, output: name, attributes: { axis: rank === 4 ? 1 : -1 } });
    default:
      throw new UnsupportedLayerError(layer, `has activation "${kind}"; supported: linear, relu, relu6, sigmoid, tanh, softmax`);
  }
}
