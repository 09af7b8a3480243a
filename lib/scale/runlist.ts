// The run list of a sharded run: architecture × seed × learning rate, sorted, each run with a stable
// key and a fingerprint of everything that changes what it computes. Written once per run directory
// (runlist.json) and checked by every shard, so all shards of a run agree on the same list.
import { canonicalJson, fingerprintOf } from "../io/fingerprint";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { type Env, ParameterError, type RunParams, parseInteger, parsePositiveNumber } from "../config";
import { readJson, writeJsonAtomic } from "../io/atomic";
import { ARCH_IDS, type ArchId } from "../ids";

export const RUN_LIST_SCHEMA = "showcase.runlist/1";
export const RUN_LIST_FILE = "runlist.json";

/** A run's parameters without the machine-local paths (weights, prepared data, runs folder) and WORKERS. */
export type RunConfig = Omit<RunParams, "archs" | "runId" | "weightsDir" | "preparedDir" | "runsDir" | "workers"> & { arch: ArchId };

export interface PlannedRun {
  /** Position in the sorted list; shard i of n takes i, i+n, i+2n, … */
  index: number;
  /** Stable, file-name safe: `<arch>__seed-<n>__lr-<x>`. */
  key: string;
  arch: ArchId;
  seed: number;
  learningRate: number;
  /** sha256 of the canonical JSON of `config`. */
  fingerprint: string;
  config: RunConfig;
}

export interface RunList {
  schema: typeof RUN_LIST_SCHEMA;
  runId: string;
  grid: { archs: ArchId[]; seeds: number[]; learningRates: number[] };
  runs: PlannedRun[];
}

/** The run list is a configuration problem, not a training one: shards refuse to start (exit 2). */
export class RunListConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunListConflictError";
  }
}

export { canonicalJson, fingerprintOf };

function parseList<T>(name: string, raw: string | undefined, parse: (item: string) => T, fallback: T): T[] {
  if (raw === undefined || raw.trim() === "") return [fallback];
  const items = raw.split(/[\s,]+/).filter(Boolean);
  if (items.length === 0) throw new ParameterError(name, raw, "a comma-separated list");
  return [...new Set(items.map(parse))];
}

/** Grid axes beyond RunParams: SEEDS=1,2,3 and LEARNING_RATES=0.001,0.0001 (default: SEED, LEARNING_RATE). */
export function resolveGrid(params: RunParams, env: Env): RunList["grid"] {
  return {
    archs: [...params.archs].sort((a, b) => ARCH_IDS.indexOf(a) - ARCH_IDS.indexOf(b)),
    seeds: parseList("SEEDS", env.SEEDS, (item) => parseInteger("SEEDS", item, { min: 0 }), params.seed).sort((a, b) => a - b),
    learningRates: parseList("LEARNING_RATES", env.LEARNING_RATES, (item) => parsePositiveNumber("LEARNING_RATES", item), params.learningRate).sort((a, b) => a - b),
  };
}

export function runKey(run: { arch: ArchId; seed: number; learningRate: number }): string {
  return `${run.arch}__seed-${run.seed}__lr-${run.learningRate}`;
}

/** Pure: the same parameters and grid always give the same list, whatever the order in the environment. */
export function planRuns(params: RunParams, env: Env = process.env): RunList {
  const grid = resolveGrid(params, env);
  // WORKERS changes how fast, not what is computed: it stays out of the fingerprint.
  const { archs: _archs, runId: _runId, weightsDir: _w, preparedDir: _p, runsDir: _r, workers: _workers, ...shared } = params;
  const runs: PlannedRun[] = [];
  for (const arch of grid.archs) {
    for (const seed of grid.seeds) {
      for (const learningRate of grid.learningRates) {
        const config: RunConfig = { ...shared, arch, seed, learningRate };
        runs.push({ index: runs.length, key: runKey({ arch, seed, learningRate }), arch, seed, learningRate, fingerprint: fingerprintOf(config), config });
      }
    }
  }
  return { schema: RUN_LIST_SCHEMA, runId: params.runId, grid, runs };
}

// The run folder is lib/train's rule (one place); a grid's shards share it.
export { runDirFor } from "../train/run-dir";

/** Where two run lists first differ, e.g. `grid.seeds[2]`, for a message a person can act on. */
function firstDifference(a: unknown, b: unknown, at = ""): string | undefined {
  if (canonicalJson(a) === canonicalJson(b)) return undefined;
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const where = Array.isArray(a) ? `${at}[${key}]` : at ? `${at}.${key}` : key;
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], where);
      if (found) return found;
    }
  }
  return `${at || "(root)"}: ${JSON.stringify(a) ?? "absent"} here vs ${JSON.stringify(b) ?? "absent"} in the file`;
}

export async function loadRunList(runDir: string): Promise<RunList> {
  const file = path.join(runDir, RUN_LIST_FILE);
  let list: RunList;
  try {
    list = await readJson<RunList>(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new RunListConflictError(`no ${RUN_LIST_FILE} in ${runDir}: not a sharded run — start it with \`npx showcase train --shard i/n\` (or --plan)`);
    }
    throw error;
  }
  if (list.schema !== RUN_LIST_SCHEMA) throw new RunListConflictError(`${file} has schema ${JSON.stringify(list.schema)}, expected ${RUN_LIST_SCHEMA}`);
  return list;
}

/**
 * Writes runlist.json if the run directory has none, else checks that it holds the same list.
 * Creation is exclusive (hard link of a complete temp file), so shards starting together cannot
 * both "win" with different lists; a file system without hard links falls back to a rename.
 */
export async function writeOrVerifyRunList(runDir: string, planned: RunList): Promise<{ created: boolean }> {
  const file = path.join(runDir, RUN_LIST_FILE);
  const candidate = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.candidate`;
  let created = false;
  await writeJsonAtomic(candidate, planned, "run list");
  try {
    await fs.link(candidate, file);
    created = true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EEXIST") {
      if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(code ?? "")) throw error;
      try {
        await fs.access(file);
      } catch {
        await fs.rename(candidate, file);
        created = true;
      }
    }
  } finally {
    await fs.rm(candidate, { force: true });
  }
  const existing = await loadRunList(runDir);
  const difference = firstDifference(planned, existing);
  if (difference) {
    throw new RunListConflictError(
      `${file} was written for a different run list (${difference}); start every shard with the same parameters, or use a new RUN_ID`,
    );
  }
  return { created };
}
