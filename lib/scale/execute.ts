// Runs one shard's part of the run list against the shared run directory:
//   <runDir>/results/<key>/result.json   a finished run (skipped next time if the fingerprint matches)
//   <runDir>/results/<key>/error.json    a deterministic failure (not retried unless asked: --retry-failed)
// Exit codes tell the scheduler what to do: transient errors are retried, deterministic ones are not.
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ParameterError, type RunParams } from "../config";
import { fileExists, readJson, writeJsonAtomic } from "../io/atomic";
import { type PlannedRun, RunListConflictError } from "./runlist";
import { formatShard, type Shard } from "./shard";

export const RESULT_SCHEMA = "showcase.scale-result/1";
export const ERROR_SCHEMA = "showcase.scale-error/1";

export const EXIT_OK = 0;
/** Anything not known to be deterministic: the scheduler may retry the shard; finished runs are skipped. */
export const EXIT_TRANSIENT_FAILURE = 1;
/** Bad parameters, invalid shard index, conflicting run list: retrying cannot help. */
export const EXIT_USAGE = 2;
/** A run failed in a way that repeats (out of memory at this batch size, invalid configuration). */
export const EXIT_DETERMINISTIC_FAILURE = 3;

/** Throw this from a trainer for a failure that would repeat on retry. */
export class DeterministicFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeterministicFailure";
  }
}

// Out-of-memory messages of the TensorFlow.js engines and V8. tfjs-backend-wasm 4.22 does not check
// its allocations: exhausting its memory surfaces as "RuntimeError: memory access out of bounds"
// (measured here with tensors of 200 M floats).
const OUT_OF_MEMORY =
  /out of memory|\bOOM\b|failed to allocate|cannot enlarge memory|allocation failed|memory access out of bounds|maximum memory size exceeded|invalid typed array length/i;

// lib/train refuses a run folder that holds another configuration: retrying cannot help.
const DETERMINISTIC_NAMES = new Set(["DeterministicFailure", "ParameterError", "RunConfigMismatchError"]);

export function isDeterministicFailure(error: unknown): boolean {
  if (error instanceof DeterministicFailure || error instanceof ParameterError) return true;
  if (error instanceof Error && DETERMINISTIC_NAMES.has(error.name)) return true;
  return error instanceof Error && OUT_OF_MEMORY.test(`${error.name}: ${error.message}`);
}

/** What a trainer returns: a JSON-serialisable summary (metrics, durations) that the merge tabulates. */
export type RunMetrics = Record<string, unknown>;

export interface TrainContext {
  /** The shared run directory (<RUNS_DIR>/<RUN_ID>). */
  runDir: string;
  /** <runDir>/results/<key>/: the trainer may keep its own files (history, checkpoints) here. */
  resultDir: string;
  /** The shard's parameters (machine-local paths included); the run's own values are in run.config. */
  params: RunParams;
}

export type TrainOne = (run: PlannedRun, context: TrainContext) => Promise<RunMetrics>;

interface RunIdentity {
  key: string;
  fingerprint: string;
  arch: string;
  seed: number;
  learningRate: number;
}

interface Provenance {
  shard: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

export interface RunResultRecord extends RunIdentity {
  schema: typeof RESULT_SCHEMA;
  metrics: RunMetrics;
  provenance: Provenance;
}

export interface RunErrorRecord extends RunIdentity {
  schema: typeof ERROR_SCHEMA;
  kind: "deterministic";
  error: { name: string; message: string };
  provenance: Provenance;
}

export function resultDirFor(runDir: string, key: string): string {
  return path.join(runDir, "results", key);
}
export const resultFileFor = (runDir: string, key: string) => path.join(resultDirFor(runDir, key), "result.json");
export const errorFileFor = (runDir: string, key: string) => path.join(resultDirFor(runDir, key), "error.json");

/** Reads a record; undefined when absent. A record of another configuration is refused, never reused. */
export async function readRecord<T extends { fingerprint: string }>(file: string, run: PlannedRun): Promise<T | undefined> {
  if (!(await fileExists(file))) return undefined;
  const record = await readJson<T>(file);
  if (record.fingerprint !== run.fingerprint) {
    throw new RunListConflictError(
      `${file} belongs to another configuration (fingerprint ${record.fingerprint.slice(0, 12)}…, this run ${run.fingerprint.slice(0, 12)}…): move it away or use a new RUN_ID`,
    );
  }
  return record;
}

export interface ShardReport {
  shard: string;
  trained: string[];
  skipped: string[];
  /** Deterministic failures, this time or recorded earlier and not retried. */
  failed: string[];
  /** The run that stopped the shard with a transient error, if any. */
  interrupted?: { key: string; message: string };
  exitCode: number;
}

export async function executeShard(opts: {
  runDir: string;
  runs: readonly PlannedRun[];
  shard: Pick<Shard, "index" | "count">;
  params: RunParams;
  trainOne: TrainOne;
  /** Retry runs with an error.json (after fixing the cause, e.g. a node with more memory). */
  retryFailed?: boolean;
  log?: (line: string) => void;
}): Promise<ShardReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const report: ShardReport = { shard: formatShard(opts.shard), trained: [], skipped: [], failed: [], exitCode: EXIT_OK };
  for (const run of opts.runs) {
    const identity: RunIdentity = { key: run.key, fingerprint: run.fingerprint, arch: run.arch, seed: run.seed, learningRate: run.learningRate };
    const resultFile = resultFileFor(opts.runDir, run.key);
    const errorFile = errorFileFor(opts.runDir, run.key);
    if (await readRecord<RunResultRecord>(resultFile, run)) {
      report.skipped.push(run.key);
      log(`${run.key}: done earlier, skipped`);
      continue;
    }
    const earlierError = await readRecord<RunErrorRecord>(errorFile, run);
    if (earlierError && !opts.retryFailed) {
      report.failed.push(run.key);
      log(`${run.key}: failed earlier (${earlierError.error.message}); not retried — fix the cause and rerun this shard with --retry-failed`);
      continue;
    }
    const startedAt = new Date();
    const provenance = (): Provenance => ({
      shard: report.shard,
      host: os.hostname(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
    });
    log(`${run.key}: training (shard ${report.shard})`);
    try {
      const metrics = await opts.trainOne(run, { runDir: opts.runDir, resultDir: resultDirFor(opts.runDir, run.key), params: opts.params });
      const record: RunResultRecord = { schema: RESULT_SCHEMA, ...identity, metrics: metrics ?? {}, provenance: provenance() };
      await writeJsonAtomic(resultFile, record, "shard result");
      if (earlierError) await fs.rm(errorFile, { force: true }); // superseded by the result
      report.trained.push(run.key);
      log(`${run.key}: done in ${record.provenance.seconds.toFixed(1)} s`);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (!isDeterministicFailure(failure)) {
        report.interrupted = { key: run.key, message: failure.message };
        report.exitCode = EXIT_TRANSIENT_FAILURE;
        log(`${run.key}: failed (${failure.message}); treated as transient — exit ${EXIT_TRANSIENT_FAILURE}, a retry resumes here`);
        return report;
      }
      const record: RunErrorRecord = {
        schema: ERROR_SCHEMA,
        ...identity,
        kind: "deterministic",
        error: { name: failure.name, message: failure.message },
        provenance: provenance(),
      };
      await writeJsonAtomic(errorFile, record, "shard error record");
      report.failed.push(run.key);
      log(`${run.key}: failed deterministically (${failure.message}); recorded in ${errorFile}`);
    }
  }
  if (report.failed.length > 0) report.exitCode = EXIT_DETERMINISTIC_FAILURE;
  return report;
}
