// One writer per run folder: a second training of the same RUN_ID is refused in one line naming the
// holder (exit 2); the lock of a SIGKILLed holder is taken over and the run resumes; shards of one
// grid lock per run key, so a shard proceeds while another shard's key is being written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { planRuns } from "../lib/scale";
import { trainParamsFor } from "../lib/scale/train-adapter";
import { acquireRunLock, RUN_LOCK_FILE, RunLockedError, runTraining } from "../lib/train";
import { projectPath } from "../lib/paths";
import { holdingTrainer, tinyEnv } from "./train-fixtures";
import { exitOf, type ChildExit } from "./child-exit";

const CLI = projectPath("bin", "showcase.js");

function runCli(args: string[], env: Record<string, string>): Promise<ChildExit> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const name of ["SHARD_COUNT", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"]) delete merged[name]; // the shard comes from --shard
  const child = spawn(process.execPath, [CLI, ...args], { env: merged, stdio: ["ignore", "pipe", "pipe"] });
  return exitOf(child);
}

const HOLDER_LINE = (label: string, pid: number) =>
  new RegExp(`^showcase train: run ${label} is being written by pid ${pid} on host ${os.hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} since \\d\\d:\\d\\d \\(.+\\); wait, or stop it$`);

test("lock: a second holder is refused naming the first; released, it can be taken again", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-lock-"));
  try {
    const first = await acquireRunLock({ dir, label: "quick-default", command: "npx showcase train" });
    const holder = JSON.parse(await fs.readFile(path.join(dir, RUN_LOCK_FILE), "utf8"));
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.host, os.hostname());
    assert.equal(holder.command, "npx showcase train");
    assert.ok(!Number.isNaN(Date.parse(holder.startedAt)));
    await assert.rejects(acquireRunLock({ dir, label: "quick-default" }), (error: unknown) => {
      assert.ok(error instanceof RunLockedError);
      assert.match(error.message, new RegExp(`^run quick-default is being written by pid ${process.pid} \\(this process\\) on host .+ since \\d\\d:\\d\\d \\(npx showcase train\\); wait, or stop it$`));
      return true;
    });
    // Evaluation writes into the run folder too: refused while another writer holds it.
    const params = resolveParams({ RUNS_DIR: path.dirname(dir), RUN_ID: path.basename(dir), ENGINE: "wasm" });
    await assert.rejects(evaluateRun(params, { engine: await selectEngine({ engine: "wasm", quiet: true }), log: () => {} }), RunLockedError);
    await first.release();
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false, "released on exit");
    const second = await acquireRunLock({ dir });
    assert.equal(second.tookOverFrom, undefined);
    await second.release();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("two trainings of one RUN_ID: the second is refused in one line (exit 2); after a SIGKILL the next run takes over and resumes", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-lock-"));
  const env = tinyEnv(dir, { ARCHS: "mobilenet", EPOCHS: "2", RUN_ID: "same" });
  let holder: ChildProcess | undefined;
  try {
    const held = await holdingTrainer(env, "mobilenet", 2);
    holder = held.child;
    const refused = await runCli(["train", "--quiet"], env);
    assert.equal(refused.code, 2, refused.stderr);
    const lines = refused.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line: ${refused.stderr}`);
    assert.match(lines[0], HOLDER_LINE("same", held.child.pid!));

    held.child.kill("SIGKILL");
    assert.equal(await held.exited, "SIGKILL");
    const runDir = path.join(dir, "runs", "same");
    assert.ok(existsSync(path.join(runDir, RUN_LOCK_FILE)), "a killed holder leaves its lock behind");

    const messages: string[] = [];
    const engine = await selectEngine({ engine: "wasm", quiet: true });
    const summary = await runTraining(resolveParams(env), { engine, onMessage: (message) => messages.push(message) });
    assert.ok(messages.some((m) => m.includes(`took over ${path.join(runDir, RUN_LOCK_FILE)}`) && m.includes(`pid ${held.child.pid}`)), messages.join("\n"));
    assert.deepEqual(summary.resumed, ["mobilenet"], "the killed run's epoch 1 checkpoint was resumed");
    assert.deepEqual(summary.histories[0].epochs.map((e) => e.epoch), [1, 2]);
    assert.equal(existsSync(path.join(runDir, RUN_LOCK_FILE)), false, "released when training ends");
  } finally {
    holder?.kill("SIGKILL");
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("shards of one grid lock per run key: a shard proceeds while another key is being written, a shard of that key is refused", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-lock-"));
  const env = tinyEnv(dir, { ARCHS: "mobilenet,mobilenet_v2", EPOCHS: "1", RUN_ID: "grid" });
  let holder: ChildProcess | undefined;
  try {
    const params = resolveParams(env);
    const runs = planRuns(params, env).runs;
    assert.equal(runs.length, 2);
    const gridDir = path.join(dir, "runs", "grid");
    // Shard 0's key, mid-training: the same runTraining call the shard's trainer makes, held inside epoch 1.
    const key0 = trainParamsFor(runs[0], { runDir: gridDir, params });
    const held = await holdingTrainer({ ...env, ARCHS: key0.archs.join(","), RUN_ID: key0.runId, RUNS_DIR: key0.runsDir }, runs[0].arch, 1);
    holder = held.child;

    const other = await runCli(["train", "--shard", "1/2", "--quiet"], env);
    assert.equal(other.code, 0, `shard 1/2 trains its own key while key ${runs[0].key} is locked: ${other.stderr.slice(-800)}`);
    assert.ok(existsSync(path.join(gridDir, "results", runs[1].key, "result.json")));

    const same = await runCli(["train", "--shard", "0/2", "--quiet"], env);
    assert.equal(same.code, 1, "a locked key stops its shard as a transient failure (a retry resumes)");
    assert.match(same.stdout + same.stderr, new RegExp(`run ${runs[0].key} is being written by pid ${held.child.pid} `));
    assert.equal(existsSync(path.join(gridDir, "results", runs[0].key, "error.json")), false, "not recorded as a failure of the run");
  } finally {
    holder?.kill("SIGKILL");
    await fs.rm(dir, { recursive: true, force: true });
  }
});
