// Proof that the Keras weights load correctly: frozen MobileNet α=0.25 features of the real
// cats-vs-dogs photos plus a logistic-regression head, with the genuine ImageNet weights versus
// the same network with random weights. Pretrained features should separate cats from dogs
// (≥ 90 %), random ones should be near chance.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { mapLimit } from "../data/concurrency";
import { decodeOne } from "../data/decode";
import { sharedPath } from "../paths";
import { loadKerasWeights } from "../models/keras-h5";
import { preprocessInput } from "../models/preprocess";
import { buildArchitecture } from "../models/registry";
import { activateBackend, selectEngine } from "../engine/index";

export interface FeatureBenchOptions {
  /** Folder with train/{cat,dog} and validation/{cat,dog}; default ../shared/data/cats-dogs. */
  dataDir?: string;
  /** Keras MobileNet α=0.25 224 px no-top weights; default the genuine file in ../shared. */
  weightsPath?: string;
  imageSize?: number;
  batchSize?: number;
  /** Use at most this many images per class and split (quick runs); default all. */
  maxPerClass?: number;
  /** Backend for feature extraction; the previous backend is restored afterwards. */
  backend?: "wasm" | "cpu";
  onProgress?: (message: string) => void;
}

export interface FeatureVariantResult {
  weights: "imagenet" | "random";
  trainAccuracy: number;
  validationAccuracy: number;
  validationCorrect: number;
}

export interface FeatureBenchResult {
  schema: "feature-bench/1";
  arch: "mobilenet";
  alpha: 0.25;
  backend: string;
  imageSize: number;
  trainImages: number;
  validationImages: number;
  variants: FeatureVariantResult[];
  /** Images per second through both networks together, decoding included. */
  extractImagesPerSecond: number;
  totalSeconds: number;
}

const CLASSES = ["cat", "dog"] as const;

async function listSplit(dataDir: string, split: string, maxPerClass?: number): Promise<Array<{ file: string; label: number }>> {
  const items: Array<{ file: string; label: number }> = [];
  for (const [label, name] of CLASSES.entries()) {
    const dir = path.join(dataDir, split, name);
    const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((file) => /\.(jpe?g|png)$/i.test(file)).sort();
    if (files.length === 0) throw new Error(`no images in ${dir}: expected ${split}/cat and ${split}/dog folders of photos`);
    items.push(...files.slice(0, maxPerClass).map((file) => ({ file: path.join(dir, file), label })));
  }
  return items;
}

/** Global-average-pooled features of every image, for each model, in one decode pass. */
async function extractFeatures(
  models: tf.LayersModel[],
  items: Array<{ file: string }>,
  opts: { imageSize: number; batchSize: number; onBatch: (done: number) => void },
): Promise<Float32Array[][]> {
  const features: Float32Array[][] = models.map(() => []);
  for (let start = 0; start < items.length; start += opts.batchSize) {
    const batch = items.slice(start, start + opts.batchSize);
    const pixels = await mapLimit(batch, 4, (item) => decodeOne(item.file, opts.imageSize));
    const flat = new Uint8Array(batch.length * opts.imageSize * opts.imageSize * 3);
    pixels.forEach((image, i) => flat.set(image, i * image.length));
    const outputs = tf.tidy(() => {
      const x = preprocessInput(tf.tensor4d(flat, [batch.length, opts.imageSize, opts.imageSize, 3], "int32"), "tf");
      return models.map((model) => model.predict(x) as tf.Tensor2D);
    });
    for (const [m, output] of outputs.entries()) {
      const values = (await output.data()) as Float32Array;
      const width = output.shape[1];
      for (let i = 0; i < batch.length; i++) features[m].push(values.slice(i * width, (i + 1) * width));
    }
    tf.dispose(outputs);
    opts.onBatch(Math.min(start + opts.batchSize, items.length));
  }
  return features;
}

/** Logistic regression (softmax over 2 classes, L2) on standardised features, full-batch Adam. */
export function trainLogisticHead(opts: { train: Float32Array[]; trainLabels: number[]; evaluate: Float32Array[]; evaluateLabels: number[]; epochs?: number }): {
  trainAccuracy: number;
  evaluateAccuracy: number;
  evaluateCorrect: number;
} {
  return tf.tidy(() => {
    const width = opts.train[0].length;
    const toMatrix = (rows: Float32Array[]) => tf.tensor2d(Float32Array.from(rows.flatMap((row) => Array.from(row))), [rows.length, width]);
    const xTrain = toMatrix(opts.train);
    const { mean, variance } = tf.moments(xTrain, 0);
    // Scale-free: random-weight features can be tiny (≈1e-9) yet informative; constant ones stay 0.
    const rawStd = tf.sqrt(variance);
    const std = tf.where(rawStd.greater(0), rawStd, tf.onesLike(rawStd));
    const standardise = (x: tf.Tensor2D) => x.sub(mean).div(std) as tf.Tensor2D;
    const xs = standardise(xTrain);
    const ys = tf.oneHot(tf.tensor1d(opts.trainLabels, "int32"), 2);
    const kernel = tf.variable(tf.zeros([width, 2]));
    const bias = tf.variable(tf.zeros([2]));
    const logits = (x: tf.Tensor2D) => x.matMul(kernel).add(bias);
    const optimizer = tf.train.adam(0.01);
    for (let epoch = 0; epoch < (opts.epochs ?? 300); epoch++) {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, logits(xs)).add(kernel.square().sum().mul(1e-3)) as tf.Scalar);
    }
    const accuracy = (x: tf.Tensor2D, labels: number[]) => {
      const predicted = logits(x).argMax(1).dataSync();
      const correct = labels.filter((label, i) => predicted[i] === label).length;
      return { correct, accuracy: correct / labels.length };
    };
    const evaluation = accuracy(standardise(toMatrix(opts.evaluate)), opts.evaluateLabels);
    const result = { trainAccuracy: accuracy(xs, opts.trainLabels).accuracy, evaluateAccuracy: evaluation.accuracy, evaluateCorrect: evaluation.correct };
    optimizer.dispose();
    kernel.dispose();
    bias.dispose();
    return result;
  });
}

export async function benchFrozenFeatures(opts: FeatureBenchOptions = {}): Promise<FeatureBenchResult> {
  const started = performance.now();
  const dataDir = opts.dataDir ?? sharedPath("data", "cats-dogs");
  const weightsPath = opts.weightsPath ?? sharedPath("weights", "keras", "mobilenet_2_5_224_tf_no_top.h5");
  const imageSize = opts.imageSize ?? 224;
  const batchSize = opts.batchSize ?? 32;
  const log = opts.onProgress ?? (() => undefined);
  await fs.access(weightsPath).catch(() => {
    throw new Error(`MobileNet α=0.25 weights not found at ${weightsPath}: put mobilenet_2_5_224_tf_no_top.h5 there (or pass weightsPath)`);
  });
  const train = await listSplit(dataDir, "train", opts.maxPerClass);
  const validation = await listSplit(dataDir, "validation", opts.maxPerClass);

  const previousBackend = tf.getBackend();
  const { backend } = await selectEngine({ engine: opts.backend ?? "wasm", quiet: true }); // throws, saying why, when it cannot start
  const models: tf.LayersModel[] = [];
  try {
    const build = () => buildArchitecture("mobilenet", { alpha: 0.25, includeTop: false, pooling: "avg", inputShape: [imageSize, imageSize, 3] });
    const pretrained = build();
    await loadKerasWeights(pretrained, weightsPath);
    models.push(pretrained, build());

    const extractStarted = performance.now();
    const all = [...train, ...validation];
    const features = await extractFeatures(models, all, {
      imageSize,
      batchSize,
      onBatch: (done) => log(`features: ${done}/${all.length} images`),
    });
    const extractImagesPerSecond = all.length / ((performance.now() - extractStarted) / 1000);

    const variants = (["imagenet", "random"] as const).map((weights, m): FeatureVariantResult => {
      const head = trainLogisticHead({
        train: features[m].slice(0, train.length),
        trainLabels: train.map((item) => item.label),
        evaluate: features[m].slice(train.length),
        evaluateLabels: validation.map((item) => item.label),
      });
      log(`${weights}: validation accuracy ${(head.evaluateAccuracy * 100).toFixed(1)} %`);
      return { weights, trainAccuracy: head.trainAccuracy, validationAccuracy: head.evaluateAccuracy, validationCorrect: head.evaluateCorrect };
    });
    return {
      schema: "feature-bench/1",
      arch: "mobilenet",
      alpha: 0.25,
      backend,
      imageSize,
      trainImages: train.length,
      validationImages: validation.length,
      variants,
      extractImagesPerSecond,
      totalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const model of models) model.dispose();
    if (previousBackend) await activateBackend(previousBackend);
  }
}

/** Plain-text result lines (for the CLI and notebooks). */
export function formatFeatureBench(result: FeatureBenchResult): string {
  return [
    `MobileNet α=0.25 frozen features (${result.imageSize} px, ${result.backend}) + logistic head: ${result.trainImages} train, ${result.validationImages} validation photos`,
    ...result.variants.map(
      (v) => `  ${v.weights.padEnd(8)} weights: validation accuracy ${(v.validationAccuracy * 100).toFixed(1)} % (${v.validationCorrect}/${result.validationImages}), train ${(v.trainAccuracy * 100).toFixed(1)} %`,
    ),
    `  extraction ${result.extractImagesPerSecond.toFixed(1)} images/s through both networks, ${result.totalSeconds.toFixed(0)} s in all`,
  ].join("\n");
}

// `npx showcase bench transfer` runs this; `npx tsx lib/models/feature-bench.ts [maxPerClass]` is a quicker subset.
if (require.main === module) {
  const maxPerClass = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchFrozenFeatures({ maxPerClass, onProgress: (message) => process.stderr.write(`${message}\n`) }).then(
    (result) => console.log(formatFeatureBench(result)),
    (error: Error) => {
      console.error(error.message);
      process.exitCode = 1;
    },
  );
}
