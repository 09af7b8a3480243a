// WebGPU adapters: what a real GPU looks like, and how much one tensor may hold on it.
// Pure functions over plain objects, so they are testable without a GPU.
import type { GpuAdapterInfo } from "./types";

/** WebGPU's default maxStorageBufferBindingSize (the spec's guaranteed minimum): 128 MiB. */
export const DEFAULT_MAX_BINDING_BYTES = 128 * 1024 * 1024;

// Software rasterisers that expose Vulkan/Metal/D3D: fine for tests, never a GPU.
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|warp|basic render driver|software/i;

/** Why an adapter is a software one, or undefined for a hardware adapter. */
export function softwareAdapterReason(info: Pick<GpuAdapterInfo, "vendor" | "architecture" | "description" | "isFallbackAdapter"> & { device?: string }): string | undefined {
  if (info.isFallbackAdapter) return "the adapter reports isFallbackAdapter (a software implementation)";
  const text = [info.vendor, info.architecture, info.description, info.device ?? ""].join(" ");
  const match = SOFTWARE_ADAPTER.exec(text);
  return match ? `the adapter is a software rasteriser (${match[0]})` : undefined;
}

export function isHardwareAdapter(info: Parameters<typeof softwareAdapterReason>[0]): boolean {
  return softwareAdapterReason(info) === undefined;
}

/** Copies the numeric fields of a GPUSupportedLimits object (its fields are prototype getters). */
export function plainLimits(limits: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key in limits) {
    const value = (limits as Record<string, unknown>)[key];
    if (typeof value === "number") out[key] = value;
  }
  return out;
}

function bindingLimitBytes(limits: Record<string, number> | undefined): number {
  const max = limits?.maxStorageBufferBindingSize;
  return typeof max === "number" && max > 0 ? max : DEFAULT_MAX_BINDING_BYTES;
}

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)} MiB`;
}

/**
 * The largest batch whose biggest tensor still fits one storage-buffer binding. On WebGPU each
 * tensor is one buffer, so the largest activation of a network (per image) bounds the batch.
 * Throws, naming the limit, when not even one image fits.
 */
export function maxBatchForBinding(bytesPerImage: number, limits?: Record<string, number>): number {
  if (!(bytesPerImage > 0)) throw new RangeError(`bytesPerImage must be positive, got ${bytesPerImage}`);
  const limit = bindingLimitBytes(limits);
  const batch = Math.floor(limit / bytesPerImage);
  if (batch < 1) {
    throw new RangeError(
      `one image needs a ${formatMiB(bytesPerImage)} tensor, over this adapter's maxStorageBufferBindingSize of ${formatMiB(limit)}: use a smaller IMAGE_SIZE or another engine`,
    );
  }
  return batch;
}

/**
 * Splits a batch into equal micro-batches that fit the binding limit (for gradient accumulation).
 * Returns the micro-batch size and how many of them make the batch (the last may be smaller).
 */
export function planMicroBatches(opts: { batchSize: number; bytesPerImage: number; limits?: Record<string, number> }): { microBatchSize: number; steps: number } {
  const fits = maxBatchForBinding(opts.bytesPerImage, opts.limits);
  const steps = Math.ceil(opts.batchSize / Math.min(fits, opts.batchSize));
  return { microBatchSize: Math.ceil(opts.batchSize / steps), steps };
}

/** Refuses a tensor larger than the binding limit with a message naming the limit (never a crash later). */
export function assertFitsBinding(opts: { bytes: number; what: string; limits?: Record<string, number> }): void {
  const limit = bindingLimitBytes(opts.limits);
  if (opts.bytes > limit) {
    throw new RangeError(
      `${opts.what} needs ${formatMiB(opts.bytes)}, over the WebGPU adapter's maxStorageBufferBindingSize of ${formatMiB(limit)}: lower BATCH_SIZE or IMAGE_SIZE (or let training split the batch into micro-batches)`,
    );
  }
}

/** Bytes per image of the largest float32 output of any layer (a model-shaped { layers } object). */
export function largestActivationBytesPerImage(model: { layers: Array<{ outputShape: unknown }> }): number {
  let largest = 0;
  for (const layer of model.layers) {
    let outputShape: unknown;
    try {
      outputShape = layer.outputShape; // throws for a layer shared between several inputs
    } catch {
      continue;
    }
    if (!Array.isArray(outputShape)) continue;
    const shapes = Array.isArray(outputShape[0]) ? (outputShape as unknown[][]) : [outputShape as unknown[]];
    for (const shape of shapes) {
      const elements = shape.slice(1).reduce<number>((product, dim) => product * (typeof dim === "number" ? dim : 1), 1);
      largest = Math.max(largest, elements * 4);
    }
  }
  return largest;
}
