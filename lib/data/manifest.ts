// The manifest is the only thing later stages read: where it lives, how it is written, how it is checked.
import * as path from "node:path";
import type { RunParams } from "../config";
import { fileExists, readJson, writeJsonAtomic } from "../io/atomic";
import { type DatasetManifest, MANIFEST_SCHEMA } from "./types";

export const SYNTHETIC_DATASET = "synthetic";

/** Folder name under data/prepared/ for a source: "synthetic", or the data folder's/archive's name. */
export function datasetNameFor(params: Pick<RunParams, "dataDir">): string {
  if (params.dataDir === undefined) return SYNTHETIC_DATASET;
  const base = path.basename(path.resolve(params.dataDir)).replace(/\.zip$/i, "");
  const slug = base.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "");
  // never collide with the embedded set's folder
  return !slug || slug === SYNTHETIC_DATASET ? `data-${slug || "dir"}` : slug;
}

export function datasetDirFor(params: Pick<RunParams, "dataDir" | "preparedDir">): string {
  return path.join(params.preparedDir, datasetNameFor(params));
}

export function manifestPathFor(params: Pick<RunParams, "dataDir" | "preparedDir">): string {
  return path.join(datasetDirFor(params), "manifest.json");
}

/** data/raw/ beside data/prepared/: where archives are extracted. */
export function rawDirFor(params: Pick<RunParams, "preparedDir">): string {
  return path.join(path.dirname(params.preparedDir), "raw");
}

export async function loadManifest(file: string): Promise<DatasetManifest> {
  if (!(await fileExists(file))) {
    throw new Error(`no dataset manifest at ${file}: run notebook 01 or \`npx showcase data prepare\` first (with the same DATA_DIR)`);
  }
  const manifest = await readJson<DatasetManifest>(file);
  if (manifest?.schema !== MANIFEST_SCHEMA) {
    throw new Error(`${file} has schema ${JSON.stringify(manifest?.schema)}, expected "${MANIFEST_SCHEMA}": prepare the dataset again`);
  }
  for (const key of ["classes", "splits", "counts", "rejected"] as const) {
    if (!(key in manifest)) throw new Error(`${file} lacks "${key}": prepare the dataset again`);
  }
  return manifest;
}

/**
 * Writes the manifest atomically. When the file already holds the same content (apart from
 * createdAt), it is left untouched (written: false), so rerunning with the same seed and files keeps
 * its bytes and messages can say "kept" rather than "written".
 */
export async function writeManifest(file: string, manifest: DatasetManifest): Promise<{ manifest: DatasetManifest; written: boolean }> {
  if (await fileExists(file)) {
    try {
      const previous = await readJson<DatasetManifest>(file);
      if (JSON.stringify({ ...previous, createdAt: "" }) === JSON.stringify({ ...manifest, createdAt: "" })) return { manifest: previous, written: false };
    } catch {
      // unreadable: overwrite
    }
  }
  await writeJsonAtomic(file, manifest, "dataset manifest");
  return { manifest, written: true };
}
