// Input-pipeline throughput: how many images per second decode + resize + augmentation deliver at
// the training size, on the active TensorFlow.js backend. `showcase bench data` prints these rows.
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { sharedPath } from "../paths";
import { augmentBatch, augmentedBatch, STUDY_AUGMENT } from "../data/augment";
import { augmentsOnHost } from "../engine/capabilities";
import { trainBatches } from "../data/batches";
import { decodeResized } from "../data/decode";
import { deriveSeed } from "../data/prng";
import { detectSource } from "../data/sources";
import { generateSyntheticImages } from "../data/synthetic";
import { type AugmentConfig, type DatasetManifest, type ImageRecord, MANIFEST_SCHEMA } from "../data/types";

export interface DataBenchRow {
  stage: string;
  backend: string;
  imageSize: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** CPU time of this process (all threads) per image: comparable across busy and idle machines. */
  cpuMsPerImage: number;
  source: string;
}

export interface DataBenchOptions {
  /** Images to read; default the real photos in ../shared/data/cats-dogs, else generated ones. */
  dataDir?: string;
  imageSize?: number;
  /** How many images each stage processes (default 512). */
  images?: number;
  batchSize?: number;
  augment?: AugmentConfig;
  concurrency?: number;
}

async function benchRecords(opts: DataBenchOptions, count: number): Promise<{ records: ImageRecord[]; source: string; cleanup?: string }> {
  let dataDir = opts.dataDir ?? sharedPath("data", "cats-dogs");
  let source = path.basename(dataDir);
  let cleanup: string | undefined;
  try {
    await fs.access(dataDir);
  } catch {
    cleanup = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-bench-"));
    dataDir = (await generateSyntheticImages({ dir: cleanup, perClass: Math.ceil(count / 2), seed: 1, size: 256 })).dir;
    source = "synthetic 256 px (shared photos absent)";
  }
  const detected = await detectSource({ dataDir, rawDir: path.join(os.tmpdir(), "showcase-bench-raw") });
  const pool = detected.images.filter((image) => image.split !== "validation" && image.split !== "test");
  // alternate classes so that any prefix is balanced
  const byClass = detected.classes.map((label) => pool.filter((image) => image.label === label));
  const records: ImageRecord[] = [];
  for (let i = 0; records.length < count && i < pool.length; i++) {
    for (let c = 0; c < byClass.length && records.length < count; c++) {
      const image = byClass[c][i];
      if (image) records.push({ path: image.path, label: image.label, labelIndex: c, sha256: `bench${records.length.toString(16).padStart(59, "0")}`, width: 0, height: 0 });
    }
  }
  return { records, source, cleanup };
}

function manifestOf(records: ImageRecord[]): DatasetManifest {
  return {
    schema: MANIFEST_SCHEMA,
    dataset: "bench",
    source: { kind: "keras-dir", location: "", synthetic: false, description: "benchmark" },
    seed: 0,
    classes: ["cat", "dog"],
    requested: { trainPerClass: 0, validationPerClass: 0, testPerClass: 0 },
    counts: { train: {}, validation: {}, test: {} },
    splits: { train: records, validation: [], test: [] },
    rejected: [],
    createdAt: "",
  };
}

/**
 * Waits until a batch is computed. Host-augmented tensors are complete when created; on a GPU
 * backend the ops may still be queued, and reading the values is the way to wait for them.
 */
async function ready(batch: tf.Tensor): Promise<void> {
  if (!augmentsOnHost()) await batch.data();
}

async function timed(work: () => Promise<number>): Promise<{ images: number; seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const images = await work();
  const used = process.cpuUsage(cpu);
  return { images, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

export async function benchDataPipeline(opts: DataBenchOptions = {}): Promise<DataBenchRow[]> {
  const imageSize = opts.imageSize ?? 224;
  const count = opts.images ?? 512;
  const batchSize = opts.batchSize ?? 32;
  const config = opts.augment ?? STUDY_AUGMENT;
  const backend = tf.getBackend();
  const { records, source, cleanup } = await benchRecords(opts, count);
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-bench-cache-"));
  const rows: DataBenchRow[] = [];
  const add = (stage: string, rowBackend: string, result: { images: number; seconds: number; cpuSeconds: number }) =>
    rows.push({ stage, backend: rowBackend, imageSize, images: result.images, seconds: result.seconds, imagesPerSecond: result.images / result.seconds, cpuMsPerImage: (1000 * result.cpuSeconds) / result.images, source });
  try {
    // warm-up: sharp's thread pool, the backend's kernels and the JIT (the warp loop runs at its
    // steady speed only after a few hundred images; a training run augments thousands)
    const warm = await decodeResized(records.slice(0, 16), { size: imageSize });
    for (let seed = 0; seed < 16; seed++) {
      tf.tidy(() => augmentBatch(tf.tensor4d(Buffer.concat(warm), [warm.length, imageSize, imageSize, 3], "int32").toFloat() as tf.Tensor4D, { config, seed })).dispose();
    }

    let pixels: Uint8Array[] = [];
    add("decode + resize (sharp)", "sharp", await timed(async () => {
      pixels = await decodeResized(records, { size: imageSize, concurrency: opts.concurrency });
      return pixels.length;
    }));
    add("augment (study settings)", backend, await timed(async () => {
      for (let start = 0, batch = 0; start < pixels.length; start += batchSize, batch++) {
        const group = pixels.slice(start, start + batchSize);
        const shape: [number, number, number, number] = [group.length, imageSize, imageSize, 3];
        const options = { config, seed: deriveSeed(1, batch) };
        // the same path trainBatches takes on this backend
        const out = augmentsOnHost()
          ? augmentedBatch(group, [imageSize, imageSize, 3], options)
          : tf.tidy(() => augmentBatch(tf.tensor4d(Buffer.concat(group), shape, "int32").toFloat() as tf.Tensor4D, options));
        await ready(out);
        out.dispose();
      }
      return pixels.length;
    }));
    const manifest = manifestOf(records);
    const epoch = async (epochIndex: number, withCache: boolean) => {
      let images = 0;
      for await (const batch of trainBatches({ manifest, imageSize, batchSize, seed: 1, epoch: epochIndex, augment: config, cacheDir: withCache ? cacheDir : undefined })) {
        await ready(batch.xs);
        images += batch.xs.shape[0];
        batch.xs.dispose();
        batch.ys.dispose();
      }
      return images;
    };
    add("decode + resize + augment (trainBatches)", backend, await timed(() => epoch(0, false)));
    await epoch(1, true); // fills the cache
    add("cached resize + augment (trainBatches, 2nd epoch)", backend, await timed(() => epoch(2, true)));
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
    if (cleanup) await fs.rm(cleanup, { recursive: true, force: true });
  }
  return rows;
}
