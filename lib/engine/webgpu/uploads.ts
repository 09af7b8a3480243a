// Host → GPU uploads through GPUQueue.writeBuffer into the backend's pooled buffers. tfjs-backend-webgpu
// 4.22 maps a buffer at creation instead: a fresh buffer when the pool has none of that size, and
// otherwise a fresh *staging* buffer (never reused) plus a copy — so every upload, even of a scalar,
// costs a createBuffer call, every step. writeBuffer into a pooled buffer creates nothing. It is safe
// because a pooled buffer is referenced by no pending command (the backend only returns buffers to
// the pool after the commands using them were submitted) and queue operations run in order.
import type { WebGpuBackendLike } from "./program";

const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

/** Replaces the backend instance's uploadToGPU (idempotent per instance). */
export function useQueueUploads(backend: WebGpuBackendLike): void {
  if (Object.hasOwn(backend, "uploadToGPU")) return;
  backend.uploadToGPU = function uploadWithWriteBuffer(this: WebGpuBackendLike, dataId: object): void {
    const data = this.tensorMap.get(dataId);
    if (data.resource != null) return;
    const elements = data.shape.reduce((a, b) => a * b, 1);
    const buffer = this.bufferManager.acquireBuffer(elements * 4, STORAGE_USAGE);
    const values = data.values;
    if (values) {
      // The GPU holds int32 for int32 and bool, float32 otherwise.
      const typed = data.dtype === "int32" || data.dtype === "bool" ? (values instanceof Int32Array ? values : Int32Array.from(values)) : values instanceof Float32Array ? values : Float32Array.from(values);
      this.queue.writeBuffer(buffer, 0, typed.buffer, typed.byteOffset, elements * 4);
      data.values = null;
    }
    data.resource = buffer;
  };
}

/** Back to the backend's own uploads (its prototype method). */
export function restoreUploads(backend: WebGpuBackendLike): void {
  delete (backend as Partial<WebGpuBackendLike>).uploadToGPU;
}
