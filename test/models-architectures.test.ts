// The same checks for every architecture in the registry (a ninth one is covered automatically):
// exact Keras parameter counts with and without the top, unique layer names, a non-default head at
// the minimum input, one training step with a finite loss, and (for models with custom layers,
// e.g. InceptionResNetV2's CustomScaleLayer) save + reload in tfjs format with identical predictions. The step trains the last block and
// the head (TRANSFER=top:1): on the pure-JS cpu backend a full backward pass of the big networks
// takes minutes (naive Conv2DBackpropFilter), the last block a fraction of a second.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { forwardMacs } from "../lib/models/flops";
import { ARCHITECTURES, applyTransferMode, buildArchitecture, buildTransferModel, CUSTOM_LAYER_CLASS_NAMES, disposeTransferModel, getArchSpec, registerCustomLayers } from "../lib/models";

before(async () => {
  await tf.setBackend("cpu");
});

function countParams(model: tf.LayersModel): number {
  return model.countParams();
}

async function assertSavesAndReloads(model: tf.LayersModel, input: tf.Tensor): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  assert.ok(artifacts);
  const topology = JSON.stringify(artifacts.modelTopology);
  for (const className of CUSTOM_LAYER_CLASS_NAMES) {
    if (model.layers.some((layer) => layer.getClassName() === className)) assert.match(topology, new RegExp(`"class_name":"${className}"`));
  }
  registerCustomLayers();
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    assert.equal(reloaded.countParams(), model.countParams());
    const [expected, actual] = [model, reloaded].map((m) => m.predict(input) as tf.Tensor);
    assert.deepEqual(Array.from(actual.dataSync()), Array.from(expected.dataSync()));
    tf.dispose([expected, actual]);
  } finally {
    reloaded.dispose();
  }
}

for (const spec of Object.values(ARCHITECTURES)) {
  const size = spec.minInputSize;
  describe(`${spec.id} (${spec.displayName})`, () => {
    test(`with the 1000-class top: exactly ${spec.reference.paramsTop.toLocaleString("en")} parameters, unique layer names`, () => {
      const model = buildArchitecture(spec.id, { includeTop: true, inputShape: [size, size, 3] });
      try {
        assert.equal(countParams(model), spec.reference.paramsTop);
        const names = model.layers.map((layer) => layer.name);
        assert.equal(new Set(names).size, names.length, "layer names must be unique");
        assert.deepEqual(model.outputs[0].shape, [null, 1000]);
      } finally {
        model.dispose();
      }
    });

    test(`without the top: exactly ${spec.reference.paramsNoTop.toLocaleString("en")} parameters; 3-class head, last block + head train one step at ${size} px`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const transfer = await buildTransferModel(spec.id, { inputSize: size, classes: 3, weights: "none", weightsDir: "/nonexistent", dropout: 0.2, seed: 1 });
      try {
        assert.equal(countParams(transfer.base), spec.reference.paramsNoTop);
        assert.equal(countParams(transfer.model), spec.reference.paramsNoTop + (transfer.featureSize + 1) * 3);
        const headParams = (transfer.featureSize + 1) * 3;
        assert.equal(applyTransferMode(transfer, { kind: "finetune" }).trainableParams > spec.reference.paramsNoTop / 2, true);
        assert.equal(applyTransferMode(transfer, { kind: "frozen" }).trainableParams, headParams);
        const top1 = applyTransferMode(transfer, { kind: "top", blocks: 1 });
        assert.ok(top1.trainableParams > headParams && top1.trainableParams < spec.reference.paramsNoTop, `top:1 trains ${top1.trainableParams} parameters`);
        transfer.model.compile({ optimizer: tf.train.sgd(1e-3), loss: "categoricalCrossentropy" });
        const xs = tf.randomUniform([2, size, size, 3], -1, 1, "float32", 7);
        const ys = tf.oneHot(tf.tensor1d([0, 2], "int32"), 3);
        const probabilities = transfer.model.predict(xs) as tf.Tensor;
        assert.deepEqual(probabilities.shape, [2, 3]);
        const loss = (await transfer.model.trainOnBatch(xs, ys)) as number;
        assert.ok(Number.isFinite(loss), `loss ${loss} must be finite`);
        if (transfer.model.layers.some((layer) => CUSTOM_LAYER_CLASS_NAMES.includes(layer.getClassName()))) {
          await assertSavesAndReloads(transfer.model, xs);
        }
        tf.dispose([xs, ys, probabilities]);
      } finally {
        disposeTransferModel(transfer);
      }
      assert.ok(tf.memory().numTensors <= tensorsBefore + 2, `leaked ${tf.memory().numTensors - tensorsBefore} tensors`);
    });
  });
}

test("unknown architecture ids are answered with the list of ids", () => {
  assert.throws(() => getArchSpec("vgg16"), /unknown architecture "vgg16": known ids are densenet121, .*mobilenet_v2/);
});

test("forward multiply-adds match the published figures (MobileNet 569 M, MobileNetV2 300 M, ResNet50 3.8 G)", () => {
  // Howard et al. 2017 (569 M mult-adds), Sandler et al. 2018 (300 M), He et al. 2016 (3.8 × 10⁹ FLOPs,
  // i.e. multiply-adds): all at 224 px with the 1000-class top.
  for (const [id, published] of [["mobilenet", 569e6], ["mobilenet_v2", 300e6], ["resnet50", 3.8e9]] as const) {
    const model = buildArchitecture(id, { includeTop: true });
    const macs = forwardMacs(model);
    model.dispose();
    assert.ok(Math.abs(macs / published - 1) < 0.02, `${id}: ${(macs / 1e6).toFixed(0)} M vs published ${(published / 1e6).toFixed(0)} M`);
  }
});
