// Latency measurement on a fake clock (exact, instant), percentiles by nearest rank, and the
// per-machine files merged in a deterministic order.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { measureLatency, measureModelLatency, percentileNearestRank } from "../lib/evaluate/latency";
import { latencyFileName, loadLatencyFiles, mergeLatency, saveLatencyFile } from "../lib/evaluate/latency-file";
import { type LatencyFile, LATENCY_SCHEMA } from "../lib/schemas/latency";
import type { EngineDescription } from "../lib/engine/types";

/** A clock that only moves when a call "takes" time: call i takes durations[i] ms. */
function fakeTimedCall(durations: number[]) {
  let now = 1000;
  let i = 0;
  return {
    clock: () => now,
    call: () => {
      now += durations[Math.min(i, durations.length - 1)];
      i++;
    },
    calls: () => i,
  };
}

test("nearest-rank percentiles", () => {
  const samples = [15, 20, 35, 40, 50]; // the textbook example (Wikipedia, "Percentile")
  // p5 → rank ceil(0.25) = 1 → 15; p30 → ceil(1.5) = 2 → 20; p40 → ceil(2) = 2 → 20; p50 → ceil(2.5) = 3 → 35; p100 → 50
  assert.equal(percentileNearestRank(samples, 5), 15);
  assert.equal(percentileNearestRank(samples, 30), 20);
  assert.equal(percentileNearestRank(samples, 40), 20);
  assert.equal(percentileNearestRank(samples, 50), 35);
  assert.equal(percentileNearestRank(samples, 100), 50);
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled by reversal
  assert.equal(percentileNearestRank(hundred, 90), 90); // rank 90
  assert.equal(percentileNearestRank(hundred, 99), 99);
  assert.throws(() => percentileNearestRank([], 50), /no samples/);
});

test("first call apart, warm-up excluded, stats from the measured calls only", async () => {
  // first call 500 ms, two warm-ups of 100 ms, then 10 measured calls 1..10 ms
  const timed = fakeTimedCall([500, 100, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const stats = await measureLatency({
    call: timed.call,
    clock: timed.clock,
    budget: { warmupRuns: 2, minRuns: 10, minTotalMs: 0, maxRuns: 1000, maxTotalMs: 1e9 },
  });
  assert.equal(stats.firstCallMs, 500);
  assert.equal(stats.runs, 10);
  assert.equal(timed.calls(), 13);
  assert.equal(stats.meanMs, 5.5); // (1+…+10)/10
  assert.equal(stats.p50Ms, 5); // rank 5
  assert.equal(stats.p90Ms, 9); // rank 9
  assert.equal(stats.p99Ms, 10); // rank ceil(9.9) = 10
  assert.equal(stats.minMs, 1);
  assert.equal(stats.maxMs, 10);
});

test("repeats until both minimum runs and minimum time are reached, within the caps", async () => {
  // 4 ms per call: 5 runs would be 20 ms; minTotalMs 100 needs 25 runs
  const slowEnough = fakeTimedCall([4]);
  const a = await measureLatency({ call: slowEnough.call, clock: slowEnough.clock, budget: { warmupRuns: 0, minRuns: 5, minTotalMs: 100, maxRuns: 1000, maxTotalMs: 1e9 } });
  assert.equal(a.runs, 25);
  // 50 ms per call: minTotalMs reached after 2, but minRuns 5 still applies
  const slow = fakeTimedCall([50]);
  const b = await measureLatency({ call: slow.call, clock: slow.clock, budget: { warmupRuns: 0, minRuns: 5, minTotalMs: 100, maxRuns: 1000, maxTotalMs: 1e9 } });
  assert.equal(b.runs, 5);
  // a very slow model stops at maxTotalMs (here after 3 × 400 ms ≥ 1000 ms)
  const verySlow = fakeTimedCall([400]);
  const c = await measureLatency({ call: verySlow.call, clock: verySlow.clock, budget: { warmupRuns: 0, minRuns: 50, minTotalMs: 0, maxRuns: 1000, maxTotalMs: 1000 } });
  assert.equal(c.runs, 3);
  // a zero-time call cannot loop forever: maxRuns caps it
  const instant = fakeTimedCall([0]);
  const d = await measureLatency({ call: instant.call, clock: instant.clock, budget: { warmupRuns: 0, minRuns: 1, minTotalMs: 10, maxRuns: 7, maxTotalMs: 1e9 } });
  assert.equal(d.runs, 7);
});

test("measureModelLatency on a tiny model: model-only, end-to-end, batch 1/8/32", async () => {
  await tf.setBackend("cpu");
  const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3 }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 2, activation: "softmax" })] });
  let decodes = 0;
  const result = await measureModelLatency({
    arch: "tiny",
    displayName: "Tiny",
    model,
    inputSize: 8,
    preprocess: (x) => tf.div(x, 127.5).sub(1),
    decode: async (_path, size) => {
      decodes++;
      return new Uint8Array(size * size * 3).fill(128);
    },
    imagePath: "/nonexistent/cat.jpg",
    budget: { warmupRuns: 1, minRuns: 3, minTotalMs: 0 },
    batchBudget: { warmupRuns: 0, minRuns: 2, minTotalMs: 0 },
  });
  model.dispose();
  assert.equal(result.modelOnly.runs, 3);
  assert.equal(result.endToEnd.runs, 3);
  assert.equal(decodes, 1 + 5, "one decode for the fixed input, then one per end-to-end call (first + warm-up + 3)");
  assert.deepEqual(result.throughput.map((t) => t.batchSize), [1, 8, 32]);
  for (const t of result.throughput) assert.ok(t.imagesPerSecond > 0 && Number.isFinite(t.imagesPerSecond));
});

function fakeFile(machine: string, engine: "wasm" | "cpu", archs: string[]): LatencyFile {
  const stats = (ms: number) => ({ firstCallMs: ms * 3, warmupRuns: 1, runs: 5, meanMs: ms, p50Ms: ms, p90Ms: ms, p99Ms: ms, minMs: ms, maxMs: ms });
  const engineDescription: EngineDescription = { engine, backend: engine, device: "cpu", reason: "test", warnings: [], threads: 1, versions: {} };
  return {
    schema: LATENCY_SCHEMA,
    runId: "r",
    machine,
    engine: engineDescription,
    inventory: { cpu: machine },
    models: "untrained",
    imageSize: 8,
    createdAt: "2026-01-01T00:00:00.000Z",
    archs: archs.map((arch, i) => ({ arch, displayName: arch, inputSize: 8, modelOnly: stats(i + 1), endToEnd: stats(i + 2), throughput: [{ batchSize: 1, imagesPerSecond: 10, meanBatchMs: 100, p50BatchMs: 100, runs: 5 }] })),
  };
}

test("latency files from several machines merge into one deterministic table", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "latency-"));
  try {
    const files = [fakeFile("workstation-p5000", "wasm", ["resnet50", "mobilenet"]), fakeFile("MacBook Pro", "cpu", ["mobilenet", "densenet121"]), fakeFile("MacBook Pro", "wasm", ["mobilenet"])];
    for (const file of files) await saveLatencyFile({ runDir: dir, file });
    assert.equal(latencyFileName({ machine: "MacBook Pro", engine: "wasm" }), "latency-macbook-pro-wasm.json");
    const loaded = await loadLatencyFiles(dir);
    assert.equal(loaded.length, 3);
    const merged = mergeLatency(loaded);
    const reversed = mergeLatency([...loaded].reverse());
    assert.deepEqual(merged, reversed);
    assert.deepEqual(
      merged.map((r) => `${r.machine}/${r.engine}/${r.arch}`),
      ["MacBook Pro/cpu/densenet121", "MacBook Pro/cpu/mobilenet", "MacBook Pro/wasm/mobilenet", "workstation-p5000/wasm/resnet50", "workstation-p5000/wasm/mobilenet"],
    );
    assert.equal(merged[0].imagesPerSecond[1], 10);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
