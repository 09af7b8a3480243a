// Explicit, user-requested downloads (the dataset archive, Keras weight files — the only network access
// of the project): HTTP(S) with redirects, resume of <file>.part via Range, size and hash verification,
// atomic rename.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DownloadError";
  }
}

export interface DownloadOptions {
  url: string;
  /** Final file path; the transfer goes to `${file}.part` first. */
  file: string;
  bytes?: number;
  sha256?: string;
  /** A further hash to verify, for files published with an md5 (the older Keras weights). */
  md5?: string;
  /** What to tell the user when the download cannot be made (default: put the file there by hand). */
  manualHint?: string;
  /** How long to wait for a connection (and for silence mid-transfer) before giving up. */
  connectTimeoutMs?: number;
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  sha256: string;
  resumedFrom: number;
  alreadyPresent: boolean;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return -1;
  }
}

export async function hashFile(file: string, algorithm: "sha256" | "md5"): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function manualHint(opts: DownloadOptions): string {
  return opts.manualHint ?? `Put the file at ${opts.file} yourself.`;
}

function request(url: string, headers: Record<string, string>, timeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : url.startsWith("http:") ? http : undefined;
    if (!client) return reject(new DownloadError(`unsupported URL ${url}: use http:// or https://`));
    const req = client.get(url, { headers, timeout: timeoutMs }, resolve);
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
  });
}

/** Follows up to 5 redirects; returns the final response (200 or 206). */
async function open(opts: DownloadOptions, offset: number, timeoutMs: number): Promise<http.IncomingMessage> {
  let url = opts.url;
  for (let hop = 0; hop < 6; hop++) {
    let response: http.IncomingMessage;
    try {
      response = await request(url, offset > 0 ? { Range: `bytes=${offset}-` } : {}, timeoutMs);
    } catch (error) {
      if (error instanceof DownloadError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new DownloadError(`cannot download ${opts.url} (cannot reach ${new URL(url).host}: ${code}). Offline? ${manualHint(opts)}`);
    }
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      url = new URL(response.headers.location, url).toString();
      continue;
    }
    return response;
  }
  throw new DownloadError(`too many redirects from ${opts.url}`);
}

/**
 * Downloads `url` to `file`. An existing complete `file` is verified and kept; a `.part` file is
 * resumed with a Range request (a server without Range support restarts it). On a size or hash
 * mismatch the partial file is removed and a DownloadError explains it.
 */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  const part = `${opts.file}.part`;
  await fs.mkdir(path.dirname(opts.file), { recursive: true });
  if ((await sizeOf(opts.file)) >= 0) {
    const verified = await verify(opts, opts.file);
    return { ...verified, resumedFrom: 0, alreadyPresent: true };
  }
  let offset = Math.max(0, await sizeOf(part));
  if (opts.bytes !== undefined && offset > opts.bytes) {
    await fs.rm(part, { force: true });
    offset = 0;
  }
  const resumedFrom = offset;
  if (opts.bytes === undefined || offset < opts.bytes) {
    const response = await open(opts, offset, timeoutMs);
    const status = response.statusCode ?? 0;
    if (status === 416 && offset > 0) {
      response.resume(); // the .part is already complete
    } else if (status === 200 || status === 206) {
      const append = status === 206 && offset > 0;
      if (!append) offset = 0;
      const length = Number(response.headers["content-length"]);
      const total = Number.isFinite(length) ? offset + length : opts.bytes;
      let received = offset;
      response.on("data", (chunk: Buffer) => {
        received += chunk.length;
        opts.onProgress?.(received, total);
      });
      response.setTimeout(timeoutMs * 3, () => response.destroy(new Error(`no data for ${timeoutMs * 3} ms`)));
      try {
        // whatever reaches the disk is a correct prefix, so an interrupted .part can always be resumed
        await pipeline(response, createWriteStream(part, { flags: append ? "a" : "w" }));
      } catch (error) {
        throw new DownloadError(`transfer interrupted after ${received} bytes (${(error as Error).message}): run the command again to resume`);
      }
      if (total !== undefined && received < total) {
        throw new DownloadError(`transfer interrupted after ${received} of ${total} bytes: run the command again to resume`);
      }
    } else {
      response.resume();
      throw new DownloadError(`HTTP ${status} from ${opts.url} — ${manualHint(opts)}`);
    }
  }
  const verified = await verify(opts, part);
  await fs.rename(part, opts.file);
  return { ...verified, file: opts.file, resumedFrom, alreadyPresent: false };
}

async function verify(opts: DownloadOptions, file: string): Promise<{ file: string; bytes: number; sha256: string }> {
  const bytes = await sizeOf(file);
  if (opts.bytes !== undefined && bytes !== opts.bytes) {
    await fs.rm(file, { force: true });
    throw new DownloadError(`${file} has ${bytes} bytes, expected ${opts.bytes}: removed it; run the command again`);
  }
  const sha256 = await hashFile(file, "sha256");
  const expected: Array<["sha256" | "md5", string | undefined]> = [["sha256", opts.sha256], ["md5", opts.md5]];
  for (const [algorithm, value] of expected) {
    if (value === undefined) continue;
    const actual = algorithm === "sha256" ? sha256 : await hashFile(file, algorithm);
    if (actual !== value.toLowerCase()) {
      await fs.rm(file, { force: true });
      throw new DownloadError(`downloaded ${opts.url} but its ${algorithm} is ${actual}, expected ${value}: removed it; run the command again`);
    }
  }
  return { file, bytes, sha256 };
}
