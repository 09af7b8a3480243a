// The ImageNet weights cache: where each Keras .h5 file lives, a check that it is there (with a message
// saying which file to put where), and a resumable, hash-checked download.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import type { ArchId } from "./ids";
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

export async function hashFile(file: string, algorithm: WeightsHash["algorithm"]): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface DownloadOptions {
  url: string;
  dest: string;
  hash?: WeightsHash;
  /** Called with bytes so far and the total (undefined when the server does not say). */
  onProgress?: (bytes: number, totalBytes: number | undefined) => void;
  /** Give up when no response headers arrive within this time (offline machines fail fast). */
  connectTimeoutMs?: number;
}

/**
 * Downloads to `<dest>.part`, resuming an earlier partial file with an HTTP Range request, checks the
 * hash, then renames atomically. A hash mismatch removes the partial file.
 */
export async function downloadFile(opts: DownloadOptions): Promise<{ path: string; bytes: number; resumedFromBytes: number }> {
  const part = `${opts.dest}.part`;
  await fs.mkdir(path.dirname(opts.dest), { recursive: true });
  let resumedFromBytes = await fs.stat(part).then((stat) => stat.size, () => 0);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.connectTimeoutMs ?? 15_000);
  let response: Response;
  try {
    response = await fetch(opts.url, { headers: resumedFromBytes > 0 ? { Range: `bytes=${resumedFromBytes}-` } : {}, signal: controller.signal });
  } catch (error) {
    const reason = controller.signal.aborted ? "no answer in time" : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new Error(`cannot download ${opts.url} (${reason}). Offline? Put the file at ${opts.dest} yourself.`);
  } finally {
    clearTimeout(timer);
  }

  if (response.status === 416 && resumedFromBytes > 0) {
    // The partial file is already complete: only the hash check and the rename remain.
    await response.body?.cancel();
  } else {
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new Error(`cannot download ${opts.url}: HTTP ${response.status}. Put the file at ${opts.dest} yourself.`);
    }
    if (response.status === 200) resumedFromBytes = 0; // the server ignored the range: start again
    const length = Number(response.headers.get("content-length"));
    const totalBytes = Number.isFinite(length) && length > 0 ? length + resumedFromBytes : undefined;
    const out = createWriteStream(part, { flags: resumedFromBytes > 0 ? "a" : "w" });
    let bytes = resumedFromBytes;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
        bytes += chunk.length;
        opts.onProgress?.(bytes, totalBytes);
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    }
  }

  if (opts.hash) {
    const actual = await hashFile(part, opts.hash.algorithm);
    if (actual !== opts.hash.value) {
      await fs.rm(part, { force: true });
      throw new Error(`downloaded ${opts.url} but its ${opts.hash.algorithm} is ${actual}, expected ${opts.hash.value}: removed it, try again`);
    }
  }
  await fs.rename(part, opts.dest);
  const { size } = await fs.stat(opts.dest);
  return { path: opts.dest, bytes: size, resumedFromBytes };
}

/** Downloads the Keras weights of an architecture into the cache (no-op when present and valid). */
export async function downloadWeights(
  id: ArchId | string,
  opts: WeightsLocation & { onProgress?: DownloadOptions["onProgress"]; baseUrl?: string },
): Promise<{ path: string; bytes: number; alreadyPresent: boolean }> {
  const weights = weightsFileFor(id, opts);
  const dest = weightsFilePath(id, opts);
  const present = await fs.stat(dest).then(() => true, () => false);
  if (present && (!weights.hash || (await hashFile(dest, weights.hash.algorithm)) === weights.hash.value)) {
    const { size } = await fs.stat(dest);
    return { path: dest, bytes: size, alreadyPresent: true };
  }
  const url = opts.baseUrl ? new URL(weights.url.split("/keras-applications/")[1], opts.baseUrl).toString() : weights.url;
  const result = await downloadFile({ url, dest, hash: weights.hash, onProgress: opts.onProgress });
  return { path: result.path, bytes: result.bytes, alreadyPresent: false };
}
