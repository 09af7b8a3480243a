// Adam and SGD with each variable's update fused: tfjs-core 4.22's Adam issues 14 dispatches per
// variable (Multiply 5, Add 4, RealDiv 3, Square, Sqrt) and uploads three host scalars, SGD 2; here
// Adam takes 3 programs (new first moment, new second moment, new value) and SGD 1, with the constants
// as uniforms. The classes keep tfjs's state (moment variables, accBeta1/2, iterations), so weights,
// checkpoints and serialisation are tfjs's; off webgpu, or with tfjs's kernels restored, they run
// tfjs's own update.
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, flatProgram } from "./program";

export const ADAM_KERNEL = "ShowcaseWebGpuAdam";
export const SGD_KERNEL = "ShowcaseWebGpuSgd";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** [new first moment, new second moment, new value] of one variable, the formulas of tfjs's AdamOptimizer. */
export function adamUpdate(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { value, gradient, m, v, oneMinusAccBeta1, oneMinusAccBeta2 } = args.inputs as Record<string, tf.TensorInfo>;
  const { beta1, beta2, epsilon, learningRate } = args.attrs as Record<string, number>;
  const moment = (key: string, name: string, g: string) =>
    flatProgram({
      key: `showcase_adam_${key}`,
      variableNames: [name, "gradient"],
      outputShape: value.shape,
      uniforms: "beta : f32, oneMinusBeta : f32,",
      body: `
          let g = gradient[index];
          setOutputAtIndex(index, ${name}[index] * uniforms.beta + ${g} * uniforms.oneMinusBeta);`,
    });
  const newM = backend.runWebGPUProgram(moment("m", "m", "g"), [m, gradient], "float32", [
    { type: "float32", data: [beta1] },
    { type: "float32", data: [1 - beta1] },
  ]);
  const newV = backend.runWebGPUProgram(moment("v", "v", "(g * g)"), [v, gradient], "float32", [
    { type: "float32", data: [beta2] },
    { type: "float32", data: [1 - beta2] },
  ]);
  const step = flatProgram({
    key: "showcase_adam_value",
    variableNames: ["value", "m", "v", "oneMinusAccBeta1", "oneMinusAccBeta2"],
    outputShape: value.shape,
    uniforms: "epsilon : f32, negativeRate : f32,",
    body: `
          let mHat = m[index] / oneMinusAccBeta1[0];
          let vHat = v[index] / oneMinusAccBeta2[0];
          setOutputAtIndex(index, mHat / (sqrt(vHat) + uniforms.epsilon) * uniforms.negativeRate + value[index]);`,
  });
  const newValue = backend.runWebGPUProgram(step, [value, newM, newV, oneMinusAccBeta1, oneMinusAccBeta2], "float32", [
    { type: "float32", data: [epsilon] },
    { type: "float32", data: [-learningRate] },
  ]);
  return [newM, newV, newValue];
}

/** value − learningRate · gradient in one pass. */
export function sgdUpdate(args: KernelArgs): tf.TensorInfo {
  const backend = asWebGpuBackend(args.backend);
  const { value, gradient } = args.inputs as Record<string, tf.TensorInfo>;
  const program = flatProgram({
    key: "showcase_sgd",
    variableNames: ["value", "gradient"],
    outputShape: value.shape,
    uniforms: "negativeRate : f32,",
    body: "setOutputAtIndex(index, uniforms.negativeRate * gradient[index] + value[index]);",
  });
  return backend.runWebGPUProgram(program, [value, gradient], "float32", [{ type: "float32", data: [-Number((args.attrs as Record<string, number>).learningRate)] }]);
}

type Gradients = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

/** The (variable, gradient) pairs in tfjs's order; variables without a gradient are skipped, as tfjs does. */
function pairs(gradients: Gradients): Array<{ index: number; name: string; gradient: tf.Tensor | undefined }> {
  return Array.isArray(gradients)
    ? gradients.map((g, index) => ({ index, name: g.name, gradient: g.tensor as tf.Tensor | undefined }))
    : Object.keys(gradients).map((name, index) => ({ index, name, gradient: gradients[name] as tf.Tensor | undefined }));
}

function fusedKernelReady(kernelName: string): boolean {
  return tf.getBackend() === "webgpu" && tf.getKernel(kernelName, "webgpu") !== undefined;
}

function variableNamed(name: string): tf.Variable {
  return (tf.engine() as unknown as { registeredVariables: Record<string, tf.Variable> }).registeredVariables[name];
}

interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
  incrementIterations(): void;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    if (!fusedKernelReady(ADAM_KERNEL)) return super.applyGradients(variableGradients);
    const self = this as unknown as AdamState;
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, self.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, self.accBeta2);
      for (const { index, name, gradient } of pairs(variableGradients)) {
        const value = variableNamed(name);
        self.accumulatedFirstMoment[index] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[index] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        if (gradient == null) continue;
        const m = self.accumulatedFirstMoment[index].variable;
        const v = self.accumulatedSecondMoment[index].variable;
        const [newM, newV, newValue] = tf.engine().runKernel(ADAM_KERNEL, { value, gradient, m, v, oneMinusAccBeta1, oneMinusAccBeta2 }, {
          beta1: self.beta1,
          beta2: self.beta2,
          epsilon: self.epsilon,
          learningRate: self.learningRate,
        }) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      }
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

export class FusedSgdOptimizer extends tf.SGDOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    if (!fusedKernelReady(SGD_KERNEL)) return super.applyGradients(variableGradients);
    tf.tidy(() => {
      for (const { name, gradient } of pairs(variableGradients)) {
        if (gradient == null) continue;
        const value = variableNamed(name);
        value.assign(tf.engine().runKernel(SGD_KERNEL, { value, gradient }, { learningRate: this.learningRate }) as tf.Tensor);
      }
    });
    (this as unknown as AdamState).incrementIterations();
  }
}
