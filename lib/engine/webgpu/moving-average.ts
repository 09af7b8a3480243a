// A moving-average update `current − (current − value)·decay` (batch norm's moving statistics) in one
// program with decay as a uniform, instead of tfjs's Sub, Mul, Sub and a host-made scalar.
import type * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, flatProgram } from "./program";

export const MOVING_AVERAGE_KERNEL = "ShowcaseWebGpuMovingAverage";

export function movingAverage(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { current, value } = args.inputs as Record<string, tf.TensorInfo>;
  const program = flatProgram({
    key: "showcase_moving_average",
    variableNames: ["current", "value"],
    outputShape: current.shape,
    uniforms: "decay : f32,",
    body: `
          let c = current[index];
          setOutputAtIndex(index, c - (c - value[index]) * uniforms.decay);`,
  });
  return backend.runWebGPUProgram(program, [current, value], "float32", [{ type: "float32", data: [Number((args.attrs ?? {}).decay)] }]);
}
