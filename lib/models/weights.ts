// The ImageNet weights cache: where each Keras .h5 file lives, a check that it is there (with a message
// saying which file to put where), and a resumable, hash-checked download.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { downloadFile, hashFile, type DownloadOptions } from "../io/download";
import type { ArchId } from "../ids";
import { getArchSpec, type WeightsFile, type WeightsHash } from "./registry";

export interface WeightsLocation {
  weightsDir: string;
  includeTop: boolean;
  /** MobileNets: width multiplier (default 1.0). */
  alpha?: number;
  /** MobileNets: input size the weights were trained at (default 224; others fall back to 224 as in Keras). */
  inputSize?: number;
}

/** The Keras weights file (name, URL, hash) for an architecture and options. */
export function weightsFileFor(id: ArchId | string, opts: Omit<WeightsLocation, "weightsDir">): WeightsFile {
  const spec = getArchSpec(id);
  let files = spec.weights;
  if (opts.alpha !== undefined && !spec.weightsFor) throw new Error(`${spec.id}: alpha applies to mobilenet and mobilenet_v2 only`);
  if (spec.weightsFor && (opts.alpha !== undefined || opts.inputSize !== undefined)) {
    const alpha = opts.alpha ?? 1;
    // Like Keras: sizes without published weights use the 224 px file (the weights are size-independent).
    const sizes = spec.id === "mobilenet_v2" ? [96, 128, 160, 192, 224] : [128, 160, 192, 224];
    const inputSize = opts.inputSize !== undefined && sizes.includes(opts.inputSize) ? opts.inputSize : 224;
    files = spec.weightsFor({ alpha, inputSize });
  }
  return opts.includeTop ? files.top : files.noTop;
}

export function weightsFilePath(id: ArchId | string, opts: WeightsLocation): string {
  return path.join(opts.weightsDir, weightsFileFor(id, opts).file);
}

export class WeightsMissingError extends Error {
  constructor(
    readonly file: string,
    readonly url: string,
  ) {
    super(
      `ImageNet weights not found: ${file}\n` +
        `  download them with \`npx showcase weights download <id>\` (needs internet), or fetch\n` +
        `  ${url}\n  yourself and put the file at ${file} (or set WEIGHTS=none for random initialisation)`,
    );
    this.name = "WeightsMissingError";
  }
}

/** The path of the weights file, or a WeightsMissingError saying which file to put where. */
export async function ensureWeights(id: ArchId | string, opts: WeightsLocation): Promise<string> {
  const file = weightsFilePath(id, opts);
  try {
    await fs.access(file);
    return file;
  } catch {
    throw new WeightsMissingError(file, weightsFileFor(id, opts).url);
  }
}

/**
 * Downloads the Keras weights of an architecture into the cache, resumable and hash-checked (a file
 * already there is verified and kept).
 */
export async function downloadWeights(
  id: ArchId | string,
  opts: WeightsLocation & { onProgress?: DownloadOptions["onProgress"]; baseUrl?: string },
): Promise<{ path: string; bytes: number; alreadyPresent: boolean }> {
  const weights = weightsFileFor(id, opts);
  const file = weightsFilePath(id, opts);
  const url = opts.baseUrl ? new URL(weights.url.split("/keras-applications/")[1], opts.baseUrl).toString() : weights.url;
  const hash = weights.hash ? { [weights.hash.algorithm]: weights.hash.value } : {};
  const result = await downloadFile({ url, file, ...hash, onProgress: opts.onProgress });
  return { path: result.file, bytes: result.bytes, alreadyPresent: result.alreadyPresent };
}

/** What a run records about the ImageNet weights it loaded: the file, its SHA-256, the published hash. */
export interface LoadedWeights {
  file: string;
  sha256: string;
  /** The hash Keras publishes for this file, or null where it publishes none (then unchecked). */
  published: WeightsHash | null;
}

export class WeightsHashMismatchError extends Error {
  constructor(file: string, algorithm: string, found: string, expected: string) {
    super(`ImageNet weights file ${file} is not the Keras file: its ${algorithm} is ${found}, Keras publishes ${expected}. Delete it and download it again (\`npx showcase weights download <id>\`)`);
    this.name = "WeightsHashMismatchError";
  }
}

/** Hashes the weights file and checks it against the published hash where there is one. */
export async function checkWeightsFile(file: string, weights: WeightsFile): Promise<LoadedWeights> {
  const sha256 = await hashFile(file, "sha256");
  const published = weights.hash ?? null;
  if (published) {
    const found = published.algorithm === "sha256" ? sha256 : await hashFile(file, published.algorithm);
    if (found !== published.value.toLowerCase()) throw new WeightsHashMismatchError(file, published.algorithm, found, published.value);
  }
  return { file: path.basename(file), sha256, published };
}
