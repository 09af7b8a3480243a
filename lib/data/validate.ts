// Every candidate image is read and decoded once. Files that cannot be decoded are listed with a
// reason and never stop the run; exact duplicates (same sha256) are kept once.
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import sharp from "sharp";
import { mapLimit } from "./concurrency";
import type { SourceImage } from "./sources";
import type { RejectedFile } from "./types";

export interface ValidImage extends SourceImage {
  sha256: string;
  /** After EXIF orientation. */
  width: number;
  height: number;
  /** The real format found in the bytes (a PNG named .jpg says "png"). */
  format: string;
}

export interface ValidationResult {
  valid: ValidImage[];
  rejected: RejectedFile[];
}

const DECODABLE = new Set(["jpeg", "png", "webp", "gif", "tiff", "bmp", "heif", "avif"]);

/** Why sharp refused a file, in words a user can act on. */
function describeDecodeError(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/unsupported image format/i.test(message)) return "not an image (unknown file format)";
  if (/premature end|truncated|end of (file|stream)|unexpected end/i.test(message)) return `truncated image: ${message.split("\n")[0]}`;
  return `cannot decode: ${message.split("\n")[0]}`;
}

async function validateOne(image: SourceImage): Promise<ValidImage | RejectedFile> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(image.path);
  } catch (error) {
    return { path: image.path, reason: `unreadable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  if (bytes.length === 0) return { path: image.path, reason: "empty file (0 bytes)" };
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  try {
    const metadata = await sharp(bytes).metadata();
    const format = metadata.format ?? "unknown";
    if (!DECODABLE.has(format)) return { path: image.path, reason: `unsupported image format "${format}"` };
    // Decoding the whole file (a small thumbnail through shrink-on-load) is what catches truncation;
    // failOn "warning" turns libjpeg's "premature end of data" into an error. rotate() applies EXIF.
    const { info } = await sharp(bytes, { failOn: "warning" }).rotate().resize({ width: 32, height: 32, fit: "inside" }).raw().toBuffer({ resolveWithObject: true });
    const swapped = (metadata.orientation ?? 1) >= 5;
    const width = swapped ? metadata.height! : metadata.width!;
    const height = swapped ? metadata.width! : metadata.height!;
    if (!info.width || !width || !height) return { path: image.path, reason: "cannot decode: empty image" };
    return { ...image, sha256, width, height, format };
  } catch (error) {
    return { path: image.path, reason: describeDecodeError(error) };
  }
}

/** Decodes every image once (in parallel); returns the good ones in input order and the rejected ones. */
export async function validateImages(images: readonly SourceImage[], opts: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<ValidationResult> {
  let done = 0;
  const results = await mapLimit(images, opts.concurrency ?? 8, async (image) => {
    const result = await validateOne(image);
    opts.onProgress?.(++done, images.length);
    return result;
  });
  const valid: ValidImage[] = [];
  const rejected: RejectedFile[] = [];
  for (const result of results) {
    if ("sha256" in result) valid.push(result);
    else rejected.push(result);
  }
  return { valid, rejected };
}

const SPLIT_PRIORITY = { train: 0, validation: 1, test: 2 } as const;

/**
 * Keeps one copy of each sha256. A copy already placed in train/ wins over validation/ and test/,
 * so a duplicate can never end up in two splits; the others are rejected with the path they repeat.
 */
export function removeDuplicates(images: readonly ValidImage[]): ValidationResult {
  const ordered = [...images].sort((a, b) => {
    const byPriority = (a.split ? SPLIT_PRIORITY[a.split] : -1) - (b.split ? SPLIT_PRIORITY[b.split] : -1);
    return byPriority !== 0 ? byPriority : a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
  const seen = new Map<string, ValidImage>();
  const valid: ValidImage[] = [];
  const rejected: RejectedFile[] = [];
  for (const image of ordered) {
    const first = seen.get(image.sha256);
    if (first) {
      rejected.push({ path: image.path, reason: `duplicate of ${first.path} (same sha256)${first.label !== image.label ? `, labelled ${first.label} there` : ""}` });
      continue;
    }
    seen.set(image.sha256, image);
    valid.push(image);
  }
  return { valid, rejected };
}
