// Public API of the data stage (see the team contract): prepare, load, decode, augment, batch.
export { augmentBatch, augmentBatchWithOps, augmentedBatch, augmentImages, augmentPixels, drawTransforms, NO_AUGMENT, STUDY_AUGMENT, transformRow, warpWithGather } from "./augment";
export type { ImageTransform } from "./augment";
export { type Batch, evalBatches, stepsPerEpochFor, trainBatches, trainEpochRecords } from "./batches";
export { cacheFileFor, decodeOne, decodeResized } from "./decode";
export { DEFAULT_PETIMAGES, downloadDataset, DownloadError } from "./download";
export { datasetNameFor, loadManifest, manifestPathFor, rawDirFor } from "./manifest";
export { imageRootOf, relativeImagePath } from "./image-root";
export { assertPhotos, prepareDataset, SYNTHETIC_IMAGE_SIZE } from "./prepare";
export { augmentedGridPng, pickSamples, sampleGridPng } from "./preview";
export { ACCEPTED_LAYOUTS, detectSource, LayoutError } from "./sources";
export { splitBalanced } from "./split";
export { generateSyntheticImages } from "./synthetic";
export * from "./types";
