// The wasm engine: portable, SIMD, but single-threaded under Node (tfjs-backend-wasm 4.22 turns
// multithreading off there, tfjs issue #3830). Its .wasm files are found next to the package's
// JavaScript; if that fails, the paths are set explicitly and the start is retried once.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { activateBackend, type Activation } from "./activate";

export interface WasmStart {
  activation: Activation;
  simd: boolean;
  threads: number;
  version?: string;
}

export async function startWasmBackend(): Promise<WasmStart> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  let activation = await activateBackend("wasm");
  if (!activation.ok) {
    const distDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
    wasm.setWasmPaths(`${distDir}${path.sep}`);
    const retry = await activateBackend("wasm");
    activation = retry.ok ? retry : { ...retry, error: `${activation.error}; with setWasmPaths(${distDir}): ${retry.error}` };
  }
  if (!activation.ok) return { activation, simd: false, threads: 0 };
  return {
    activation,
    simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    threads: wasm.getThreadsCount(),
    version: wasm.version_wasm,
  };
}
