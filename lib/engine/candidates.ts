// The five engines as selection candidates, fastest first:
// tfjs-node-gpu (GPU found) → webgpu (hardware adapter) → tfjs-node (native CPU) → wasm → cpu.
import { availableParallelism } from "node:os";
import { activateBackend } from "./activate";
import { findNativePackage, loadNativePackage, type NativeLoad } from "./native";
import type { CandidateSkipped, CandidateStarted, EngineCandidate } from "./select";
import { disposeWebGpu, probeWebGpu, registerWebGpuBackend, registerWebGpuTrainingKernels } from "./webgpu/index";
import { startWasmBackend } from "./wasm-backend";

// The wasm kernels are loaded lazily (a separate module needed only when wasm is chosen); the webgpu
// ones are light (WGSL text), imported statically so that every caller shares one registry of what
// was replaced (a dynamic import can load a second copy of the module under tsx).
// "./wasm/index", not "./wasm": the tslab kernel does not resolve a dynamic import of a folder.
async function registerTrainingKernels(backend: "wasm" | "webgpu"): Promise<{ names: string[]; error?: string }> {
  try {
    if (backend === "webgpu") return { names: registerWebGpuTrainingKernels() };
    const { registerWasmTrainingKernels } = await import("./wasm/index");
    return { names: registerWasmTrainingKernels() };
  } catch (error) {
    return { names: [], error: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  }
}

const skip = (reason: string, warning?: string): CandidateSkipped => ({ ok: false, reason, ...(warning ? { warning } : {}) });

/** Candidates share what they learn within one selection (the GPU package's CPU fallback). */
export function defaultCandidates(): EngineCandidate[] {
  let gpuPackage: NativeLoad | undefined;

  const loadGpuPackage = async (): Promise<NativeLoad | string> => {
    if (gpuPackage) return gpuPackage;
    const found = findNativePackage("@tensorflow/tfjs-node-gpu");
    if (!found.package) return found.absent!;
    gpuPackage = await loadNativePackage(found.package);
    return gpuPackage;
  };

  const startTensorflow = async (device: "gpu" | "cpu", detail: string, warnings: string[], engine?: "tfjs-node-gpu"): Promise<CandidateStarted | CandidateSkipped> => {
    const activation = await activateBackend("tensorflow");
    if (!activation.ok) return skip(`the "tensorflow" backend did not start (${activation.error}); tfjs is on ${activation.backend}`, `the native backend failed to start: ${activation.error}`);
    return { ok: true, backend: activation.backend, device, detail, threads: availableParallelism(), warnings, ...(engine ? { engine } : {}) };
  };

  return [
    {
      engine: "tfjs-node-gpu",
      async start() {
        const load = await loadGpuPackage();
        if (typeof load === "string") return skip(load);
        if (!load.loaded) return skip(`it did not load: ${load.problem}`, `@tensorflow/tfjs-node-gpu is installed but did not load: ${load.problem}`);
        if (!load.usingGpu) return skip(load.problem!, `${load.problem}. ENGINE=webgpu uses a GPU through Vulkan whatever the CUDA version`);
        return startTensorflow("gpu", `libtensorflow ${load.package.version} on a CUDA GPU`, []);
      },
    },
    {
      engine: "webgpu",
      async start({ forced }) {
        const probe = await probeWebGpu();
        if (!probe.adapter) {
          disposeWebGpu();
          return skip(probe.problem ?? "no adapter");
        }
        const name = `${probe.adapter.vendor || "unknown vendor"} ${probe.adapter.description || probe.adapter.architecture}`.trim();
        if (probe.software && !forced) {
          disposeWebGpu();
          return skip(`only a software adapter (${name}): ${probe.problem}; it is not a GPU (ENGINE=webgpu forces it)`);
        }
        await registerWebGpuBackend();
        const activation = await activateBackend("webgpu");
        if (!activation.ok) {
          disposeWebGpu();
          return skip(`tf.setBackend("webgpu") failed (${activation.error}); tfjs is on ${activation.backend}`, `the WebGPU adapter ${name} was found but the backend failed to start: ${activation.error}`);
        }
        const kernels = await registerTrainingKernels("webgpu");
        const warnings = [
          ...(probe.software ? [`WebGPU runs on a software adapter (${name}): ${probe.problem}. This is the CPU, not a GPU`] : []),
          ...(kernels.error ? [`the webgpu training kernels did not register (${kernels.error}): training runs on tfjs's own, slower gradients`] : []),
        ];
        const binding = probe.adapter.limits.maxStorageBufferBindingSize;
        return {
          ok: true,
          backend: activation.backend,
          device: probe.software ? "cpu" : "gpu",
          detail: `${probe.software ? "software" : "GPU"} adapter ${name}, maxStorageBufferBindingSize ${binding ? `${Math.round(binding / 2 ** 20)} MiB` : "unknown"}, ${kernels.names.length} training kernels added`,
          threads: 1,
          warnings,
          adapter: probe.adapter,
        };
      },
    },
    {
      engine: "tfjs-node",
      async start() {
        const found = findNativePackage("@tensorflow/tfjs-node");
        if (found.package) {
          const load = await loadNativePackage(found.package);
          if (!load.loaded) return skip(`it did not load: ${load.problem}`, `@tensorflow/tfjs-node is installed but did not load: ${load.problem}`);
          return startTensorflow("cpu", `libtensorflow ${load.package.version} on ${availableParallelism()} CPU threads`, []);
        }
        // The GPU package without a GPU is still native TensorFlow on the CPU: better than wasm.
        const gpu = gpuPackage;
        if (gpu?.loaded && !gpu.usingGpu) {
          return startTensorflow("cpu", `@tensorflow/tfjs-node-gpu ${gpu.package.version} running libtensorflow on the CPU`, [`${gpu.problem}`], "tfjs-node-gpu");
        }
        return skip(found.absent!);
      },
    },
    {
      engine: "wasm",
      async start() {
        const started = await startWasmBackend();
        if (!started.activation.ok) {
          return skip(`tf.setBackend("wasm") failed (${started.activation.error}); tfjs is on ${started.activation.backend}`, `the wasm backend failed to start (${started.activation.error}); without it only the pure-JS cpu backend is left`);
        }
        const kernels = await registerTrainingKernels("wasm");
        const cores = availableParallelism();
        return {
          ok: true,
          backend: started.activation.backend,
          device: "cpu",
          detail: `WebAssembly${started.simd ? " with SIMD" : " without SIMD"}, ${started.threads} thread${started.threads === 1 ? "" : "s"}, ${kernels.names.length} training kernels added`,
          threads: started.threads,
          warnings: [
            ...(started.threads <= 1 && cores > 1 ? [`wasm runs on 1 of ${cores} cores: tfjs-backend-wasm 4.22 turns multithreading off under Node`] : []),
            ...(kernels.error ? [`the wasm training kernels did not register (${kernels.error}): training on wasm fails on missing gradient kernels`] : []),
          ],
        };
      },
    },
    {
      engine: "cpu",
      async start({ forced }) {
        const activation = await activateBackend("cpu");
        if (!activation.ok) return skip(`the cpu backend did not start: ${activation.error}`);
        return {
          ok: true,
          backend: activation.backend,
          device: "cpu",
          detail: "pure JavaScript, 1 thread",
          threads: 1,
          warnings: forced ? [] : ["the pure-JS cpu backend is 15–80× slower than wasm: fit only for tiny runs"],
        };
      },
    },
  ];
}
