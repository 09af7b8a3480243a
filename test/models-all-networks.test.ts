// Generated from the registry: every one of the eight networks, not only the MobileNets, goes
// through what a run does to it, at its smallest input — DenseNet's BatchNorm after concatenation,
// InceptionV3's scale-free BatchNorm, InceptionResNetV2's custom scale layer and ResNet50 included:
// - BatchNorm folding (the frozen base's feature extractor) predicts what the unfolded base does;
// - one tiny runTraining step through lib/train with TRANSFER=top:1, so that gradients go through
//   each network's last block (its BatchNorms in training mode, the custom scale layer, concatenations);
// - the saved model, reloaded, predicts what the trained model did in memory;
// - evaluation (notebook 03's evaluateRun, reloaded model, its own preprocessing) equals the last
//   epoch's validation metrics: accuracy exactly, log loss to 1e-4 — a train/eval mismatch in
//   preprocessing or saving breaks this. (With TRANSFER=frozen validation runs on the folded base:
//   on these untrained bases with large logits, float32 folding moves the log loss by ~1.4e-4
//   (MobileNetV2, measured), hence top:1 here and the folding check above on its own.)
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { resolveParams } from "../lib/config";
import { selectEngine, type EngineDescription } from "../lib/engine";
import { evaluateRun } from "../lib/evaluate/pipeline";
import { ARCH_IDS, buildTransferModel, disposeTransferModel, foldBatchNormForInference, getArchSpec, inputSizeFor, type TransferModel } from "../lib/models";
import { loadTrainedModel, runTraining } from "../lib/train";
import { tempDir } from "./temp-dir";
import { tinyEnv } from "./train-fixtures";

const IMAGE_SIZE = 32; // raised to each network's minimum (75 px for the Inceptions)
const TINY_LATENCY = { warmupRuns: 0, minRuns: 1, minTotalMs: 0, maxRuns: 1, maxTotalMs: 0 };

/** Moving statistics, gamma and beta away from their initial values, so that folding has something to fold. */
function randomiseBatchNorms(model: tf.LayersModel): number {
  let count = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const weights = layer.getWeights().map((w, i, all) => (i === all.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, "float32", count + i) : tf.randomNormal(w.shape, 0, 0.5, "float32", count + i + 7)));
    layer.setWeights(weights);
    tf.dispose(weights);
    count++;
  }
  return count;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

describe("every registry network, at its smallest input", () => {
  let engine: EngineDescription;
  let dir: string;
  before(async () => {
    engine = await selectEngine({ engine: "wasm", quiet: true });
    dir = await tempDir("all-networks-");
  });

  for (const arch of ARCH_IDS) {
    const spec = getArchSpec(arch);
    const inputSize = inputSizeFor(arch, IMAGE_SIZE);

    test(`${arch}: the BatchNorm-folded base predicts the unfolded base's features (1e-4 relative)`, async () => {
      const transfer = await buildTransferModel(arch, { inputSize, classes: 2, weights: "none", weightsDir: "/nonexistent", seed: 3 });
      try {
        const batchNorms = randomiseBatchNorms(transfer.base);
        const folded = foldBatchNormForInference(transfer.base);
        try {
          // Every BatchNorm directly after a convolution is folded; DenseNet's after a concatenation stay.
          assert.ok(folded.foldedBatchNorms > 0);
          const left = folded.model.layers.filter((layer) => layer.getClassName() === "BatchNormalization").length;
          assert.equal(folded.foldedBatchNorms + left, batchNorms, `${arch}: ${folded.foldedBatchNorms} folded + ${left} left`);
          const [expected, actual] = tf.tidy(() => {
            const xs = tf.randomUniform([2, inputSize, inputSize, 3], -1, 1, "float32", 5);
            return [transfer.base.predict(xs) as tf.Tensor, folded.model.predict(xs) as tf.Tensor].map((t) => t.dataSync());
          });
          const scale = maxAbs(expected);
          assert.ok(scale > 0);
          const difference = maxAbs(Array.from(expected, (value, i) => value - actual[i]));
          assert.ok(difference <= 1e-4 * scale, `${arch}: max difference ${difference} vs max feature ${scale}`);
        } finally {
          if (folded.model !== transfer.base) folded.model.dispose();
        }
      } finally {
        disposeTransferModel(transfer);
      }
    });

    test(`${arch}: one top:1 training step, saved and reloaded, evaluated equal to its last validation`, { timeout: 300_000 }, async () => {
      const params = resolveParams(tinyEnv(dir, {
        ARCHS: arch, RUN_ID: arch, TRANSFER: "top:1", EPOCHS: "1", STEPS_PER_EPOCH: "1", IMAGE_SIZE: String(IMAGE_SIZE),
        BATCH_SIZE: "4", TRAIN_PER_CLASS: "2", VALIDATION_PER_CLASS: "3", SYNTHETIC_PER_CLASS: "5",
      }));
      const probe = tf.randomUniform([3, inputSize, inputSize, 3], 0, 255, "float32", 11);
      let trained: TransferModel | undefined;
      let inMemory: Float32Array | undefined;
      try {
        const summary = await runTraining(params, {
          engine,
          onModelReady: (transfer) => void (trained = transfer),
          // At the last validation the trained model is still alive: what it predicts is what must come back from disk.
          onProgress: (progress) => {
            if (progress.phase === "validate" && trained) inMemory = tf.tidy(() => (trained!.model.predict(probe) as tf.Tensor).dataSync() as Float32Array);
          },
        });
        const history = summary.histories[0];
        assert.equal(history.status, "finished");
        assert.equal(history.inputSize, Math.max(IMAGE_SIZE, spec.minInputSize));
        assert.equal(history.epochs.length, 1);
        assert.ok(inMemory, "predictions of the trained model in memory");

        const reloaded = await loadTrainedModel(summary.runDir, arch);
        try {
          const fromDisk = tf.tidy(() => (reloaded.predict(probe) as tf.Tensor).dataSync());
          const difference = maxAbs(Array.from(fromDisk, (value, i) => value - inMemory![i]));
          assert.ok(difference <= 1e-6, `${arch}: reloaded model differs by ${difference}`);
        } finally {
          reloaded.dispose();
        }

        const outcome = await evaluateRun(params, { engine, batchSizes: [1], budget: TINY_LATENCY, batchBudget: TINY_LATENCY, log: () => {} });
        const evaluation = outcome.evaluations.find((e) => e.arch === arch);
        assert.ok(evaluation, `${arch} evaluated`);
        const last = history.epochs.at(-1)!;
        assert.equal(evaluation.images, 6);
        assert.equal(evaluation.accuracy, last.validationAccuracy, `${arch}: evaluation accuracy vs last validation accuracy`);
        assert.ok(Math.abs(evaluation.logLoss! - last.validationLoss) <= 1e-4, `${arch}: evaluation log loss ${evaluation.logLoss} vs last validation loss ${last.validationLoss}`);
        assert.ok(path.isAbsolute(outcome.latencyPath));
      } finally {
        probe.dispose();
      }
    });
  }
});
