// Reads every result of a sharded run directory, whatever order the shards finished in, and says
// plainly which runs are missing or failed. The output depends only on the files' contents (no
// timestamps, hosts or shard numbers), so it is identical for any completion order.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "../io/atomic";
import { errorFileFor, readRecord, type RunErrorRecord, type RunMetrics, type RunResultRecord, resultFileFor } from "./execute";
import { loadRunList, type PlannedRun, RunListConflictError } from "./runlist";

export const MERGED_SCHEMA = "showcase.scale-merged/1";
export const MERGED_FILE = "merged-results.json";

export interface MergedRunIdentity {
  index: number;
  key: string;
  arch: string;
  seed: number;
  learningRate: number;
  fingerprint: string;
  /**
   * `results/<key>` relative to the run directory. With the default trainer it is a lib/train run
   * folder: loadRun(path.join(runDir, resultDir)), loadTrainedModel(…, arch).
   */
  resultDir: string;
}

export interface MergedResults {
  schema: typeof MERGED_SCHEMA;
  runId: string;
  total: number;
  /** In run-list order (architecture, seed, learning rate). */
  completed: Array<MergedRunIdentity & { metrics: RunMetrics }>;
  failed: Array<MergedRunIdentity & { error: { name: string; message: string } }>;
  missing: Array<MergedRunIdentity & { reason: string }>;
  /** Folders under results/ that are not in the run list (kept, never read as results). */
  unlisted: string[];
}

function identityOf(run: PlannedRun): MergedRunIdentity {
  return {
    index: run.index, key: run.key, arch: run.arch, seed: run.seed, learningRate: run.learningRate, fingerprint: run.fingerprint,
    resultDir: `results/${run.key}`,
  };
}

async function readOrReason<T extends { fingerprint: string }>(file: string, run: PlannedRun): Promise<T | string | undefined> {
  try {
    return await readRecord<T>(file, run);
  } catch (error) {
    if (error instanceof RunListConflictError) return "its result belongs to another configuration (fingerprint differs)";
    if (error instanceof SyntaxError) return `unreadable record ${path.basename(file)}: not valid JSON (cut short or damaged?)`; // the message holds the local path
    throw error;
  }
}

export async function mergeResults(runDir: string): Promise<MergedResults> {
  const list = await loadRunList(runDir);
  const merged: MergedResults = { schema: MERGED_SCHEMA, runId: list.runId, total: list.runs.length, completed: [], failed: [], missing: [], unlisted: [] };
  for (const run of [...list.runs].sort((a, b) => a.index - b.index)) {
    const identity = identityOf(run);
    const result = await readOrReason<RunResultRecord>(resultFileFor(runDir, run.key), run);
    if (result && typeof result === "object") {
      merged.completed.push({ ...identity, metrics: result.metrics });
      continue;
    }
    const failure = await readOrReason<RunErrorRecord>(errorFileFor(runDir, run.key), run);
    if (failure && typeof failure === "object") merged.failed.push({ ...identity, error: failure.error });
    else {
      const reason = typeof result === "string" ? result : typeof failure === "string" ? failure : "no result yet (not started, still running, or interrupted)";
      merged.missing.push({ ...identity, reason });
    }
  }
  const listed = new Set(list.runs.map((run) => run.key));
  const folders = await fs.readdir(path.join(runDir, "results"), { withFileTypes: true }).catch(() => []);
  merged.unlisted = folders.filter((entry) => entry.isDirectory() && !listed.has(entry.name)).map((entry) => entry.name).sort();
  return merged;
}

/** Writes <runDir>/merged-results.json (atomically) and returns what it wrote. */
export async function writeMergedResults(runDir: string): Promise<MergedResults> {
  const merged = await mergeResults(runDir);
  await writeJsonAtomic(path.join(runDir, MERGED_FILE), merged, "merged results");
  return merged;
}

/** A few lines for logs and the report: counts, then every failed and missing run by key. */
export function formatMergeSummary(merged: MergedResults): string {
  return [
    `${merged.total} runs: ${merged.completed.length} completed, ${merged.failed.length} failed, ${merged.missing.length} missing`,
    ...merged.failed.map((run) => `  failed   ${run.key}: ${run.error.message}`),
    ...merged.missing.map((run) => `  missing  ${run.key}: ${run.reason}`),
    ...merged.unlisted.map((key) => `  unlisted ${key}: results/ folder not in runlist.json (ignored)`),
  ].join("\n");
}
