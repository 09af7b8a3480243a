// Gradients of Sum and Mean without a host-side array. tfjs-core computes them as
// mul(reshape(dy), ones(x.shape)) (and a division by a scalar for Mean): the ones are a full-size
// Float32Array filled on the host and uploaded every step, up to 38 M elements for a batch norm of
// MobileNetV2 at batch 32. Here one program reads dy through zero strides on the reduced axes.
import * as tf from "@tensorflow/tfjs";
import type { GradFunc } from "../gradient-overrides";
import { asWebGpuBackend, flatProgram, type KernelArgs } from "./program";

export const BROADCAST_GRAD_KERNEL = "ShowcaseWebGpuBroadcastGrad";

/** dx[coords] = dy[coords with the reduced axes at 0] / divisor, for x of rank 1–4. */
export function broadcastGrad(args: KernelArgs): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { dy } = args.inputs as { dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as { shape: number[]; axes: number[]; divisor: number };
  const rank = attrs.shape.length;
  // Pad to rank 4 so that one shader (vec4 coordinates) serves every rank.
  const shape4 = [...Array(4 - rank).fill(1), ...attrs.shape];
  const reduced = new Set(attrs.axes.map((a) => a + 4 - rank));
  const strides = [0, 0, 0, 0];
  for (let d = 3, stride = 1; d >= 0; d--) {
    if (reduced.has(d)) continue;
    strides[d] = stride;
    stride *= shape4[d];
  }
  const program = flatProgram({
    key: "showcase_broadcast_grad",
    variableNames: ["dy"],
    outputShape: shape4,
    uniforms: "srcStrides : vec4<i32>, divisor : f32,",
    body: "setOutputAtIndex(index, dy[dot(getCoordsFromIndex(index), uniforms.srcStrides)] / uniforms.divisor);",
  });
  const out = backend.runWebGPUProgram(program, [dy], "float32", [
    { type: "int32", data: strides },
    { type: "float32", data: [attrs.divisor] },
  ]);
  // Same buffer, the caller's shape: a reshape on webgpu only relabels the data.
  return { ...out, shape: attrs.shape };
}


/** Sum's or Mean's gradient through the broadcast kernel on webgpu (float32, rank ≤ 4), else the original. */
export function broadcastGradFunc(original: GradFunc, mean: boolean): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (tf.getBackend() !== "webgpu" || x.dtype !== "float32" || g.dtype !== "float32" || x.rank < 1 || x.rank > 4) return original(dy, saved, attrs);
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const divisor = mean ? axes.reduce((n, a) => n * x.shape[a], 1) : 1;
    return { x: () => tf.engine().runKernel(BROADCAST_GRAD_KERNEL, { dy: g }, { shape: x.shape, axes, divisor } as unknown as tf.NamedAttrMap) as tf.Tensor };
  };
}
