import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ParameterError, resolveParams } from "../lib/config";
import {
  DeterministicFailure, EXIT_DETERMINISTIC_FAILURE, EXIT_TRANSIENT_FAILURE, executeShard, isDeterministicFailure, mergeResults,
  parseShardFlag, planRuns, resolveShard, RunListConflictError, runDirFor, selectShard,
  writeOrVerifyRunList,
} from "../lib/scale";
import { runShardFromCli, wantsSharding } from "../lib/cli/shard";
import { tempDir } from "./temp-dir";

async function tempRunsDir(): Promise<string> {
  return tempDir("scale-runlist-");
}

test("run list: architecture × seed × learning rate, sorted and keyed whatever the order given", () => {
  const env = { ARCHS: "resnet50,mobilenet", SEEDS: "3, 1", LEARNING_RATES: "0.01,0.001", RUN_ID: "grid" };
  const list = planRuns(resolveParams(env), env);
  assert.deepEqual(list.runs.map((run) => run.key), [
    "resnet50__seed-1__lr-0.001", "resnet50__seed-1__lr-0.01", "resnet50__seed-3__lr-0.001", "resnet50__seed-3__lr-0.01",
    "mobilenet__seed-1__lr-0.001", "mobilenet__seed-1__lr-0.01", "mobilenet__seed-3__lr-0.001", "mobilenet__seed-3__lr-0.01",
  ]);
  assert.deepEqual(list.runs.map((run) => run.index), [0, 1, 2, 3, 4, 5, 6, 7]);
  const reordered = { ...env, ARCHS: "mobilenet,resnet50", SEEDS: "1,3,3", LEARNING_RATES: "0.001, 0.01" };
  assert.deepEqual(planRuns(resolveParams(reordered), reordered), list);
  // Fingerprints: one per configuration, independent of machine-local paths.
  assert.equal(new Set(list.runs.map((run) => run.fingerprint)).size, 8);
  const elsewhere = { ...env, RUNS_DIR: "/elsewhere", WEIGHTS_DIR: "/w", PREPARED_DIR: "/p" };
  assert.deepEqual(planRuns(resolveParams(elsewhere), elsewhere).runs.map((run) => run.fingerprint), list.runs.map((run) => run.fingerprint));
  const longer = { ...env, EPOCHS: "7" };
  assert.notEqual(planRuns(resolveParams(longer), longer).runs[0].fingerprint, list.runs[0].fingerprint);
  // Without a grid: one run per architecture at SEED and LEARNING_RATE.
  const plain = planRuns(resolveParams({ ARCHS: "mobilenet", SEED: "5" }), {});
  assert.deepEqual(plain.runs.map((run) => run.key), ["mobilenet__seed-5__lr-0.001"]);
  assert.throws(() => planRuns(resolveParams({}), { SEEDS: "1,x" }), (error: unknown) => error instanceof ParameterError && /SEEDS/.test(error.message));
  assert.throws(() => planRuns(resolveParams({}), { LEARNING_RATES: "0" }), /LEARNING_RATES/);
});

test("run list: written once, reused when equal, refused when different", async () => {
  const runsDir = await tempRunsDir();
  const env = { ARCHS: "mobilenet", SEEDS: "1,2", RUN_ID: "once", RUNS_DIR: runsDir };
  const params = resolveParams(env);
  const runDir = runDirFor(params);
  const results = await Promise.all([1, 2, 3].map(() => writeOrVerifyRunList(runDir, planRuns(params, env))));
  assert.equal(results.filter((result) => result.created).length, 1, "exactly one concurrent writer creates it");
  assert.deepEqual(await writeOrVerifyRunList(runDir, planRuns(params, env)), { created: false });
  const other = { ...env, SEEDS: "1,2,3" };
  await assert.rejects(writeOrVerifyRunList(runDir, planRuns(resolveParams(other), other)), (error: unknown) =>
    error instanceof RunListConflictError && /different run list/.test(error.message) && /new RUN_ID/.test(error.message));
  const leftovers = (await fs.readdir(runDir)).filter((name) => name !== "runlist.json");
  assert.deepEqual(leftovers, [], "no temp files left behind");
});

test("shards: --shard i/n and scheduler indices, round-robin, invalid indices refused with the allowed range", () => {
  assert.deepEqual(parseShardFlag("1/3"), { index: 1, count: 3, source: "--shard" });
  assert.deepEqual(resolveShard({ env: { SHARD_COUNT: "4", JOB_COMPLETION_INDEX: "3" } }), { index: 3, count: 4, source: "JOB_COMPLETION_INDEX" });
  assert.deepEqual(resolveShard({ env: { SHARD_COUNT: "4", SLURM_ARRAY_TASK_ID: "0" } }), { index: 0, count: 4, source: "SLURM_ARRAY_TASK_ID" });
  assert.deepEqual(resolveShard({ shardFlag: "0/2", env: { SHARD_COUNT: "4", SLURM_ARRAY_TASK_ID: "3" } })?.count, 2, "the flag wins");
  assert.equal(resolveShard({ env: { SLURM_ARRAY_TASK_ID: "3" } }), undefined, "an array index alone does not shard");
  const refused: Array<[() => unknown, RegExp]> = [
    [() => parseShardFlag("3/3"), /from 0 to 2/],
    [() => parseShardFlag("-1/3"), /from 0 to 2/],
    [() => parseShardFlag("1/0"), /from 1/],
    [() => parseShardFlag("a/b"), /i\/n/],
    [() => resolveShard({ env: { SHARD_COUNT: "4", JOB_COMPLETION_INDEX: "4" } }), /JOB_COMPLETION_INDEX.*from 0 to 3/],
    [() => resolveShard({ env: { SHARD_COUNT: "2", SLURM_ARRAY_TASK_ID: "7" } }), /SLURM_ARRAY_TASK_ID.*from 0 to 1/],
    [() => resolveShard({ env: { SHARD_COUNT: "4" } }), /JOB_COMPLETION_INDEX.*SLURM_ARRAY_TASK_ID/],
    [() => resolveShard({ env: { SHARD_COUNT: "zero", JOB_COMPLETION_INDEX: "0" } }), /SHARD_COUNT/],
  ];
  for (const [call, message] of refused) assert.throws(call, (error: unknown) => error instanceof ParameterError && message.test(error.message));
  const items = [0, 1, 2, 3, 4, 5, 6];
  assert.deepEqual(selectShard(items, { index: 1, count: 3 }), [1, 4]);
  const all = [0, 1, 2].flatMap((index) => selectShard(items, { index, count: 3 }));
  assert.deepEqual(all.sort(), items, "the shards partition the list");
  assert.deepEqual(selectShard(items, { index: 9, count: 10 }), []);
});

test("failures: out of memory and invalid configuration are deterministic, anything else transient", () => {
  assert.ok(isDeterministicFailure(new DeterministicFailure("batch too large")));
  assert.ok(isDeterministicFailure(new ParameterError("BATCH_SIZE", "0", "≥ 1")));
  assert.ok(isDeterministicFailure(new Error("Failed to allocate memory for the weights")));
  assert.ok(isDeterministicFailure(new RangeError("Array buffer allocation failed")));
  assert.ok(isDeterministicFailure(new Error("GPU: out of memory")));
  assert.ok(isDeterministicFailure(Object.assign(new Error("memory access out of bounds"), { name: "RuntimeError" })), "wasm engine out of memory");
  assert.ok(isDeterministicFailure(Object.assign(new Error("… already holds a run with a different configuration"), { name: "RunConfigMismatchError" })));
  assert.ok(!isDeterministicFailure(new Error("ECONNRESET while reading the manifest")));
  assert.ok(!isDeterministicFailure("a string"));
});

test("execute: transient error stops the shard with exit 1 and leaves no record; a retry resumes there", async () => {
  const runsDir = await tempRunsDir();
  const env = { ARCHS: "mobilenet,resnet50", SEEDS: "1,2", RUN_ID: "transient", RUNS_DIR: runsDir };
  const params = resolveParams(env);
  const runDir = runDirFor(params);
  const list = planRuns(params, env);
  await writeOrVerifyRunList(runDir, list);
  const calls: string[] = [];
  let flaky = true;
  const trainOne = async (run: { key: string; seed: number }) => {
    calls.push(run.key);
    if (run.key === list.runs[1].key && flaky) throw new Error("NFS stale file handle");
    return { accuracy: run.seed / 10 };
  };
  const first = await executeShard({ runDir, runs: list.runs, shard: { index: 0, count: 1 }, params, trainOne, log: () => {} });
  assert.equal(first.exitCode, EXIT_TRANSIENT_FAILURE);
  assert.deepEqual(first.trained, [list.runs[0].key]);
  assert.equal(first.interrupted?.key, list.runs[1].key);
  flaky = false;
  const second = await executeShard({ runDir, runs: list.runs, shard: { index: 0, count: 1 }, params, trainOne, log: () => {} });
  assert.equal(second.exitCode, 0);
  assert.deepEqual(second.skipped, [list.runs[0].key]);
  assert.deepEqual(calls, [list.runs[0].key, list.runs[1].key, ...list.runs.slice(1).map((run) => run.key)]);
  const merged = await mergeResults(runDir);
  assert.deepEqual(merged.completed.map((run) => run.metrics), [{ accuracy: 0.1 }, { accuracy: 0.2 }, { accuracy: 0.1 }, { accuracy: 0.2 }]);
  assert.deepEqual([merged.failed, merged.missing, merged.unlisted], [[], [], []]);
  // A deterministic failure records error.json; the shard goes on with its other runs, then exits 3.
  const oomDir = path.join(runsDir, "oom");
  await writeOrVerifyRunList(oomDir, list);
  const oom = await executeShard({
    runDir: oomDir, runs: list.runs, shard: { index: 0, count: 1 }, params, log: () => {},
    trainOne: async (run) => {
      if (run.index === 0) throw new Error("Out of memory: cannot allocate a batch of 16");
      return { accuracy: 1 };
    },
  });
  assert.equal(oom.exitCode, EXIT_DETERMINISTIC_FAILURE);
  assert.deepEqual([oom.failed.length, oom.trained.length], [1, 3]);
  const error = JSON.parse(await fs.readFile(path.join(oomDir, "results", list.runs[0].key, "error.json"), "utf8"));
  assert.equal(error.schema, "showcase.scale-error/1");
  assert.match(error.error.message, /Out of memory/);
});

test("CLI entry: sharding is recognised, --plan lists the runs, bad input exits 2 with a message", async () => {
  assert.ok(wantsSharding(["--shard", "0/2"], {}));
  assert.ok(wantsSharding(["--retry-failed"], {}));
  assert.ok(wantsSharding([], { SHARD_COUNT: "4", JOB_COMPLETION_INDEX: "1" }));
  assert.ok(!wantsSharding(["--quiet"], { SLURM_ARRAY_TASK_ID: "1" }));
  assert.ok(wantsSharding([], { SEEDS: "1,2" }), "a grid is never ignored by plain training");
  assert.ok(wantsSharding(["--learning-rates", "0.1,0.01"], {}));
  const runsDir = await tempRunsDir();
  const env = { ARCHS: "mobilenet", SEEDS: "1,2,3", RUN_ID: "cli", RUNS_DIR: runsDir };
  const out: string[] = [];
  const errors: string[] = [];
  const io = { log: (line: string) => out.push(line), logError: (line: string) => errors.push(line) };
  const trainOne = async () => ({ done: true });
  assert.equal(await runShardFromCli({ args: ["--plan"], env, trainOne, ...io }), 0);
  assert.match(out.join("\n"), /written: 3 runs[\s\S]*mobilenet__seed-3__lr-0\.001/);
  out.length = 0;
  assert.equal(await runShardFromCli({ args: ["--plan", "--seeds", "3,2,1", "--archs=mobilenet"], env: { ...env, SEEDS: "9", ARCHS: "resnet50" }, trainOne, ...io }), 0);
  assert.match(out.join("\n"), /already there, same list: 3 runs/, "parameter flags win over the environment");
  const refusals: Array<[string[], Record<string, string>, RegExp]> = [
    [["--shard", "2/2"], env, /from 0 to 1/],
    [["--shards", "0/2"], env, /unknown option --shards/],
    [["extra"], env, /unexpected argument/],
    [[], { ...env, SEEDS: "" }, /not sharded/],
    [["--shard", "0/2"], { ...env, SEEDS: "1,2" }, /different run list.*grid\.seeds/],
    [["--shard", "0/2"], { ...env, EPOCHS: "zero" }, /EPOCHS/],
  ];
  for (const [args, shardEnv, message] of refusals) {
    errors.length = 0;
    assert.equal(await runShardFromCli({ args, env: shardEnv, trainOne, ...io }), 2, args.join(" "));
    assert.match(errors.join("\n"), message);
  }
  const fresh = { ...env, RUN_ID: "refused" };
  assert.equal(await runShardFromCli({ args: [], env: { ...fresh, SHARD_COUNT: "3" }, trainOne, ...io }), 2);
  assert.equal(await runShardFromCli({ args: ["--shard", "3/3"], env: fresh, trainOne, ...io }), 2);
  await assert.rejects(fs.access(path.join(runsDir, "refused")), "a refused shard writes nothing");
  out.length = 0;
  assert.equal(await runShardFromCli({ args: ["--shard", "1/2"], env, trainOne, ...io }), 0);
  assert.match(out.at(-1) ?? "", /shard 1\/2: 1 trained, 0 skipped/);
  out.length = 0;
  assert.equal(await runShardFromCli({ args: [], env, trainOne, ...io }), 0, "a grid without a shard: the whole list here");
  assert.match(out.join("\n"), /shard 0\/1 \(from whole list\): 3 of 3 runs[\s\S]*2 trained, 1 skipped/);
});
