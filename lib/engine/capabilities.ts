// The engine's one door: what the rest of lib/ may ask about the engine that runs, as capabilities,
// never as names. Nothing outside lib/engine imports a backend's folder (engine/wasm, engine/webgpu)
// or compares backend or engine names (test/architecture-imports.test.ts checks both); the answers
// that depend on the backend are decided here, once.
import * as tf from "@tensorflow/tfjs";
import { largestActivationBytesPerImage, planMicroBatches } from "./adapter";
import type { EngineDescription } from "./types";
import { BATCH_NORM_TRAIN_KERNEL, BATCH_NORM_TRAIN_NO_SCALE_KERNEL, FusedAdamOptimizer, FusedSgdOptimizer } from "./webgpu/index";
import { writeFloat32Tensor } from "./wasm/heap";
import { inferenceBytesPerImage, planMicroBatch as planWasmHeapBatch, trainingBytesPerImage } from "./wasm/memory";

/**
 * The batch writer: a new float32 tensor whose values `write` fills. On wasm they go straight into
 * the backend's heap (no batch-sized JS array allocated and copied); elsewhere into a Float32Array.
 */
export const writeBatchTensor = writeFloat32Tensor;

/**
 * Whether augmentation should run on the host (plain JS on the pixels) rather than as tfjs ops: true
 * where tensors live in host memory (cpu, wasm, native TensorFlow), where the JS path is the fast one.
 */
export function augmentsOnHost(): boolean {
  return ["cpu", "wasm", "tensorflow"].includes(tf.getBackend());
}

/**
 * True when the active engine queues work on a device (webgpu): a training step then has a host part
 * and a device part, its device traffic can be counted (measureDeviceTraffic), and reads must be
 * awaited (synchronous reads do not work on webgpu under Node).
 */
export function queuesWorkOnDevice(): boolean {
  return tf.getBackend() === "webgpu";
}

/**
 * Adam or SGD updating a group of variables per device program (tfjs: 14 or 2 per variable), where the
 * engine queues work on a device; undefined elsewhere (use tfjs's own). Same state and weights as
 * tfjs's optimizers, same results to float rounding (test/engine-webgpu-training.test.ts).
 */
export function fusedOptimizer(name: "adam" | "sgd", learningRate: number): tf.Optimizer | undefined {
  if (!queuesWorkOnDevice()) return undefined;
  return name === "adam" ? new FusedAdamOptimizer(learningRate, 0.9, 0.999) : new FusedSgdOptimizer(learningRate);
}

/**
 * A batch norm layer in training mode as one fused kernel, where the engine has one (webgpu: 3
 * dispatches and a gradient of 3, instead of ~14 through tfjs's ops): the normalised `x` (statistics
 * over every axis but the last) and the new moving mean and variance
 * (`moving − (moving − batch)·(1 − momentum)`, as tfjs-layers computes them). Undefined elsewhere:
 * the caller uses tfjs's ops. Same values to float rounding (test/engine-webgpu-training.test.ts).
 */
export function fusedBatchNormTraining(
  x: tf.Tensor,
  layer: { movingMean: tf.Tensor; movingVariance: tf.Tensor; scale?: tf.Tensor; offset?: tf.Tensor; epsilon: number; momentum: number },
): { y: tf.Tensor; movingMean: tf.Tensor; movingVariance: tf.Tensor } | undefined {
  const kernel = layer.scale ? BATCH_NORM_TRAIN_KERNEL : BATCH_NORM_TRAIN_NO_SCALE_KERNEL;
  if (x.dtype !== "float32" || x.rank < 2 || !hasKernel(kernel)) return undefined;
  const inputs: tf.NamedTensorMap = { x, movingMean: layer.movingMean, movingVariance: layer.movingVariance };
  if (layer.scale) inputs.scale = layer.scale;
  if (layer.offset) inputs.offset = layer.offset;
  const [y, stats, movingMean, movingVariance] = tf.engine().runKernel(kernel, inputs, { epsilon: layer.epsilon, decay: 1 - layer.momentum }) as tf.Tensor[];
  stats.dispose();
  return { y, movingMean, movingVariance };
}

/** Whether the active backend has a kernel for `kernelName` (e.g. "Transform"). */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * tfjs 4.22's cpu Transform kernel returns after the first image of a batch (the rest stay at the
 * fill value): where this is true, warp each image on its own.
 */
export function transformWarpsFirstImageOnly(): boolean {
  return tf.getBackend() === "cpu";
}

/**
 * Engines that use one core per process (wasm under Node, the pure-JS cpu backend): there, the other
 * cores are reached only by training in several processes (lib/train/worker-count.ts).
 */
export function usesOneCorePerProcess(engine: Pick<EngineDescription, "engine">): boolean {
  return engine.engine === "wasm" || engine.engine === "cpu";
}

/**
 * The one micro-batch planner: images per forward/backward pass that fit the engine's memory limit —
 * WebGPU's storage-buffer binding size (the largest activation), the wasm heap (a WasmMemoryError,
 * saying what to do, when not even one image fits) — and the whole batch on engines without such a limit.
 */
export function planMicroBatch(opts: {
  engine: Pick<EngineDescription, "engine" | "adapter">;
  batchSize: number;
  model: tf.LayersModel;
  purpose: "training" | "inference";
  /** For the message when nothing fits, e.g. "training resnet50 at 224 px". */
  what: string;
}): number {
  if (opts.engine.engine === "webgpu") {
    return planMicroBatches({ batchSize: opts.batchSize, bytesPerImage: largestActivationBytesPerImage(opts.model), limits: opts.engine.adapter?.limits }).microBatchSize;
  }
  if (opts.engine.engine === "wasm") {
    const bytesPerImage = opts.purpose === "training" ? trainingBytesPerImage(opts.model) : inferenceBytesPerImage(opts.model);
    return planWasmHeapBatch({ batchSize: opts.batchSize, bytesPerImage, what: opts.what });
  }
  return opts.batchSize;
}

interface NativeSummaryWriter {
  scalar(name: string, value: number, step: number): void;
  flush(): void;
}

/** TensorFlow's own event-file writer (tf.node.summaryFileWriter) when the native engine is running; else undefined. */
export function nativeSummaryWriterFactory(): ((logdir: string) => NativeSummaryWriter) | undefined {
  if (tf.getBackend() !== "tensorflow") return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const node = require("@tensorflow/tfjs-node") as { node?: { summaryFileWriter?: (logdir: string) => NativeSummaryWriter } };
    return node.node?.summaryFileWriter;
  } catch {
    return undefined;
  }
}

/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on its first
 * tensor. This project chooses and reports its engine itself (selectEngine), so that advice is noise
 * in notebook outputs and the report: the cpu backend's instance, once created, is marked as used.
 */
export function quietCpuBackend(): void {
  const registry = (tf.engine() as unknown as { registry: Record<string, { firstUse?: boolean } | undefined> }).registry;
  const cpu = registry.cpu;
  if (cpu && "firstUse" in cpu) cpu.firstUse = false;
}

/** tfjs's default backend started now, as the first tensor would start it, but without the advice. */
export async function readyQuietly(): Promise<void> {
  await tf.ready();
  quietCpuBackend();
}
