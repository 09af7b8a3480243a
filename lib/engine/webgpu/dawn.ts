// The WebGPU engine: TensorFlow.js's WebGPU backend on Dawn (npm `webgpu`), which runs on any
// Vulkan GPU whatever its CUDA version. The backend registers itself only if navigator.gpu exists
// when it is imported, so the shim comes first; Dawn keeps the process alive while its GPU object is
// referenced, so disposeWebGpu() removes the shim again.
import * as tf from "@tensorflow/tfjs";
import { plainLimits, softwareAdapterReason } from "../adapter";
import type { GpuAdapterInfo } from "../types";

interface DawnGpu {
  requestAdapter(options?: object): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(options: string[]): DawnGpu;
  globals: Record<string, unknown>;
}
interface DawnAdapter {
  info?: Record<string, unknown>;
  limits: object & { maxStorageBuffersPerShaderStage?: number };
  isFallbackAdapter?: boolean;
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

export interface WebGpuProbe {
  adapter?: GpuAdapterInfo;
  /** Why there is no usable adapter, or why the one found is software. */
  problem?: string;
  software: boolean;
}

let savedNavigator: PropertyDescriptor | undefined;
let shimInstalled = false;

// A dynamic import that TypeScript's CommonJS output keeps as import(): `webgpu` is an ES module.
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

async function loadDawn(): Promise<DawnModule> {
  return (await importEsm("webgpu")) as DawnModule;
}

/**
 * tfjs asks for a device with WebGPU's default 8 storage buffers per shader stage; our fused programs
 * (lib/engine/webgpu/optimizers.ts) update more variables per dispatch with what the adapter offers
 * (16 on lavapipe), so every device requested through this shim asks for the adapter's maximum.
 */
function withAdapterStorageBufferLimit(gpu: DawnGpu): DawnGpu {
  const requestAdapter = gpu.requestAdapter;
  gpu.requestAdapter = async function (this: DawnGpu, options?: object) {
    const adapter = await requestAdapter.call(this, options);
    const maximum = adapter?.limits.maxStorageBuffersPerShaderStage;
    if (adapter && maximum) {
      const requestDevice = adapter.requestDevice;
      adapter.requestDevice = function (this: DawnAdapter, descriptor: { requiredLimits?: Record<string, number> } = {}) {
        const requiredLimits = { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: maximum };
        return requestDevice.call(this, { ...descriptor, requiredLimits });
      };
    }
    return adapter;
  };
  return gpu;
}

async function installNavigatorGpu(): Promise<DawnGpu> {
  const dawn = await loadDawn();
  // GPUBufferUsage, GPUMapMode … are used as globals by the tfjs backend.
  for (const [key, value] of Object.entries(dawn.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }
  const gpu = withAdapterStorageBufferLimit(dawn.create([]));
  if (!shimInstalled) savedNavigator = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  const base = (savedNavigator?.get ? savedNavigator.get.call(globalThis) : savedNavigator?.value) ?? {};
  Object.defineProperty(globalThis, "navigator", { value: Object.assign(Object.create(base), { gpu }), configurable: true, writable: true });
  shimInstalled = true;
  return gpu;
}

/** Removes the navigator.gpu shim (restoring Node's own navigator, if any) so the process can exit. */
export function disposeWebGpu(): void {
  if (!shimInstalled) return;
  // The backend stays registered: tearing it down (tf.removeBackend, device.destroy) before exit
  // made Dawn crash at process exit (SIGSEGV/SIGABRT with lavapipe), while leaving it is harmless.
  delete (globalThis as { navigator?: unknown }).navigator;
  if (savedNavigator) Object.defineProperty(globalThis, "navigator", savedNavigator);
  shimInstalled = false;
  savedNavigator = undefined;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

// The flag exists only once the backend module is loaded; before that it has its default (false).
function lowPowerRequested(): boolean {
  try {
    return tf.env().getBool("WEBGPU_USE_LOW_POWER_GPU");
  } catch {
    return false;
  }
}

/** Asks Dawn for the adapter the tfjs backend would get (same power preference) and describes it. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  let gpu;
  try {
    gpu = await installNavigatorGpu();
  } catch (error) {
    return { software: false, problem: `the webgpu package (Dawn) did not load: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` };
  }
  const powerPreference = lowPowerRequested() ? "low-power" : "high-performance";
  let adapter: DawnAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference });
  } catch (error) {
    return { software: false, problem: `requestAdapter failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!adapter) {
    return {
      software: false,
      problem: "Dawn found no WebGPU adapter (no Vulkan driver for a GPU: is libvulkan.so.1 and a GPU's Vulkan ICD installed?)",
    };
  }
  const info = adapter.info ?? {};
  const described: GpuAdapterInfo = {
    vendor: text(info.vendor),
    architecture: text(info.architecture),
    description: text(info.description) || text(info.device),
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
    limits: plainLimits(adapter.limits),
  };
  const software = softwareAdapterReason({ ...described, device: text(info.device) });
  return { adapter: described, software: software !== undefined, problem: software };
}

/** Imports the tfjs WebGPU backend (after the shim, so that it registers). */
export async function registerWebGpuBackend(): Promise<void> {
  if (!shimInstalled) await installNavigatorGpu();
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!tf.findBackendFactory("webgpu")) {
    // Imported earlier without the shim: the module ran once and did not register. Say so plainly.
    throw new Error("@tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed, so it did not register; let selectEngine import it");
  }
}
