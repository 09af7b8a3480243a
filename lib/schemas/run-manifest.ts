// run.json: what a training run is (parameters, data, engine, machine, sessions). Written by
// lib/train/run-dir.ts; read by lib/train, lib/evaluate, lib/report and notebook 03.
import type { RunParams } from "../config";
import type { EngineDescription, EngineName } from "../engine/types";
import { type FileSchema, readSchemaFile } from "./check";
import { INVENTORY_FIELDS, type MachineInventory } from "./inventory";

export const RUN_MANIFEST_SCHEMA = "showcase.run-manifest/1";
export const RUN_MANIFEST_FILE = "run.json";

/** What identifies a dataset's content independently of where it lies and when it was prepared. */
export interface DatasetIdentity {
  manifestPath: string;
  /** sha256 of the manifest file's bytes when the run was created. */
  sha256: string;
  /** sha256 of classes + each split's (image sha256, label): stable across re-preparation and machines. */
  contentSha256: string;
  dataset: string;
  source: string;
  synthetic: boolean;
  counts: Record<string, Record<string, number>>;
}

export interface RunSession {
  startedAt: string;
  hostname: string;
  engine: EngineName;
  backend: string;
  archs: string[];
  /** Architectures trained at the same time in this session, each in its own process (WORKERS); absent = 1. */
  workers?: number;
}

export interface RunManifest {
  schema: typeof RUN_MANIFEST_SCHEMA;
  runId: string;
  /** The parameters of the session that created the run (paths are those of that machine). */
  params: RunParams;
  /** sha256 of the result-relevant parameters + dataset content; equal fingerprint = same run. */
  configFingerprint: string;
  config: Record<string, unknown>;
  dataset: DatasetIdentity;
  engine: EngineDescription;
  /** The machine that trained (lib/system's schema of it). */
  inventory: MachineInventory;
  versions: Record<string, string>;
  git: { commit: string | null; dirty: boolean | null };
  createdAt: string;
  /** Every session that trained in this run directory, in order. */
  sessions: RunSession[];
  /** Architectures ever requested under this run id. */
  archs: string[];
}

const RUN_MANIFEST: FileSchema = {
  schema: RUN_MANIFEST_SCHEMA,
  redo: "choose another RUN_ID (or move this run folder away) and train again",
  fields: {
    runId: "string",
    params: "object",
    configFingerprint: "string",
    config: "object",
    dataset: { manifestPath: "string", sha256: "string", contentSha256: "string", dataset: "string", source: "string", synthetic: "boolean", counts: "object" },
    engine: { engine: "string", backend: "string", device: "string" },
    inventory: INVENTORY_FIELDS,
    versions: "object",
    git: "object",
    createdAt: "string",
    sessions: "array",
    archs: "array",
  },
};

/** A run.json, checked; a damaged or other-version file is a one-line SchemaError naming it. */
export async function readRunManifestFile(file: string): Promise<RunManifest> {
  return readSchemaFile<RunManifest>(file, RUN_MANIFEST);
}

