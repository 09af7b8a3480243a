// latency-<machine>-<engine>.json: one machine's and engine's latency of a run's networks. Written by
// lib/evaluate/latency-file.ts (saveLatencyFile); read by lib/evaluate and lib/report.
import type { EngineDescription } from "../engine/types";
import type { ArchLatency } from "../evaluate/latency";
import { type FileSchema, readSchemaFile } from "./check";

export const LATENCY_SCHEMA = "showcase.latency/1";

/** What ran the network: TensorFlow.js (one of its engines) or ONNX Runtime on the exported model. */
export type LatencyRuntime = "tfjs" | "onnxruntime";

/** The engine that measured: a tfjs EngineDescription, or ONNX Runtime's execution provider. */
export type LatencyEngine = Pick<EngineDescription, "backend" | "device" | "threads" | "versions"> & { engine: string } & Partial<Omit<EngineDescription, "engine">>;

export interface LatencyFile {
  schema: typeof LATENCY_SCHEMA;
  runId: string;
  /** machineSlug(inventory): names the file and the table row. */
  machine: string;
  engine: LatencyEngine;
  /** Absent in files written before ONNX Runtime was measured: tfjs. */
  runtime?: LatencyRuntime;
  /** The machine inventory (lib/system) as collected when measuring. */
  inventory: Record<string, unknown>;
  /** "trained": the run's saved models; "untrained": built from the registry (same graph, same cost). */
  models: "trained" | "untrained";
  imageSize: number;
  createdAt: string;
  archs: ArchLatency[];
}

const LATENCY: FileSchema = {
  schema: LATENCY_SCHEMA,
  redo: "re-measure with `npx showcase evaluate --latency-only --force`",
  fields: {
    runId: "string",
    machine: "string",
    engine: { engine: "string", backend: "string", device: "string" },
    runtime: "string?",
    inventory: "object",
    models: "string",
    imageSize: "number",
    createdAt: "string",
    archs: "array",
  },
};

/** A latency file, checked; a damaged or other-version file is a one-line SchemaError naming it. */
export async function readLatencyFile(file: string): Promise<LatencyFile> {
  return readSchemaFile<LatencyFile>(file, LATENCY);
}
