// The machine inventory (lib/system collects it): stored inside run.json and each latency file.
import type { EngineDescription } from "../engine/types";
import type { GpuInfo } from "../system/nvidia-smi";
import type { Fields } from "./check";

export const INVENTORY_SCHEMA = "machine-inventory/1";

export interface MachineInventory {
  schema: typeof INVENTORY_SCHEMA;
  hostname: string;
  cpu: { model: string; logicalCores: number; availableParallelism: number; speedMHz: number };
  memory: { totalBytes: number; freeBytes: number };
  /** The file system holding the project folder (runs, caches and weights land there). */
  disk: { path: string; totalBytes: number; freeBytes: number } | { path: string; error: string };
  os: { platform: string; release: string; arch: string; distribution?: string };
  node: string;
  /** node and TensorFlow.js package versions (an npm alias is named as such). */
  versions: Record<string, string>;
  engine?: Pick<EngineDescription, "engine" | "backend" | "device">;
  gpus: GpuInfo[];
  /** Why `gpus` is empty, in one sentence. */
  gpuNote?: string;
  collectedAt: string;
}

/** The fields readers (report tables, banner, machine slug) rely on. */
export const INVENTORY_FIELDS: Fields = {
  schema: "string",
  hostname: "string",
  cpu: { model: "string", logicalCores: "number" },
  memory: { totalBytes: "number" },
  disk: "object",
  os: { platform: "string", release: "string", arch: "string" },
  node: "string",
  versions: "object",
  gpus: "array",
  collectedAt: "string",
};
