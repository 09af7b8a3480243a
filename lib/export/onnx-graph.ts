// A small builder of ONNX graphs over the onnx-proto schema (protobufjs): nodes, float and int64
// initializers, attributes, and the encoded ModelProto. The field numbers come from the package.
import { onnx } from "onnx-proto";

export const ONNX_OPSET = 13;
/** IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;

export type AttributeValue = number | number[] | string | { floats: number[] };

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === "object") return { name, type: T.FLOATS, floats: value.floats };
  return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}

/** A float attribute that happens to be whole (Clip bounds, epsilon 1) must still be written as FLOAT. */
export function floatAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();

  /** A name not used yet in this graph (ONNX requires unique node outputs). */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  node(opType: string, inputs: string[], opts: { name: string; attributes?: Record<string, AttributeValue>; floatAttributes?: Record<string, number>; output?: string }): string {
    const output = opts.output ?? this.unique(opts.name);
    if (opts.output) this.names.add(opts.output);
    const attribute_ = [
      ...Object.entries(opts.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      ...Object.entries(opts.floatAttributes ?? {}).map(([k, v]) => floatAttribute(k, v)),
    ];
    this.nodes.push({ opType, input: inputs, output: [output], name: this.unique(`${opts.name}/${opType}`), attribute: attribute_ });
    return output;
  }

  floats(name: string, dims: number[], values: Float32Array): string {
    const unique = this.unique(name);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice(); // little-endian, as ONNX raw_data
    this.initializers.push({ name: unique, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return unique;
  }

  int64s(name: string, values: number[]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return unique;
  }

  scalar(name: string, value: number): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [value] });
    return unique;
  }

  /** The encoded model: one float32 input with a symbolic batch dimension, float32 outputs of known rank. */
  encode(opts: {
    graphName: string;
    input: { name: string; shape: Array<number | string> };
    outputs: Array<{ name: string; shape: Array<number | string> }>;
    metadata: Record<string, string>;
    producerVersion: string;
  }): Uint8Array {
    const valueInfo = (name: string, shape: Array<number | string>): onnx.IValueInfoProto => ({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: ONNX_OPSET }],
      producerName: "deeplearning-showcase",
      producerVersion: opts.producerVersion,
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: [valueInfo(opts.input.name, opts.input.shape)],
        output: opts.outputs.map((o) => valueInfo(o.name, o.shape)),
      },
      metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
