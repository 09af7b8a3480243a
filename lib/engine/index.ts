// Engine selection for the whole project: which TensorFlow.js backend runs, why, and what it is.
// Every output records describeEngine() so numbers can be traced to the engine that made them.
import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { EngineChoice } from "../config";
import { isBackendActive } from "./activate";
import { defaultCandidates } from "./candidates";
import { collectVersions } from "./packages";
import { chooseEngine, type EngineCandidate } from "./select";
import type { EngineDescription, EngineName } from "./types";

export type { EngineDescription, EngineName, GpuAdapterInfo } from "./types";
export { EngineUnavailableError } from "./select";
export { activateBackend, isBackendActive } from "./activate";
export { assertFitsBinding, DEFAULT_MAX_BINDING_BYTES, isHardwareAdapter, largestActivationBytesPerImage, maxBatchForBinding, planMicroBatches, softwareAdapterReason } from "./adapter";
export { disposeWebGpu, measureDeviceTraffic, registerWebGpuTrainingKernels, restoreWebGpuOriginals } from "./webgpu/index";
export { gpuPackageStatus, type GpuPackageStatus, missingCuda11Libraries } from "./native";

let selected: EngineDescription | undefined;

/**
 * Picks and activates the engine: ENGINE=auto tries tfjs-node-gpu (GPU found) → webgpu (hardware
 * adapter) → tfjs-node → wasm → cpu; any other choice forces that engine or throws
 * EngineUnavailableError saying why. `candidates` is for tests.
 */
export async function selectEngine(opts: { engine?: EngineChoice; quiet?: boolean; candidates?: EngineCandidate[] } = {}): Promise<EngineDescription> {
  const description = await chooseEngine({
    choice: opts.engine ?? "auto",
    candidates: opts.candidates ?? defaultCandidates(),
    versions: () => ({ ...collectVersions(), ...backendVersions() }),
  });
  selected = description;
  if (!opts.quiet) {
    console.log(`engine: ${description.engine} on ${description.device} (backend ${description.backend}) — ${description.reason}`);
    for (const warning of description.warnings) console.warn(`engine warning: ${warning}`);
  }
  return structuredClone(description);
}

function backendVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const [name, version] of Object.entries(tf.version)) versions[`tf.version.${name}`] = version;
  return versions;
}

const BACKEND_ENGINES: Record<string, EngineName> = { cpu: "cpu", wasm: "wasm", webgpu: "webgpu", tensorflow: "tfjs-node" };

/** The engine tfjs is running on now: the selection if it is still active, else what tfjs reports. */
export function describeEngine(): EngineDescription {
  if (selected && isBackendActive(selected.backend)) return structuredClone(selected);
  const backend = tf.getBackend() ?? "none";
  return {
    engine: BACKEND_ENGINES[backend] ?? "cpu",
    backend,
    device: "cpu",
    reason: selected
      ? `the backend changed to ${backend} after selectEngine chose ${selected.engine}`
      : `tfjs's own default (${backend}); selectEngine was not called`,
    warnings: selected ? [`the selected engine ${selected.engine} is no longer active`] : [],
    threads: backend === "tensorflow" ? availableParallelism() : 1,
    versions: { ...collectVersions(), ...backendVersions() },
  };
}
