// Adam and SGD updating several variables per dispatch: tfjs-core 4.22's Adam issues 14 dispatches
// per variable (Multiply 5, Add 4, RealDiv 3, Square, Sqrt) and uploads three host scalars, SGD 2;
// here one program updates a group of variables (new first moment, second moment and value for Adam),
// as many as the device's storage-buffer bindings allow (SGD 3 per variable, Adam 7; 8 bindings → 2
// and 1, 16 → 5 and 2), with the constants as uniforms. The classes keep tfjs's state (moment
// variables, accBeta1/2, iterations), so weights, checkpoints and serialisation are tfjs's; off
// webgpu, or with tfjs's kernels restored, they run tfjs's own update.
import * as tf from "@tensorflow/tfjs";
import { asWebGpuBackend, extraOutputDeclarations, type KernelArgs, runWithExtraOutputs, storageBuffersPerProgram, type ProgramUniform, type WebGpuBackendLike, type WebGpuProgram } from "./program";

export const ADAM_KERNEL = "ShowcaseWebGpuAdam";
export const SGD_KERNEL = "ShowcaseWebGpuSgd";

/** Storage buffers one variable's update binds: its inputs and its outputs. */
const BUFFERS_PER_VARIABLE = { sgd: 2 + 1, adam: 4 + 3 } as const;

/** How many variables one update program can take on the active webgpu device. */
export function variablesPerProgram(kind: keyof typeof BUFFERS_PER_VARIABLE): number {
  return Math.max(1, Math.floor(storageBuffersPerProgram(asWebGpuBackend(tf.backend())) / BUFFERS_PER_VARIABLE[kind]));
}

/**
 * One program over the variables of `inputs` (their shapes in `shapes`): thread `index` runs `body` for the
 * variable its index falls in, with `i` its element there and `out(k)` that variable's k-th output
 * array (the first output of variable 0 is the program's own, the rest are extras). Inputs are named
 * `<name><v>` (value0, gradient0, …) in the order given, all flattened.
 */
function runGroupedUpdate(
  backend: WebGpuBackendLike,
  opts: { key: string; perVariable: string[]; outputs: number; inputs: tf.TensorInfo[][]; shapes: number[][]; uniforms: string; uniformData: ProgramUniform[]; body: (v: number, out: (k: number) => string) => string },
): tf.TensorInfo[][] {
  const count = opts.inputs.length;
  const sizes = opts.shapes.map((shape) => tf.util.sizeFromShape(shape));
  const ends = sizes.map((_, v) => sizes.slice(0, v + 1).reduce((a, b) => a + b, 0));
  const variableNames = Array.from({ length: count }, (_, v) => opts.perVariable.map((name) => `${name}${v}`)).flat();
  const slot = (v: number, k: number) => v * opts.outputs + k;
  const out = (v: number) => (k: number) => (slot(v, k) === 0 ? "result" : `extra${slot(v, k) - 1}`);
  const branches = Array.from({ length: count }, (_, v) => `${v === 0 ? "if" : "else if"} (index < uniforms.end${v}) {
          let i = index${v === 0 ? "" : ` - uniforms.end${v - 1}`};
          ${opts.body(v, out(v))}
        }`).join(" ");
  const program: WebGpuProgram = {
    variableNames,
    outputShape: [sizes[0]],
    shaderKey: `${opts.key}_${count}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(ends[count - 1] / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: `${sizes.map((_, v) => `end${v} : i32,`).join(" ")} ${opts.uniforms}`,
    getUserCode: () => `
      ${extraOutputDeclarations(variableNames.length, count * opts.outputs - 1)}
      fn main(index : i32) {
        ${branches}
      }`,
  };
  const flat = opts.inputs.flat().map((t) => ({ ...t, shape: [tf.util.sizeFromShape(t.shape)] }));
  const extraShapes = opts.shapes.flatMap((shape) => Array<number[]>(opts.outputs).fill(shape)).slice(1);
  const endUniforms: ProgramUniform[] = ends.map((end) => ({ type: "int32", data: [end] }));
  const results = runWithExtraOutputs(backend, program, flat, [...endUniforms, ...opts.uniformData], extraShapes);
  // The program's own output is flat; give it its variable's shape (same data).
  results[0] = { ...results[0], shape: opts.shapes[0] };
  return Array.from({ length: count }, (_, v) => results.slice(v * opts.outputs, (v + 1) * opts.outputs));
}

/** Inputs value0, gradient0, m0, v0, value1, …; attrs count, beta1, beta2, epsilon, learningRate and the bias corrections. Outputs [m, v, value] per variable. */
export function adamUpdate(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { count, beta1, beta2, epsilon, learningRate, oneMinusAccBeta1, oneMinusAccBeta2 } = args.attrs as Record<string, number>;
  const inputs = Array.from({ length: count }, (_, v) => ["value", "gradient", "m", "v"].map((name) => args.inputs[`${name}${v}`] as tf.TensorInfo));
  return runGroupedUpdate(backend, {
    key: "showcase_adam",
    perVariable: ["value", "gradient", "m", "v"],
    outputs: 3,
    inputs,
    shapes: inputs.map(([value]) => value.shape),
    uniforms: "beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, oneMinusAccBeta1 : f32, oneMinusAccBeta2 : f32, epsilon : f32, negativeRate : f32,",
    uniformData: [beta1, 1 - beta1, beta2, 1 - beta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon, -learningRate].map((x) => ({ type: "float32", data: [x] })),
    // The formulas and their order are tfjs's AdamOptimizer's.
    body: (v, out) => `
          let g = gradient${v}[i];
          let m = m${v}[i] * uniforms.beta1 + g * uniforms.oneMinusBeta1;
          let s = v${v}[i] * uniforms.beta2 + (g * g) * uniforms.oneMinusBeta2;
          ${out(0)}[i] = m;
          ${out(1)}[i] = s;
          ${out(2)}[i] = (m / uniforms.oneMinusAccBeta1) / (sqrt(s / uniforms.oneMinusAccBeta2) + uniforms.epsilon) * uniforms.negativeRate + value${v}[i];`,
  }).flat();
}

/** Inputs value0, gradient0, value1, …; attrs count, learningRate. Outputs value − learningRate · gradient per variable. */
export function sgdUpdate(args: KernelArgs): tf.TensorInfo[] {
  const backend = asWebGpuBackend(args.backend);
  const { count, learningRate } = args.attrs as Record<string, number>;
  const inputs = Array.from({ length: count }, (_, v) => ["value", "gradient"].map((name) => args.inputs[`${name}${v}`] as tf.TensorInfo));
  return runGroupedUpdate(backend, {
    key: "showcase_sgd",
    perVariable: ["value", "gradient"],
    outputs: 1,
    inputs,
    shapes: inputs.map(([value]) => value.shape),
    uniforms: "negativeRate : f32,",
    uniformData: [{ type: "float32", data: [-learningRate] }],
    body: (v, out) => `${out(0)}[i] = uniforms.negativeRate * gradient${v}[i] + value${v}[i];`,
  }).flat();
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

/** The pairs with a gradient, in groups of `size`. */
function groupsOf<T extends { gradient: tf.Tensor | undefined }>(items: T[], size: number): Array<Array<T & { gradient: tf.Tensor }>> {
  const present = items.filter((item): item is T & { gradient: tf.Tensor } => item.gradient != null);
  return Array.from({ length: Math.ceil(present.length / size) }, (_, g) => present.slice(g * size, (g + 1) * size));
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    if (!fusedKernelReady(ADAM_KERNEL)) return super.applyGradients(variableGradients);
    const self = this as unknown as AdamState;
    // tfjs's accBeta1/2 before this step are β^(t+1) (as its setWeights restores them): the bias
    // corrections go in as uniforms, not as device scalars the program would bind.
    const attrs = {
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      learningRate: self.learningRate,
      oneMinusAccBeta1: 1 - Math.pow(self.beta1, this.iterations + 1),
      oneMinusAccBeta2: 1 - Math.pow(self.beta2, this.iterations + 1),
    };
    tf.tidy(() => {
      const all = pairs(variableGradients).map((pair) => {
        const value = variableNamed(pair.name);
        self.accumulatedFirstMoment[pair.index] ??= { originalName: `${pair.name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[pair.index] ??= { originalName: `${pair.name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        return { ...pair, value, m: self.accumulatedFirstMoment[pair.index].variable, v: self.accumulatedSecondMoment[pair.index].variable };
      });
      for (const group of groupsOf(all, variablesPerProgram("adam"))) {
        const inputs: tf.NamedTensorMap = {};
        group.forEach(({ value, gradient, m, v }, i) => Object.assign(inputs, { [`value${i}`]: value, [`gradient${i}`]: gradient, [`m${i}`]: m, [`v${i}`]: v }));
        const outputs = tf.engine().runKernel(ADAM_KERNEL, inputs, { ...attrs, count: group.length }) as tf.Tensor[];
        group.forEach(({ value, m, v }, i) => {
          m.assign(outputs[3 * i]);
          v.assign(outputs[3 * i + 1]);
          value.assign(outputs[3 * i + 2]);
        });
      }
      // tfjs's own state, kept current (two scalar dispatches per step).
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
      const all = pairs(variableGradients).map((pair) => ({ ...pair, value: variableNamed(pair.name) }));
      for (const group of groupsOf(all, variablesPerProgram("sgd"))) {
        const inputs: tf.NamedTensorMap = {};
        group.forEach(({ value, gradient }, i) => Object.assign(inputs, { [`value${i}`]: value, [`gradient${i}`]: gradient }));
        const outputs = tf.engine().runKernel(SGD_KERNEL, inputs, { count: group.length, learningRate: this.learningRate }) as tf.Tensor[];
        group.forEach(({ value }, i) => value.assign(outputs[i]));
      }
    });
    (this as unknown as AdamState).incrementIterations();
  }
}
