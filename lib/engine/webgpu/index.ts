// The WebGPU engine: Dawn (dawn.ts) and the kernels and gradients this project adds to
// tfjs-backend-webgpu 4.22 for training (see docs/performance.md, "WebGPU training").
import * as tf from "@tensorflow/tfjs";
import { type GradFunc, MASKED_GRADIENT_BOUNDS, overrideGradients } from "../gradient-overrides";
import { BATCH_NORM_GRAD_KERNEL, batchNormGrad, batchNormGradFunc } from "./batch-norm-grad";
import { BROADCAST_GRAD_KERNEL, broadcastGrad, broadcastGradFunc } from "./broadcast-grads";
import { conv2DBackpropFilter, depthwiseConv2dNativeBackpropFilter } from "./filter-grads";
import { MASK_GRAD_KERNEL, maskGrad, maskGradFunc } from "./mask-grads";
import { BATCH_NORM_TRAIN_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, BATCH_NORM_TRAIN_NO_SCALE_KERNEL, batchNormTrain, batchNormTrainGrad, batchNormTrainGradConfigs } from "./batch-norm-training";
import { ADAM_KERNEL, adamUpdate, SGD_KERNEL, sgdUpdate } from "./optimizers";
import { splitV } from "./split";
import { asWebGpuBackend } from "./program";
import { restoreUploads, useQueueUploads } from "./uploads";

export { disposeWebGpu, probeWebGpu, registerWebGpuBackend, type WebGpuProbe } from "./dawn";
export { BATCH_NORM_GRAD_KERNEL } from "./batch-norm-grad";
export { BATCH_NORM_TRAIN_KERNEL, BATCH_NORM_TRAIN_NO_SCALE_KERNEL } from "./batch-norm-training";
export { FusedAdamOptimizer, FusedSgdOptimizer } from "./optimizers";
export { type DeviceTraffic, measureDeviceTraffic } from "./traffic";

const KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: tf.KernelFunc }> = [
  { kernelName: "Conv2DBackpropFilter", kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: "DepthwiseConv2dNativeBackpropFilter", kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: BROADCAST_GRAD_KERNEL, kernelFunc: broadcastGrad as unknown as tf.KernelFunc },
  { kernelName: MASK_GRAD_KERNEL, kernelFunc: maskGrad as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_GRAD_KERNEL, kernelFunc: batchNormGrad as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAIN_KERNEL, kernelFunc: batchNormTrain as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAIN_NO_SCALE_KERNEL, kernelFunc: batchNormTrain as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAIN_GRAD_KERNEL, kernelFunc: batchNormTrainGrad as unknown as tf.KernelFunc },
  { kernelName: ADAM_KERNEL, kernelFunc: adamUpdate as unknown as tf.KernelFunc },
  { kernelName: SGD_KERNEL, kernelFunc: sgdUpdate as unknown as tf.KernelFunc },
  { kernelName: "SplitV", kernelFunc: splitV as unknown as tf.KernelFunc },
];

// The gradient registry is global: each override falls back to the original off webgpu.
const GRADIENTS: ReadonlyArray<[string, (original: GradFunc) => GradFunc]> = [
  ["Sum", (o) => broadcastGradFunc(o, false)],
  ["Mean", (o) => broadcastGradFunc(o, true)],
  ["FusedBatchNorm", batchNormGradFunc],
  ...MASKED_GRADIENT_BOUNDS.map(([name, bounds]): [string, (original: GradFunc) => GradFunc] => [name, (o) => maskGradFunc(o, bounds)]),
];

const originals = new Map<string, tf.KernelConfig | undefined>();
const originalGradients = new Map<string, tf.GradConfig>();

/**
 * Registers the training kernels for the "webgpu" backend and the gradient overrides, and makes the
 * active webgpu backend upload through writeBuffer (idempotent). Returns the names registered.
 */
export function registerWebGpuTrainingKernels(): string[] {
  for (const { kernelName, kernelFunc } of KERNELS) {
    const existing = tf.getKernel(kernelName, "webgpu");
    if (existing?.kernelFunc === kernelFunc) continue;
    if (!originals.has(kernelName)) originals.set(kernelName, existing);
    if (existing) tf.unregisterKernel(kernelName, "webgpu");
    tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc });
  }
  overrideGradients(GRADIENTS, originalGradients);
  // Our own kernels' gradients: registered once, harmless where the kernel is not (it is never run there).
  for (const config of batchNormTrainGradConfigs) if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  if (tf.getBackend() === "webgpu") useQueueUploads(asWebGpuBackend(tf.backend()));
  return [...KERNELS.map((k) => k.kernelName), ...GRADIENTS.map(([name]) => `${name} gradient`)];
}

/** Puts tfjs's own kernels and gradients back (for before/after comparisons and tests). */
export function restoreWebGpuOriginals(): void {
  for (const [kernelName, config] of originals) {
    tf.unregisterKernel(kernelName, "webgpu");
    if (config) tf.registerKernel(config);
  }
  originals.clear();
  for (const [, config] of originalGradients) tf.registerGradient(config);
  originalGradients.clear();
  if (tf.getBackend() === "webgpu") restoreUploads(asWebGpuBackend(tf.backend()));
}
