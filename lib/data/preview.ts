// What notebook 01 shows of the images: sample and augmentation grids as PNG (the count tables are in lib/report/dataset.ts).
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { augmentBatch } from "./augment";
import { decodeResized } from "./decode";
import { deriveSeed } from "./prng";
import type { AugmentConfig, DatasetManifest, ImageRecord } from "./types";
import { escapeHtml } from "../html";
import { readyQuietly } from "../engine/capabilities";


function labelSvg(text: string, width: number): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="18"><rect width="${width}" height="18" fill="#000" opacity="0.55"/>` +
      `<text x="4" y="13" font-family="sans-serif" font-size="12" fill="#fff">${escapeHtml(text)}</text></svg>`,
  );
}

async function gridPng(tiles: { pixels: Uint8Array; caption: string }[], opts: { size: number; columns: number }): Promise<Buffer> {
  const gap = 4;
  const rows = Math.ceil(tiles.length / opts.columns);
  const composites = await Promise.all(
    tiles.flatMap((tile, i) => {
      const left = (i % opts.columns) * (opts.size + gap);
      const top = Math.floor(i / opts.columns) * (opts.size + gap);
      return [
        sharp(Buffer.from(tile.pixels), { raw: { width: opts.size, height: opts.size, channels: 3 } }).png().toBuffer().then((input) => ({ input, left, top })),
        Promise.resolve({ input: labelSvg(tile.caption, opts.size), left, top: top + opts.size - 18 }),
      ];
    }),
  );
  return sharp({ create: { width: opts.columns * (opts.size + gap) - gap, height: rows * (opts.size + gap) - gap, channels: 3, background: "#ffffff" } })
    .composite(composites)
    .png()
    .toBuffer();
}

/** The first `perClass` training images of each class, side by side, captioned with their label. */
export function pickSamples(manifest: DatasetManifest, perClass: number): ImageRecord[] {
  return manifest.classes.flatMap((label) => manifest.splits.train.filter((record) => record.label === label).slice(0, perClass));
}

export async function sampleGridPng(opts: { records: ImageRecord[]; size?: number; columns?: number }): Promise<Buffer> {
  const size = opts.size ?? 128;
  const pixels = await decodeResized(opts.records, { size });
  return gridPng(
    pixels.map((p, i) => ({ pixels: p, caption: opts.records[i].label })),
    { size, columns: opts.columns ?? opts.records.length },
  );
}

/** One row per image: the original, then `copies` augmentations of it. */
export async function augmentedGridPng(opts: { records: ImageRecord[]; config: AugmentConfig; seed: number; copies?: number; size?: number }): Promise<Buffer> {
  const size = opts.size ?? 128;
  const copies = opts.copies ?? 5;
  await readyQuietly(); // notebook 01 runs this before any engine is chosen, on tfjs's default backend
  const pixels = await decodeResized(opts.records, { size });
  const tiles: { pixels: Uint8Array; caption: string }[] = [];
  for (let i = 0; i < pixels.length; i++) {
    tiles.push({ pixels: pixels[i], caption: `${opts.records[i].label} original` });
    const augmented = tf.tidy(() => {
      const batch = tf.tensor4d(pixels[i], [1, size, size, 3], "int32").toFloat().tile([copies, 1, 1, 1]) as tf.Tensor4D;
      return augmentBatch(batch, { config: opts.config, seed: deriveSeed(opts.seed, i) }).round().clipByValue(0, 255).toInt();
    });
    const values = Uint8Array.from(augmented.dataSync());
    augmented.dispose();
    for (let c = 0; c < copies; c++) tiles.push({ pixels: values.subarray(c * size * size * 3, (c + 1) * size * size * 3), caption: `augmented ${c + 1}` });
  }
  return gridPng(tiles, { size, columns: copies + 1 });
}
