// A test that needs the webgpu engine runs its work in a child process of the same test file, with
// the software Vulkan driver in the child's environment; the child prints its result as one JSON line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { findLavapipe } from "../lib/engine/lavapipe";
import { tool } from "./tools";

/** In the child: run `work`, print its result (if any) as the last line, then exit once that is
 * flushed — Dawn's own teardown at a natural exit sometimes crashes with lavapipe. */
export function finishChild(work: Promise<unknown>): void {
  work
    .then((result) => { if (result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`); })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    })
    .finally(() => process.stdout.write("", () => process.exit(process.exitCode ?? 0)));
}

/** In the test: run `file` as the child (`flag` set to `value` in its environment) and parse its last line.
 * Without the driver it throws, saying how to get it (tool(); test with skipWithout("lavapipe") to skip instead). */
export function runLavapipeChild<T>(file: string, flag: string, opts: { value?: string; timeoutMs: number }): T {
  tool("lavapipe");
  const lavapipe = findLavapipe();
  assert.ok(lavapipe.found); // found by tool() above: this only narrows the type
  const run = spawnSync(process.execPath, ["--import", "tsx", file], { env: { ...process.env, ...lavapipe.env, [flag]: opts.value ?? "1" }, encoding: "utf8", timeout: opts.timeoutMs });
  assert.equal(run.status, 0, `child failed: ${run.stderr.slice(-3000)}`);
  return JSON.parse(run.stdout.trim().split("\n").pop()!) as T;
}
