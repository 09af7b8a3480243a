// The gradient of FusedBatchNorm (per-channel statistics given as inputs, channels last; inference-mode
// batch norm under a tape) in three dispatches instead of tfjs-core's ~20 (which also tiles 1/σ to
// full size and uploads five host-made scalars):
//   dx      = dy · scale / √(variance + ε)                       one elementwise pass
//   Σdy, Σdy·(x − mean) per channel                               one split reduction
//   dmean, dvariance, dscale, doffset = a·Σdy + b·Σdy·(x − mean)  one tiny pass, four outputs
import * as tf from "@tensorflow/tfjs";
import type { GradFunc } from "../gradient-overrides";
import { asWebGpuBackend, channelGradientSums, flatProgram, type KernelArgs, perChannelProgram, runWithExtraOutputs } from "./program";

export const BATCH_NORM_GRAD_KERNEL = "ShowcaseWebGpuBatchNormGrad";

export function batchNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { x, dy, mean, variance, scale } = args.inputs as Record<string, tf.TensorInfo>;
  const epsilon = Number((args.attrs ?? {}).varianceEpsilon ?? 0.001);
  const C = mean.shape[0];
  const withScale = scale !== undefined;
  const statistics = withScale ? [variance, scale] : [variance];
  const gain = withScale ? "scale[c] * inverseSqrt(variance[c] + uniforms.epsilon)" : "inverseSqrt(variance[c] + uniforms.epsilon)";

  const dxProgram = flatProgram({
    key: `showcase_bn_grad_dx_${withScale}`,
    variableNames: ["dy", ...(withScale ? ["variance", "scale"] : ["variance"])],
    outputShape: x.shape,
    uniforms: "channels : i32, epsilon : f32,",
    body: `
          let c = index % uniforms.channels;
          setOutputAtIndex(index, dy[index] * ${gain});`,
  });
  const dx = backend.runWebGPUProgram(dxProgram, [dy, ...statistics], "float32", [
    { type: "int32", data: [C] },
    { type: "float32", data: [epsilon] },
  ]);

  const { partials, parts } = channelGradientSums(backend, x, dy, mean);
  // dmean = −gain·Σdy (the program's own output), dvariance = −½·inv²·gain·Σdy(x−m), dscale = inv·Σdy(x−m), doffset = Σdy.
  const finish = perChannelProgram({
    key: `showcase_bn_grad_finish_${withScale}`,
    variableNames: ["partials", ...(withScale ? ["variance", "scale"] : ["variance"])],
    outputShape: [C],
    channels: C,
    extras: 3,
    uniforms: "parts : i32, epsilon : f32,",
    body: `
        var sumDy = 0.0;
        var sumDyXm = 0.0;
        for (var p = 0; p < uniforms.parts; p++) {
          sumDy += partials[(p * 2) * C + c];
          sumDyXm += partials[(p * 2 + 1) * C + c];
        }
        let inv = inverseSqrt(variance[c] + uniforms.epsilon);
        let g = ${gain};
        result[c] = -g * sumDy;
        extra0[c] = -0.5 * inv * inv * g * sumDyXm;
        extra1[c] = inv * sumDyXm;
        extra2[c] = sumDy;`,
  });
  const outputs = runWithExtraOutputs(
    backend,
    finish,
    [partials, ...statistics],
    [
      { type: "int32", data: [C] },
      { type: "int32", data: [parts] },
      { type: "float32", data: [epsilon] },
    ],
    [[C], [C], [C]],
  );
  backend.disposeData(partials.dataId);
  return [dx, ...outputs];
}

export function batchNormGradFunc(original: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    const g = dy as tf.Tensor;
    const C = x.shape[x.rank - 1];
    const perChannel = mean.rank === 1 && variance.rank === 1 && mean.shape[0] === C && variance.shape[0] === C && (scale === undefined || (scale.rank === 1 && scale.shape[0] === C));
    const floats = [x, g, mean, variance, scale].every((t) => t === undefined || t.dtype === "float32");
    if (tf.getBackend() !== "webgpu" || !perChannel || !floats || x.rank < 2) return original(dy, saved, attrs);
    // Run now, not inside the closures: tfjs runs each closure in its own tidy, which would dispose
    // the sibling outputs of a multi-output kernel.
    const inputs: tf.NamedTensorMap = scale ? { x, dy: g, mean, variance, scale } : { x, dy: g, mean, variance };
    const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, inputs, attrs) as tf.Tensor[];
    return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
  };
}
