// The Keras .h5 loader on files written here with h5wasm (good, split attributes, model_weights
// group, wrong shape, missing layer) and on the genuine MobileNet α=0.25 file from ../shared.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { buildArchitecture, loadKerasWeights, preprocessInput } from "../lib/models";
import { loadH5wasm } from "../lib/models/keras-h5";
import { sharedPath } from "../lib/paths";
import { type FileWeight, writeKerasH5 } from "./keras-h5-writer";

const workDir = mkdtempSync(path.join(tmpdir(), "models-h5-"));

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend must initialise");
});
after(() => rmSync(workDir, { recursive: true, force: true }));

/** conv (bias) → BN → relu (no weights) → depthwise (no bias) → GAP → dense: four weighted layers. */
function buildSmallModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: "input_1" });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: "c1" }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "bn1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu", name: "relu1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, useBias: false, name: "dw1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 2, name: "fc" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** The layers of `model` as Keras would save them, with deterministic values 0.001·k. */
function kerasLayersOf(model: tf.LayersModel): Array<{ name: string; weights: FileWeight[] }> {
  let k = 0;
  return model.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((weight) => {
      const shape = weight.shape as number[];
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.5 + 0.001 * k++);
      return { name: `${layer.name}/${weight.originalName.split("/").pop()}:0`, shape, values };
    }),
  }));
}

function weightValues(model: tf.LayersModel, layerName: string): Float32Array[] {
  return model.getLayer(layerName).getWeights().map((tensor) => tensor.dataSync() as Float32Array);
}

describe("Keras .h5 loader on files written by the test", () => {
  for (const variant of [{}, { split: true }, { modelWeights: true }] as const) {
    test(`loads every weight in Keras order (${JSON.stringify(variant)})`, async () => {
      const model = buildSmallModel();
      const layers = kerasLayersOf(model);
      const file = path.join(workDir, `good-${Object.keys(variant).join("-") || "plain"}.h5`);
      await writeKerasH5(file, layers, variant);
      const result = await loadKerasWeights(model, file);
      assert.equal(result.layersLoaded, 4);
      for (const layer of layers) {
        const loaded = weightValues(model, layer.name);
        layer.weights.forEach((weight, i) => assert.deepEqual(loaded[i], weight.values, `${weight.name}`));
      }
      model.dispose();
    });
  }

  test("a wrong shape names the layer and both shapes, and nothing is loaded", async () => {
    const model = buildSmallModel();
    const layers = kerasLayersOf(model);
    const fc = layers.find((layer) => layer.name === "fc");
    assert.ok(fc);
    fc.weights[0] = { ...fc.weights[0], shape: [4, 3], values: new Float32Array(12) };
    const file = path.join(workDir, "wrong-shape.h5");
    await writeKerasH5(file, layers);
    const before = weightValues(model, "c1");
    await assert.rejects(loadKerasWeights(model, file), /layer "fc" weight "fc\/kernel:0" has shape \[4, 3\] in the file, the model expects \[4, 2\]/);
    assert.deepEqual(weightValues(model, "c1"), before, "c1 must not be half-loaded");
    model.dispose();
  });

  test("a missing layer is named", async () => {
    const model = buildSmallModel();
    const layers = kerasLayersOf(model).filter((layer) => layer.name !== "dw1");
    const file = path.join(workDir, "missing-layer.h5");
    await writeKerasH5(file, layers);
    await assert.rejects(loadKerasWeights(model, file), /model has 4 layers with weights, the file 3; .*model layer "dw1", file layer "fc" \(the file has no layer "dw1"\)/);
    model.dispose();
  });

  test("a file that is not a Keras weights file says so", async () => {
    const h5wasm = await loadH5wasm();
    const file = path.join(workDir, "empty.h5");
    new h5wasm.File(file, "w").close();
    const model = buildSmallModel();
    await assert.rejects(loadKerasWeights(model, file), /not a Keras weights file/);
    model.dispose();
  });
});

describe("genuine Keras MobileNet α=0.25 weights (../shared/weights/keras)", () => {
  const weightsFile = sharedPath("weights", "keras", "mobilenet_2_5_224_tf_no_top.h5");
  const referenceDir = sharedPath("weights", "keras", "reference");
  const missing = !existsSync(weightsFile) || !existsSync(path.join(referenceDir, "features_6x256.f32"));
  const readF32 = (name: string) => {
    const bytes = readFileSync(path.join(referenceDir, name));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  const relativeError = (actual: Float32Array, expected: Float32Array) => {
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
    }
    return maxDiff / maxAbs;
  };

  test("features of the six reference photos and the conv1 block of photo 0 match to 1e-4 relative", { skip: missing && "../shared/weights/keras is absent" }, async () => {
    const model = buildArchitecture("mobilenet", { alpha: 0.25, includeTop: false, pooling: "avg", inputShape: [224, 224, 3] });
    try {
      const { layersLoaded } = await loadKerasWeights(model, weightsFile);
      assert.equal(layersLoaded, 54);
      assert.equal(model.countParams(), 218_544);
      const pixels = new Uint8Array(readFileSync(path.join(referenceDir, "inputs_6x224x224x3.u8")));
      const [features, conv1] = tf.tidy(() => {
        const images = preprocessInput(tf.tensor4d(pixels, [6, 224, 224, 3], "int32"), "tf");
        const conv1Model = tf.model({ inputs: model.inputs, outputs: model.getLayer("conv1_relu").output as tf.SymbolicTensor });
        return [model.predict(images) as tf.Tensor, conv1Model.predict(images.slice([0], [1])) as tf.Tensor];
      });
      assert.deepEqual(features.shape, [6, 256]);
      assert.deepEqual(conv1.shape, [1, 112, 112, 8]);
      const featureError = relativeError(features.dataSync() as Float32Array, readF32("features_6x256.f32"));
      const conv1Error = relativeError(conv1.dataSync() as Float32Array, readF32("conv1_relu_image0_112x112x8.f32"));
      tf.dispose([features, conv1]);
      assert.ok(featureError < 1e-4, `features: relative error ${featureError}`);
      assert.ok(conv1Error < 1e-4, `conv1 block: relative error ${conv1Error}`);
    } finally {
      model.dispose();
    }
  });

  test("the α=1.0 MobileNet does not fit the α=0.25 file: the error names conv1 and both shapes", { skip: missing && "../shared/weights/keras is absent" }, async () => {
    const model = buildArchitecture("mobilenet", { includeTop: false, inputShape: [32, 32, 3] });
    await assert.rejects(loadKerasWeights(model, weightsFile), /layer "conv1" weight "conv1\/kernel:0" has shape \[3, 3, 3, 8\] in the file, the model expects \[3, 3, 3, 32\]/);
    model.dispose();
  });
});
