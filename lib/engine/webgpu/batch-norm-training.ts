// A batch norm layer in training mode (statistics over every axis but the last) as one kernel of three
// dispatches, with a gradient of three, instead of moments (3) + the op (1) + two moving averages (2)
// and a gradient of 8 (the op's 6, the moments' 1, and the Add that sums x's two gradients):
//   forward   per part of the rows: mean and M2 = Σ(x − mean_part)²              one split reduction
//             mean, variance (Chan's formula) and both moving averages, per channel   one tiny pass
//             y = (x − mean)·scale/√(variance + ε) + offset                     one elementwise pass
//   backward  Σdy, Σdy·(x − mean) per part of the rows                           one split reduction
//             dscale, doffset and dx's three per-channel coefficients            one tiny pass
//             dx = a·dy + b·(x − mean) + d                                       one elementwise pass
// The tiny passes write several outputs (runWithExtraOutputs). Scale and offset are optional (Keras'
// Inceptions have no scale): a missing one is 1 or 0 in the shader, never a tensor of ones.
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, channelGradientSums, flatProgram, type KernelArgs, perChannelProgram, runChannelPartials, runWithExtraOutputs } from "./program";

export const BATCH_NORM_TRAIN_KERNEL = "ShowcaseWebGpuBatchNormTrain";
/** The same for a layer without scale (a separate name: tfjs saves a kernel's inputs for its gradient by name). */
export const BATCH_NORM_TRAIN_NO_SCALE_KERNEL = "ShowcaseWebGpuBatchNormTrainNoScale";
export const BATCH_NORM_TRAIN_GRAD_KERNEL = "ShowcaseWebGpuBatchNormTrainGrad";

const scaleOf = (withScale: boolean) => (withScale ? "scale[c]" : "1.0");

/**
 * Inputs x, movingMean, movingVariance, and scale and offset where the layer has them; attrs epsilon
 * and decay (1 − momentum). Outputs [y, stats = [mean; variance] as [2, C], new moving mean, new
 * moving variance].
 */
export function batchNormTrain(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { x, movingMean, movingVariance, scale, offset } = args.inputs as Record<string, tf.TensorInfo | undefined> & { x: tf.TensorInfo; movingMean: tf.TensorInfo; movingVariance: tf.TensorInfo };
  const { epsilon, decay } = args.attrs as { epsilon: number; decay: number };
  const C = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  // partials[p][0][c] = mean of part p, partials[p][1][c] = Σ (x − that mean)² over part p.
  const { partials, parts, span } = runChannelPartials(backend, {
    key: "showcase_bn_train_parts",
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
  const statsProgram = perChannelProgram({
    key: "showcase_bn_train_stats",
    variableNames: ["partials", "movingMean", "movingVariance"],
    outputShape: [2, C],
    channels: C,
    extras: 2,
    uniforms: "parts : i32, rows : i32, span : i32, decay : f32,",
    body: `
        let N = f32(uniforms.rows);
        var mean = 0.0;
        for (var p = 0; p < uniforms.parts; p++) {
          let n = f32(max(min((p + 1) * uniforms.span, uniforms.rows) - p * uniforms.span, 0));
          mean += n * partials[(p * 2) * C + c];
        }
        mean = mean / N;
        var m2 = 0.0;
        for (var p = 0; p < uniforms.parts; p++) {
          let n = f32(max(min((p + 1) * uniforms.span, uniforms.rows) - p * uniforms.span, 0));
          let d = partials[(p * 2) * C + c] - mean;
          m2 += partials[(p * 2 + 1) * C + c] + n * d * d;
        }
        let variance = m2 / N;
        result[c] = mean;
        result[C + c] = variance;
        extra0[c] = movingMean[c] - (movingMean[c] - mean) * uniforms.decay;
        extra1[c] = movingVariance[c] - (movingVariance[c] - variance) * uniforms.decay;`,
  });
  const [stats, newMovingMean, newMovingVariance] = runWithExtraOutputs(
    backend,
    statsProgram,
    [partials, movingMean, movingVariance],
    [
      { type: "int32", data: [C] },
      { type: "int32", data: [parts] },
      { type: "int32", data: [rows] },
      { type: "int32", data: [span] },
      { type: "float32", data: [decay] },
    ],
    [[C], [C]],
  );
  backend.disposeData(partials.dataId);

  const affine = [...(scale ? ["scale"] : []), ...(offset ? ["offset"] : [])];
  const normalize = flatProgram({
    key: `showcase_bn_train_y_${affine.join("_")}`,
    variableNames: ["x", "stats", ...affine],
    outputShape: x.shape,
    uniforms: "channels : i32, epsilon : f32,",
    body: `
          let c = index % uniforms.channels;
          let C = uniforms.channels;
          setOutputAtIndex(index, (x[index] - stats[c]) * inverseSqrt(stats[C + c] + uniforms.epsilon) * ${scaleOf(Boolean(scale))} + ${offset ? "offset[c]" : "0.0"});`,
  });
  const y = backend.runWebGPUProgram(normalize, [x, stats, ...(scale ? [scale] : []), ...(offset ? [offset] : [])], "float32", [
    { type: "int32", data: [C] },
    { type: "float32", data: [epsilon] },
  ]);
  return [y, stats, newMovingMean, newMovingVariance];
}

/** Inputs x, dy, stats (the forward's) and scale if any; attrs epsilon. Outputs [dx, dscale, doffset]. */
export function batchNormTrainGrad(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { x, dy, stats, scale } = args.inputs as Record<string, tf.TensorInfo | undefined> & { x: tf.TensorInfo; dy: tf.TensorInfo; stats: tf.TensorInfo };
  const epsilon = Number((args.attrs ?? {}).epsilon);
  const C = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  // The mean is the first row of the stats.
  const { partials, parts } = channelGradientSums(backend, x, dy, stats);
  // With g = scale/σ: dx = g·dy − g·Σdy/N − g/σ²·(x − mean)·Σdy(x − mean)/N, written as
  // a·dy + b·(x − mean) + d with coefficients [a; b; d] per channel.
  const finish = perChannelProgram({
    key: `showcase_bn_train_grad_finish_${Boolean(scale)}`,
    variableNames: ["partials", "stats", ...(scale ? ["scale"] : [])],
    outputShape: [C],
    channels: C,
    extras: 2,
    uniforms: "parts : i32, rows : i32, epsilon : f32,",
    body: `
        var sumDy = 0.0;
        var sumDyXm = 0.0;
        for (var p = 0; p < uniforms.parts; p++) {
          sumDy += partials[(p * 2) * C + c];
          sumDyXm += partials[(p * 2 + 1) * C + c];
        }
        let N = f32(uniforms.rows);
        let inv = inverseSqrt(stats[C + c] + uniforms.epsilon);
        let g = ${scaleOf(Boolean(scale))} * inv;
        result[c] = inv * sumDyXm;
        extra0[c] = sumDy;
        extra1[c] = g;
        extra1[C + c] = -g * inv * inv * sumDyXm / N;
        extra1[2 * C + c] = -g * sumDy / N;`,
  });
  const [dScale, dOffset, coefficients] = runWithExtraOutputs(
    backend,
    finish,
    [partials, stats, ...(scale ? [scale] : [])],
    [
      { type: "int32", data: [C] },
      { type: "int32", data: [parts] },
      { type: "int32", data: [rows] },
      { type: "float32", data: [epsilon] },
    ],
    [[C], [3, C]],
  );
  backend.disposeData(partials.dataId);
  const dxProgram = flatProgram({
    key: "showcase_bn_train_grad_dx",
    variableNames: ["dy", "x", "stats", "coefficients"],
    outputShape: x.shape,
    uniforms: "channels : i32,",
    body: `
          let C = uniforms.channels;
          let c = index % C;
          setOutputAtIndex(index, coefficients[c] * dy[index] + coefficients[C + c] * (x[index] - stats[c]) + coefficients[2 * C + c]);`,
  });
  const dx = backend.runWebGPUProgram(dxProgram, [dy, x, stats, coefficients], "float32", [{ type: "int32", data: [C] }]);
  backend.disposeData(coefficients.dataId);
  return [dx, dScale, dOffset];
}

/**
 * The gradients of the two kernels with respect to x, scale and offset (the moving statistics are not
 * differentiated, as in Keras). Saved: x, the scale where there is one, then the stats output.
 */
export const batchNormTrainGradConfigs: tf.GradConfig[] = [BATCH_NORM_TRAIN_KERNEL, BATCH_NORM_TRAIN_NO_SCALE_KERNEL].map((kernelName) => {
  const withScale = kernelName === BATCH_NORM_TRAIN_KERNEL;
  return {
    kernelName,
    inputsToSave: withScale ? ["x", "scale"] : ["x"],
    outputsToSave: [false, true, false, false],
    gradFunc: (dy, saved, attrs) => {
      const [x, scale] = saved;
      const stats = saved[saved.length - 1];
      const dY = (dy as (tf.Tensor | null)[])[0] ?? tf.zerosLike(x);
      // Run now, not inside the closures: tfjs runs each closure in its own tidy, which would dispose
      // the sibling outputs of a multi-output kernel.
      const inputs: tf.NamedTensorMap = withScale ? { x, dy: dY, stats, scale } : { x, dy: dY, stats };
      const [dx, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, inputs, { epsilon: attrs.epsilon }) as tf.Tensor[];
      const zeros = () => tf.zeros([stats.shape[1] as number]);
      return { x: () => dx, scale: () => dScale, offset: () => dOffset, movingMean: zeros, movingVariance: zeros };
    },
  };
});
