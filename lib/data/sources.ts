// Recognises where the images are and how they are labelled. Every source becomes the same list of
// (path, label, optional pre-assigned split); validation, split and manifest do not care which it was.
import { type Dirent, promises as fs } from "node:fs";
import * as path from "node:path";
import { fileExists } from "../io/atomic";
import { SYNTHETIC_STAMP_FILE } from "./synthetic";
import type { SourceKind, SplitName } from "./types";
import { extractZipOnce } from "./zip";

export interface SourceImage {
  path: string;
  label: string;
  /** Split fixed by the source's folders (Keras layout); undefined = assigned by the seeded split. */
  split?: SplitName;
}

export interface DetectedSource {
  kind: SourceKind;
  /** The folder or archive the user pointed at. */
  location: string;
  /** Human-readable layout, e.g. "Keras folders train/ + validation/ (cats, dogs)". */
  description: string;
  classes: string[];
  images: SourceImage[];
  /** Files that are in the layout but are not image files by name (e.g. notes.txt). */
  skipped: { path: string; reason: string }[];
}

export const ACCEPTED_LAYOUTS = [
  "Keras folders: train/{cat,dog}/*.jpg and optionally validation/{cat,dog}/ and test/{cat,dog}/ (cats/dogs also accepted; with only train/ it is split by seed)",
  "class folders: <DIR>/{cat,dog}/*.jpg (two or more class folders; split by seed)",
  "Kaggle Dogs vs. Cats: train.zip, or its extracted train/ with cat.N.jpg and dog.N.jpg",
  "Microsoft PetImages: kagglecatsanddogs_*.zip, or PetImages/Cat/N.jpg and PetImages/Dog/N.jpg (fetch it with `npx showcase data download`)",
];

export class LayoutError extends Error {
  constructor(location: string, detail: string) {
    super(
      `no recognised image layout at ${location} (${detail}). Accepted layouts:\n` +
        ACCEPTED_LAYOUTS.map((layout) => `  - ${layout}`).join("\n") +
        "\nSet DATA_DIR (or --data-dir) to such a folder or archive, or leave it unset for the embedded synthetic set.",
    );
    this.name = "LayoutError";
  }
}

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"]);
const IGNORED_FILES = new Set(["thumbs.db", ".ds_store", "desktop.ini"]);
const SPLIT_FOLDERS: Record<SplitName, string[]> = { train: ["train"], validation: ["validation", "valid", "val"], test: ["test"] };
const KAGGLE_NAME = /^(cat|dog)\.\d+\.(jpe?g)$/i;

/** "cats" → "cat", "Dog" → "dog": the Keras examples use plural folders, PetImages capitalises. */
export function normaliseLabel(folder: string): string {
  const lower = folder.toLowerCase();
  return lower === "cats" ? "cat" : lower === "dogs" ? "dog" : lower;
}

async function readDir(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function findChild(entries: Dirent[], names: string[], wantDir: boolean): string | undefined {
  const match = entries.find((entry) => (wantDir ? entry.isDirectory() : entry.isFile()) && names.includes(entry.name.toLowerCase()));
  return match?.name;
}

/** All files below `dir`, recursively, sorted for determinism. */
async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readDir(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

interface Collected {
  images: SourceImage[];
  skipped: { path: string; reason: string }[];
}

function collect(files: string[], label: (file: string) => string | undefined, split?: SplitName): Collected {
  const result: Collected = { images: [], skipped: [] };
  for (const file of files) {
    const base = path.basename(file);
    if (IGNORED_FILES.has(base.toLowerCase()) || base.startsWith(".")) continue;
    const className = label(file);
    if (className === undefined) continue;
    if (!IMAGE_EXTENSIONS.has(path.extname(base).toLowerCase())) {
      result.skipped.push({ path: file, reason: `not an image file name (extension "${path.extname(base)}")` });
      continue;
    }
    result.images.push({ path: file, label: className, split });
  }
  return result;
}

/** Class folders directly inside `dir` that hold at least one file (recursively). */
async function classFolders(dir: string): Promise<string[]> {
  const folders: string[] = [];
  for (const entry of await readDir(dir)) {
    if (entry.isDirectory() && !entry.name.startsWith(".") && (await walkFiles(path.join(dir, entry.name))).length > 0) folders.push(entry.name);
  }
  return folders.sort();
}

async function collectClassFolders(dir: string, split?: SplitName): Promise<Collected> {
  const result: Collected = { images: [], skipped: [] };
  for (const folder of await classFolders(dir)) {
    const part = collect(await walkFiles(path.join(dir, folder)), () => normaliseLabel(folder), split);
    result.images.push(...part.images);
    result.skipped.push(...part.skipped);
  }
  return result;
}

function finish(kind: SourceKind, location: string, description: string, collected: Collected): DetectedSource {
  const classes = [...new Set(collected.images.map((image) => image.label))].sort();
  if (classes.length < 2) throw new LayoutError(location, `found ${classes.length} class with images: ${classes.join(", ") || "none"}; need two`);
  return { kind, location, description, classes, images: collected.images, skipped: collected.skipped };
}

async function kerasLayout(dir: string, location: string, entries: Dirent[]): Promise<DetectedSource | undefined> {
  const trainName = findChild(entries, SPLIT_FOLDERS.train, true);
  if (!trainName) return undefined;
  const trainClasses = await classFolders(path.join(dir, trainName));
  if (trainClasses.length < 2) return undefined;
  const collected: Collected = { images: [], skipped: [] };
  const used: string[] = [];
  const otherSplits = (["validation", "test"] as const).filter((split) => findChild(entries, SPLIT_FOLDERS[split], true));
  // with only train/, leave the split to the seed (split undefined)
  const presplit = otherSplits.length > 0;
  for (const split of ["train", ...otherSplits] as SplitName[]) {
    const name = findChild(entries, SPLIT_FOLDERS[split], true)!;
    const part = await collectClassFolders(path.join(dir, name), presplit ? split : undefined);
    collected.images.push(...part.images);
    collected.skipped.push(...part.skipped);
    used.push(`${name}/`);
  }
  const classes = trainClasses.join(", ");
  return finish("keras-dir", location, `Keras folders ${used.join(" + ")} (${classes})${presplit ? "" : ", split by seed"}`, collected);
}

async function kaggleFolder(dir: string, location: string): Promise<DetectedSource | undefined> {
  const files = await walkFiles(dir);
  if (!files.some((file) => KAGGLE_NAME.test(path.basename(file)))) return undefined;
  const collected = collect(files, (file) => KAGGLE_NAME.exec(path.basename(file))?.[1].toLowerCase());
  return finish("kaggle", location, `Kaggle Dogs vs. Cats train/ (cat.N.jpg, dog.N.jpg) in ${dir}`, collected);
}

async function petImagesFolder(dir: string, location: string): Promise<DetectedSource | undefined> {
  const entries = await readDir(dir);
  if (!findChild(entries, ["cat"], true) || !findChild(entries, ["dog"], true)) return undefined;
  const collected = await collectClassFolders(dir);
  return finish("petimages", location, `Microsoft PetImages Cat/ + Dog/ in ${dir}`, collected);
}

async function detectFolder(dir: string, location: string, opts: { rawDir: string; depth: number; onProgress?: (message: string) => void }): Promise<DetectedSource> {
  const entries = await readDir(dir);
  const keras = await kerasLayout(dir, location, entries);
  if (keras) return keras;
  const trainName = findChild(entries, ["train"], true);
  if (trainName) {
    const kaggle = await kaggleFolder(path.join(dir, trainName), location);
    if (kaggle) return kaggle;
  }
  const petName = findChild(entries, ["petimages"], true);
  if (petName) {
    const pet = await petImagesFolder(path.join(dir, petName), location);
    if (pet) return pet;
  }
  if (path.basename(dir).toLowerCase() === "petimages") {
    const pet = await petImagesFolder(dir, location);
    if (pet) return pet;
  }
  if (opts.depth < 2) {
    const archive =
      findChild(entries, ["train.zip"], false) ??
      entries.find((entry) => entry.isFile() && /^kagglecatsanddogs.*\.zip$/i.test(entry.name))?.name ??
      entries.find((entry) => entry.isFile() && /^dogs-vs-cats.*\.zip$/i.test(entry.name))?.name;
    if (archive) return detectArchive(path.join(dir, archive), location, { ...opts, depth: opts.depth + 1 });
  }
  const kaggle = await kaggleFolder(dir, location);
  if (kaggle) return kaggle;
  const classes = await classFolders(dir);
  if (classes.length >= 2) {
    const collected = await collectClassFolders(dir);
    return finish("keras-dir", location, `class folders ${classes.map((name) => `${name}/`).join(" + ")}, split by seed`, collected);
  }
  const names = entries.slice(0, 8).map((entry) => entry.name + (entry.isDirectory() ? "/" : ""));
  throw new LayoutError(location, names.length ? `it contains ${names.join(", ")}${entries.length > 8 ? ", …" : ""}` : "it is empty");
}

async function detectArchive(archive: string, location: string, opts: { rawDir: string; depth: number; onProgress?: (message: string) => void }): Promise<DetectedSource> {
  const extracted = await extractZipOnce({ archive, rawDir: opts.rawDir, onProgress: opts.onProgress });
  const detected = await detectFolder(extracted, location, opts);
  if (/^kagglecatsanddogs/i.test(path.basename(archive))) return { ...detected, kind: "petimages" };
  return detected;
}

/**
 * A generated set (lib/data/synthetic) carries a stamp beside its class folders. Where `dataDir`
 * itself or a folder holding class folders of the detected images (in a subfolder, or inside an
 * archive) has one, the images are drawings, not photos, whatever layout they were found in.
 */
async function labelSynthetic(detected: DetectedSource, dataDir: string, isFolder: boolean): Promise<DetectedSource> {
  const holders = new Set(detected.images.map((image) => path.dirname(path.dirname(image.path))));
  const candidates = [...(isFolder ? [detected.location] : []), ...[...holders].sort()];
  for (const dir of candidates) {
    const stamp = path.join(dir, SYNTHETIC_STAMP_FILE);
    if (!(await fileExists(stamp))) continue;
    const relative = path.relative(detected.location, stamp);
    const where = isFolder && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : SYNTHETIC_STAMP_FILE;
    return { ...detected, kind: "synthetic", description: `SYNTHETIC: generated drawings in ${dataDir} (${where}), not photos` };
  }
  return detected;
}

/**
 * Detects the layout of `dataDir` (a folder or a .zip). Archives are extracted under `rawDir`.
 * A generated set (its stamp beside the class folders, at any depth found) is labelled "synthetic".
 * Throws a LayoutError that lists the accepted layouts when nothing fits.
 */
export async function detectSource(opts: { dataDir: string; rawDir: string; onProgress?: (message: string) => void }): Promise<DetectedSource> {
  const location = path.resolve(opts.dataDir);
  let stat;
  try {
    stat = await fs.stat(location);
  } catch {
    throw new LayoutError(location, "it does not exist");
  }
  if (stat.isFile()) {
    if (!/\.zip$/i.test(location)) throw new LayoutError(location, "it is a file but not a .zip archive");
    return labelSynthetic(await detectArchive(location, location, { rawDir: opts.rawDir, depth: 1, onProgress: opts.onProgress }), opts.dataDir, false);
  }
  return labelSynthetic(await detectFolder(location, location, { rawDir: opts.rawDir, depth: 0, onProgress: opts.onProgress }), opts.dataDir, true);
}
