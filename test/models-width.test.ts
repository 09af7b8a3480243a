// ALPHA: parsing and its one-line errors, where it applies, the Keras weight file of every width,
// the label, and the parameter counts of every width against published figures.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { ParameterError, resolveParams } from "../lib/config";
import { alphaNote, buildArchitecture, checkWeightsFile, weightsFileFor, weightsFilePath, WeightsHashMismatchError, widthLabel } from "../lib/models";
import { sharedPath } from "../lib/paths";

test("ALPHA reaches the parameters; a bad value names the allowed values in one line", () => {
  assert.equal(resolveParams({ ARCHS: "mobilenet", ALPHA: "0.5" }).alpha, 0.5);
  assert.equal(resolveParams({ ARCHS: "mobilenet_v2", ALPHA: "1.4" }).alpha, 1.4);
  assert.equal(resolveParams({}).alpha, undefined, "quick: Keras' default width");
  const bad = (env: Record<string, string>, allowed: RegExp) => {
    assert.throws(() => resolveParams(env), (error: unknown) => {
      assert.ok(error instanceof ParameterError);
      assert.equal(error.parameter, "ALPHA");
      assert.match(error.message, allowed);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  };
  bad({ ARCHS: "mobilenet", ALPHA: "0.35" }, /allowed one of 0\.25, 0\.5, 0\.75, 1\.0 \(mobilenet: 0\.25, 0\.5, 0\.75, 1\.0\)/);
  bad({ ARCHS: "mobilenet_v2", ALPHA: "wide" }, /one of 0\.35, 0\.5, 0\.75, 1\.0, 1\.3, 1\.4/);
  // both MobileNets: only the widths both were published at
  bad({ ARCHS: "mobilenet,mobilenet_v2", ALPHA: "0.25" }, /one of 0\.5, 0\.75, 1\.0 \(mobilenet: .*; mobilenet_v2: .*\)/);
});

test("with other networks ALPHA applies only to the MobileNets, and says so", () => {
  const params = resolveParams({ ARCHS: "resnet50,mobilenet", ALPHA: "0.25" });
  assert.equal(params.alpha, 0.25);
  assert.equal(alphaNote(params.alpha, params.archs), "ALPHA=0.25 applies to mobilenet only; resnet50 has no width multiplier");
  assert.equal(alphaNote(0.5, ["densenet121", "resnet50"]), "ALPHA=0.5 is ignored: densenet121, resnet50 have no width multiplier");
  assert.equal(alphaNote(0.25, ["mobilenet"]), undefined);
  assert.equal(alphaNote(undefined, ["resnet50"]), undefined);
  assert.equal(widthLabel("MobileNet", 0.25), "MobileNet α=0.25");
  assert.equal(widthLabel("MobileNetV2", 1), "MobileNetV2 α=1.0");
  assert.equal(widthLabel("ResNet50", undefined), "ResNet50");
});

test("the Keras weight file of every width, with its published hash only where one is known", () => {
  const v1 = { 0.25: "2_5", 0.5: "5_0", 0.75: "7_5", 1: "1_0" } as const;
  for (const [alpha, text] of Object.entries(v1)) {
    const file = weightsFileFor("mobilenet", { includeTop: false, alpha: Number(alpha), inputSize: 224 });
    assert.equal(file.file, `mobilenet_${text}_224_tf_no_top.h5`);
    assert.equal(file.url, `https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_${text}_224_tf_no_top.h5`);
  }
  for (const alpha of [0.35, 0.5, 0.75, 1, 1.3, 1.4]) {
    const text = alpha === 1 ? "1.0" : String(alpha);
    assert.equal(weightsFileFor("mobilenet_v2", { includeTop: false, alpha, inputSize: 224 }).file, `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${text}_224_no_top.h5`);
    assert.equal(weightsFileFor("mobilenet_v2", { includeTop: false, alpha, inputSize: 224 }).hash, undefined, "Keras publishes no MobileNetV2 hash");
  }
  // the one hash we can check against a genuine file (../shared/weights/keras/README.md)
  assert.deepEqual(weightsFileFor("mobilenet", { includeTop: false, alpha: 0.25, inputSize: 224 }).hash, { algorithm: "sha256", value: "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf" });
  assert.equal(weightsFileFor("mobilenet", { includeTop: false, alpha: 0.75, inputSize: 224 }).hash, undefined, "none known for 0.75: not invented");
  assert.equal(weightsFilePath("mobilenet", { weightsDir: "/w", includeTop: false, alpha: 0.25, inputSize: 224 }), "/w/mobilenet_2_5_224_tf_no_top.h5");
});

test("a weights file that is not the published one is refused, naming the file", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "width-"));
  try {
    const file = path.join(dir, "mobilenet_2_5_224_tf_no_top.h5");
    writeFileSync(file, "not the Keras file");
    const expected = weightsFileFor("mobilenet", { includeTop: false, alpha: 0.25, inputSize: 224 });
    await assert.rejects(checkWeightsFile(file, expected), (error: unknown) => error instanceof WeightsHashMismatchError && error.message.includes(file));
    // without a published hash the file is hashed and recorded, not judged
    const unpublished = weightsFileFor("mobilenet", { includeTop: false, alpha: 0.75, inputSize: 224 });
    const recorded = await checkWeightsFile(file, unpublished);
    assert.equal(recorded.published, null);
    assert.match(recorded.sha256, /^[0-9a-f]{64}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the genuine α=0.25 file matches its published SHA-256", { skip: !existsSync(sharedPath("weights", "keras", "mobilenet_2_5_224_tf_no_top.h5")) && "../shared/weights/keras lacks the file" }, async () => {
  const file = sharedPath("weights", "keras", "mobilenet_2_5_224_tf_no_top.h5");
  const loaded = await checkWeightsFile(file, weightsFileFor("mobilenet", { includeTop: false, alpha: 0.25, inputSize: 224 }));
  assert.equal(loaded.sha256, "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf");
});

// Trainable parameters with the 1000-class top, in millions, from the TF-slim model tables that the
// Keras weights were converted from (research/slim/nets/mobilenet_v1.md and mobilenet/README.md,
// rounded to 0.01 M, 1001 classes): close, not equal, hence the 2 % tolerance. The no-top α=0.25
// count is exact: 218,544 weights in the genuine Keras file (../shared/weights/keras/README.md).
const SLIM_MILLIONS: Array<[string, number, number]> = [
  ["mobilenet", 0.25, 0.47], ["mobilenet", 0.5, 1.34], ["mobilenet", 0.75, 2.59], ["mobilenet", 1, 4.24],
  ["mobilenet_v2", 0.35, 1.66], ["mobilenet_v2", 0.5, 1.95], ["mobilenet_v2", 0.75, 2.61], ["mobilenet_v2", 1, 3.47], ["mobilenet_v2", 1.3, 5.34], ["mobilenet_v2", 1.4, 6.06],
];

test("every width builds with the published parameter count", () => {
  const count = (weights: readonly tf.LayerVariable[]) => weights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  for (const [arch, alpha, millions] of SLIM_MILLIONS) {
    const model = buildArchitecture(arch, { alpha, includeTop: true, inputShape: [32, 32, 3] });
    try {
      const trainable = count(model.trainableWeights) / 1e6;
      assert.ok(Math.abs(trainable - millions) / millions < 0.02, `${arch} α=${alpha}: ${trainable.toFixed(3)} M trainable vs ${millions} M published`);
    } finally {
      model.dispose();
    }
  }
  const noTop = buildArchitecture("mobilenet", { alpha: 0.25, includeTop: false, inputShape: [224, 224, 3] });
  assert.equal(noTop.countParams(), 218_544);
  assert.deepEqual(noTop.outputs[0].shape, [null, 7, 7, 256]);
  noTop.dispose();
  assert.throws(() => buildArchitecture("resnet50", { alpha: 0.5 }), /alpha applies to mobilenet and mobilenet_v2 only/);
});
