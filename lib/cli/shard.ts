// lib/cli: the entry `npx showcase train` delegates to when it is sharded (--shard i/n, or SHARD_COUNT with
// JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID): plan or check the run list, run this shard's part.
import { type Env, PARAMETER_NAMES, ParameterError, resolveParams } from "../config";
import { flagOf, parameterFlags, parseFlags, rejectUnknownFlags, UsageError } from "./command";
import { DeterministicFailure, EXIT_USAGE, executeShard, type ShardReport, type TrainOne } from "../scale/execute";
import { formatMergeSummary, MERGED_FILE, writeMergedResults } from "../scale/merge";
import { planRuns, RunListConflictError, runDirFor, writeOrVerifyRunList } from "../scale/runlist";
import { formatShard, resolveShard, selectShard } from "../scale/shard";

/** Flags of `showcase train` that belong to sharding. */
const SHARD_FLAGS = ["shard", "retry-failed", "plan", "merge"] as const;
const SHARD_SWITCHES = ["retry-failed", "plan", "merge", "quiet"] as const;
/** Parameters may also come as flags, as in `showcase train`: --archs → ARCHS, --seeds → SEEDS, … (flags win). */
const PARAMETER_FLAGS = parameterFlags([...PARAMETER_NAMES, "SEEDS", "LEARNING_RATES"]);

const SHARD_USAGE = [
  "showcase train --shard i/n [--retry-failed]   run part i (0-based) of n of the run list",
  "showcase train --plan                         write and print the run list (runlist.json), train nothing",
  "showcase train --merge                        after the shards: write merged-results.json, list failed and missing runs",
  "SEEDS=1,2 showcase train                      the whole grid on this machine (= --shard 0/1)",
  "  parameters as in `showcase train`: environment or flags (--archs, --seeds 1,2,3, --learning-rates …, --quiet)",
  "  or SHARD_COUNT=n with JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array)",
  "  grid: ARCHS × SEEDS=1,2,3 × LEARNING_RATES=0.001,0.0001 (defaults: SEED, LEARNING_RATE); RETRY_FAILED=1 = --retry-failed",
  "  exit codes: 0 done, 1 transient failure (retry), 2 bad parameters, 3 deterministic failure (do not retry)",
].join("\n");

const GRID_VARIABLES = ["SEEDS", "LEARNING_RATES"] as const;

/**
 * Test hook (scripts/slurm-check.sh): SCALE_FAIL_RUNS=<key>[,<key>…] makes those runs fail
 * deterministically before training, as an out-of-memory run would, so that a real scheduler's
 * handling of exit 3 and of RETRY_FAILED can be exercised. Unset in normal use.
 */
function withInjectedFailures(trainOne: TrainOne, env: Env): TrainOne {
  const keys = new Set((env.SCALE_FAIL_RUNS ?? "").split(",").map((key) => key.trim()).filter(Boolean));
  if (keys.size === 0) return trainOne;
  return async (run, context) => {
    if (keys.has(run.key)) throw new DeterministicFailure(`injected failure (SCALE_FAIL_RUNS test hook) for ${run.key}`);
    return trainOne(run, context);
  };
}

/**
 * True when `showcase train` should hand over to runShardFromCli: a shard is named, or a grid
 * (SEEDS, LEARNING_RATES) is asked for — plain training has one seed and one learning rate, so a
 * grid is never silently ignored; without a shard it runs whole on this machine (shard 0/1).
 */
export function wantsSharding(args: readonly string[], env: Env = process.env): boolean {
  const named = (flag: string) => args.some((arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`));
  const grid = GRID_VARIABLES.some((name) => Boolean(env[name]?.trim()) || named(flagOf(name)));
  return SHARD_FLAGS.some(named) || Boolean(env.SHARD_COUNT?.trim()) || grid;
}

export async function runShardFromCli(opts: {
  args: readonly string[];
  env?: Env;
  /** Defaults to the lib/train adapter; tests and dry runs inject their own. */
  trainOne?: TrainOne;
  log?: (line: string) => void;
  logError?: (line: string) => void;
}): Promise<number> {
  let env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => console.log(line));
  const logError = opts.logError ?? ((line: string) => console.error(line));
  try {
    const { flags, positional } = parseFlags([...opts.args], SHARD_SWITCHES);
    rejectUnknownFlags(flags, [...SHARD_FLAGS, ...SHARD_SWITCHES, ...PARAMETER_FLAGS.keys()]);
    if (positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}: usage\n${SHARD_USAGE}`);
    env = { ...env };
    for (const [flag, value] of flags) if (PARAMETER_FLAGS.has(flag)) env[PARAMETER_FLAGS.get(flag)!] = value;
    const params = resolveParams(env);
    const runList = planRuns(params, env);
    const runDir = runDirFor(params);
    if (flags.has("merge")) {
      const merged = await writeMergedResults(runDir);
      log(`${runDir}/${MERGED_FILE} written\n${formatMergeSummary(merged)}`);
      return 0; // failed and missing runs are listed: the shards' outcome, not a failure of the merge
    }
    // Every input is checked before anything is written.
    const gridOnly = GRID_VARIABLES.some((name) => Boolean(env[name]?.trim()));
    const shard = flags.has("plan")
      ? undefined
      : (resolveShard({ shardFlag: flags.get("shard"), env }) ?? (gridOnly ? { index: 0, count: 1, source: "whole list" as const } : undefined));
    if (!shard && !flags.has("plan")) throw new UsageError(`not sharded: give --shard i/n or SHARD_COUNT with a scheduler index\n${SHARD_USAGE}`);
    const { created } = await writeOrVerifyRunList(runDir, runList);
    if (!shard) {
      log(`${runDir}/runlist.json ${created ? "written" : "already there, same list"}: ${runList.runs.length} runs`);
      for (const run of runList.runs) log(`  ${String(run.index).padStart(4)}  ${run.key}`);
      return 0;
    }
    const runs = selectShard(runList.runs, shard);
    log(`shard ${formatShard(shard)} (from ${shard.source}): ${runs.length} of ${runList.runs.length} runs in ${runDir}`);
    const trainOne = withInjectedFailures(opts.trainOne ?? (await import("../scale/train-adapter")).createLibTrainAdapter({ quiet: flags.has("quiet"), log }), env);
    const retryFailed = flags.has("retry-failed") || ["1", "true", "yes"].includes(env.RETRY_FAILED?.trim().toLowerCase() ?? "");
    const report = await executeShard({ runDir, runs, shard, params, trainOne, retryFailed, log });
    log(summarize(report));
    return report.exitCode;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ParameterError || error instanceof RunListConflictError) {
      logError(`showcase train: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function summarize(report: ShardReport): string {
  const parts = [`${report.trained.length} trained`, `${report.skipped.length} skipped (done earlier)`, `${report.failed.length} failed`];
  const interrupted = report.interrupted ? `; stopped at ${report.interrupted.key}` : "";
  return `shard ${report.shard}: ${parts.join(", ")}${interrupted} → exit ${report.exitCode}`;
}
