// Training architectures in N worker processes at once (WORKERS > 1): a queue in ARCHS order, each
// worker (worker-child.ts) takes the next architecture when it finishes one. A worker that fails or
// dies stops the others and rejects with the architecture's name; the AbortSignal makes every worker
// stop after its current batch. Finished architectures and per-epoch checkpoints are on disk either
// way, so the same RUN_ID resumes. Every worker has exited when this returns or throws.
import { type ChildProcess, fork } from "node:child_process";
import * as path from "node:path";
import { FileWriteError } from "../io/file-error";
import type { ArchId } from "../ids";
import { PROJECT_ROOT } from "../paths";
import type { ArchOutcome } from "./fit";
import type { TrainProgress } from "./types";
import type { FromWorker, ToWorker, WorkerContext } from "./worker-protocol";

/** Through PROJECT_ROOT (a real path): the notebooks reach lib/ through a symlink. */
const WORKER_ENTRY = path.join(PROJECT_ROOT, "lib", "train", "worker-child.ts");
const STDERR_TAIL_CHARS = 2000;
/** After SIGTERM, a worker that has not exited within this gets SIGKILL. */
const KILL_GRACE_MS = 5000;

export class WorkerTrainingError extends Error {
  constructor(
    readonly arch: string,
    readonly pid: number | undefined,
    readonly reason: string,
    readonly stderrTail = "",
    childStack?: string,
  ) {
    super(
      `training ${arch} failed in worker process ${pid ?? "(not started)"}: ${reason}` +
        (stderrTail.trim() ? `\n--- end of its stderr ---\n${stderrTail.trimEnd()}` : "") +
        `\nFinished architectures and per-epoch checkpoints are kept: run again with the same RUN_ID to resume (WORKERS=1 trains in this process).`,
    );
    this.name = "WorkerTrainingError";
    if (childStack) this.stack = `${this.name}: ${this.message}\n--- in the worker ---\n${childStack}`;
  }
}

/** Resolves once an exited worker's stderr has been read to its end (or after `ms`). */
function stderrRead(child: ChildProcess, ms = 1000): Promise<void> {
  const stderr = child.stderr;
  if (!stderr || stderr.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stderr.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

interface Worker {
  child: ChildProcess;
  job?: { arch: ArchId; index: number };
  stderrTail: string;
  exited: boolean;
}

/** One outcome per architecture, in ARCHS order; undefined where the signal stopped training. */
export function trainInWorkerProcesses(opts: {
  context: WorkerContext;
  archs: readonly ArchId[];
  workers: number;
  onProgress?: (progress: TrainProgress) => void;
  onMessage?: (message: string) => void;
  signal?: AbortSignal;
  /** An architecture the signal stopped, and the epoch it stopped in. */
  onStopped?: (arch: ArchId, epoch: number) => void;
}): Promise<Array<ArchOutcome | undefined>> {
  const outcomes: Array<ArchOutcome | undefined> = opts.archs.map(() => undefined);
  const workers: Worker[] = [];
  let next = 0;
  let failure: Error | undefined;
  let stopping = false;

  return new Promise((resolve, reject) => {
    const send = (worker: Worker, message: ToWorker) => {
      if (worker.child.connected) worker.child.send(message);
    };
    const release = (worker: Worker) => {
      worker.job = undefined;
      if (worker.child.connected) worker.child.disconnect(); // the worker exits on disconnect
    };
    const dispatch = (worker: Worker) => {
      if (stopping || failure || next >= opts.archs.length) return release(worker);
      const index = next++;
      worker.job = { arch: opts.archs[index], index };
      send(worker, { type: "train", arch: opts.archs[index], archIndex: index + 1 });
    };
    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      for (const worker of workers) {
        if (worker.exited) continue;
        worker.child.kill("SIGTERM");
        setTimeout(() => worker.exited || worker.child.kill("SIGKILL"), KILL_GRACE_MS).unref();
      }
    };
    const onAbort = () => {
      stopping = true;
      for (const worker of workers) (worker.job ? send(worker, { type: "abort" }) : release(worker));
    };
    const settleIfAllExited = () => {
      if (!workers.every((worker) => worker.exited)) return;
      opts.signal?.removeEventListener("abort", onAbort);
      if (failure) reject(failure);
      else resolve(outcomes);
    };

    const onMessage = (worker: Worker, message: FromWorker) => {
      const pid = worker.child.pid;
      switch (message.type) {
        case "progress":
          try {
            opts.onProgress?.(message.progress);
          } catch (error) {
            fail(error instanceof Error ? error : new Error(String(error)));
          }
          return;
        case "done":
          if (worker.job) outcomes[worker.job.index] = message.result;
          return dispatch(worker);
        case "aborted":
          opts.onMessage?.(message.message);
          opts.onStopped?.(message.arch, message.epoch);
          return release(worker);
        case "failed":
          // A full disk is the same one-line error in a worker as in this process (the CLI prints it alone).
          return fail(message.fileWrite ? new FileWriteError(message.fileWrite) : new WorkerTrainingError(message.arch, pid, message.message, "", message.stack));
      }
    };

    const start = () => {
      const child = fork(WORKER_ENTRY, [], {
        cwd: PROJECT_ROOT, // where `--import tsx` resolves from
        execArgv: ["--import", "tsx"], // not process.execArgv: the tslab kernel's are not tsx's
        serialization: "advanced",
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      });
      const worker: Worker = { child, stderrTail: "", exited: false };
      workers.push(worker);
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (chunk: string) => (worker.stderrTail = (worker.stderrTail + chunk).slice(-STDERR_TAIL_CHARS)));
      child.on("message", (message: FromWorker) => onMessage(worker, message));
      child.on("error", (error) => {
        fail(new WorkerTrainingError(worker.job?.arch ?? opts.archs[0], child.pid, `worker process error (${WORKER_ENTRY}): ${error.message}`, worker.stderrTail));
        if (child.pid === undefined) {
          worker.exited = true; // it never started: no "exit" to wait for
          settleIfAllExited();
        }
      });
      // Not "close": Node 20 never emits it for a child the parent has disconnected from.
      child.on("exit", (code, signal) => {
        void stderrRead(child).then(() => {
          worker.exited = true;
          if (worker.job && !failure) {
            const how = signal ? `the process was killed by ${signal}` : `the process exited with code ${code}`;
            fail(new WorkerTrainingError(worker.job.arch, child.pid, `${how} before it finished`, worker.stderrTail));
          }
          settleIfAllExited();
        });
      });
      send(worker, { type: "context", context: opts.context });
      dispatch(worker);
    };

    if (opts.signal?.aborted) stopping = true;
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const count = stopping ? 0 : Math.max(1, Math.min(opts.workers, opts.archs.length));
    for (let i = 0; i < count; i++) start();
    settleIfAllExited();
  });
}
