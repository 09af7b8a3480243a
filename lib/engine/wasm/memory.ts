// Memory planning for the wasm heap: its hard ceiling is 4 GiB (32-bit wasm), and an allocation
// past it kills the backend with `Aborted()`. We estimate what a step needs from the model's
// layer outputs and refuse, with a message, what cannot fit.
import * as tf from "@tensorflow/tfjs";

export const WASM_HEAP_MAX_BYTES = 4294901760;
/** What a step may plan to use: the rest is weights, optimizer state, fragmentation. */
export const DEFAULT_HEAP_BUDGET_BYTES = 2.5 * 1024 ** 3;

export class WasmMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WasmMemoryError";
  }
}

/** Sum of every layer's output floats for one image, in bytes. */
export function activationBytesPerImage(model: tf.LayersModel): number {
  let floats = 0;
  for (const layer of model.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as Array<Array<number | null>>;
    for (const shape of shapes) floats += shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  }
  return floats * 4;
}

/**
 * Heap bytes one training image needs: the tape keeps every layer output plus BatchNormalization's
 * training intermediates (x − μ, its square, …) and the backward pass adds gradients and
 * temporaries. Measured on MobileNetV2 at 224 px: 400 MiB of heap per image for 83 MiB of layer
 * outputs (4.8×); 5× is used.
 */
export function trainingBytesPerImage(model: tf.LayersModel): number {
  return activationBytesPerImage(model) * 5;
}

/** Inference frees each layer output once its consumers ran; the full sum is a safe bound (DenseNet's concatenations keep many alive). */
export function inferenceBytesPerImage(model: tf.LayersModel): number {
  return activationBytesPerImage(model);
}

/** The largest micro-batch ≤ batchSize that fits the budget; throws WasmMemoryError when not even one image fits. */
export function planMicroBatch(opts: { batchSize: number; bytesPerImage: number; budgetBytes?: number; what: string }): number {
  const budget = opts.budgetBytes ?? DEFAULT_HEAP_BUDGET_BYTES;
  const fits = Math.floor(budget / opts.bytesPerImage);
  if (fits < 1) {
    const mb = (b: number) => `${Math.round(b / 1024 ** 2)} MiB`;
    throw new WasmMemoryError(
      `${opts.what} needs about ${mb(opts.bytesPerImage)} of wasm heap per image, more than the ${mb(budget)} budget ` +
        `(wasm's ceiling is 4 GiB): use a smaller IMAGE_SIZE, a smaller model, or a native engine (tfjs-node)`,
    );
  }
  return Math.min(opts.batchSize, fits);
}
