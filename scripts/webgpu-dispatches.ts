// Where a webgpu training step's dispatches come from: per tfjs kernel, split into forward, backward
// and optimizer, for one full step (all layers trainable, batch 2) after two warm-up steps.
//   source .cache/lavapipe/env.sh; npx tsx scripts/webgpu-dispatches.ts mobilenet_v2 64 adam
import * as tf from "@tensorflow/tfjs";
import { selectEngine, measureDeviceTraffic } from "../lib/engine";
import { buildArchitecture, inputSizeFor } from "../lib/models";
import { createOptimizer } from "../lib/train/step";

async function main(): Promise<void> {
  const arch = process.argv[2] ?? "mobilenet_v2";
  const sizeArg = Number(process.argv[3] ?? 64);
  const opt = process.argv[4] ?? "sgd";
  // Also registers the webgpu training kernels (lib/engine/candidates.ts).
  await selectEngine({ engine: "webgpu", quiet: true });
  const size = inputSizeFor(arch, sizeArg);
  const model = buildArchitecture(arch, { includeTop: true, classes: 2, inputShape: [size, size, 3] });
  // The optimizer training uses (lib/train/step.ts): fused on webgpu; FUSED=0 for tfjs's own.
  const tfjsOwn = process.env.FUSED === "0";
  const name = opt === "adam" ? "adam" : "sgd";
  const optimizer = tfjsOwn ? (name === "adam" ? tf.train.adam(1e-3) : tf.train.sgd(1e-3)) : createOptimizer({ name, learningRate: 1e-3 });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xs = tf.randomUniform([2, size, size, 3], -1, 1);
  const ys = tf.tensor2d([1, 0, 0, 1], [2, 2]);
  const diff = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(a)) { const d = a[k] - (b[k] ?? 0); if (d) out[k] = d; }
    return out;
  };
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  let phases: Record<string, Record<string, number>> = {};
  async function step() {
    return measureDeviceTraffic(async (live) => {
      let forward: Record<string, number> = {};
      const { value, grads } = tf.variableGrads(() => {
        const out = tf.mean(tf.metrics.categoricalCrossentropy(ys, model.apply(xs, { training: true }) as tf.Tensor)) as tf.Scalar;
        forward = { ...live.kernels };
        return out;
      }, variables);
      const afterGrads = { ...live.kernels };
      optimizer.applyGradients(grads);
      phases = { forward, backward: diff(afterGrads, forward), optimizer: diff(live.kernels, afterGrads) };
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
    });
  }
  for (let i = 0; i < 2; i++) await step();
  const { traffic } = await step();
  console.log(`${arch} ${size}px batch 2 ${opt}: ${traffic.dispatches} dispatches; forward ${sum(phases.forward)}, backward ${sum(phases.backward)}, optimizer ${sum(phases.optimizer)}`);
  for (const p of ["forward", "backward", "optimizer"]) {
    console.log(`  ${p}: ` + Object.entries(phases[p]).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", "));
  }
  console.log("  programs: " + Object.entries(traffic.programs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", "));
  const layers: Record<string, number> = {};
  for (const l of model.layers) layers[l.getClassName()] = (layers[l.getClassName()] ?? 0) + 1;
  console.log("  layers: " + JSON.stringify(layers) + ` variables ${variables.length}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
