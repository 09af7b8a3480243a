// Which part of the run list this process runs: `--shard i/n`, or the index a scheduler hands out
// (Kubernetes Indexed Job: JOB_COMPLETION_INDEX; Slurm job array: SLURM_ARRAY_TASK_ID) with SHARD_COUNT.
// Indices are 0-based everywhere, as both schedulers number them.
import { type Env, ParameterError, parseInteger } from "../config";

export interface Shard {
  index: number;
  count: number;
  /** Where the index came from, for log lines. */
  source: "--shard" | "JOB_COMPLETION_INDEX" | "SLURM_ARRAY_TASK_ID" | "whole list";
}

export const MAX_SHARD_COUNT = 100_000;
const INDEX_VARIABLES = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"] as const;

function checkedIndex(name: string, value: string, count: number): number {
  return parseInteger(name, value, { min: 0, max: count - 1 });
}

/** `2/8` → shard 2 of 8 (0-based: 0 … 7). */
export function parseShardFlag(value: string): Shard {
  const match = /^\s*(-?\d+)\s*\/\s*(-?\d+)\s*$/.exec(value);
  if (!match) throw new ParameterError("--shard", value, "i/n with 0 ≤ i < n, e.g. --shard 0/4 (0-based)");
  const count = parseInteger("--shard (count n)", match[2], { min: 1, max: MAX_SHARD_COUNT });
  if (Number(match[1]) < 0 || Number(match[1]) >= count) {
    throw new ParameterError("--shard", value, `an index from 0 to ${count - 1} for ${count} shards (0-based), e.g. --shard 0/${count}`);
  }
  return { index: Number(match[1]), count, source: "--shard" };
}

/**
 * The shard of this process, or undefined when it is not sharded (no --shard and no SHARD_COUNT).
 * The flag wins over the environment. SHARD_COUNT without a scheduler index is refused.
 */
export function resolveShard(opts: { shardFlag?: string; env: Env }): Shard | undefined {
  if (opts.shardFlag !== undefined) return parseShardFlag(opts.shardFlag);
  const rawCount = opts.env.SHARD_COUNT?.trim();
  if (!rawCount) return undefined;
  const count = parseInteger("SHARD_COUNT", rawCount, { min: 1, max: MAX_SHARD_COUNT });
  for (const name of INDEX_VARIABLES) {
    const raw = opts.env[name]?.trim();
    if (raw) return { index: checkedIndex(name, raw, count), count, source: name };
  }
  throw new ParameterError(
    "SHARD_COUNT",
    rawCount,
    `only together with JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array), or use --shard i/${count}`,
  );
}

/** Round-robin: shard i of n gets items i, i+n, i+2n, … of the sorted list. */
export function selectShard<T>(items: readonly T[], shard: Pick<Shard, "index" | "count">): T[] {
  return items.filter((_item, position) => position % shard.count === shard.index);
}

export function formatShard(shard: Pick<Shard, "index" | "count">): string {
  return `${shard.index}/${shard.count}`;
}
