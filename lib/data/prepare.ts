// Notebook 01's work in one call: acquire → validate → deduplicate → split → manifest.
import * as path from "node:path";
import { requiresPhotos, type RunParams } from "../config";
import { datasetDirFor, datasetNameFor, manifestPathFor, rawDirFor, writeManifest } from "./manifest";
import { type DetectedSource, detectSource } from "./sources";
import { SPLIT_NAMES, splitBalanced } from "./split";
import { generateSyntheticImages } from "./synthetic";
import { type ClassName, type DatasetManifest, type ImageRecord, MANIFEST_SCHEMA, type SplitName } from "./types";
import { removeDuplicates, validateImages } from "./validate";

export const SYNTHETIC_IMAGE_SIZE = 128;

export interface PrepareOptions {
  /** Called while images are validated. */
  onProgress?: (done: number, total: number) => void;
  /** Called with one-line status messages (generation, extraction). */
  onMessage?: (message: string) => void;
}

type PrepareParams = Pick<RunParams, "profile" | "dataDir" | "preparedDir" | "seed" | "trainPerClass" | "validationPerClass" | "testPerClass" | "syntheticPerClass">;

async function acquire(params: PrepareParams, opts: PrepareOptions): Promise<DetectedSource> {
  // a generated set copied or pointed at (even a folder or archive above it) is still synthetic:
  // detectSource finds its stamp and labels it so
  if (params.dataDir !== undefined) return detectSource({ dataDir: params.dataDir, rawDir: rawDirFor(params), onProgress: opts.onMessage });
  const imagesDir = path.join(datasetDirFor(params), "images");
  const generated = await generateSyntheticImages({ dir: imagesDir, perClass: params.syntheticPerClass, seed: params.seed, size: SYNTHETIC_IMAGE_SIZE });
  if (generated.generated) opts.onMessage?.(`generated ${2 * params.syntheticPerClass} synthetic images in ${generated.seconds.toFixed(1)} s`);
  // read back through the ordinary folder detection, exactly like a user's photos
  const detected = await detectSource({ dataDir: imagesDir, rawDir: rawDirFor(params) });
  return {
    ...detected,
    kind: "synthetic",
    description: `SYNTHETIC: ${2 * params.syntheticPerClass} generated drawings of cats and dogs (${SYNTHETIC_IMAGE_SIZE} px JPEG, seed ${params.seed}), not photos`,
  };
}

function countSplits(splits: Record<SplitName, ImageRecord[]>, classes: ClassName[]): Record<SplitName, Record<ClassName, number>> {
  const counts = {} as Record<SplitName, Record<ClassName, number>>;
  for (const split of SPLIT_NAMES) {
    counts[split] = Object.fromEntries(classes.map((label) => [label, splits[split].filter((record) => record.label === label).length]));
  }
  return counts;
}

/** PROFILE=lite's promise: its numbers come from photos. Throws, naming DATA_DIR, on a synthetic set. */
export function assertPhotos(params: Pick<RunParams, "profile" | "dataDir">, manifest: Pick<DatasetManifest, "source">): void {
  if (requiresPhotos(params.profile) && manifest.source.synthetic) {
    throw new Error(`DATA_DIR=${params.dataDir ?? "(unset)"} holds a synthetic set (${manifest.source.description}): PROFILE=${params.profile} trains on real photos only; point DATA_DIR at your photos or use PROFILE=quick`);
  }
}

/** `written` is false when an identical manifest was already there and was kept as it is. */
export async function prepareDataset(params: PrepareParams, opts: PrepareOptions = {}): Promise<{ manifest: DatasetManifest; manifestPath: string; written: boolean }> {
  const source = await acquire(params, opts);
  const manifestSource: DatasetManifest["source"] = { kind: source.kind, location: source.location, synthetic: source.kind === "synthetic", description: source.description };
  assertPhotos(params, { source: manifestSource });
  const { valid, rejected: undecodable } = await validateImages(source.images, { onProgress: opts.onProgress });
  const { valid: unique, rejected: duplicates } = removeDuplicates(valid);
  const { splits, warnings } = splitBalanced({ ...params, images: unique, classes: source.classes });
  const toRecord = (image: (typeof unique)[number]): ImageRecord => ({
    path: image.path,
    label: image.label,
    labelIndex: source.classes.indexOf(image.label),
    sha256: image.sha256,
    width: image.width,
    height: image.height,
  });
  const records = {
    train: splits.train.map(toRecord),
    validation: splits.validation.map(toRecord),
    test: splits.test.map(toRecord),
  };
  const manifest: DatasetManifest = {
    schema: MANIFEST_SCHEMA,
    dataset: datasetNameFor(params),
    source: manifestSource,
    seed: params.seed,
    classes: source.classes,
    requested: { trainPerClass: params.trainPerClass, validationPerClass: params.validationPerClass, testPerClass: params.testPerClass },
    counts: countSplits(records, source.classes),
    splits: records,
    rejected: [...source.skipped, ...undecodable, ...duplicates].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    ...(warnings.length ? { warnings } : {}),
    createdAt: new Date().toISOString(),
  };
  const manifestPath = manifestPathFor(params);
  return { ...(await writeManifest(manifestPath, manifest)), manifestPath };
}
