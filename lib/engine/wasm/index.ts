// Gradient kernels the wasm backend of TensorFlow.js 4.22 lacks (or has only as a slow reference
// loop), registered so that tfjs-layers models train on wasm. See docs/performance.md.
import * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilter, conv2DBackpropInput } from "./conv-grads";
import { depthwiseBackpropFilter, depthwiseBackpropInput } from "./depthwise-grads";

// export { foldBatchNormForInference } from "./fold-bn";
// export { trainStepMicroBatched } from "./micro-batch";

const KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: tf.KernelFunc }> = [
  { kernelName: "Conv2DBackpropFilter", kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  // wasm has one, but it is a scalar loop ~15× slower than its conv2d: replaced.
  { kernelName: "Conv2DBackpropInput", kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc },
  { kernelName: "DepthwiseConv2dNativeBackpropFilter", kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: "DepthwiseConv2dNativeBackpropInput", kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc },
];

/**
 * Registers the training kernels for the "wasm" backend (idempotent) and returns their names.
 * Safe to call before or after tf.setBackend("wasm").
 */
export function registerWasmTrainingKernels(): string[] {
  for (const { kernelName, kernelFunc } of KERNELS) {
    const existing = tf.getKernel(kernelName, "wasm");
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
  }
  return KERNELS.map((k) => k.kernelName);
}
