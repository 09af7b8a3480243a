// The dataset manifest: what notebook 01 writes and every later stage reads (never its memory).
export const MANIFEST_SCHEMA = "showcase.dataset-manifest/1";

export type ClassName = string; // "cat" | "dog" for the study; a user's folders may name others
export type SplitName = "train" | "validation" | "test";

export interface ImageRecord {
  /** Absolute path of the original file (inside an extracted archive for zip sources). */
  path: string;
  label: ClassName;
  /** Index of `label` in `DatasetManifest.classes`. */
  labelIndex: number;
  sha256: string;
  /** Size after EXIF orientation is applied. */
  width: number;
  height: number;
}

export interface RejectedFile {
  path: string;
  reason: string;
}

export type SourceKind = "synthetic" | "keras-dir" | "kaggle" | "petimages";

export interface DatasetManifest {
  schema: typeof MANIFEST_SCHEMA;
  /** Folder name under data/prepared/. */
  dataset: string;
  source: { kind: SourceKind; location: string; synthetic: boolean; description: string };
  seed: number;
  classes: ClassName[];
  /** Requested images per class and split. */
  requested: { trainPerClass: number; validationPerClass: number; testPerClass: number };
  /** Images per split and class actually present. */
  counts: Record<SplitName, Record<ClassName, number>>;
  splits: Record<SplitName, ImageRecord[]>;
  rejected: RejectedFile[];
  /** Shortfalls such as "validation: only 300 cat images (asked for 400)"; absent when none. */
  warnings?: string[];
  createdAt: string;
}

/** Keras ImageDataGenerator parameters (the study's settings are the defaults in lib/data). */
export interface AugmentConfig {
  rotationRange: number; // degrees, uniform in [-r, r]
  widthShiftRange: number; // fraction of width
  heightShiftRange: number; // fraction of height
  shearRange: number; // degrees (Keras ≥ 2.2 semantics)
  zoomRange: [number, number]; // Keras zoom_range as [lower, upper]
  channelShiftRange: number; // added per channel, in 0–255 intensity units
  horizontalFlip: boolean;
  fillMode: "nearest" | "constant" | "reflect" | "wrap";
  cval: number;
}
