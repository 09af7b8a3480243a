// Run directory rules without training: config fingerprint, the refusal message, git tolerance,
// CLI parameter flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import { PROFILE_DEFAULTS, resolveParams } from "../lib/config";
import { paramsFromArgs, splitParameterFlags } from "../lib/cli/train";
import { configOf, describeDifferences, fingerprint, gitState, RunConfigMismatchError } from "../lib/train/run-dir";
import type { DatasetIdentity } from "../lib/train/types";

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

test("git state is null outside a git checkout, a 40-hex commit inside", () => {
  assert.deepEqual(gitState(os.tmpdir()), { commit: null, dirty: null });
  const inside = gitState();
  if (inside.commit !== null) assert.match(inside.commit, /^[0-9a-f]{40}$/);
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
