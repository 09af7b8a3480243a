// SplitV (Concatenate's gradient: DenseNet's and the Inceptions' branches) in one dispatch writing every
// piece, instead of tfjs-backend-webgpu 4.22's one Slice program per piece. Pieces beyond what one
// program can bind (storage buffers per stage − 1), other dtypes and empty pieces take tfjs's kernel.
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, extraOutputDeclarations, type KernelArgs, runWithExtraOutputs, storageBuffersPerProgram, type WebGpuProgram } from "./program";

/** tfjs's own way: one Slice per piece. */
function splitBySlices(args: KernelArgs, x: tf.TensorInfo, axis: number, sizes: number[]): tf.TensorInfo[] {
  const slice = tf.getKernel("Slice", "webgpu")!.kernelFunc;
  const begin = x.shape.map(() => 0);
  return sizes.map((s) => {
    const size = x.shape.map((d, i) => (i === axis ? s : d));
    const piece = slice({ inputs: { x }, backend: args.backend as tf.KernelBackend, attrs: { begin: [...begin], size } }) as tf.TensorInfo;
    begin[axis] += s;
    return piece;
  });
}

export function splitV(args: KernelArgs): tf.TensorInfo[] {
  const { inputs, attrs } = args;
  const backend = asWebGpuBackend(args.backend);
  const x = inputs.x as tf.TensorInfo;
  const axis = tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs?.numOrSizeSplits as number | number[], axis);
  const pieces = sizes.length;
  if (x.dtype !== "float32" || pieces < 2 || pieces > storageBuffersPerProgram(backend) - 1 || sizes.some((s) => s === 0)) return splitBySlices(args, x, axis, sizes);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const ends = sizes.map((_, k) => sizes.slice(0, k + 1).reduce((a, b) => a + b, 0));
  const shapes = sizes.map((s) => x.shape.map((d, i) => (i === axis ? s : d)));
  const target = (k: number) => (k === 0 ? "result" : `extra${k - 1}`);
  const branches = sizes.map((_, k) => {
    const begin = k === 0 ? "0" : `uniforms.end${k - 1}`;
    return `${k === 0 ? "if" : "else if"} (a < uniforms.end${k}) {
        let s = uniforms.end${k} - ${begin};
        ${target(k)}[(o * s + a - ${begin}) * inner + j] = x[index];
      }`;
  });
  const total = tf.util.sizeFromShape(x.shape);
  const program: WebGpuProgram = {
    variableNames: ["x"],
    outputShape: [tf.util.sizeFromShape(shapes[0])],
    shaderKey: `showcase_split_${pieces}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(total / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: `total : i32, inner : i32, axisSize : i32, ${ends.map((_, k) => `end${k} : i32,`).join(" ")}`,
    getUserCode: () => `
      ${extraOutputDeclarations(1, pieces - 1)}
      fn main(index : i32) {
        if (index >= uniforms.total) { return; }
        let inner = uniforms.inner;
        let a = (index / inner) % uniforms.axisSize;
        let o = index / (inner * uniforms.axisSize);
        let j = index % inner;
        ${branches.join(" ")}
      }`,
  };
  const flatX = { ...x, shape: [total] };
  const uniforms = [total, inner, x.shape[axis], ...ends].map((n) => ({ type: "int32" as const, data: [n] }));
  const outputs = runWithExtraOutputs(backend, program, [flatX], uniforms, shapes.slice(1));
  outputs[0] = { ...outputs[0], shape: shapes[0] };
  return outputs;
}
