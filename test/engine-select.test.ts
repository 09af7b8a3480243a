// Engine selection on this machine (no GPU, no native TensorFlow): automatic choice, forcing,
// refusal, and detection of a backend that failed to start while tfjs quietly stays elsewhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { activateBackend, describeEngine, disposeWebGpu, EngineUnavailableError, selectEngine } from "../lib/engine";
import { findGenuinePackage } from "../lib/engine/packages";
import { chooseEngine, type EngineCandidate } from "../lib/engine/select";

const nativeInstalled = Boolean(findGenuinePackage("@tensorflow/tfjs-node") || findGenuinePackage("@tensorflow/tfjs-node-gpu"));
const softwareVulkan = Boolean(process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES);

test.after(() => disposeWebGpu());

test("auto picks wasm here and says why tfjs-node-gpu, webgpu and tfjs-node were passed over", { skip: nativeInstalled ? "a native TensorFlow package is installed: auto would rightly pick it" : false }, async () => {
  const engine = await selectEngine({ quiet: true });
  assert.equal(engine.engine, "wasm");
  assert.equal(engine.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(engine.device, "cpu");
  assert.deepEqual(
    engine.skipped?.map((s) => s.engine),
    ["tfjs-node-gpu", "webgpu", "tfjs-node"],
  );
  const reasons = Object.fromEntries(engine.skipped!.map((s) => [s.engine, s.reason]));
  assert.match(reasons["tfjs-node-gpu"], /not installed/);
  assert.match(reasons["tfjs-node"], /alias|not installed/);
  assert.match(reasons["tfjs-node"], /npm run engine:native/);
  if (!softwareVulkan) assert.match(reasons.webgpu, /no WebGPU adapter|did not load/);
  else assert.match(reasons.webgpu, /software adapter|no WebGPU adapter/);
  assert.match(engine.reason, /wasm chosen automatically/);
  assert.ok(engine.warnings.some((w) => /multithreading off under Node/.test(w)) || engine.threads > 1);
  assert.equal(engine.versions["@tensorflow/tfjs-core"], tf.version_core);
  assert.equal(engine.versions.node, process.versions.node);
  // The answer is about the backend that really runs: compute something on it.
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
  assert.deepEqual([...sum], [4, 6]);
  assert.equal(describeEngine().engine, "wasm");
});

test("ENGINE=cpu forces the pure-JS backend", async () => {
  const engine = await selectEngine({ engine: "cpu", quiet: true });
  assert.equal(engine.engine, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.match(engine.reason, /ENGINE=cpu was asked for/);
  assert.equal(engine.skipped, undefined);
  assert.equal(describeEngine().backend, "cpu");
});

test("a forced engine that cannot start is an error naming why and the alternatives", { skip: nativeInstalled ? "a native TensorFlow package is installed" : false }, async () => {
  await tf.setBackend("cpu"); // its own starting point, whatever an earlier test left behind
  await assert.rejects(selectEngine({ engine: "tfjs-node", quiet: true }), (error: unknown) => {
    assert.ok(error instanceof EngineUnavailableError);
    assert.match(error.message, /^ENGINE=tfjs-node cannot start: .*not installed/);
    assert.match(error.message, /npm run engine:native/);
    assert.match(error.message, /ENGINE=auto .* wasm, cpu/);
    return true;
  });
  await assert.rejects(selectEngine({ engine: "tfjs-node-gpu", quiet: true }), /ENGINE=tfjs-node-gpu cannot start/);
  if (!softwareVulkan) await assert.rejects(selectEngine({ engine: "webgpu", quiet: true }), /ENGINE=webgpu cannot start: .*adapter/);
  assert.equal(tf.getBackend(), "cpu", "a refused engine leaves the previous backend in place");
});

test("a backend whose start fails is detected although tf.getBackend() names it", async () => {
  await tf.setBackend("cpu");
  tf.registerBackend("broken-async", async () => {
    throw new Error("simulated: no device");
  });
  // The trap itself: tfjs reports the failed backend's name until the next operation.
  const quietWarn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(await tf.setBackend("broken-async"), false);
    assert.equal(tf.getBackend(), "broken-async");
  } finally {
    console.warn = quietWarn;
  }
  const result = await activateBackend("broken-async");
  assert.equal(result.ok, false);
  assert.match(result.error!, /simulated: no device/);
  assert.equal(result.backend, "cpu");
  assert.equal(tf.getBackend(), "cpu");

  // A factory that "succeeds" with nothing: setBackend returns true, yet there is no backend.
  tf.registerBackend("hollow", () => false as unknown as tf.KernelBackend);
  const hollow = await activateBackend("hollow");
  assert.equal(hollow.ok, false);
  assert.equal(hollow.backend, "cpu");
  tf.removeBackend("broken-async"); // "hollow" stays: tfjs cannot dispose a backend that is `false`
});

test("automatic choice walks the order, records skips and silent-fallback warnings; forced choice throws", async () => {
  const started: string[] = [];
  const fake = (engine: EngineCandidate["engine"], ok: boolean, warning?: string): EngineCandidate => ({
    engine,
    async start() {
      started.push(engine);
      return ok
        ? { ok: true, backend: "cpu", device: "cpu", detail: `${engine} detail`, threads: 1, warnings: [] }
        : { ok: false, reason: `${engine} unavailable`, ...(warning ? { warning } : {}) };
    },
  });
  const candidates = [fake("tfjs-node-gpu", false, "GPU package runs on the CPU"), fake("webgpu", false), fake("tfjs-node", false), fake("wasm", true), fake("cpu", true)];
  const versions = () => ({ node: process.versions.node });
  const auto = await chooseEngine({ choice: "auto", candidates, versions });
  assert.deepEqual(started, ["tfjs-node-gpu", "webgpu", "tfjs-node", "wasm"]);
  assert.equal(auto.engine, "wasm");
  assert.deepEqual(auto.warnings, ["GPU package runs on the CPU"]);
  assert.equal(auto.skipped?.length, 3);
  await assert.rejects(chooseEngine({ choice: "webgpu", candidates, versions }), /ENGINE=webgpu cannot start: webgpu unavailable/);
});
