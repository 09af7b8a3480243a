// A tfjs model as ONNX Runtime runs it, for classification time and per-image predictions: exported in
// memory, one session, the same preprocessed NHWC tensors in as tfjs gets.
import * as tf from "@tensorflow/tfjs";
import { relativeImagePath } from "../data/image-root";
import type { EvalBatch } from "../evaluate/predict";
import type { Evaluation } from "../schemas/evaluation";
import type { PredictionAgreement, Predictor } from "../evaluate/latency";
import type { LatencyEngine } from "../schemas/latency";
import { availableOnnxProviders, createOnnxSession, type OnnxProvider, type OnnxSession, onnxRuntime, runOnnx } from "./onnx-runtime";
import { exportToOnnx } from "./to-onnx";

/** The engine record of latency files measured on ONNX Runtime. */
export function onnxLatencyEngine(provider: OnnxProvider, threads: number): LatencyEngine {
  return {
    engine: `onnxruntime-${provider}`,
    backend: provider,
    device: provider === "cpu" ? "cpu" : "gpu",
    threads,
    reason: `ONNX Runtime ${onnxRuntime().env.versions.node} on the ${provider} execution provider, ${threads} intra-op thread(s), graph optimisation "all"`,
    warnings: [],
    versions: { "onnxruntime-node": onnxRuntime().env.versions.node ?? "unknown" },
  };
}

/**
 * ONNX Runtime providers to time: cpu always (its binaries are in the npm package); cuda when the user
 * installed that provider; webgpu only when the tfjs engine found a GPU adapter (device "gpu").
 * Undefined when onnxruntime-node cannot load on this machine, with the reason.
 */
export function onnxProvidersToTime(tfjsDevice: "cpu" | "gpu"): { providers: OnnxProvider[]; unavailable?: string } {
  try {
    const available = availableOnnxProviders();
    return { providers: available.filter((p) => p === "cpu" || p === "cuda" || (p === "webgpu" && tfjsDevice === "gpu")) };
  } catch (error) {
    return { providers: [], unavailable: `onnxruntime-node does not load here: ${(error as Error).message.split("\n")[0]}` };
  }
}

export interface OnnxPredictor {
  session: OnnxSession;
  predict: Predictor;
  /** Softmax rows of a preprocessed batch. */
  probabilities: (input: tf.Tensor4D) => Promise<number[][]>;
  release: () => Promise<void>;
}

export async function onnxPredictorFor(model: tf.LayersModel, opts: { provider: OnnxProvider; threads: number }): Promise<OnnxPredictor> {
  const session = await createOnnxSession(exportToOnnx(model).bytes, opts);
  const run = (input: tf.Tensor4D) => runOnnx(session, input.dataSync() as Float32Array, input.shape);
  return {
    session,
    predict: async (input) => {
      await run(input);
    },
    probabilities: async (input) => {
      const values = await run(input);
      const width = values.length / input.shape[0];
      return Array.from({ length: input.shape[0] }, (_, i) => Array.from(values.subarray(i * width, (i + 1) * width)));
    },
    release: () => session.session.release(),
  };
}

/** ONNX Runtime's class for every image tfjs evaluated; disagreements listed by image path. */
export async function agreementWithEvaluation(opts: {
  predictor: OnnxPredictor;
  evaluation: Evaluation;
  batches: AsyncIterable<EvalBatch>;
  preprocess: (x: tf.Tensor4D) => tf.Tensor;
  /** The folder the evaluation's image paths are relative to (lib/data imageRootOf). */
  imageRoot: string;
}): Promise<PredictionAgreement> {
  const tfjsByPath = new Map(opts.evaluation.predictions.map((p) => [p.path, p]));
  const disagreements: string[] = [];
  let images = 0;
  let maxAbsDiff = 0;
  for await (const batch of opts.batches) {
    try {
      const input = tf.tidy(() => opts.preprocess(batch.xs) as tf.Tensor4D);
      const rows = await opts.predictor.probabilities(input);
      input.dispose();
      batch.records.forEach((record, i) => {
        const name = relativeImagePath(opts.imageRoot, record.path);
        const tfjs = tfjsByPath.get(name) ?? tfjsByPath.get(record.path); // absolute in older evaluations
        if (!tfjs) return;
        images++;
        const predicted = rows[i].indexOf(Math.max(...rows[i]));
        if (opts.evaluation.classes[predicted] !== tfjs.predicted) disagreements.push(name);
        rows[i].forEach((p, j) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(p - tfjs.probabilities[j]))));
      });
    } finally {
      batch.xs.dispose();
      batch.ys.dispose();
    }
  }
  return { images, disagreements, maxAbsDiff };
}
