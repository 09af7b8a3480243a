// The bench's pieces: table formatting, PyTorch ratios, CLI argument errors, and one real
// (tiny) training-throughput row on wasm.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { ratioLines } from "../lib/bench";
import { formatKernelTable, type KernelTime } from "../lib/bench/kernel-profile";
import { benchTraining } from "../lib/bench/models";
import { formatTable } from "../lib/bench/table";
import type { BenchRow } from "../lib/bench/types";
import { command } from "../lib/cli/bench";
import { UsageError } from "../lib/cli/command";
import { registerWasmTrainingKernels } from "../lib/engine/wasm";

const base = { engine: "wasm", threads: 1, batch: 1, repetitions: 3 };

test("tables name engine, threads, input and batch; ratios pair tfjs rows with their PyTorch twins", () => {
  const rows: BenchRow[] = [
    { ...base, kind: "latency", subject: "resnet50", variant: "BN folded", inputSize: 224, p50Ms: 300, p90Ms: 320 },
    { ...base, kind: "train", subject: "mobilenet_v2", variant: "one pass", inputSize: 96, batch: 16, imagesPerSecond: 15 },
    { ...base, kind: "torch", subject: "resnet50", variant: "latency", engine: "pytorch", inputSize: 224, p50Ms: 100 },
    { ...base, kind: "torch", subject: "mobilenet_v2", variant: "train", engine: "pytorch", inputSize: 96, batch: 16, imagesPerSecond: 45 },
  ];
  const table = formatTable("Latency", rows.slice(0, 1));
  assert.match(table.split("\n")[1], /subject\s+variant\s+engine\s+threads\s+input\s+batch\s+p50 ms\s+p90 ms/);
  assert.match(table, /resnet50\s+BN folded\s+wasm\s+1\s+224\s+1\s+300\.0\s+320\.0/);
  // a multiply-accumulate count turns the latency into achieved GFLOP/s: 2 × 4 GMAC / 0.2 s
  assert.match(formatTable("Latency", [{ ...rows[0], p50Ms: 200, gmacPerImage: 4 }]), /p90 ms\s+GFLOP\/s[\s\S]*200\.0\s+320\.0\s+40\.0/);
  const ratios = ratioLines(rows);
  assert.deepEqual(ratios, ["  latency resnet50 BN folded: 3.00× (300 vs 100 ms)", "  train mobilenet_v2 96px: 3.00× (15 vs 45 img/s)"]);
});

test("showcase bench rejects unknown sections, architectures and flags with a usage error", async () => {
  await assert.rejects(command.run(["speed"]), (e: unknown) => e instanceof UsageError && /unknown bench section "speed": allowed all, latency/.test(e.message));
  await assert.rejects(command.run(["train", "--archs", "vgg16"]), (e: unknown) => e instanceof UsageError && /unknown architecture "vgg16"/.test(e.message));
  await assert.rejects(command.run(["--fast=1"]), (e: unknown) => e instanceof UsageError && /unknown option --fast/.test(e.message));
  await assert.rejects(command.run(["train", "--steps", "0"]), (e: unknown) => e instanceof UsageError && /--steps must be a positive integer/.test(e.message));
});

test("benchTraining trains a real architecture on wasm and reports a complete row", async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend("wasm"));
  const before = tf.memory().numTensors;
  const kernelsBefore = tf.getKernelsForBackend("wasm").map((k) => k.kernelFunc);
  let profile: KernelTime[] = [];
  const row = benchTraining("mobilenet", { engine: "wasm", threads: 1, inputSize: 32, batch: 2, steps: 1, onKernels: (times) => (profile = times) });
  assert.equal(row.kind, "train");
  assert.equal(row.subject, "mobilenet");
  assert.equal(row.inputSize, 32);
  assert.equal(row.batch, 2);
  assert.equal(row.variant, "one pass");
  assert.ok(row.imagesPerSecond! > 0 && Number.isFinite(row.imagesPerSecond));
  assert.ok(row.imagesPerCpuSecond! > 0);
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  // the per-kernel profile of one step: our gradient kernels appear, self times add up, wrappers are gone
  const names = profile.map((t) => t.kernel);
  for (const kernel of ["Conv2DBackpropFilter", "DepthwiseConv2dNativeBackpropFilter", "ShowcaseWasmBatchNormGrad", "FusedConv2D"]) assert.ok(names.includes(kernel), kernel);
  assert.ok(profile.every((t) => t.selfMs >= 0 && t.calls > 0));
  assert.deepEqual(tf.getKernelsForBackend("wasm").map((k) => k.kernelFunc), kernelsBefore, "original kernels restored");
  assert.match(formatKernelTable("Kernels", profile, 3), /^Kernels\nkernel\s+self ms\s+calls\n-+\s+-+\s+-+\n(.+\n){3}\(\d+ others\)\s+[\d.]+\s+\d+\ntotal/);
});
