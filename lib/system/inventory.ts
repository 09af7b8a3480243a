// What machine produced a run: the study reported its hardware next to every number; so do we.
import { promises as fs, readFileSync } from "node:fs";
import * as os from "node:os";
import { collectVersions } from "../engine/packages";
import type { EngineDescription } from "../engine/types";
import { PROJECT_ROOT } from "../paths";
import { INVENTORY_SCHEMA, type MachineInventory } from "../schemas/inventory";
import { queryGpus } from "./nvidia-smi";

function distribution(): string | undefined {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
  } catch {
    return undefined;
  }
}

async function diskOf(dir: string): Promise<MachineInventory["disk"]> {
  try {
    const stats = await fs.statfs(dir);
    return { path: dir, totalBytes: stats.blocks * stats.bsize, freeBytes: stats.bavail * stats.bsize };
  } catch (error) {
    return { path: dir, error: error instanceof Error ? error.message : String(error) };
  }
}

export async function collectInventory(opts: { engine?: EngineDescription; projectDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<MachineInventory> {
  const cpus = os.cpus();
  const [disk, gpuQuery] = await Promise.all([diskOf(opts.projectDir ?? PROJECT_ROOT), queryGpus({ env: opts.env })]);
  return {
    schema: INVENTORY_SCHEMA,
    hostname: os.hostname(),
    cpu: { model: cpus[0]?.model.trim() ?? "unknown", logicalCores: cpus.length, availableParallelism: os.availableParallelism(), speedMHz: cpus[0]?.speed ?? 0 },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    disk,
    os: { platform: process.platform, release: os.release(), arch: process.arch, distribution: distribution() },
    node: process.versions.node,
    versions: collectVersions(),
    ...(opts.engine ? { engine: { engine: opts.engine.engine, backend: opts.engine.backend, device: opts.engine.device } } : {}),
    gpus: gpuQuery.gpus,
    ...(gpuQuery.note ? { gpuNote: gpuQuery.note } : {}),
    collectedAt: new Date().toISOString(),
  };
}

function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/\((r|tm|c)\)/g, "")
    .replace(/\b(cpu|processor|core|@|with|radeon graphics)\b/g, " ")
    .replace(/\d+(\.\d+)?\s*ghz/g, " ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** A short, file-name-safe name of the machine: host, CPU model and first GPU (if any). */
export function machineSlug(inventory: Pick<MachineInventory, "hostname" | "cpu" | "gpus">): string {
  const parts = [slugify(inventory.hostname.split(".")[0]), slugify(inventory.cpu.model)];
  if (inventory.gpus.length > 0) parts.push(slugify(inventory.gpus[0].name.replace(/^nvidia\s+/i, "")));
  return parts.filter(Boolean).join("-").replace(/-+/g, "-").slice(0, 80).replace(/-+$/, "") || "machine";
}
