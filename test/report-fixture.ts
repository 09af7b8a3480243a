// A synthetic run for the report tests: three networks with per-epoch histories, per-image
// predictions, latency from two machines, one failed and one missing architecture.
import * as path from "node:path";
import { writeJsonAtomic } from "../lib/io/atomic";
import type { EngineDescription } from "../lib/engine/types";
import { LATENCY_SCHEMA, type LatencyFile } from "../lib/schemas/latency";
import { saveEvaluation, scorePredictions } from "../lib/evaluate/predict";
import { type Evaluation } from "../lib/schemas/evaluation";
import { resolveParams } from "../lib/config";
import type { RunResults } from "../lib/evaluate/run";
import type { MachineInventory } from "../lib/system/index";
import { type ArchHistory } from "../lib/schemas/history";
import { RUN_MANIFEST_SCHEMA, type RunManifest } from "../lib/schemas/run-manifest";

type Arch = ArchHistory["arch"];

function history(arch: Arch, displayName: string, valAcc: number[], valLoss: number[], trainLoss: number[], epochSeconds: number[]): ArchHistory {
  return {
    schema: "showcase.history/1",
    arch,
    displayName,
    status: "finished",
    inputSize: 96,
    parameters: 1000 + arch.length,
    trainableParameters: 100,
    layers: 10 + arch.length,
    epochs: valAcc.map((acc, i) => ({ epoch: i + 1, trainLoss: trainLoss[i], trainAccuracy: 0.6 + i / 20, validationLoss: valLoss[i], validationAccuracy: acc, epochSeconds: epochSeconds[i], imagesPerSecond: 20 })),
    buildSeconds: 1.5,
    saveSeconds: 0.5,
    totalSeconds: 2 + epochSeconds.reduce((a, b) => a + b, 0),
    bestEpoch: null,
    overfittingEpoch: null,
    stoppedEarly: false,
  };
}

export const HISTORIES: ArchHistory[] = [
  history("densenet121", "DenseNet121", [0.7, 0.8, 0.9], [0.6, 0.45, 0.3], [0.7, 0.5, 0.4], [30, 28, 29]),
  history("resnet50", "ResNet50", [0.72, 0.78, 0.76], [0.55, 0.5, 0.52], [0.6, 0.5, 0.45], [25, 24, 26]),
  history("mobilenet", "MobileNet", [0.6, 0.7, 0.75], [0.7, 0.6, 0.58], [0.8, 0.7, 0.6], [8, 7.5, 7.8]),
];

function evaluation(arch: string, displayName: string, wrong: number[], confidence: number): Evaluation {
  const wrongSet = new Set(wrong);
  const rows = Array.from({ length: 40 }, (_, i) => {
    const labelIndex = i < 20 ? 0 : 1;
    const p = wrongSet.has(i) ? 1 - confidence : confidence;
    return { path: `/data/validation/${labelIndex ? "dog" : "cat"}/${i}.jpg`, labelIndex, probabilities: labelIndex ? [1 - p, p] : [p, 1 - p] };
  });
  return scorePredictions({ arch, displayName, split: "validation", classes: ["cat", "dog"], rows });
}

export const EVALUATIONS: Evaluation[] = [
  evaluation("densenet121", "DenseNet121", [0, 1, 25, 26], 0.8),
  evaluation("resnet50", "ResNet50", [0, 1, 2, 3, 4, 25, 26, 27], 0.9),
  evaluation("mobilenet", "MobileNet", [0, 1, 2, 3, 4, 5, 6, 25, 26, 27], 0.7),
];

function latencyFile(machine: string, engine: EngineDescription["engine"], p50: Record<string, number>): LatencyFile {
  const stats = (ms: number) => ({ firstCallMs: ms * 10, warmupRuns: 3, runs: 20, meanMs: ms * 1.1, p50Ms: ms, p90Ms: ms * 1.3, p99Ms: ms * 1.6, minMs: ms * 0.9, maxMs: ms * 1.7 });
  return {
    schema: LATENCY_SCHEMA,
    runId: "fixture",
    machine,
    engine: { engine, backend: engine, device: engine === "webgpu" ? "gpu" : "cpu", reason: "fixture", warnings: [], threads: 1, versions: {} },
    inventory: { hostname: machine, cpu: { model: `${machine} CPU`, logicalCores: 8 }, memory: { totalBytes: 16 * 1024 ** 3 }, node: "20.0.0", versions: { "@tensorflow/tfjs": "4.22.0" }, gpus: [] },
    models: "trained",
    imageSize: 96,
    createdAt: "2026-01-01T00:00:00.000Z",
    archs: Object.entries(p50).map(([arch, ms]) => ({
      arch,
      displayName: HISTORIES.find((h) => h.arch === arch)!.displayName,
      inputSize: 96,
      modelOnly: stats(ms),
      endToEnd: stats(ms + 3),
      throughput: [1, 8, 32].map((batchSize) => ({ batchSize, imagesPerSecond: (batchSize * 1000) / (ms * (1 + 0.6 * batchSize)), meanBatchMs: ms * (1 + 0.6 * batchSize), p50BatchMs: ms * (1 + 0.6 * batchSize), runs: 5 })),
    })),
  };
}

export const LATENCY: LatencyFile[] = [latencyFile("laptop", "wasm", { densenet121: 60, resnet50: 45, mobilenet: 9 }), latencyFile("workstation", "webgpu", { densenet121: 7, resnet50: 5, mobilenet: 2 })];

/** A machine as lib/system describes one (the run.json schema requires every field). */
function inventoryOf(hostname: string, cpuModel: string, logicalCores: number, memoryGiB: number): MachineInventory {
  return {
    schema: "machine-inventory/1",
    hostname,
    cpu: { model: cpuModel, logicalCores, availableParallelism: logicalCores, speedMHz: 3000 },
    memory: { totalBytes: memoryGiB * 1024 ** 3, freeBytes: memoryGiB * 1024 ** 3 },
    disk: { path: "/project", error: "not measured (fixture)" },
    os: { platform: "linux", release: "6.1", arch: "x64" },
    node: "20.0.0",
    versions: {},
    gpus: [],
    collectedAt: "2026-01-01T00:00:00.000Z",
  };
}

const ARCHS = ["densenet121", "densenet169", "resnet50", "mobilenet", "inception_v3"];

export const MANIFEST: RunManifest = {
  schema: RUN_MANIFEST_SCHEMA,
  runId: "fixture",
  createdAt: "2026-01-01T00:00:00.000Z",
  params: resolveParams({ PROFILE: "quick", RUN_ID: "fixture", ARCHS: ARCHS.join(","), EPOCHS: "3", IMAGE_SIZE: "96", BATCH_SIZE: "16", SEED: "42", STEPS_PER_EPOCH: "all", RUNS_DIR: "/runs", PREPARED_DIR: "/prepared" }),
  configFingerprint: "fixture",
  config: {},
  archs: ARCHS,
  dataset: { manifestPath: "/prepared/synthetic/manifest.json", sha256: "", contentSha256: "", dataset: "synthetic", source: "synthetic", synthetic: true, counts: { train: { cat: 40, dog: 40 }, validation: { cat: 20, dog: 20 } } },
  engine: { engine: "wasm", backend: "wasm", device: "cpu", reason: "fixture", warnings: [], threads: 1, versions: {} },
  inventory: inventoryOf("trainer", "Trainer CPU", 2, 24),
  versions: {},
  git: { commit: "0123456789abcdef", dirty: false },
  sessions: [],
};

export const FAILURE = { schema: "showcase.scale-error/1", arch: "densenet169", kind: "deterministic", error: { name: "Error", message: "out of memory at batch size 16" } };

export function fixtureResults(runDir = "/runs/fixture"): RunResults {
  return {
    runDir,
    runId: "fixture",
    manifest: MANIFEST,
    histories: HISTORIES,
    unfinished: [],
    failures: [{ key: "densenet169", arch: "densenet169", message: FAILURE.error.message, raw: FAILURE }],
    missing: ["inception_v3"],
    evaluations: EVALUATIONS,
    latency: LATENCY,
  };
}

/** Writes the fixture as a run directory, its files in the given order (to check order independence). */
export async function writeFixtureRun(runDir: string, order: "forward" | "reverse"): Promise<void> {
  const writes: (() => Promise<unknown>)[] = [
    () => writeJsonAtomic(path.join(runDir, "run.json"), MANIFEST),
    ...HISTORIES.map((h) => () => writeJsonAtomic(path.join(runDir, h.arch, "history.json"), h)),
    ...EVALUATIONS.map((evaluation) => () => saveEvaluation({ runDir, evaluation })),
    ...LATENCY.map((file) => () => writeJsonAtomic(path.join(runDir, `latency-${file.machine}-${file.engine.engine}.json`), file)),
    () => writeJsonAtomic(path.join(runDir, "densenet169", "error.json"), FAILURE),
  ];
  for (const write of order === "forward" ? writes : [...writes].reverse()) await write();
}
