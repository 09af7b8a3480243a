// tf.moments over every axis but the last (batch norm's statistics, channels last) in three dispatches
// instead of tfjs's six (two Means, each a Transpose + Reduce, a Sub and a Square), with a gradient in
// one pass instead of ~8 (Mean's broadcasts, Square's and Sub's gradients, Neg, Sum, the Adds):
//   per part of the rows: count, mean and M2 = Σ(x − mean_part)²            one split reduction
//   mean, variance from the parts (Chan's parallel formula, as exact as two passes)  two tiny passes
//   dx = dmean/N + dvariance·2(x − mean)/N                                    one elementwise pass
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, flatProgram, runChannelPartials } from "./program";

export const MOMENTS_KERNEL = "ShowcaseWebGpuMoments";
export const MOMENTS_GRAD_KERNEL = "ShowcaseWebGpuMomentsGrad";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown };

export function moments(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { x } = args.inputs as Record<string, tf.TensorInfo>;
  const C = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  // partials[p][0][c] = mean of part p, partials[p][1][c] = Σ (x − that mean)² over part p.
  const { partials, parts, span } = runChannelPartials(backend, {
    key: "showcase_moments_parts",
    variableNames: ["x"],
    inputs: [x],
    rows,
    channels: C,
    body: `
        var sum = 0.0;
        for (var r = start; r < stop; r++) { sum += x[r * C + c]; }
        let m = sum / f32(max(stop - start, 1));
        var m2 = 0.0;
        for (var r = start; r < stop; r++) { let d = x[r * C + c] - m; m2 += d * d; }
        result[(p * 2) * C + c] = m;
        result[(p * 2 + 1) * C + c] = m2;`,
  });
  // which: 0 mean, 1 variance. A fresh program object per run (the backend rewrites shaderKey).
  const finish = () => flatProgram({
    key: "showcase_moments_finish",
    variableNames: ["partials"],
    outputShape: [C],
    uniforms: "parts : i32, rows : i32, span : i32, which : i32,",
    body: `
          let c = index;
          let C = uniforms.size;
          let N = f32(uniforms.rows);
          var mean = 0.0;
          for (var p = 0; p < uniforms.parts; p++) {
            let n = f32(max(min((p + 1) * uniforms.span, uniforms.rows) - p * uniforms.span, 0));
            mean += n * partials[(p * 2) * C + c];
          }
          mean = mean / N;
          var value = mean;
          if (uniforms.which == 1) {
            var m2 = 0.0;
            for (var p = 0; p < uniforms.parts; p++) {
              let n = f32(max(min((p + 1) * uniforms.span, uniforms.rows) - p * uniforms.span, 0));
              let d = partials[(p * 2) * C + c] - mean;
              m2 += partials[(p * 2 + 1) * C + c] + n * d * d;
            }
            value = m2 / N;
          }
          setOutputAtIndex(index, value);`,
  });
  const outputs = [0, 1].map((which) =>
    backend.runWebGPUProgram(finish(), [partials], "float32", [
      { type: "int32", data: [parts] },
      { type: "int32", data: [rows] },
      { type: "int32", data: [span] },
      { type: "int32", data: [which] },
    ]),
  );
  backend.disposeData(partials.dataId);
  return outputs;
}

export function momentsGrad(args: KernelArgs): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { x, mean, dMean, dVariance } = args.inputs as Record<string, tf.TensorInfo>;
  const C = mean.shape[0];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const program = flatProgram({
    key: "showcase_moments_grad",
    variableNames: ["x", "mean", "dMean", "dVariance"],
    outputShape: x.shape,
    uniforms: "channels : i32, count : f32,",
    body: `
          let c = index % uniforms.channels;
          setOutputAtIndex(index, (dMean[c] + 2.0 * dVariance[c] * (x[index] - mean[c])) / uniforms.count);`,
  });
  return backend.runWebGPUProgram(program, [x, mean, dMean, dVariance], "float32", [
    { type: "int32", data: [C] },
    { type: "float32", data: [rows] },
  ]);
}

/** The gradient of MOMENTS_KERNEL (saved: x, then the mean); an output without a gradient counts as zero. */
export const momentsGradConfig: tf.GradConfig = {
  kernelName: MOMENTS_KERNEL,
  inputsToSave: ["x"],
  outputsToSave: [true, false],
  gradFunc: (dy, saved) => {
    const [x, mean] = saved;
    const [dMean, dVariance] = (dy as (tf.Tensor | null)[]).map((d) => d ?? tf.zerosLike(mean));
    return { x: () => tf.engine().runKernel(MOMENTS_GRAD_KERNEL, { x, mean, dMean, dVariance }) as tf.Tensor };
  },
};
