// Training throughput on an engine that queues work on a device (webgpu): each step is split into
// host time (until every kernel of the step is enqueued) and the wait for the device after that, with
// what the step asked of the device (programs dispatched, bytes uploaded, GPU buffers created) and,
// from one more step under tf.profile, the kernels that took the device's time (timestamp queries).
// Reads are awaited: synchronous reads do not work on webgpu under Node.
import * as tf from "@tensorflow/tfjs";
import { measureDeviceTraffic, registerWebGpuTrainingKernels, restoreWebGpuOriginals } from "../engine";
import { buildArchitecture, inputSizeFor } from "../models";
import { createOptimizer } from "../train/step";
import type { KernelTime } from "./kernel-profile";
import { round } from "./measure";
import type { BenchRow } from "./types";

type DeviceKernelSet = "showcase" | "tfjs";

interface DeviceStep {
  hostMs: number;
  waitMs: number;
  dispatches: number;
  uploadBytes: number;
  createBuffers: number;
}

interface DeviceTrainingResult {
  row: BenchRow;
  /** Device time per kernel of one profiled step (timestamp queries), slowest first. */
  kernels: KernelTime[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Full training (every layer trainable, 2 classes, SGD, a fresh batch each step as in training) on the
 * active device engine, with this project's kernels or with tfjs's own (`kernelSet: "tfjs"`, the
 * "before" of docs/performance.md). Two warm-up steps: shader compilation, first uploads, buffer pool.
 */
export async function benchDeviceTraining(
  arch: string,
  opts: { engine: string; threads: number; inputSize: number; batch: number; steps: number; kernelSet: DeviceKernelSet },
): Promise<DeviceTrainingResult> {
  if (opts.kernelSet === "tfjs") restoreWebGpuOriginals();
  else registerWebGpuTrainingKernels();
  const size = inputSizeFor(arch, opts.inputSize);
  const model = buildArchitecture(arch, { includeTop: true, classes: 2, inputShape: [size, size, 3] });
  const optimizer = opts.kernelSet === "showcase" ? createOptimizer({ name: "sgd", learningRate: 1e-3 }) : tf.train.sgd(1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const pixels = tf.tidy(() => tf.randomUniform([opts.batch, size, size, 3], -1, 1, "float32", 2).dataSync() as Float32Array);
  const labels = Float32Array.from({ length: opts.batch * 2 }, (_, i) => ((i >> 1) % 2 === i % 2 ? 1 : 0));
  const step = async (): Promise<{ hostMs: number; waitMs: number }> => {
    const xs = tf.tensor4d(pixels, [opts.batch, size, size, 3]);
    const ys = tf.tensor2d(labels, [opts.batch, 2]);
    const start = performance.now();
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.metrics.categoricalCrossentropy(ys, model.apply(xs, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
    optimizer.applyGradients(grads);
    const enqueued = performance.now();
    const loss = (await value.data())[0];
    const done = performance.now();
    tf.dispose([xs, ys, value, ...Object.values(grads)]);
    if (!Number.isFinite(loss)) throw new Error(`${arch}: the loss is ${loss}`);
    return { hostMs: enqueued - start, waitMs: done - enqueued };
  };
  try {
    for (let i = 0; i < 2; i++) await step();
    const steps: DeviceStep[] = [];
    for (let i = 0; i < opts.steps; i++) {
      const { value, traffic } = await measureDeviceTraffic(step);
      steps.push({ ...value, dispatches: traffic.dispatches, uploadBytes: traffic.uploadBytes, createBuffers: traffic.createBuffers });
    }
    const info = await tf.profile(() => step());
    const byName = new Map<string, KernelTime>();
    for (const k of info.kernels) {
      const entry = byName.get(k.name) ?? { kernel: k.name, selfMs: 0, calls: 0 };
      entry.selfMs += Number(k.kernelTimeMs) || 0;
      entry.calls++;
      byName.set(k.name, entry);
    }
    const kernels = [...byName.values()].sort((a, b) => b.selfMs - a.selfMs);
    const stepMs = steps.map((s) => s.hostMs + s.waitMs);
    const hostMs = median(steps.map((s) => s.hostMs));
    const row: BenchRow = {
      kind: "train",
      subject: arch,
      variant: `${opts.kernelSet === "tfjs" ? "tfjs 4.22 kernels" : "showcase kernels"}, SGD`,
      engine: opts.engine,
      threads: opts.threads,
      inputSize: size,
      batch: opts.batch,
      imagesPerSecond: round((opts.steps * opts.batch * 1000) / stepMs.reduce((a, b) => a + b, 0)),
      hostMs: round(hostMs, 1),
      deviceWaitMs: round(median(steps.map((s) => s.waitMs)), 1),
      kernelsPerStep: median(steps.map((s) => s.dispatches)),
      uploadBytesPerStep: median(steps.map((s) => s.uploadBytes)),
      createBuffersPerStep: median(steps.map((s) => s.createBuffers)),
      repetitions: opts.steps,
    };
    return { row, kernels };
  } finally {
    optimizer.dispose();
    model.dispose();
    registerWebGpuTrainingKernels();
  }
}
