// lib/notebook/interrupt on its own (the kernel test, notebook-interrupt.test.ts, runs it inside tslab):
// the first SIGINT aborts the work's signal instead of reaching the other listeners, the second
// reaches them, a rejection after the interrupt becomes a one-line "Interrupted: …; run the cell
// again to resume", and the listeners are as before afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { InterruptError, interrupted, interruptible } from "../lib/notebook/interrupt";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Runs `body` with `listener` as the only SIGINT listener (the test runner's own one would cancel the run). */
async function withOnlySigintListener(listener: () => void, body: () => Promise<void>): Promise<void> {
  const runners = process.listeners("SIGINT");
  process.removeAllListeners("SIGINT");
  process.on("SIGINT", listener);
  const alive = setInterval(() => {}, 1000); // signal handles do not keep the event loop running
  try {
    await body();
  } finally {
    clearInterval(alive);
    process.removeAllListeners("SIGINT");
    for (const runner of runners) process.on("SIGINT", runner);
  }
}

test("first interrupt aborts the work, the second goes to the listeners that were there; they are restored after", async () => {
  const calls: string[] = [];
  const earlier = () => calls.push("earlier listener");
  await withOnlySigintListener(earlier, async () => {
    const logged: string[] = [];
    const result = interruptible(
      async (signal) => {
        await once(signal, "abort");
        calls.push("aborted");
        process.kill(process.pid, "SIGINT"); // a second interrupt while the work winds down
        await new Promise((resolve) => setTimeout(resolve, 100));
        return "stopped at a batch boundary";
      },
      { log: (line) => logged.push(line) },
    );
    await nextTurn();
    await nextTurn();
    process.kill(process.pid, "SIGINT");
    assert.equal(await result, "stopped at a batch boundary");
    assert.deepEqual(calls, ["aborted", "earlier listener"], "the first interrupt only aborted; the second reached the earlier listener");
    assert.match(logged[0], /^interrupt: stopping at the next batch/);
    assert.deepEqual(process.listeners("SIGINT"), [earlier], "listeners restored");
  });
});

test("a rejection after the interrupt ends in one line that says to run the cell again; one before it stays as it is", async () => {
  await withOnlySigintListener(() => {}, async () => {
    const stopped = interruptible(async (signal) => {
      await once(signal, "abort");
      throw new Error("evaluation of resnet50 stopped");
    });
    await nextTurn();
    await nextTurn();
    process.kill(process.pid, "SIGINT");
    await assert.rejects(stopped, (error: unknown) => {
      assert.ok(error instanceof InterruptError);
      assert.equal(error.stack, "Interrupted: evaluation of resnet50 stopped; run the cell again to resume");
      return true;
    });
    await assert.rejects(interruptible(async () => Promise.reject(new RangeError("bad value"))), RangeError);
    assert.equal(interrupted("stopped after epoch 2 of 3 (mobilenet)").message, "stopped after epoch 2 of 3 (mobilenet); run the cell again to resume");
  });
});
