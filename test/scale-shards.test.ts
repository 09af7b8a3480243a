// N shard processes on a tiny run list, without a cluster. This file is also the shard program:
// started with SCALE_SHARD_CHILD=1 it runs runShardFromCli with a fast fake trainer instead of tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { resolveParams } from "../lib/config";
import { runShardFromCli } from "../lib/cli/shard";
import { DeterministicFailure, mergeResults, planRuns, runDirFor, type TrainOne, writeOrVerifyRunList } from "../lib/scale";
import { tempDir } from "./temp-dir";
import { exitOf } from "./child-exit";

// The fake trainer: a metric that depends only on the run's configuration, a delay to shuffle the
// completion order, an injectable out-of-memory failure, and a log line per call to count calls.
function fakeTrainer(opts: { delayMs: number; failKey?: string }): TrainOne {
  return async (run, { runDir }) => {
    appendFileSync(path.join(runDir, "calls.log"), `${run.key}\n`);
    await new Promise((resolve) => setTimeout(resolve, opts.delayMs));
    if (run.key === opts.failKey) throw new DeterministicFailure(`out of memory at batch size ${run.config.batchSize} (injected)`);
    appendFileSync(path.join(runDir, "finished.log"), `${run.key}\n`);
    return { validationAccuracy: Number.parseInt(run.fingerprint.slice(0, 8), 16) / 2 ** 32, seed: run.seed };
  };
}

if (process.env.SCALE_SHARD_CHILD === "1") {
  const trainOne = fakeTrainer({ delayMs: Number(process.env.FAKE_DELAY_MS ?? 0), failKey: process.env.FAKE_FAIL_KEY });
  runShardFromCli({ args: process.argv.slice(2), trainOne }).then((code) => process.exit(code));
} else {
  const SCHEDULER_VARIABLES = ["SHARD_COUNT", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "RETRY_FAILED", "FAKE_FAIL_KEY", "FAKE_DELAY_MS"];
  const GRID = { ARCHS: "mobilenet,resnet50,densenet121", SEEDS: "1,2", RUN_ID: "tiny" };

  interface ShardExit {
    code: number | null;
    stdout: string;
    stderr: string;
  }

  function runShard(opts: { runsDir: string; args?: string[]; env?: Record<string, string> }): Promise<ShardExit> {
    const env: Record<string, string | undefined> = { ...process.env, ...GRID, RUNS_DIR: opts.runsDir, SCALE_SHARD_CHILD: "1" };
    for (const name of SCHEDULER_VARIABLES) delete env[name];
    Object.assign(env, opts.env);
    const child = spawn(process.execPath, ["--import", "tsx", __filename, ...(opts.args ?? [])], { env, stdio: ["ignore", "pipe", "pipe"] });
    return exitOf(child);
  }

  async function lines(file: string): Promise<string[]> {
    return (await fs.readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
  }

  const plan = (runsDir: string) => planRuns(resolveParams({ ...GRID, RUNS_DIR: runsDir }), GRID);

  test("N shard processes: each run once, second pass idle, failed index retried alone, merge independent of completion order", async () => {
    const root = await tempDir("scale-shards-");
    const runsA = path.join(root, "a");
    const runDirA = path.join(runsA, "tiny");
    const runs = plan(runsA).runs;
    assert.equal(runs.length, 6);
    const failing = runs[4]; // round-robin: index 4 belongs to shard 1 of 3
    const slowFirst = ["300", "0", "150"];

    // Pass 1: three shards at once, each given its index another way, one injected OOM.
    const first = await Promise.all([
      runShard({ runsDir: runsA, args: ["--shard", "0/3"], env: { FAKE_DELAY_MS: slowFirst[0] } }),
      runShard({ runsDir: runsA, env: { SHARD_COUNT: "3", JOB_COMPLETION_INDEX: "1", FAKE_DELAY_MS: slowFirst[1], FAKE_FAIL_KEY: failing.key } }),
      runShard({ runsDir: runsA, env: { SHARD_COUNT: "3", SLURM_ARRAY_TASK_ID: "2", FAKE_DELAY_MS: slowFirst[2] } }),
    ]);
    assert.deepEqual(first.map((exit) => exit.code), [0, 3, 0], first.map((exit) => exit.stderr).join("\n"));
    const calls = await lines(path.join(runDirA, "calls.log"));
    assert.deepEqual([...calls].sort(), runs.map((run) => run.key).sort(), "every run started exactly once");
    const afterFirst = await mergeResults(runDirA);
    assert.equal(afterFirst.completed.length, 5);
    assert.deepEqual(afterFirst.failed.map((run) => [run.key, run.error.name]), [[failing.key, "DeterministicFailure"]]);
    assert.deepEqual(afterFirst.missing, []);

    // Pass 2: all shards again (the injection still there): nothing is trained, the failure stays.
    const second = await Promise.all([0, 1, 2].map((index) =>
      runShard({ runsDir: runsA, args: ["--shard", `${index}/3`], env: { FAKE_FAIL_KEY: failing.key } })));
    assert.deepEqual(second.map((exit) => exit.code), [0, 3, 0]);
    assert.match(second[1].stdout, /failed earlier.*--retry-failed/);
    assert.deepEqual(await lines(path.join(runDirA, "calls.log")), calls, "a second pass trains nothing");

    // The failed index alone, cause removed, failures retried: only the failed run is trained.
    const retry = await runShard({ runsDir: runsA, env: { SHARD_COUNT: "3", JOB_COMPLETION_INDEX: "1", RETRY_FAILED: "1" } });
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(await lines(path.join(runDirA, "calls.log")), [...calls, failing.key]);
    await assert.rejects(fs.access(path.join(runDirA, "results", failing.key, "error.json")), "the superseded error record is gone");
    const mergedA = await mergeResults(runDirA);
    assert.deepEqual([mergedA.completed.length, mergedA.failed.length, mergedA.missing.length], [6, 0, 0]);

    // Run directory B: same list, its shards (in this process, to save start-up time) one after
    // another in reverse order — another completion order.
    const runsB = path.join(root, "b");
    const runDirB = path.join(runsB, "tiny");
    await writeOrVerifyRunList(runDirFor(resolveParams({ ...GRID, RUNS_DIR: runsB })), plan(runsB));
    assert.equal((await mergeResults(runDirB)).missing.length, 6, "nothing done yet: every run listed as missing");
    for (const index of [2, 1, 0]) {
      const code = await runShardFromCli({ args: ["--shard", `${index}/3`], env: { ...GRID, RUNS_DIR: runsB }, trainOne: fakeTrainer({ delayMs: 0 }), log: () => {} });
      assert.equal(code, 0);
    }
    const orderA = await lines(path.join(runDirA, "finished.log"));
    const orderB = await lines(path.join(runDirB, "finished.log"));
    assert.notDeepEqual(orderA, orderB, "the two directories really finished in different orders");
    const mergedB = await mergeResults(runDirB);
    assert.equal(JSON.stringify(mergedB), JSON.stringify(mergedA), "merged tables identical whatever the completion order");
    assert.deepEqual(mergedA.completed.map((run) => run.key), runs.map((run) => run.key), "sorted in run-list order");

    // `showcase train --merge` (the Slurm merge job) writes that table and says what it holds.
    const mergeLog: string[] = [];
    assert.equal(await runShardFromCli({ args: ["--merge"], env: { ...GRID, RUNS_DIR: runsB }, log: (line) => mergeLog.push(line) }), 0);
    assert.match(mergeLog.join("\n"), /merged-results\.json written\n6 runs: 6 completed, 0 failed, 0 missing/);
    assert.equal(await fs.readFile(path.join(runDirB, "merged-results.json"), "utf8").then((text) => JSON.stringify(JSON.parse(text))), JSON.stringify(mergedA));
  });

  test("SCALE_FAIL_RUNS (test hook): the named run fails deterministically without training, the merge lists it", async () => {
    const root = await tempDir("scale-hook-");
    const runs = plan(root).runs;
    const env = { ...GRID, RUNS_DIR: root, SCALE_FAIL_RUNS: runs[1].key };
    const log: string[] = [];
    assert.equal(await runShardFromCli({ args: ["--shard", "1/3"], env, trainOne: fakeTrainer({ delayMs: 0 }), log: (line) => log.push(line) }), 3);
    const runDir = path.join(root, "tiny");
    assert.deepEqual(await lines(path.join(runDir, "calls.log")), [runs[4].key], "the failing run never reached the trainer");
    assert.equal(await runShardFromCli({ args: ["--merge"], env, log: (line) => log.push(line) }), 0);
    assert.match(log.join("\n"), new RegExp(`failed   ${runs[1].key}: injected failure \\(SCALE_FAIL_RUNS test hook\\)`));
  });
}
