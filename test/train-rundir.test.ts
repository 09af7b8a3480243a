// Run directory rules without training: config fingerprint, the refusal message, git tolerance,
// CLI parameter flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROFILE_DEFAULTS, resolveParams } from "../lib/config";
import { paramsFromArgs, splitParameterFlags } from "../lib/cli/train";
import { configOf, describeDifferences, fingerprint, gitState, RunConfigMismatchError } from "../lib/train/run-dir";
import type { DatasetIdentity } from "../lib/schemas/run-manifest";

const dataset = { contentSha256: "a".repeat(64) } as DatasetIdentity;

test("the fingerprint ignores architectures, engine and paths, and follows what changes results", () => {
  const base = fingerprint(configOf(resolveParams({}), dataset));
  assert.equal(fingerprint(configOf(resolveParams({ ARCHS: "mobilenet", ENGINE: "cpu", RUNS_DIR: "/elsewhere", RUN_ID: "x" }), dataset)), base);
  assert.notEqual(fingerprint(configOf(resolveParams({ EPOCHS: "4" }), dataset)), base);
  assert.notEqual(fingerprint(configOf(resolveParams({ TRANSFER: "top:2" }), dataset)), base);
  assert.notEqual(fingerprint(configOf(resolveParams({}), { contentSha256: "b".repeat(64) } as DatasetIdentity)), base);
});

test("the refusal names each difference and asks for another RUN_ID", () => {
  const wanted = configOf(resolveParams({ EPOCHS: "5", IMAGE_SIZE: "64" }), dataset);
  const existing = configOf(resolveParams({}), dataset);
  const differences = describeDifferences(wanted, existing);
  assert.deepEqual(differences, ["epochs: 5 now vs 3 in run.json", `imageSize: 64 now vs ${PROFILE_DEFAULTS.quick.imageSize} in run.json`]);
  const error = new RunConfigMismatchError("/runs/demo", differences);
  assert.match(error.message, /\/runs\/demo already holds a run with a different configuration \(epochs: 5 now vs 3/);
  assert.match(error.message, /Choose another RUN_ID \(e\.g\. RUN_ID=demo-2/);
});

test("git state is null outside a git checkout; inside one, HEAD's commit and whether a tracked file changed", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-git-"));
  try {
    assert.deepEqual(gitState(dir), { commit: null, dirty: null });
    // A checkout of its own, so the test does not depend on where the project was unpacked.
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" }).trim();
    git("init", "-q");
    await fs.writeFile(path.join(dir, "file.txt"), "one\n");
    git("add", "file.txt");
    git("commit", "-q", "-m", "one");
    const head = git("rev-parse", "HEAD");
    assert.match(head, /^[0-9a-f]{40}$/);
    assert.deepEqual(gitState(dir), { commit: head, dirty: false });
    await fs.writeFile(path.join(dir, "untracked.txt"), "ignored\n");
    assert.deepEqual(gitState(dir), { commit: head, dirty: false }, "untracked files do not make it dirty");
    await fs.writeFile(path.join(dir, "file.txt"), "two\n");
    assert.deepEqual(gitState(dir), { commit: head, dirty: true });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("showcase train flags map onto the parameters; unknown flags are refused", () => {
  const { params } = paramsFromArgs(["--archs", "mobilenet,resnet50", "--epochs=2", "--run-id", "cli-1", "--image-size", "64"], {});
  assert.deepEqual(params.archs, ["mobilenet", "resnet50"]);
  assert.equal(params.epochs, 2);
  assert.equal(params.runId, "cli-1");
  assert.equal(params.imageSize, 64);
  assert.throws(() => paramsFromArgs(["--epoch", "2"], {}), /unknown option --epoch/);
  assert.throws(() => paramsFromArgs(["--epochs", "zero"], {}), /EPOCHS/);
  const { env, rest } = splitParameterFlags(["--shard", "0/2", "--archs", "mobilenet", "--retry-failed"], { SEED: "1" });
  assert.deepEqual(rest, ["--shard", "0/2", "--retry-failed"]);
  assert.equal(env.ARCHS, "mobilenet");
  assert.equal(env.SEED, "1");
});
