// The native engines: @tensorflow/tfjs-node (libtensorflow on the CPU) and @tensorflow/tfjs-node-gpu
// (libtensorflow 2.9.1 built for CUDA 11.2 + cuDNN 8.1). Both register the backend "tensorflow".
// tfjs-node-gpu loads on any machine and, when the CUDA 11 libraries are missing, prints "Could not
// load dynamic library" and runs on the CPU without failing: the backend's isUsingGpuDevice flag and
// a look for the libraries tell the truth.
import type { EngineDescription } from "./types";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { captureConsole } from "./activate";
import { findGenuinePackage, findInstalledPackage, type InstalledPackage } from "./packages";

export type NativePackageName = "@tensorflow/tfjs-node" | "@tensorflow/tfjs-node-gpu";

/** The CUDA libraries libtensorflow 2.9.1 (tfjs-node-gpu 4.22) opens, by their exact sonames. */
export const CUDA11_LIBRARIES = ["libcudart.so.11.0", "libcublas.so.11", "libcublasLt.so.11", "libcufft.so.10", "libcurand.so.10", "libcusolver.so.11", "libcusparse.so.11", "libcudnn.so.8"] as const;

export interface NativeLoad {
  package: InstalledPackage;
  loaded: boolean;
  /** Whether libtensorflow placed its device on a GPU (tfjs-node-gpu only). */
  usingGpu: boolean;
  /** Why loading failed, or why the GPU package runs on the CPU. */
  problem?: string;
  /** Messages libtensorflow printed while loading (e.g. "Could not load dynamic library …"). */
  messages: string[];
}

/** Where the dynamic loader would find each library (ldconfig cache, LD_LIBRARY_PATH); missing ones absent. */
export function locateSharedLibraries(names: readonly string[], env: NodeJS.ProcessEnv = process.env): Map<string, string | undefined> {
  const found = new Map<string, string | undefined>(names.map((name) => [name, undefined]));
  for (const dir of (env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean)) {
    for (const name of names) if (!found.get(name) && existsSync(path.join(dir, name))) found.set(name, path.join(dir, name));
  }
  let cache = "";
  try {
    cache = execFileSync("ldconfig", ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
  } catch {
    for (const dir of ["/sbin", "/usr/sbin"]) {
      try {
        cache = execFileSync(path.join(dir, "ldconfig"), ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
        break;
      } catch {
        // try the next location
      }
    }
  }
  for (const line of cache.split("\n")) {
    const match = /^\s*(\S+) .*=> (\S+)$/.exec(line);
    if (match && found.has(match[1]) && !found.get(match[1])) found.set(match[1], match[2]);
  }
  return found;
}

export function missingCuda11Libraries(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...locateSharedLibraries(CUDA11_LIBRARIES, env)].filter(([, where]) => !where).map(([name]) => name);
}

/** The genuine native package under this name, or why there is none (absent, or danfo's alias). */
export function findNativePackage(name: NativePackageName): { package?: InstalledPackage; absent?: string } {
  const genuine = findGenuinePackage(name);
  if (genuine) return { package: genuine };
  const other = findInstalledPackage(name);
  if (other) return { absent: `${name} is not installed (the folder holds ${other.name}@${other.version}, danfojs-node's alias); run \`npm run engine:native\`` };
  return { absent: name === "@tensorflow/tfjs-node" ? `${name} is not installed; run \`npm run engine:native\`` : `${name} is not installed (an optional dependency: its libtensorflow download failed or was skipped)` };
}

interface NodeBackendFlags {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

/**
 * Loads a native package (registers the "tensorflow" backend) and reads whether it uses a GPU.
 * Does not leave the backend active: the caller activates it and verifies.
 */
export async function loadNativePackage(pkg: InstalledPackage): Promise<NativeLoad> {
  const { value, messages } = await captureConsole(async () => {
    try {
      require(pkg.dir); // the package folder itself: never resolves to danfo's alias
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message.split("\n")[0] : String(error);
    }
  });
  if (value !== undefined || !tf.findBackendFactory("tensorflow")) {
    return { package: pkg, loaded: false, usingGpu: false, problem: value ?? `${pkg.name} loaded but registered no "tensorflow" backend`, messages };
  }
  let usingGpu = false;
  if (pkg.name === "@tensorflow/tfjs-node-gpu") {
    const previous = tf.getBackend();
    const { messages: initMessages } = await captureConsole(async () => {
      try {
        if (await tf.setBackend("tensorflow")) usingGpu = Boolean((tf.backend() as unknown as NodeBackendFlags).isUsingGpuDevice);
      } catch {
        // reported by activateBackend later
      }
      if (previous && previous !== "tensorflow") await tf.setBackend(previous).catch(() => false);
    });
    messages.push(...initMessages);
  }
  let problem: string | undefined;
  if (pkg.name === "@tensorflow/tfjs-node-gpu" && !usingGpu) {
    const missing = missingCuda11Libraries();
    const loadErrors = messages.filter((line) => /Could not load dynamic library/i.test(line));
    problem = missing.length
      ? `tfjs-node-gpu found no GPU and runs on the CPU: libtensorflow 2.9.1 needs CUDA 11.2 + cuDNN 8.1 and ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing (CUDA 12/13 and cuDNN 9 do not count)`
      : loadErrors.length
        ? `tfjs-node-gpu found no GPU and runs on the CPU: ${loadErrors[0].trim()}`
        : "tfjs-node-gpu found no GPU and runs on the CPU (no CUDA device visible: check nvidia-smi and CUDA_VISIBLE_DEVICES)";
  }
  return { package: pkg, loaded: true, usingGpu, problem, messages };
}

export interface GpuPackageStatus {
  installed: boolean;
  version?: string;
  foundGpu?: boolean;
  /** Why it runs without a GPU, and what to use instead. */
  note?: string;
}

// Only when the package is there: whether libtensorflow saw a CUDA GPU, and if not, why.
export async function gpuPackageStatus(engine: EngineDescription): Promise<GpuPackageStatus> {
  const found = findNativePackage("@tensorflow/tfjs-node-gpu");
  if (!found.package) return { installed: false };
  if (engine.engine === "tfjs-node-gpu" && engine.device === "gpu") return { installed: true, version: found.package.version, foundGpu: true };
  const load = await loadNativePackage(found.package);
  if (load.usingGpu) return { installed: true, version: found.package.version, foundGpu: true };
  return {
    installed: true,
    version: found.package.version,
    foundGpu: false,
    note: `${load.problem ?? "it did not load"}. For a GPU with current drivers use ENGINE=webgpu (Vulkan, any CUDA version)`,
  };
}
