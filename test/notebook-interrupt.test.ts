// Kernel → Interrupt during notebook 02's training cell, as Jupyter sends it (SIGINT to the kernel's
// process group), through the project's own kernel client: the cell ends with "stopped after epoch k
// of n", nothing is written to the run folder afterwards, no worker process is left, the run's lock
// is released, and running the cell again resumes and completes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, promises as fs, readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KernelClient, type KernelMessage } from "../lib/notebook/kernel-client";
import { joinText, readNotebook } from "../lib/notebook/nbformat";
import { projectPath } from "../lib/paths";
import { RUN_LOCK_FILE } from "../lib/train";
import { tinyEnv } from "./train-fixtures";

const EPOCHS = 3;
const CELL_TIMEOUT_MS = 10 * 60_000;

async function cellSource(id: string): Promise<string> {
  const notebook = await readNotebook(projectPath("notebooks", "02-train.ipynb"));
  const cell = notebook.cells.find((candidate) => candidate.id === id);
  assert.ok(cell, `notebook 02 has a cell "${id}"`);
  return joinText(cell.source);
}

/** Every file under `dir` with its size and modification time: equal snapshots = nothing written. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const stat = await fs.stat(file);
    files.push(`${path.relative(dir, file)} ${stat.size} ${stat.mtimeMs}`);
  }
  return files.sort();
}

/** Processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): Array<{ pid: number; command: string }> {
  const children: Array<{ pid: number; command: string }> = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push({ pid: Number(name), command: readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ") });
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

const textOf = (messages: KernelMessage[], name: "stdout" | "stderr") =>
  messages.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => String(m.content.text)).join("");

async function historyEpochs(runDir: string, arch: string): Promise<number> {
  try {
    return (JSON.parse(await fs.readFile(path.join(runDir, arch, "history.json"), "utf8")) as { epochs: unknown[] }).epochs.length;
  } catch {
    return 0;
  }
}

test("Interrupt stops notebook 02's training at the next batch, leaves a resumable run and no worker; the cell runs again to the end", { skip: process.platform !== "linux" && "reads /proc to find worker processes" }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-interrupt-"));
  // Two architectures in two worker processes, 16 batches an epoch: an interrupt lands mid-epoch.
  const archs = ["mobilenet", "mobilenet_v2"];
  const env = tinyEnv(dir, { ARCHS: archs.join(","), EPOCHS: String(EPOCHS), WORKERS: "2", TRAIN_PER_CLASS: "16", SYNTHETIC_PER_CLASS: "22", BATCH_SIZE: "2", RUN_ID: "interrupted" });
  const runDir = path.join(dir, "runs", "interrupted");
  const kernel = await KernelClient.start({ cwd: projectPath("notebooks"), env: { ...process.env, ...env } });
  try {
    for (const id of ["parameters", "derived"]) {
      const { reply, iopub } = await kernel.execute(await cellSource(id), { timeoutMs: CELL_TIMEOUT_MS });
      assert.equal(reply.content.status, "ok", `cell ${id}: ${textOf(iopub, "stderr")}`);
    }
    const train = await cellSource("train");

    // Interrupt once an epoch has been completed (history.json has it): training is in epoch 2 by then.
    let settled = false;
    const first = kernel.execute(train, { timeoutMs: CELL_TIMEOUT_MS }).finally(() => (settled = true));
    let interrupted = false;
    let interruptedAt = 0;
    while (!interrupted && !settled) {
      const done = await Promise.all(archs.map((arch) => historyEpochs(runDir, arch)));
      if (done.some((epochs) => epochs >= 1)) {
        interruptedAt = performance.now();
        kernel.interrupt();
        interrupted = true;
      } else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { reply, iopub } = await first;
    t.diagnostic(`the cell ended ${((performance.now() - interruptedAt) / 1000).toFixed(1)} s after the interrupt`);
    assert.ok(interrupted, `the cell ended before the interrupt: ${textOf(iopub, "stderr")}`);
    const stderr = textOf(iopub, "stderr");
    assert.equal(reply.content.status, "error", "an interrupted cell ends in error, so Run All stops there");
    assert.match(stderr, new RegExp(`Interrupted: stopped(:| after epoch) .*of ${EPOCHS}.*; run the cell again to resume`));
    assert.doesNotMatch(stderr, /Interrupted asynchronously/, "the cell waited for the training to stop");

    // Stopped, not finished: some architecture has fewer than EPOCHS epochs, and its checkpoint is there.
    const epochsAtStop = await Promise.all(archs.map((arch) => historyEpochs(runDir, arch)));
    assert.ok(epochsAtStop.some((epochs) => epochs < EPOCHS), `stopped before the end: ${epochsAtStop}`);
    assert.equal(existsSync(path.join(runDir, RUN_LOCK_FILE)), false, "the run's lock is released");
    assert.deepEqual(childrenOf(kernel.pid!).filter((child) => child.command.includes("worker-child")), [], "no worker process left");

    const before = await snapshot(runDir);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    assert.deepEqual(await snapshot(runDir), before, "nothing written to the run folder after the cell ended");

    const again = await kernel.execute(train, { timeoutMs: CELL_TIMEOUT_MS });
    assert.equal(again.reply.content.status, "ok", textOf(again.iopub, "stderr"));
    const histories = archs.map((arch) => JSON.parse(readFileSync(path.join(runDir, arch, "history.json"), "utf8")) as { status: string; epochs: Array<{ epoch: number }>; provenance: { resumedAtEpochs: number[] } });
    for (const history of histories) {
      assert.equal(history.status, "finished");
      assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2, 3]);
    }
    assert.ok(histories.some((h) => h.provenance.resumedAtEpochs.length > 0), "the second run resumed from a checkpoint");
  } finally {
    await kernel.shutdown();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
