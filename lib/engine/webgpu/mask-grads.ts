// ReLU, ReLU6 and ClipByValue gradients as one pass: dx = dy where the forward input was inside the
// active range, else 0. tfjs-core spends two to five dispatches on each (step, cast, multiply; or two
// comparisons with host-made scalar bounds, logicalAnd, zerosLike, select).
import * as tf from "@tensorflow/tfjs";
import type { GradFunc, MaskBounds } from "../gradient-overrides";
import { asWebGpuBackend, flatProgram, type KernelArgs } from "./program";

export const MASK_GRAD_KERNEL = "ShowcaseWebGpuMaskGrad";

/** dx = dy · [lo < x ≤ hi] (loExclusive) or dy · [lo ≤ x ≤ hi]. */
export function maskGrad(args: KernelArgs): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as { lo: number; hi: number; loExclusive: boolean };
  const lowTest = attrs.loExclusive ? "v > uniforms.lo" : "v >= uniforms.lo";
  const program = flatProgram({
    key: `showcase_mask_grad_${attrs.loExclusive ? "open" : "closed"}`,
    variableNames: ["x", "dy"],
    outputShape: dy.shape,
    uniforms: "lo : f32, hi : f32,",
    body: `
          let v = x[index];
          setOutputAtIndex(index, select(0.0, dy[index], ${lowTest} && v <= uniforms.hi));`,
  });
  return backend.runWebGPUProgram(program, [x, dy], "float32", [
    { type: "float32", data: [attrs.lo] },
    // +Infinity is not representable in a WGSL literal but is fine as uniform data.
    { type: "float32", data: [attrs.hi] },
  ]);
}


export function maskGradFunc(original: GradFunc, bounds: MaskBounds): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (tf.getBackend() !== "webgpu" || x.dtype !== "float32" || g.dtype !== "float32" || !tf.util.arraysEqual(x.shape, g.shape)) return original(dy, saved, attrs);
    return { x: () => tf.engine().runKernel(MASK_GRAD_KERNEL, { x, dy: g }, bounds(attrs) as unknown as tf.NamedAttrMap) as tf.Tensor };
  };
}
