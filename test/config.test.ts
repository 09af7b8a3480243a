import { test } from "node:test";
import assert from "node:assert/strict";
import { ParameterError, resolveParams, parseTransfer } from "../lib/config";
import { ARCH_IDS } from "../lib/ids";

test("quick profile by default, all eight architectures", () => {
  const params = resolveParams({});
  assert.equal(params.profile, "quick");
  assert.deepEqual(params.archs, [...ARCH_IDS]);
  assert.equal(params.dataDir, undefined);
});

test("full profile follows the study: 224 px, 10 epochs, ImageNet weights, 1000+400 per class", () => {
  const params = resolveParams({ PROFILE: "full" });
  assert.equal(params.imageSize, 224);
  assert.equal(params.epochs, 10);
  assert.equal(params.weights, "imagenet");
  assert.equal(params.trainPerClass, 1000);
  assert.equal(params.validationPerClass, 400);
});

test("environment overrides are parsed", () => {
  const params = resolveParams({ ARCHS: "resnet50, mobilenet", EPOCHS: "2", SEED: "0", TRANSFER: "top:3", RUN_ID: "a-1" });
  assert.deepEqual(params.archs, ["resnet50", "mobilenet"]);
  assert.equal(params.epochs, 2);
  assert.equal(params.seed, 0);
  assert.deepEqual(params.transfer, { kind: "top", blocks: 3 });
  assert.equal(params.runId, "a-1");
});

test("bad parameters name the parameter and the allowed values", () => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ PROFILE: "fast" }, "PROFILE", /quick, lite, full/],
    [{ ARCHS: "vgg16" }, "ARCHS", /densenet121/],
    [{ EPOCHS: "ten" }, "EPOCHS", /whole number/],
    [{ EPOCHS: "0" }, "EPOCHS", /from 1/],
    [{ ENGINE: "cuda" }, "ENGINE", /tfjs-node-gpu/],
    [{ RUN_ID: "../x" }, "RUN_ID", /letters/],
    [{ LEARNING_RATE: "-1" }, "LEARNING_RATE", /positive/],
  ];
  for (const [env, parameter, allowed] of cases) {
    assert.throws(() => resolveParams(env), (error: unknown) => {
      assert.ok(error instanceof ParameterError);
      assert.equal(error.parameter, parameter);
      assert.match(error.message, allowed);
      return true;
    });
  }
  assert.throws(() => parseTransfer("top:0"), /TRANSFER/);
});

test("STEPS_PER_EPOCH=all means one pass over the training split", () => {
  assert.equal(resolveParams({ STEPS_PER_EPOCH: "all" }).stepsPerEpoch, undefined);
  assert.equal(resolveParams({ STEPS_PER_EPOCH: "4" }).stepsPerEpoch, 4);
  assert.throws(() => resolveParams({ STEPS_PER_EPOCH: "some" }), /STEPS_PER_EPOCH/);
});

test("lite profile: the user's photos (DATA_DIR required), ImageNet weights, MobileNet α=0.25 at 224 px, the study's split", () => {
  assert.throws(() => resolveParams({ PROFILE: "lite" }), (error: unknown) => error instanceof ParameterError && error.parameter === "DATA_DIR" && /real photos/.test(error.message) && !error.message.includes("\n"));
  const params = resolveParams({ PROFILE: "lite", DATA_DIR: "/photos" });
  assert.deepEqual(params.archs, ["mobilenet"]);
  assert.equal(params.alpha, 0.25);
  assert.equal(params.weights, "imagenet");
  assert.notEqual(params.transfer.kind, "frozen");
  assert.equal(params.imageSize, 224);
  assert.equal(params.stepsPerEpoch, undefined);
  assert.deepEqual([params.trainPerClass, params.validationPerClass], [1000, 400]);
  // the profile's width does not fit MobileNetV2: it keeps Keras' default rather than failing
  assert.equal(resolveParams({ PROFILE: "lite", DATA_DIR: "/photos", ARCHS: "mobilenet_v2" }).alpha, undefined);
});
