// ONNX export: every supported layer on a small graph, the eight networks with SEED-fixed random
// weights on real photos (synthetic when ../shared is absent), MobileNet α=0.25 with the genuine
// Keras weights against Keras' own features, and `showcase export` on a tiny trained run.
import assert from "node:assert/strict";
import { existsSync, promises as fs, readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { resolveParams, type RunParams } from "../lib/config";
import { decodeOne } from "../lib/data/index";
import { selectEngine } from "../lib/engine/index";
import type { EngineDescription } from "../lib/engine/types";
import { mergeLatency } from "../lib/evaluate/latency-file";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { loadRunResults } from "../lib/evaluate/run";
import { buildReport } from "../lib/report/index";
import { agreeWithTfjs, compareOutputs, ONNX_AGREEMENT_TOLERANCE } from "../lib/export/compare";
import { exportRun } from "../lib/export/export-run";
import { ONNX_EXPORT_SCHEMA, readOnnxExport } from "../lib/export/onnx-file";
import { createOnnxSession, runOnnx } from "../lib/export/onnx-runtime";
import { exportToOnnx, samePads, UnsupportedLayerError } from "../lib/export/to-onnx";
import { ARCH_IDS, buildArchitecture, buildTransferModel, CustomScaleLayer, getArchSpec, loadKerasWeights, preprocessInput } from "../lib/models/index";
import { sharedPath } from "../lib/paths";
import { runTraining } from "../lib/train/index";
import { tinyEnv } from "./train-fixtures";

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend must initialise");
});

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/** Both runtimes on `input`; returns the comparison. */
async function compare(model: tf.LayersModel, input: tf.Tensor4D) {
  const session = await createOnnxSession(exportToOnnx(model).bytes);
  try {
    return await agreeWithTfjs(model, session, input);
  } finally {
    await session.session.release();
  }
}

/** Moving statistics and BN parameters away from (0, 1), so that BatchNormalization has work to do. */
function randomiseBatchNorms(model: tf.LayersModel): void {
  let seed = 11;
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const weights = layer.getWeights().map((w, i, all) =>
      i === all.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, "float32", seed++) : tf.randomNormal(w.shape, 0, 0.3, "float32", seed++));
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

describe("TensorFlow 'same' padding as explicit ONNX pads", () => {
  test("stride 2 on an even input puts the odd pixel at the end", () => {
    assert.deepEqual(samePads([224, 224], [3, 3], [2, 2], [1, 1]), [0, 0, 1, 1]);
    assert.deepEqual(samePads([225, 225], [3, 3], [2, 2], [1, 1]), [1, 1, 1, 1]);
  });
  test("stride 1 pads (k−1)·d evenly, the extra at the end; asymmetric kernels per axis", () => {
    assert.deepEqual(samePads([10, 10], [3, 3], [1, 1], [2, 2]), [2, 2, 2, 2]);
    assert.deepEqual(samePads([17, 17], [1, 7], [1, 1], [1, 1]), [0, 3, 0, 3]);
    assert.deepEqual(samePads([8, 8], [2, 2], [1, 1], [1, 1]), [0, 0, 1, 1]);
  });
});

describe("every supported layer class", () => {
  /** Odd and even sizes, stride-2 'same' convolutions and pools, depthwise with multiplier 2, dilation, every merge. */
  function buildNet(): tf.LayersModel {
    const input = tf.input({ shape: [15, 14, 3], name: "image" });
    let x = apply(tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: "pad" }), input);
    x = apply(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "stem" }), x);
    x = apply(tf.layers.batchNormalization({ scale: false, epsilon: 1e-3, name: "stem_bn" }), x);
    x = apply(tf.layers.reLU({ maxValue: 6, name: "stem_relu6" }), x);
    let d = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: "same", name: "dw" }), x);
    d = apply(tf.layers.batchNormalization({ name: "dw_bn" }), d);
    d = apply(tf.layers.reLU({ name: "dw_relu" }), d);
    const a = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: "same", activation: "relu", name: "dilated" }), d);
    const b = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same", name: "max" }), d);
    const c = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same", name: "avg" }), d);
    const e = apply(tf.layers.averagePooling2d({ poolSize: 2, padding: "valid", name: "avg_valid" }), d);
    const bUp = apply(tf.layers.conv2d({ filters: 4, kernelSize: [1, 3], padding: "same", activation: "relu6", name: "b_proj" }), b);
    const cat = apply(tf.layers.concatenate({ name: "cat" }), [a, c]);
    const catProj = apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, name: "cat_proj" }), cat);
    const sum3 = apply(tf.layers.add({ name: "add3" }), [a, catProj, apply(tf.layers.activation({ activation: "linear", name: "same_a" }), a)]);
    const scaled = apply(new CustomScaleLayer({ scale: 0.17, name: "scale" }), [sum3, catProj]);
    const pooled = apply(tf.layers.globalAveragePooling2d({ name: "gap" }), scaled);
    const maxPooled = apply(tf.layers.globalMaxPooling2d({ name: "gmp" }), bUp);
    const flat = apply(tf.layers.flatten({ name: "flat" }), e);
    const merged = apply(tf.layers.concatenate({ name: "features" }), [pooled, maxPooled, flat]);
    let r = apply(tf.layers.reshape({ targetShape: [1, 1, merged.shape[1] as number], name: "to_map" }), merged);
    r = apply(tf.layers.dropout({ rate: 0.5, name: "drop" }), r);
    r = apply(tf.layers.conv2d({ filters: 5, kernelSize: 1, activation: "tanh", name: "conv_preds" }), r);
    r = apply(tf.layers.reshape({ targetShape: [5], name: "to_vector" }), r);
    const out = apply(tf.layers.dense({ units: 3, activation: "softmax", name: "predictions" }), r);
    return tf.model({ inputs: input, outputs: out, name: "every_layer" });
  }

  test("ONNX Runtime matches tfjs to 1e-4 on softmax, and the export counts every class", async () => {
    const model = buildNet();
    randomiseBatchNorms(model);
    const input = tf.randomUniform([3, 15, 14, 3], -1, 1, "float32", 5) as tf.Tensor4D;
    const exported = exportToOnnx(model);
    assert.equal(exported.opset, 13);
    assert.deepEqual(exported.inputShape, ["batch", 15, 14, 3]);
    assert.deepEqual(exported.outputNames, ["predictions"]);
    for (const cls of ["ZeroPadding2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D", "CustomScaleLayer", "Reshape", "Flatten", "Dropout", "GlobalMaxPooling2D"]) {
      assert.ok(exported.layerCounts[cls] >= 1, `${cls} exported`);
    }
    const result = await compare(model, input);
    assert.ok(result.maxAbsDiff <= ONNX_AGREEMENT_TOLERANCE, `max abs difference ${result.maxAbsDiff}`);
    assert.ok(result.sameClass);
    tf.dispose([input]);
    model.dispose();
  });

  test("a 4-D output comes back NHWC, equal to tfjs's", async () => {
    const input = tf.input({ shape: [9, 9, 3], name: "image" });
    const out = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: "same", name: "c" }), input);
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomUniform([2, 9, 9, 3], -1, 1, "float32", 9) as tf.Tensor4D;
    const result = await compare(model, x);
    assert.ok(result.relativeDiff < 1e-5, `relative difference ${result.relativeDiff}`);
    tf.dispose([x]);
    model.dispose();
  });

  test("an unsupported layer fails naming its name and class", () => {
    const input = tf.input({ shape: [8, 8, 3], name: "image" });
    const out = apply(tf.layers.upSampling2d({ size: [2, 2], name: "upsample_here" }), input);
    const model = tf.model({ inputs: input, outputs: out });
    assert.throws(() => exportToOnnx(model), (error: unknown) => error instanceof UnsupportedLayerError && /layer "upsample_here" \(UpSampling2D\) has no ONNX translation; supported classes: InputLayer, Conv2D/.test(error.message));
    model.dispose();
  });

  test("compareOutputs reports the images whose class differs", () => {
    const agreement = compareOutputs(Float32Array.from([0.9, 0.1, 0.4, 0.6]), Float32Array.from([0.9, 0.1, 0.6, 0.4]), 2);
    assert.deepEqual(agreement.disagreements, [1]);
    assert.equal(agreement.sameClass, false);
    assert.ok(Math.abs(agreement.maxAbsDiff - 0.2) < 1e-6);
  });
});

/** Two cats and two dogs from ../shared at `size`, else a fixed pattern. */
async function photos(size: number): Promise<{ pixels: Float32Array; count: number; real: boolean }> {
  const dir = sharedPath("data", "cats-dogs", "validation");
  const files = existsSync(dir)
    ? ["cat", "dog"].flatMap((label) => readdirSync(path.join(dir, label)).filter((f) => f.endsWith(".jpg")).sort().slice(0, 2).map((f) => path.join(dir, label, f)))
    : [];
  if (files.length === 0) return { pixels: Float32Array.from({ length: 4 * size * size * 3 }, (_, i) => (i * 53) % 256), count: 4, real: false };
  const pixels = new Float32Array(files.length * size * size * 3);
  for (const [i, file] of files.entries()) pixels.set(await decodeOne(file, size), i * size * size * 3);
  return { pixels, count: files.length, real: true };
}

describe("the eight networks, SEED-fixed random weights, smallest input each allows", () => {
  for (const arch of ARCH_IDS) {
    test(`${arch}: softmax to 1e-4 absolute, pooled features to 1e-4 relative`, async () => {
      const spec = getArchSpec(arch);
      const size = spec.minInputSize;
      const transfer = await buildTransferModel(arch, { inputSize: size, classes: 2, weights: "none", weightsDir: os.tmpdir(), seed: 42, dropout: 0.2 });
      try {
        randomiseBatchNorms(transfer.base);
        const { pixels, count } = await photos(size);
        const input = tf.tidy(() => preprocessInput(tf.tensor4d(pixels, [count, size, size, 3]), spec.preprocess) as tf.Tensor4D);
        const features = await compare(transfer.base, input);
        assert.ok(features.relativeDiff <= 1e-4, `${arch} features: relative difference ${features.relativeDiff}`);
        const softmax = await compare(transfer.model, input);
        assert.ok(softmax.maxAbsDiff <= ONNX_AGREEMENT_TOLERANCE, `${arch} softmax: max abs difference ${softmax.maxAbsDiff}`);
        assert.ok(softmax.sameClass, `${arch}: classes differ on images ${softmax.disagreements.join(", ")}`);
        input.dispose();
      } finally {
        transfer.model.dispose();
        transfer.head.dispose();
      }
    });
  }
});

describe("MobileNet α=0.25 with the genuine Keras weights (../shared/weights/keras)", () => {
  const weightsFile = sharedPath("weights", "keras", "mobilenet_2_5_224_tf_no_top.h5");
  const referenceDir = sharedPath("weights", "keras", "reference");
  const missing = !existsSync(weightsFile) || !existsSync(path.join(referenceDir, "features_6x256.f32"));

  test("ONNX Runtime's features of the six reference photos match Keras' and tfjs's to 1e-4 relative", { skip: missing && "../shared/weights/keras is absent" }, async () => {
    const model = buildArchitecture("mobilenet", { alpha: 0.25, includeTop: false, pooling: "avg", inputShape: [224, 224, 3] });
    try {
      await loadKerasWeights(model, weightsFile);
      const pixels = new Uint8Array(readFileSync(path.join(referenceDir, "inputs_6x224x224x3.u8")));
      const input = tf.tidy(() => preprocessInput(tf.tensor4d(pixels, [6, 224, 224, 3], "int32"), "tf") as tf.Tensor4D);
      const session = await createOnnxSession(exportToOnnx(model).bytes);
      const onnx = await runOnnx(session, input.dataSync() as Float32Array, input.shape);
      await session.session.release();
      const bytes = readFileSync(path.join(referenceDir, "features_6x256.f32"));
      const keras = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const againstKeras = compareOutputs(keras, onnx, 6);
      assert.ok(againstKeras.relativeDiff < 1e-4, `against Keras: relative difference ${againstKeras.relativeDiff}`);
      const againstTfjs = compareOutputs(tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array), onnx, 6);
      assert.ok(againstTfjs.relativeDiff < 1e-4, `against tfjs: relative difference ${againstTfjs.relativeDiff}`);
      input.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe("a tiny trained run: showcase export, and evaluation on both runtimes", () => {
  let dir: string;
  let params: RunParams;
  let engine: EngineDescription;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-export-"));
    params = resolveParams(tinyEnv(dir, { ARCHS: "mobilenet_v2", EPOCHS: "1", RUN_ID: "export" }));
    engine = await selectEngine({ engine: "wasm", quiet: true });
    await runTraining(params, { engine });
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  test("evaluate times ONNX Runtime next to tfjs, in a latency file of its own, and both predict the same class for every validation image", async () => {
    const lines: string[] = [];
    const outcome = await evaluateRun(params, { engine, batchSizes: [1, 8], budget: { warmupRuns: 1, minRuns: 3, minTotalMs: 0 }, batchBudget: { minRuns: 1, minTotalMs: 0 }, log: (line) => lines.push(line) });
    assert.equal(outcome.latency.runtime, "tfjs");
    const [onnx] = outcome.onnx;
    assert.equal(onnx.latency.runtime, "onnxruntime");
    assert.equal(onnx.latency.engine.engine, "onnxruntime-cpu");
    assert.match(path.basename(onnx.latencyPath), /^latency-.+-onnxruntime-cpu\.json$/);
    const [arch] = onnx.latency.archs;
    assert.equal(arch.modelOnly.runs, 3);
    assert.deepEqual(arch.throughput.map((t) => t.batchSize), [1, 8]);
    const validationImages = outcome.evaluations[0].images;
    assert.equal(arch.agreement?.images, validationImages);
    assert.deepEqual(arch.agreement?.disagreements, [], lines.join("\n"));
    assert.ok((arch.agreement?.maxAbsDiff ?? 1) <= ONNX_AGREEMENT_TOLERANCE);
    // Read back from the run directory: one row per runtime, and the trade-off chart draws both.
    const results = await loadRunResults(outcome.runDir);
    const rows = mergeLatency(results.latency);
    assert.deepEqual(rows.map((r) => [r.runtime, r.engine]), [["onnxruntime", "onnxruntime-cpu"], ["tfjs", "wasm"]]);
    const report = await buildReport({ runDir: outcome.runDir });
    const time = report.frames.find((f) => f.sheet === "Classification Time")!;
    assert.deepEqual(time.frame.columns.slice(0, 3), ["Machine", "Runtime", "Engine"]);
    const chart = report.charts.find((c) => c.id === "trade-off-accuracy-latency")!;
    assert.deepEqual(chart.data.map((t) => t.name), ["networks — onnxruntime-cpu", "Pareto front — onnxruntime-cpu", "networks — wasm (tfjs)", "Pareto front — wasm (tfjs)"]);
  });

  test("export writes model.onnx + its record beside the saved model; ONNX Runtime loads the file and agrees with tfjs", async () => {
    const runDir = path.join(params.runsDir, params.runId);
    const [exported] = await exportRun({ runDir });
    assert.equal(exported.arch, "mobilenet_v2");
    assert.equal(exported.path, path.join(runDir, "mobilenet_v2", "model.onnx"));
    assert.ok(exported.agreement.maxAbsDiff <= ONNX_AGREEMENT_TOLERANCE && exported.agreement.sameClass);
    const record = await readOnnxExport(path.join(runDir, "mobilenet_v2"));
    assert.equal(record?.schema, ONNX_EXPORT_SCHEMA);
    assert.equal(record?.opset, 13);
    assert.deepEqual(record?.inputShape, ["batch", 32, 32, 3]);
    assert.equal(record?.bytes, (await fs.stat(exported.path)).size);
    const session = await createOnnxSession(exported.path);
    assert.equal(session.inputName, record?.inputName);
    assert.deepEqual(session.session.outputNames, record?.outputNames);
    await session.session.release();
    await assert.rejects(exportRun({ runDir, archs: ["resnet50"] }), /no finished model of resnet50 in .*finished: mobilenet_v2/);
  });
});
