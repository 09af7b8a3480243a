// A worker process of runTraining (WORKERS > 1), started by worker-pool.ts with child_process.fork.
// It selects the parent's engine by name and trains the architectures it is sent, one at a time,
// with the same trainArchitecture as the sequential path; progress and outcomes go back over IPC.
import type { EngineDescription } from "../engine/types";
import { selectEngine } from "../engine/index";
import { FileWriteError } from "../io/file-error";
import { trainArchitecture, TrainingAbortedError } from "./fit";
import type { FromWorker, ToWorker, WorkerContext } from "./worker-protocol";

const send = (message: FromWorker) => process.send?.(message);

// Ctrl-C in a terminal reaches the whole process group: the parent decides and sends "abort".
process.on("SIGINT", () => {});
// The parent is done with us, or gone: either way nobody is left to report to.
process.on("disconnect", () => process.exit(0));
// The parent stops the other workers with SIGTERM when one fails: exit normally, so that lib/io/atomic
// removes the temp file of a write in flight instead of leaving it to fill the disk.
process.on("SIGTERM", () => process.exit(143));

let context: WorkerContext | undefined;
let engine: Promise<EngineDescription> | undefined;
const abort = new AbortController();
let jobs = Promise.resolve();

process.on("message", (message: ToWorker) => {
  if (message.type === "context") context = message.context;
  else if (message.type === "abort") abort.abort();
  else jobs = jobs.then(() => train(message.arch, message.archIndex));
});

async function train(arch: Extract<ToWorker, { type: "train" }>["arch"], archIndex: number): Promise<void> {
  try {
    if (!context) throw new Error("worker got a job before its context");
    engine ??= selectEngine({ engine: context.engine, quiet: true });
    const result = await trainArchitecture({
      params: context.params,
      arch,
      runDir: context.runDir,
      dataset: context.dataset,
      engine: await engine,
      configFingerprint: context.configFingerprint,
      cacheDir: context.cacheDir,
      archIndex,
      archCount: context.archCount,
      workers: context.workers,
      onProgress: (progress) => send({ type: "progress", progress }),
      signal: abort.signal,
    });
    send({ type: "done", arch, result });
  } catch (error) {
    if (error instanceof TrainingAbortedError) send({ type: "aborted", arch, epoch: error.epoch, message: error.message });
    else {
      const fileWrite = error instanceof FileWriteError ? error.failure : undefined; // the parent rethrows it as is
      send({ type: "failed", arch, message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined, fileWrite });
    }
  }
}
