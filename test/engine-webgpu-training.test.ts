// The webgpu training kernels of lib/engine/webgpu on software Vulkan (Mesa lavapipe):
//  - Sum/Mean, batch-norm, ReLU/ReLU6/clip and concat gradients and SplitV equal tfjs's own (restored) to 1e-5;
//  - the fused Adam and SGD updates equal tfjs's optimizers to 1e-5, several variables per dispatch;
//  - a batch norm layer in training, with and without scale (one fused kernel on webgpu), equals
//    tfjs-layers' own path / the elementwise path with tfjs's kernels;
//  - Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter equal the cpu backend to 1e-4
//    (relative) for every kernel size, stride, padding, dilation and channel multiplier that the
//    eight networks use, the list read from the built models;
//  - a training step of a small network uploads only its input batch and labels (plus the 4-byte
//    scalars named below) and, after the first steps, creates no GPU buffer.
// WebGPU runs in a child process (the Vulkan loader reads its environment at start); skips, saying
// why, without the driver.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { finishChild, runLavapipeChild } from "./lavapipe-child";
import { skipWithout } from "./tools";

const CHILD_FLAG = "SHOWCASE_WEBGPU_TRAINING_CHILD";

interface ConvCase {
  kind: "conv" | "depthwise";
  kernel: [number, number];
  strides: [number, number];
  padding: "same" | "valid";
  dilation: [number, number];
  multiplier: number;
  /** Which networks use it (for the failure message). */
  archs: string[];
}

/** Every distinct convolution geometry of the eight networks, from their layers' configurations. */
async function convolutionCases(): Promise<ConvCase[]> {
  const { ARCH_IDS, buildArchitecture } = await import("../lib/models");
  const cases = new Map<string, ConvCase>();
  const add = (c: Omit<ConvCase, "archs">, arch: string) => {
    const key = JSON.stringify(c);
    const found = cases.get(key) ?? { ...c, archs: [] };
    if (!found.archs.includes(arch)) found.archs.push(arch);
    cases.set(key, found);
  };
  for (const arch of ARCH_IDS) {
    // Geometry does not depend on the input size: the smallest size every network accepts.
    const model = buildArchitecture(arch, { includeTop: false, inputShape: [75, 75, 3] });
    for (const layer of model.layers) {
      const config = layer.getConfig() as { kernelSize: [number, number]; strides: [number, number]; padding: "same" | "valid"; dilationRate: number | [number, number]; depthMultiplier?: number };
      const dilation = (Array.isArray(config.dilationRate) ? config.dilationRate : [config.dilationRate ?? 1, config.dilationRate ?? 1]) as [number, number];
      const geometry = { kernel: config.kernelSize, strides: config.strides, padding: config.padding, dilation };
      switch (layer.getClassName()) {
        case "Conv2D":
          add({ kind: "conv", ...geometry, multiplier: 1 }, arch);
          break;
        case "DepthwiseConv2D":
          add({ kind: "depthwise", ...geometry, multiplier: config.depthMultiplier ?? 1 }, arch);
          break;
        case "SeparableConv2D":
          add({ kind: "depthwise", ...geometry, multiplier: config.depthMultiplier ?? 1 }, arch);
          add({ kind: "conv", kernel: [1, 1], strides: [1, 1], padding: "valid", dilation: [1, 1], multiplier: 1 }, arch);
          break;
      }
    }
    model.dispose();
  }
  return [...cases.values()];
}

/** The filter gradient of one case on the current backend, from fixed inputs (small spatial size). */
function filterGradient(c: ConvCase, seed: number): tf.Tensor {
  return tf.tidy(() => {
    const inChannels = 5; // not a multiple of 4: the unaligned path
    const size = 9 + c.kernel[0];
    const x = tf.randomUniform([2, size, size + 1, inChannels], -1, 1, "float32", seed);
    if (c.kind === "conv") {
      const outChannels = 6;
      const w = tf.randomUniform([c.kernel[0], c.kernel[1], inChannels, outChannels], -1, 1, "float32", seed + 1);
      const forward = (filter: tf.Tensor4D) => tf.conv2d(x as tf.Tensor4D, filter, c.strides, c.padding, "NHWC", c.dilation);
      const r = tf.randomUniform(forward(w as tf.Tensor4D).shape, -1, 1, "float32", seed + 2);
      return tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(forward(filter as tf.Tensor4D), r)))(w);
    }
    const w = tf.randomUniform([c.kernel[0], c.kernel[1], inChannels, c.multiplier], -1, 1, "float32", seed + 1);
    const forward = (filter: tf.Tensor4D) => tf.depthwiseConv2d(x as tf.Tensor4D, filter, c.strides, c.padding, "NHWC", c.dilation);
    const r = tf.randomUniform(forward(w as tf.Tensor4D).shape, -1, 1, "float32", seed + 2);
    return tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(forward(filter as tf.Tensor4D), r)))(w);
  });
}

/** Gradients through Sum, Mean, moments + batch norm, ReLU, ReLU6, clip and concat (weighted by random r), and a split. */
function gradientCases(): Record<string, () => tf.Tensor[]> {
  const x = () => tf.randomUniform([2, 5, 6, 8], -8, 8, "float32", 11);
  const weighted = (y: tf.Tensor, seed: number) => tf.sum(tf.mul(y, tf.randomUniform(y.shape, -1, 1, "float32", seed)));
  return {
    "sum over [0,1,2]": () => [tf.grad((t: tf.Tensor) => weighted(tf.sum(t, [0, 1, 2]), 1))(x())],
    "sum over [1,2] keepDims": () => [tf.grad((t: tf.Tensor) => weighted(tf.sum(t, [1, 2], true), 2))(x())],
    "mean over [0,1,2]": () => [tf.grad((t: tf.Tensor) => weighted(tf.mean(t, [0, 1, 2]), 3))(x())],
    "mean over last axis, rank 2": () => [tf.grad((t: tf.Tensor) => weighted(tf.mean(t, -1), 4))(tf.reshape(x(), [60, 8]))],
    "mean of everything": () => [tf.grad((t: tf.Tensor) => tf.mul(tf.mean(t), 3))(x())],
    "moments + batch norm": () => {
      const scale = tf.randomUniform([8], 0.5, 2, "float32", 5);
      const offset = tf.randomUniform([8], -1, 1, "float32", 6);
      return tf.grads((t: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, [0, 1, 2]);
        return weighted(tf.batchNorm(t, mean, variance, o, s, 1e-3), 7);
      })([x(), scale, offset]);
    },
    relu: () => [tf.grad((t: tf.Tensor) => weighted(tf.relu(t), 8))(x())],
    relu6: () => [tf.grad((t: tf.Tensor) => weighted(tf.relu6(t), 9))(x())],
    "clip [-1, 2]": () => [tf.grad((t: tf.Tensor) => weighted(tf.clipByValue(t, -1, 2), 10))(x())],
    "concat of three on the channel axis (its gradient is SplitV)": () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => weighted(tf.concat([a, b, c], 3), 12))([x(), tf.randomUniform([2, 5, 6, 3], -1, 1, "float32", 13), tf.randomUniform([2, 5, 6, 5], -1, 1, "float32", 14)]),
    "split on axis 1 (SplitV)": () => tf.split(x(), [1, 3, 1], 1),
  };
}

/**
 * Three steps of an optimizer on three small variables with fixed gradients: the variables' values
 * and the optimizer's own weights (Adam's moments) after them, and the dispatches of the last step.
 */
async function optimizerSteps(optimizer: tf.Optimizer, tag: string, measure: (work: () => void) => Promise<number>): Promise<{ values: number[][]; dispatches: number }> {
  const shapes = [[3, 4], [5], [2, 2, 3]];
  const variables = shapes.map((shape, i) => tf.variable(tf.randomUniform(shape, -1, 1, "float32", 40 + i), true, `${tag}_${i}`));
  let dispatches = 0;
  for (let step = 0; step < 3; step++) {
    const grads = Object.fromEntries(variables.map((v, i) => [v.name, tf.randomUniform(v.shape, -2, 2, "float32", 50 + 10 * step + i)]));
    dispatches = await measure(() => optimizer.applyGradients(grads));
    tf.dispose(Object.values(grads));
  }
  const weights = (await optimizer.getWeights()).map((w) => w.tensor);
  const values = await readAll([...variables.map((v) => v.clone()), ...weights.map((w) => w.clone())]);
  tf.dispose(variables);
  optimizer.dispose();
  return { values, dispatches };
}

/**
 * A batch norm layer (scale-free as in Keras' Inceptions, or with scale; lib/models' patch) in training mode: the gradients of
 * every trainable weight, and the moving statistics after the step. Same weights each call (seeded).
 */
async function batchNormStep(scale: boolean): Promise<number[][]> {
  const { patchScaleFreeBatchNormTraining } = await import("../lib/models/batchnorm-scale-fix");
  patchScaleFreeBatchNormTraining();
  const input = tf.input({ shape: [6, 5, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", useBias: false, kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 21 }) }).apply(input) as tf.SymbolicTensor;
  const norm = tf.layers.batchNormalization({ scale, betaInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 22 }), gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 25 }) });
  x = norm.apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor });
  const xs = tf.randomUniform([2, 6, 5, 3], -2, 2, "float32", 23);
  const r = tf.randomUniform([2, 8], -1, 1, "float32", 24);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(xs, { training: true }) as tf.Tensor, r)) as tf.Scalar);
  const moving = norm.getWeights().slice(-2).map((w) => w.clone());
  const result = await readAll([value, ...model.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]), ...moving]);
  tf.dispose([xs, r, ...Object.values(grads)]);
  model.dispose();
  return result;
}

async function readAll(tensors: tf.Tensor[]): Promise<number[][]> {
  const values = await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
  return values.map((v) => Array.from(v));
}

function tinyNetwork(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 2, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

async function child(): Promise<void> {
  const { selectEngine, disposeWebGpu, measureDeviceTraffic, restoreWebGpuOriginals, registerWebGpuTrainingKernels } = await import("../lib/engine");
  const { fusedOptimizer } = await import("../lib/engine/capabilities");
  await tf.setBackend("cpu");
  const cases = await convolutionCases();
  const cpuFilters = await readAll(cases.map((c, i) => filterGradient(c, 100 + i)));

  const engine = await selectEngine({ engine: "webgpu", quiet: true });
  const ours = await readAll(cases.map((c, i) => filterGradient(c, 100 + i)));
  const gradients: Record<string, { ours: number[][]; original: number[][] }> = {};
  for (const [name, run] of Object.entries(gradientCases())) gradients[name] = { ours: await readAll(run()), original: [] };
  const BN_CASES = { "scale-free batch norm layer (fused there, elementwise ops with tfjs's kernels)": false, "batch norm layer (fused there, tfjs-layers' own path with tfjs's kernels)": true };
  for (const [name, scale] of Object.entries(BN_CASES)) gradients[name] = { ours: await batchNormStep(scale), original: [] };
  restoreWebGpuOriginals();
  for (const [name, run] of Object.entries(gradientCases())) gradients[name].original = await readAll(run());
  for (const [name, scale] of Object.entries(BN_CASES)) gradients[name].original = await batchNormStep(scale);
  registerWebGpuTrainingKernels();
  const dispatchesOf = async (work: () => void) => (await measureDeviceTraffic(work)).traffic.dispatches;
  const optimizers = {
    adam: { ours: await optimizerSteps(fusedOptimizer("adam", 0.01)!, "adam_ours", dispatchesOf), original: await optimizerSteps(tf.train.adam(0.01), "adam_tfjs", dispatchesOf) },
    sgd: { ours: await optimizerSteps(fusedOptimizer("sgd", 0.01)!, "sgd_ours", dispatchesOf), original: await optimizerSteps(tf.train.sgd(0.01), "sgd_tfjs", dispatchesOf) },
  };

  // A training step with a fresh batch each time, as in training.
  const model = tinyNetwork();
  const optimizer = tf.train.sgd(0.01);
  const steps = [];
  for (let step = 0; step < 4; step++) {
    const { traffic } = await measureDeviceTraffic(async () => {
      const xs = tf.randomUniform([2, 12, 12, 3], 0, 1, "float32", step);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1], "int32"), 2));
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true)!;
      await loss.data();
      tf.dispose([xs, ys, loss]);
    });
    steps.push(traffic);
  }
  const batchNorms = model.layers.filter((l) => l.getClassName() === "BatchNormalization").length;
  disposeWebGpu();
  process.stdout.write(`${JSON.stringify({ engine, cases, cpuFilters, ours, gradients, optimizers, steps, batchNorms })}\n`);
}

if (process.env[CHILD_FLAG]) {
  finishChild(child());
} else {
  // With REQUIRE_TOOLS=1 (CI) skipWithout does not skip and runLavapipeChild fails the test on a missing driver.
  test("webgpu training kernels (software Vulkan): equal to tfjs's, no host-made arrays, no allocation in steady state", { skip: skipWithout("lavapipe"), timeout: 300_000 }, () => {
    const result = runLavapipeChild<{
      engine: { backend: string; device: string };
      cases: ConvCase[];
      cpuFilters: number[][];
      ours: number[][];
      gradients: Record<string, { ours: number[][]; original: number[][] }>;
      optimizers: Record<"adam" | "sgd", Record<"ours" | "original", { values: number[][]; dispatches: number }>>;
      steps: Array<{ uploads: number; uploadBytes: number; uploadSizes: number[]; createBuffers: number; dispatches: number; programs: Record<string, number> }>;
      batchNorms: number;
    }>(__filename, CHILD_FLAG, { timeoutMs: 290_000 });
    assert.equal(result.engine.backend, "webgpu");

    const relativeError = (a: number[], b: number[]) => {
      const scale = Math.max(1e-6, ...b.map(Math.abs));
      return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
    };
    // The eight networks: plain and strided 1×1/3×3/5×5/7×7 and 1×7/7×1 convolutions, depthwise 3×3.
    assert.ok(result.cases.length >= 10, `only ${result.cases.length} convolution geometries found`);
    assert.ok(result.cases.some((c) => c.kind === "depthwise") && result.cases.some((c) => c.kernel[0] !== c.kernel[1]));
    result.cases.forEach((c, i) => {
      const error = relativeError(result.ours[i], result.cpuFilters[i]);
      assert.ok(error <= 1e-4, `${c.kind} ${c.kernel.join("×")} stride ${c.strides.join(",")} ${c.padding} dilation ${c.dilation.join(",")} ×${c.multiplier} (${c.archs.join(", ")}): relative error ${error}`);
    });

    for (const [name, { ours, original }] of Object.entries(result.gradients)) {
      assert.equal(ours.length, original.length);
      ours.forEach((values, i) => {
        const error = relativeError(values, original[i]);
        assert.ok(error <= 1e-5, `${name}, gradient ${i}: relative error ${error} against tfjs's own`);
      });
    }

    // Fused optimizers: tfjs's values and moments after three steps, several variables per program (the
    // device gets lavapipe's 16 storage buffers per stage: SGD 5 variables per program, Adam 2) plus
    // Adam's 2 scalar ops per step (tfjs's accBeta1/2), instead of tfjs's 14 or 2 per variable.
    for (const [name, { ours, original }] of Object.entries(result.optimizers)) {
      assert.equal(ours.values.length, original.values.length, `${name}: weights ${ours.values.length} vs ${original.values.length}`);
      ours.values.forEach((values, i) => {
        const error = relativeError(values, original.values[i]);
        assert.ok(error <= 1e-5, `${name}, tensor ${i}: relative error ${error} against tfjs's own`);
      });
    }
    // (tfjs's own count is not asserted: on tensors this small it runs some of its ops on the host.)
    const adam = result.optimizers.adam.ours.dispatches;
    assert.ok(adam >= 2 && adam <= 2 + 2, `Adam: ${adam} dispatches for 3 variables`); // tfjs may run the scalar ops on the host
    assert.equal(result.optimizers.sgd.ours.dispatches, 1, `SGD: ${result.optimizers.sgd.ours.dispatches} dispatches for 3 variables`);

    const inputBytes = 2 * 12 * 12 * 3 * 4 + 2 * 4; // the batch and the int32 class ids
    // Step 0 also uploads the freshly built weights (they live on the host until first used).
    for (const [step, traffic] of result.steps.entries()) {
      if (step === 0) continue;
      const arrays = traffic.uploadSizes.filter((n) => n > 1);
      // Input batch and class ids only; oneHot, the loss and the optimizer work on the device.
      assert.deepEqual(arrays.sort((a, b) => a - b), [2, 2 * 12 * 12 * 3], `step ${step}: host arrays uploaded: ${traffic.uploadSizes.join(", ")}`);
      // 4-byte scalars that remain: the loss one or two; at most two per batch norm (tfjs-layers'
      // moving-average update, 1 − momentum, where a layer does not take lib/models' fused path).
      const scalars = traffic.uploadSizes.length - arrays.length;
      assert.ok(scalars <= 2 * result.batchNorms + 4, `step ${step}: ${scalars} scalar uploads`);
      assert.ok(traffic.uploadBytes <= inputBytes + 4 * scalars);
    }
    const steady = result.steps.slice(2);
    for (const traffic of steady) assert.equal(traffic.createBuffers, 0, `a steady-state step created ${traffic.createBuffers} GPU buffers`);
  });
}
