// `bench latency --onnx --torch`: PyTorch's twin of an exported graph (scripts/torch-bench.py runs the
// graph op by op) computes what ONNX Runtime computes, and the side-by-side table puts the three
// runtimes of one network on one line. The PyTorch part needs the system python with torch (skipped without).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { sideBySide } from "../lib/bench/index";
import { TORCH_SCRIPT, writeTorchGraph } from "../lib/bench/torch";
import type { BenchRow } from "../lib/bench/types";
import { compareOutputs } from "../lib/export/compare";
import { createOnnxSession, runOnnx } from "../lib/export/onnx-runtime";
import { exportToOnnx } from "../lib/export/to-onnx";
import { CustomScaleLayer } from "../lib/models/index";

const python = process.env.TORCH_PYTHON ?? "/usr/bin/python3";
const noTorch = (() => {
  try {
    execFileSync(python, ["-c", "import torch"], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
})();

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/** Stride-2 'same' (asymmetric pads), depthwise, BN to fold and one not to fold, pools, concat, scale, dense softmax. */
function buildNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3], name: "image" });
  let x = apply(tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: "pad" }), input);
  x = apply(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "stem" }), x);
  x = apply(tf.layers.batchNormalization({ name: "stem_bn" }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: "stem_relu" }), x);
  let d = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "dw" }), x);
  d = apply(tf.layers.batchNormalization({ scale: false, name: "dw_bn" }), d);
  d = apply(tf.layers.activation({ activation: "relu", name: "dw_relu" }), d);
  const m = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same", name: "max" }), x);
  const a = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same", name: "avg" }), d);
  const cat = apply(tf.layers.concatenate({ name: "cat" }), [a, m]);
  const bnOfConcat = apply(tf.layers.batchNormalization({ name: "cat_bn" }), cat); // not after a conv: stays a BN
  const up = apply(tf.layers.conv2d({ filters: 16, kernelSize: 1, name: "up" }), bnOfConcat);
  const scaled = apply(new CustomScaleLayer({ scale: 0.2, name: "scale" }), [bnOfConcat, up]);
  const pooled = apply(tf.layers.globalAveragePooling2d({ name: "gap" }), scaled);
  const out = apply(tf.layers.dense({ units: 4, activation: "softmax", name: "predictions" }), pooled);
  return tf.model({ inputs: input, outputs: out });
}

test("PyTorch runs the exported graph as ONNX Runtime does (to 1e-5 on softmax)", { skip: noTorch && `${python} cannot import torch` }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "torch-graph-"));
  try {
    const model = buildNet();
    for (const layer of model.layers.filter((l) => l.getClassName() === "BatchNormalization")) {
      const weights = layer.getWeights().map((w, i, all) => (i === all.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, "float32", i) : tf.randomNormal(w.shape, 0, 0.5, "float32", i + 7)));
      layer.setWeights(weights);
    }
    const bytes = exportToOnnx(model).bytes;
    const graph = await writeTorchGraph(bytes, dir, "net");
    const x = Float32Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => Math.sin(i * 0.37));
    writeFileSync(path.join(dir, "x.bin"), new Uint8Array(x.buffer));
    const program = [
      "import importlib.util, sys, torch",
      `spec = importlib.util.spec_from_file_location("tb", ${JSON.stringify(TORCH_SCRIPT)})`,
      "tb = importlib.util.module_from_spec(spec); spec.loader.exec_module(tb)",
      `g = tb.OnnxGraph(${JSON.stringify(graph)})`,
      `x = torch.frombuffer(bytearray(open(${JSON.stringify(path.join(dir, "x.bin"))}, "rb").read()), dtype=torch.float32).reshape(2, 16, 16, 3)`,
      "with torch.inference_mode():",
      `    open(${JSON.stringify(path.join(dir, "y.bin"))}, "wb").write(g(x).numpy().tobytes())`,
    ].join("\n");
    execFileSync(python, ["-c", program], { stdio: ["ignore", "ignore", "inherit"] });
    const y = readFileSync(path.join(dir, "y.bin"));
    const torchOut = new Float32Array(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength));
    const session = await createOnnxSession(bytes);
    const ortOut = await runOnnx(session, x, [2, 16, 16, 3]);
    await session.session.release();
    const agreement = compareOutputs(ortOut, torchOut, 2);
    assert.ok(agreement.maxAbsDiff < 1e-5, `max abs difference ${agreement.maxAbsDiff}`);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the side-by-side table: one line per network, GFLOP/s from the multiply-accumulates, ONNX Runtime / PyTorch", () => {
  const base = { threads: 1, inputSize: 224, batch: 1, repetitions: 5 } as const;
  const rows: BenchRow[] = [
    { ...base, kind: "latency", subject: "resnet50", variant: "keras graph", engine: "wasm", p50Ms: 400, gmacPerImage: 4 },
    { ...base, kind: "latency", subject: "resnet50", variant: "BN folded (53 BN, 49 act fused)", engine: "wasm", p50Ms: 300, gmacPerImage: 4 },
    { ...base, kind: "latency", subject: "resnet50", variant: "onnxruntime", engine: "onnxruntime-node 1.30.0 cpu", p50Ms: 80, gmacPerImage: 4 },
    { ...base, kind: "torch", subject: "resnet50", variant: "latency (torchvision)", engine: "pytorch", p50Ms: 100, gmacPerImage: 4 },
  ];
  const lines = sideBySide(rows)!.split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[3], /^resnet50\s+224\s+300\.0 ms \(26\.7 GFLOP\/s\)\s+80\.0 ms \(100\.0 GFLOP\/s\)\s+100\.0 ms \(80\.0 GFLOP\/s\) \[torchvision\]\s+0\.80$/);
});
