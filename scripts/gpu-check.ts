// The GPU check's program (bundled by scripts/gpu-check.sh into one file that runs with a bare Node):
//   adapter                         print the engine description, WebGPU adapter and its limits
//   train ENGINE ARCH BATCH SIZE WARMUP STEPS MAX_SECONDS
//                                   time full training steps (all layers trainable, SGD, random
//                                   images, 2 classes) and print one JSON line with images/s
import * as tf from "@tensorflow/tfjs";
import { disposeWebGpu, largestActivationBytesPerImage, maxBatchForBinding, selectEngine } from "../lib/engine";
import { buildArchitecture } from "../lib/models";

async function adapter(): Promise<void> {
  const engine = await selectEngine({ engine: "webgpu", quiet: true });
  console.log(JSON.stringify({ kind: "adapter", engine: engine.engine, backend: engine.backend, device: engine.device, reason: engine.reason, warnings: engine.warnings, adapter: engine.adapter }, null, 2));
}

async function train(args: string[]): Promise<void> {
  const [engineName, arch, batchText, sizeText, warmupText, stepsText, maxSecondsText] = args;
  const requestedBatch = Number(batchText);
  const size = Number(sizeText);
  const warmup = Number(warmupText);
  const steps = Number(stepsText);
  const maxSeconds = Number(maxSecondsText);
  const engine = await selectEngine({ engine: engineName as "webgpu" | "cpu", quiet: true });
  const buildStart = performance.now();
  const model = buildArchitecture(arch, { includeTop: true, classes: 2, inputShape: [size, size, 3] });
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const bytesPerImage = largestActivationBytesPerImage(model);
  let batch = requestedBatch;
  const notes: string[] = [];
  if (engine.backend === "webgpu") {
    const fits = maxBatchForBinding(bytesPerImage, engine.adapter?.limits);
    if (fits < batch) {
      notes.push(`batch lowered from ${batch} to ${fits}: the largest activation (${(bytesPerImage * batch / 2 ** 20).toFixed(0)} MiB) exceeds maxStorageBufferBindingSize`);
      batch = fits;
    }
  }
  model.compile({ optimizer: tf.train.sgd(1e-3), loss: "categoricalCrossentropy" });
  const xs = tf.randomUniform([batch, size, size, 3], 0, 255, "float32", 1);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), "int32"), 2).toFloat();
  const step = async () => {
    const start = performance.now();
    const loss = Number(await model.trainOnBatch(xs, ys)); // reading the loss waits for the device
    return { seconds: (performance.now() - start) / 1000, loss };
  };
  const warmupSeconds: number[] = [];
  for (let i = 0; i < warmup; i++) {
    warmupSeconds.push((await step()).seconds);
    console.error(`gpu-check: ${engine.engine} ${arch} warm-up step ${i + 1} took ${warmupSeconds[i].toFixed(1)} s (shader compilation on webgpu)`);
  }
  const stepSeconds: number[] = [];
  const losses: number[] = [];
  const timedStart = performance.now();
  for (let i = 0; i < steps; i++) {
    const result = await step();
    stepSeconds.push(result.seconds);
    losses.push(result.loss);
    console.error(`gpu-check: ${engine.engine} ${arch} batch ${batch} step ${i + 1}: ${result.seconds.toFixed(3)} s`);
    if ((performance.now() - timedStart) / 1000 > maxSeconds) break;
  }
  const total = stepSeconds.reduce((a, b) => a + b, 0);
  const sorted = [...stepSeconds].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      kind: "train",
      engine: engine.engine,
      backend: engine.backend,
      device: engine.device,
      adapter: engine.adapter?.description,
      arch,
      imageSize: size,
      batch,
      params: model.countParams(),
      largestActivationMiBPerBatch: Number(((bytesPerImage * batch) / 2 ** 20).toFixed(1)),
      buildSeconds: Number(buildSeconds.toFixed(2)),
      warmupSeconds: warmupSeconds.map((s) => Number(s.toFixed(3))),
      stepSeconds: stepSeconds.map((s) => Number(s.toFixed(3))),
      medianStepSeconds: Number(sorted[Math.floor(sorted.length / 2)].toFixed(3)),
      imagesPerSecond: Number(((stepSeconds.length * batch) / total).toFixed(2)),
      finiteLoss: losses.every(Number.isFinite),
      notes,
    }),
  );
  tf.dispose([xs, ys]);
  model.dispose();
}

async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  try {
    if (mode === "adapter") await adapter();
    else if (mode === "train") await train(rest);
    else throw new Error(`usage: gpu-check adapter | train ENGINE ARCH BATCH SIZE WARMUP STEPS MAX_SECONDS (got ${mode})`);
  } finally {
    disposeWebGpu();
  }
}

// Exit explicitly once stdout is flushed: letting Dawn tear itself down at a natural exit crashed
// (SIGSEGV/SIGABRT) now and then with the lavapipe driver, turning a good run into a failed one.
main(process.argv.slice(2))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  .finally(() => process.stdout.write("", () => process.exit(process.exitCode ?? 0)));
