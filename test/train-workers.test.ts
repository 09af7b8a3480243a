// WORKERS: architectures trained at the same time in worker processes (lib/train/worker-pool.ts).
// Real tiny runs (test/train-fixtures.ts): two workers give the numbers one process gives; a worker
// that fails or is killed names its architecture; the AbortSignal stops every worker; nothing is
// lost (the same RUN_ID resumes) and no worker process outlives runTraining.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs, readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ParameterError, resolveParams, type RunParams } from "../lib/config";
import { paramsFromArgs } from "../lib/cli/train";
import { selectEngine, type EngineDescription } from "../lib/engine";
import { isContinuous, loadRun, runTraining, type RunSummary, type TrainProgress } from "../lib/train";
import { resolveWorkerCount } from "../lib/train/worker-count";
import { WorkerTrainingError } from "../lib/train/worker-pool";
import { tinyEnv } from "./train-fixtures";

/**
 * Worker processes of this process still alive (Linux /proc): children running worker-child.ts.
 * Other children (tsx's esbuild service) are not ours to count.
 */
function workerPids(): number[] {
  const workers: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // stat: "pid (comm) state ppid …"; comm may hold spaces, so split after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (ppid === process.pid && cmdline.includes("worker-child")) workers.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return workers;
}

const epochNumbers = (summary: RunSummary) =>
  summary.histories.map((h) => ({ arch: h.arch, epochs: h.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.validationLoss, e.validationAccuracy]) }));

test("WORKERS: auto is one per core on wasm/cpu and 1 on GPU and native engines; a bad value names WORKERS and the allowed values", () => {
  assert.equal(resolveParams({}).workers, "auto");
  assert.equal(resolveParams({ WORKERS: "3" }).workers, 3);
  assert.equal(paramsFromArgs(["--workers", "2"], {}).params.workers, 2);
  for (const bad of ["0", "-1", "two", "1.5", "auto2"]) {
    assert.throws(() => resolveParams({ WORKERS: bad }), (error: unknown) => {
      assert.ok(error instanceof ParameterError);
      assert.equal(error.parameter, "WORKERS");
      assert.match(error.message, /invalid WORKERS=.*allowed "auto" .* or a whole number ≥ 1/);
      return true;
    });
  }
  const count = (workers: "auto" | number, engine: EngineDescription["engine"], pendingArchs: number) => resolveWorkerCount({ workers, engine: { engine }, pendingArchs, cores: 2 });
  assert.equal(count("auto", "wasm", 8), 2);
  assert.equal(count("auto", "cpu", 8), 2);
  assert.equal(count("auto", "wasm", 1), 1, "never more workers than architectures to train");
  assert.equal(count("auto", "wasm", 0), 1);
  for (const engine of ["tfjs-node", "tfjs-node-gpu", "webgpu"] as const) assert.equal(count("auto", engine, 8), 1, engine);
  assert.equal(count(3, "webgpu", 8), 3, "a number is taken as given");
  assert.equal(count(4, "wasm", 2), 2);
});

describe("tiny runs with WORKERS=2", () => {
  let dir: string;
  let engine: EngineDescription;
  const params = (overrides: Record<string, string>): RunParams => resolveParams(tinyEnv(dir, { ARCHS: "mobilenet_v2,mobilenet", ...overrides }));

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-workers-"));
    engine = await selectEngine({ engine: "wasm", quiet: true });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("two architectures train in two processes, with per-epoch losses and accuracies identical to WORKERS=1", async () => {
    const sequentialEvents: TrainProgress[] = [];
    const sequential = await runTraining(params({ RUN_ID: "one", WORKERS: "1" }), { engine, onProgress: (p) => sequentialEvents.push(p) });
    const events: TrainProgress[] = [];
    const parallel = await runTraining(params({ RUN_ID: "two", WORKERS: "2" }), { engine, onProgress: (p) => events.push(p) });

    assert.deepEqual(workerPids(), [], "no worker process left");
    assert.equal(sequential.workers, 1);
    assert.ok(sequentialEvents.every((p) => p.pid === process.pid), "WORKERS=1 trains in this process");
    assert.equal(parallel.workers, 2);
    const pidOf = (arch: string) => [...new Set(events.filter((p) => p.arch === arch).map((p) => p.pid))];
    const [v2Pid, v1Pid] = [pidOf("mobilenet_v2"), pidOf("mobilenet")];
    assert.equal(v2Pid.length, 1);
    assert.equal(v1Pid.length, 1);
    assert.notEqual(v2Pid[0], v1Pid[0], "each architecture in its own process");
    assert.ok(![v2Pid[0], v1Pid[0]].includes(process.pid));

    assert.deepEqual(parallel.histories.map((h) => h.arch), ["mobilenet_v2", "mobilenet"], "histories in ARCHS order");
    assert.deepEqual(epochNumbers(parallel), epochNumbers(sequential));
    for (const history of parallel.histories) {
      assert.equal(history.status, "finished");
      assert.equal(history.provenance?.workers, 2);
    }
    const runJson = JSON.parse(await fs.readFile(path.join(parallel.runDir, "run.json"), "utf8"));
    assert.equal(runJson.sessions[0].workers, 2);

    const again = await runTraining(params({ RUN_ID: "two", WORKERS: "2" }), { engine });
    assert.deepEqual(again.skipped, ["mobilenet_v2", "mobilenet"]);
    assert.equal(again.workers, 1, "nothing left to train: no worker processes");
  });

  test("a worker that fails names the architecture and its error, stops the other worker and leaves no process", async () => {
    // A checkpoint from another version of the project: trainArchitecture refuses it in the worker.
    const runDir = path.join(dir, "runs", "failing");
    await fs.mkdir(path.join(runDir, "mobilenet", "checkpoint"), { recursive: true });
    await fs.writeFile(path.join(runDir, "mobilenet", "checkpoint", "state.json"), JSON.stringify({ schema: "showcase.checkpoint/0" }));
    await assert.rejects(runTraining(params({ RUN_ID: "failing", WORKERS: "2", EPOCHS: "3" }), { engine }), (error: unknown) => {
      assert.ok(error instanceof WorkerTrainingError, String(error));
      assert.equal(error.arch, "mobilenet");
      assert.match(error.message, /^training mobilenet failed in worker process \d+: .*state\.json has schema "showcase\.checkpoint\/0"/);
      assert.match(error.message, /same RUN_ID to resume/);
      return true;
    });
    assert.deepEqual(workerPids(), []);

    // Nothing of mobilenet_v2 is lost: without the bad checkpoint the same RUN_ID finishes both.
    await fs.rm(path.join(runDir, "mobilenet", "checkpoint"), { recursive: true });
    const fixed = await runTraining(params({ RUN_ID: "failing", WORKERS: "2", EPOCHS: "3" }), { engine });
    assert.deepEqual(fixed.histories.map((h) => [h.arch, h.status, h.epochs.length]), [["mobilenet_v2", "finished", 3], ["mobilenet", "finished", 3]]);
  });

  test("a worker killed by a signal names the architecture and the signal; its checkpoint resumes", async () => {
    let killed: number | undefined;
    const run = params({ RUN_ID: "killed", WORKERS: "2", EPOCHS: "3" });
    await assert.rejects(
      runTraining(run, {
        engine,
        onProgress: (p) => {
          if (killed === undefined && p.arch === "mobilenet" && p.phase === "validate" && p.epoch === 1) {
            killed = p.pid!;
            process.kill(killed, "SIGKILL");
          }
        },
      }),
      (error: unknown) => {
        assert.ok(error instanceof WorkerTrainingError, String(error));
        assert.match(error.message, new RegExp(`^training mobilenet failed in worker process ${killed}: the process was killed by SIGKILL before it finished`));
        return true;
      },
    );
    assert.deepEqual(workerPids(), []);
    const resumed = await runTraining(run, { engine });
    assert.ok(resumed.resumed.includes("mobilenet"), `resumed: ${resumed.resumed.join(", ")}`);
    const { histories } = await loadRun(resumed.runDir);
    for (const history of histories) {
      assert.equal(history.status, "finished");
      assert.ok(isContinuous(history.epochs) && history.epochs.length === 3, `${history.arch}: ${history.epochs.map((e) => e.epoch)}`);
    }
    assert.equal(histories.find((h) => h.arch === "mobilenet")?.provenance?.resumedAtEpochs.length, 1);
  });

  test("the AbortSignal stops every worker after its current batch; the same RUN_ID then finishes the run", async () => {
    const controller = new AbortController();
    const run = params({ RUN_ID: "aborted", WORKERS: "2", EPOCHS: "3" });
    const stopped = await runTraining(run, {
      engine,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "validate" && p.epoch === 1) controller.abort();
      },
    });
    assert.equal(stopped.aborted, true);
    assert.ok(stopped.histories.length < 2, "not every architecture finished");
    assert.deepEqual(workerPids(), []);
    const finished = await runTraining(run, { engine });
    assert.equal(finished.aborted, false);
    assert.ok(finished.resumed.length >= 1, "the architecture that had finished an epoch resumes from its checkpoint");
    assert.deepEqual(finished.histories.map((h) => [h.arch, h.epochs.length]), [["mobilenet_v2", 3], ["mobilenet", 3]]);
  });
});
