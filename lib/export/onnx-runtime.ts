// ONNX Runtime (onnxruntime-node) as a classification-time runtime: one session per exported model,
// NHWC float32 in, the model's first output back. CPU always; CUDA when the user installed that
// provider (its libraries are not in the npm package); WebGPU only when asked for, since it needs a GPU.
import { existsSync } from "node:fs";
import * as path from "node:path";
import type * as Ort from "onnxruntime-node";

export type OnnxProvider = "cpu" | "cuda" | "webgpu";
export const ONNX_PROVIDERS: readonly OnnxProvider[] = ["cpu", "cuda", "webgpu"];

export interface OnnxSession {
  session: Ort.InferenceSession;
  provider: OnnxProvider;
  threads: number;
  inputName: string;
  outputName: string;
  version: string;
}

let ortModule: typeof Ort | undefined;

/** Loaded on first use: the native addon costs ~0.1 s and is not needed by tfjs-only commands. */
export function onnxRuntime(): typeof Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ortModule ??= require("onnxruntime-node") as typeof Ort;
  return ortModule;
}

/** Providers this installation can run: bundled ones, and CUDA once its libraries are installed. */
export function availableOnnxProviders(): OnnxProvider[] {
  const listed = onnxRuntime().listSupportedBackends() as Array<{ name: string; bundled: boolean }>;
  // The CUDA provider is not in the npm package: present only where the user installed it (--onnxruntime-node-install=cuda12).
  const binaries = path.join(path.dirname(require.resolve("onnxruntime-node/package.json")), "bin", "napi-v6", process.platform, process.arch);
  const cudaInstalled = existsSync(path.join(binaries, "libonnxruntime_providers_cuda.so"));
  return ONNX_PROVIDERS.filter((p) => listed.some((b) => b.name === p && (b.bundled || (p === "cuda" && cudaInstalled))));
}

export async function createOnnxSession(model: string | Uint8Array, opts: { provider?: OnnxProvider; threads?: number } = {}): Promise<OnnxSession> {
  const ort = onnxRuntime();
  const provider = opts.provider ?? "cpu";
  if (!ONNX_PROVIDERS.includes(provider)) throw new Error(`ONNX provider "${String(provider)}" is not one of ${ONNX_PROVIDERS.join(", ")}`);
  const threads = opts.threads ?? 1;
  const options: Ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  };
  let session: Ort.InferenceSession;
  try {
    session = typeof model === "string" ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (error) {
    const where = typeof model === "string" ? model : "the exported model";
    throw new Error(`ONNX Runtime could not load ${where} on provider ${provider}: ${(error as Error).message.split("\n")[0]}`);
  }
  return { session, provider, threads, inputName: session.inputNames[0], outputName: session.outputNames[0], version: ort.env.versions.node ?? "unknown" };
}

/** Runs one NHWC float32 batch and returns the first output's values. */
export async function runOnnx(s: OnnxSession, data: Float32Array, shape: readonly number[]): Promise<Float32Array> {
  const ort = onnxRuntime();
  const feeds = { [s.inputName]: new ort.Tensor("float32", data, shape as number[]) };
  const results = await s.session.run(feeds);
  const out = results[s.outputName];
  const values = (out.data as Float32Array).slice(); // ours, whatever the provider does with its buffer
  out.dispose();
  return values;
}
