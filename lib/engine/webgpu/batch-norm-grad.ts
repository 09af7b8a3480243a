// The gradient of FusedBatchNorm (per-channel statistics, channels last) in six dispatches instead of
// tfjs-core's ~20 (which also tiles 1/σ to full size and uploads five host-made scalars):
//   dx      = dy · scale / √(variance + ε)                       one elementwise pass
//   Σdy, Σdy·(x − mean) per channel                               one split reduction
//   dmean, dvariance, dscale, doffset = a·Σdy + b·Σdy·(x − mean)  four tiny passes (a, b per channel)
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, flatProgram, runChannelPartials } from "./program";

export const BATCH_NORM_GRAD_KERNEL = "ShowcaseWebGpuBatchNormGrad";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function batchNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { x, dy, mean, variance, scale } = args.inputs as Record<string, tf.TensorInfo>;
  const epsilon = Number((args.attrs ?? {}).varianceEpsilon ?? 0.001);
  const C = mean.shape[0];
  const rows = tf.util.sizeFromShape(x.shape) / C;
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

  // partials[p][0][c] = Σ dy, partials[p][1][c] = Σ dy·(x − mean) over the rows of part p.
  const { partials, parts } = runChannelPartials(backend, {
    key: "showcase_bn_grad_sums",
    variableNames: ["x", "dy", "mean"],
    inputs: [x, dy, mean],
    rows,
    channels: C,
    body: `
        let m = mean[c];
        var sumDy = 0.0;
        var sumDyXm = 0.0;
        for (var r = start; r < stop; r++) {
          let g = dy[r * C + c];
          sumDy += g;
          sumDyXm += g * (x[r * C + c] - m);
        }
        result[(p * 2) * C + c] = sumDy;
        result[(p * 2 + 1) * C + c] = sumDyXm;`,
  });

  // which: 0 dmean = −gain·Σdy, 1 dvariance = −½·inv²·gain·Σdy(x−m), 2 dscale = inv·Σdy(x−m), 3 doffset = Σdy
  // A fresh program object per run: the backend rewrites a program's shaderKey when it runs it.
  const finish = () => flatProgram({
    key: `showcase_bn_grad_finish_${withScale}`,
    variableNames: ["partials", ...(withScale ? ["variance", "scale"] : ["variance"])],
    outputShape: [C],
    uniforms: "parts : i32, which : i32, epsilon : f32,",
    body: `
          let c = index;
          let C = uniforms.size;
          var sumDy = 0.0;
          var sumDyXm = 0.0;
          for (var p = 0; p < uniforms.parts; p++) {
            sumDy += partials[(p * 2) * C + c];
            sumDyXm += partials[(p * 2 + 1) * C + c];
          }
          let inv = inverseSqrt(variance[c] + uniforms.epsilon);
          let g = ${gain};
          var value = sumDy;
          if (uniforms.which == 0) { value = -g * sumDy; }
          if (uniforms.which == 1) { value = -0.5 * inv * inv * g * sumDyXm; }
          if (uniforms.which == 2) { value = inv * sumDyXm; }
          setOutputAtIndex(index, value);`,
  });
  const outputs = [0, 1, 2, 3].map((which) =>
    backend.runWebGPUProgram(finish(), [partials, ...statistics], "float32", [
      { type: "int32", data: [parts] },
      { type: "int32", data: [which] },
      { type: "float32", data: [epsilon] },
    ]),
  );
  backend.disposeData(partials.dataId);
  return [dx, ...outputs];
}

type GradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Record<string, () => tf.Tensor>;

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
