// WebGPU adapter classification and binding-size planning: pure logic on adapter info objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertFitsBinding, largestActivationBytesPerImage, maxBatchForBinding, planMicroBatches, softwareAdapterReason } from "../lib/engine/adapter";
import { missingCuda11Libraries } from "../lib/engine/native";
import { findNativePackage } from "../lib/engine/native";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const adapter = (over: Partial<Parameters<typeof softwareAdapterReason>[0]>) => ({ vendor: "", architecture: "", description: "", isFallbackAdapter: false, ...over });

test("software adapters are never GPUs; hardware ones are", () => {
  // What Dawn reported for Mesa 25 lavapipe on this machine.
  assert.match(softwareAdapterReason(adapter({ vendor: "mesa", architecture: "software", description: "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1", isFallbackAdapter: true }))!, /isFallbackAdapter/);
  // A driver that forgets the flag is still caught by its name.
  assert.match(softwareAdapterReason(adapter({ vendor: "mesa", description: "llvmpipe (LLVM 15.0.6, 256 bits)" }))!, /llvmpipe/);
  assert.match(softwareAdapterReason(adapter({ vendor: "google", architecture: "swiftshader", description: "SwiftShader Device (Subzero)" }))!, /swiftshader/i);
  assert.match(softwareAdapterReason({ ...adapter({ vendor: "mesa" }), device: "lavapipe" })!, /lavapipe/);
  assert.equal(softwareAdapterReason(adapter({ vendor: "nvidia", architecture: "hopper", description: "NVIDIA H100 80GB HBM3" })), undefined);
  assert.equal(softwareAdapterReason(adapter({ vendor: "amd", architecture: "rdna-3", description: "AMD Radeon RX 7900 XTX (RADV NAVI31)" })), undefined);
});

test("batch sizes follow maxStorageBufferBindingSize; too large is refused naming the limit", () => {
  const MiB = 2 ** 20;
  // MobileNetV2 at 224 px: the 147 MiB activation of a batch of 32 is ~4.6 MiB per image.
  const perImage = (147 * MiB) / 32;
  assert.equal(maxBatchForBinding(perImage), 27); // WebGPU's default 128 MiB
  assert.deepEqual(planMicroBatches({ batchSize: 32, bytesPerImage: perImage }), { microBatchSize: 16, steps: 2 });
  assert.deepEqual(planMicroBatches({ batchSize: 32, bytesPerImage: perImage, limits: { maxStorageBufferBindingSize: 4 * 1024 * MiB } }), { microBatchSize: 32, steps: 1 });
  assert.throws(() => maxBatchForBinding(200 * MiB), /maxStorageBufferBindingSize of 128 MiB/);
  assert.throws(() => assertFitsBinding({ bytes: 147 * MiB, what: "MobileNetV2 batch 32" }), /MobileNetV2 batch 32 needs 147 MiB, over .* 128 MiB/);
  assert.doesNotThrow(() => assertFitsBinding({ bytes: 147 * MiB, what: "x", limits: { maxStorageBufferBindingSize: 2 ** 31 } }));
});

test("largest activation per image is read from the model's layer shapes", () => {
  const model = tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 5, kernelSize: 3, padding: "same" }), tf.layers.flatten(), tf.layers.dense({ units: 2 })],
  });
  assert.equal(largestActivationBytesPerImage(model), 8 * 8 * 5 * 4);
  model.dispose();
});

test("CUDA 11 libraries are looked up by exact soname; newer CUDA does not count", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cuda-"));
  try {
    writeFileSync(path.join(dir, "libcudart.so.12"), "");
    writeFileSync(path.join(dir, "libcudnn.so.9"), "");
    const env = { LD_LIBRARY_PATH: dir, PATH: process.env.PATH };
    assert.ok(missingCuda11Libraries(env).includes("libcudart.so.11.0"));
    writeFileSync(path.join(dir, "libcudart.so.11.0"), "");
    writeFileSync(path.join(dir, "libcudnn.so.8"), "");
    const missing = missingCuda11Libraries(env);
    assert.ok(!missing.includes("libcudart.so.11.0") && !missing.includes("libcudnn.so.8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("danfo's alias under @tensorflow/tfjs-node is not mistaken for the native package", { skip: findNativePackage("@tensorflow/tfjs-node").package ? "the genuine @tensorflow/tfjs-node is installed" : false }, () => {
  const found = findNativePackage("@tensorflow/tfjs-node");
  assert.equal(found.package, undefined);
  assert.match(found.absent!, /alias|not installed/);
  // The trap: the require succeeds and hands back pure tfjs.
  let required: { version?: Record<string, string> } | undefined;
  try {
    required = require("@tensorflow/tfjs-node");
  } catch {
    required = undefined;
  }
  if (required) assert.equal(required.version?.["tfjs-node"], undefined);
});
