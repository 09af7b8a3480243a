// The embedded offline dataset: generated "cat" and "dog" figures drawn as SVG, rasterised and
// written as real JPEG files, so they go through exactly the same validation/decode path as photos.
// The classes differ only in shape details (ears, snout, whiskers, tail) that pose, scale, colour,
// clutter, occluders, noise and a few ambiguous individuals blur — learnable, not trivially 100 %.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../io/atomic";
import { mapLimit } from "./concurrency";
import { createRng, deriveSeed, type Rng } from "./prng";

export const SYNTHETIC_CLASSES = ["cat", "dog"] as const;
export const SYNTHETIC_GENERATOR_VERSION = 1;
const STAMP_SCHEMA = "showcase.synthetic-images/1";

export interface SyntheticOptions {
  /** Folder that receives <class>/<class>.<n>.jpg. */
  dir: string;
  perClass: number;
  seed: number;
  /** Square image side in pixels. */
  size?: number;
  concurrency?: number;
}

interface Stamp {
  schema: string;
  version: number;
  perClass: number;
  seed: number;
  size: number;
}

const PALETTE = ["#8b5a2b", "#d2a679", "#3b3b3b", "#f2f2f2", "#c8741e", "#7a7a7a", "#e8c07d", "#4a2f1b", "#a0522d", "#bfbfbf"];

function colour(rng: Rng): string {
  return rng.pick(PALETTE);
}

function randomColour(rng: Rng): string {
  const channel = () => Math.floor(rng.uniform(30, 230)).toString(16).padStart(2, "0");
  return `#${channel()}${channel()}${channel()}`;
}

/** Background gradient plus random shapes, some of them ear-like triangles and ellipses on purpose. */
function clutter(rng: Rng, size: number): string {
  const parts: string[] = [];
  const count = 5 + rng.int(9);
  for (let i = 0; i < count; i++) {
    const x = rng.uniform(0, size);
    const y = rng.uniform(0, size);
    const r = rng.uniform(size * 0.03, size * 0.18);
    const fill = randomColour(rng);
    const opacity = rng.uniform(0.3, 0.9).toFixed(2);
    const kind = rng.int(4);
    if (kind === 0) parts.push(`<circle cx="${x}" cy="${y}" r="${r}" fill="${fill}" opacity="${opacity}"/>`);
    else if (kind === 1) parts.push(`<rect x="${x - r}" y="${y - r / 2}" width="${2 * r}" height="${r}" fill="${fill}" opacity="${opacity}" transform="rotate(${rng.uniform(0, 180)} ${x} ${y})"/>`);
    else if (kind === 2) parts.push(`<polygon points="${x - r},${y + r} ${x + r},${y + r} ${x + rng.uniform(-r, r)},${y - r}" fill="${fill}" opacity="${opacity}"/>`);
    else parts.push(`<line x1="${x}" y1="${y}" x2="${x + rng.uniform(-3 * r, 3 * r)}" y2="${y + rng.uniform(-3 * r, 3 * r)}" stroke="${fill}" stroke-width="${rng.uniform(1, 4)}" opacity="${opacity}"/>`);
  }
  return parts.join("");
}

/**
 * One animal in a local frame centred on the head (head radius 10). Cats: pointed upright ears,
 * whiskers, a short muzzle, a long raised tail. Dogs: hanging ears, a long snout with a dark nose,
 * a short tail. Eyes are shared; whiskers are likelier on cats. About 12 % of each class borrow the
 * other's ears to keep the task from being trivial.
 */
function animal(rng: Rng, label: "cat" | "dog"): string {
  const fur = colour(rng);
  const patch = colour(rng);
  const ambiguousEars = rng.next() < 0.12;
  const pointedEars = label === "cat" ? !ambiguousEars : ambiguousEars;
  const parts: string[] = [];
  // body and tail
  const bodyLength = rng.uniform(14, 20);
  parts.push(`<ellipse cx="${bodyLength * 0.9}" cy="${14}" rx="${bodyLength}" ry="${rng.uniform(7, 10)}" fill="${fur}"/>`);
  if (label === "cat") {
    parts.push(`<path d="M ${bodyLength * 1.8} 12 q 8 -4 6 -${rng.uniform(12, 20)}" stroke="${fur}" stroke-width="3" fill="none"/>`);
  } else {
    parts.push(`<path d="M ${bodyLength * 1.8} 12 l ${rng.uniform(4, 7)} -${rng.uniform(2, 6)}" stroke="${fur}" stroke-width="4" fill="none"/>`);
  }
  for (const legX of [bodyLength * 0.4, bodyLength * 1.4]) {
    parts.push(`<rect x="${legX}" y="18" width="3.5" height="${rng.uniform(8, 12)}" fill="${fur}"/>`);
  }
  // ears behind the head
  if (pointedEars) {
    const earHeight = rng.uniform(8, 13);
    parts.push(`<polygon points="-9,-4 -3,-8 -7,-${6 + earHeight}" fill="${fur}"/>`);
    parts.push(`<polygon points="9,-4 3,-8 7,-${6 + earHeight}" fill="${fur}"/>`);
  } else {
    const earLength = rng.uniform(7, 11);
    parts.push(`<ellipse cx="-9" cy="${earLength / 2 - 2}" rx="3.5" ry="${earLength}" fill="${patch}" transform="rotate(15 -9 0)"/>`);
    parts.push(`<ellipse cx="9" cy="${earLength / 2 - 2}" rx="3.5" ry="${earLength}" fill="${patch}" transform="rotate(-15 9 0)"/>`);
  }
  parts.push(`<circle cx="0" cy="0" r="10" fill="${fur}"/>`);
  if (rng.next() < 0.5) parts.push(`<circle cx="${rng.uniform(-5, 5)}" cy="${rng.uniform(-5, 3)}" r="${rng.uniform(2, 5)}" fill="${patch}"/>`);
  // face: eyes, muzzle
  // eye style and colour are shared by both classes, so they carry no label information
  const eyeColour = rng.pick(["#2e8b57", "#1a1a1a", "#8b6914", "#3a5fcd"]);
  const eye = rng.next() < 0.5 ? `<ellipse cx="0" cy="0" rx="1.6" ry="2.4" fill="${eyeColour}"/>` : `<circle cx="0" cy="0" r="1.8" fill="${eyeColour}"/>`;
  parts.push(`<g transform="translate(-4 -2)">${eye}</g><g transform="translate(4 -2)">${eye}</g>`);
  if (label === "dog") {
    const snout = rng.uniform(5, 8);
    parts.push(`<ellipse cx="0" cy="${4 + snout / 3}" rx="${rng.uniform(4, 6)}" ry="${snout / 2 + 2}" fill="${patch}"/>`);
    parts.push(`<ellipse cx="0" cy="${3 + snout / 2}" rx="2.4" ry="1.8" fill="#111"/>`);
  } else {
    parts.push(`<polygon points="-1.5,3 1.5,3 0,5" fill="${rng.next() < 0.7 ? "#e07a7a" : "#111"}"/>`);
  }
  // whiskers: most cats, some dogs
  if (rng.next() < (label === "cat" ? 0.6 : 0.25)) {
    for (const side of [-1, 1]) {
      for (const dy of [-1, 1]) parts.push(`<line x1="${side * 2}" y1="5" x2="${side * 13}" y2="${5 + dy * 2.5}" stroke="#222" stroke-width="0.5"/>`);
    }
  }
  return parts.join("");
}

/** The SVG of one image: background clutter, the animal in a random pose, maybe an occluder on top. */
export function syntheticSvg(opts: { label: "cat" | "dog"; seed: number; size: number }): string {
  const { size, label } = opts;
  const rng = createRng(opts.seed);
  const background = `<rect width="${size}" height="${size}" fill="${randomColour(rng)}"/>`;
  const scale = (size / 64) * rng.uniform(0.9, 1.6);
  const x = rng.uniform(size * 0.3, size * 0.6);
  const y = rng.uniform(size * 0.3, size * 0.6);
  const angle = rng.uniform(-35, 35);
  const mirror = rng.next() < 0.5 ? -1 : 1;
  const pose = `translate(${x} ${y}) rotate(${angle}) scale(${scale * mirror} ${scale})`;
  const occluder = rng.next() < 0.3 ? `<rect x="${rng.uniform(0, size)}" y="${rng.uniform(0, size)}" width="${size * 0.25}" height="${size * 0.25}" fill="${randomColour(rng)}" transform="rotate(${rng.uniform(0, 90)})"/>` : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${background}${clutter(rng, size)}<g transform="${pose}">${animal(rng, label)}</g>${occluder}</svg>`;
}

/** Rasterises one image, adds pixel noise and encodes a JPEG of random quality. */
export async function renderSyntheticJpeg(opts: { label: "cat" | "dog"; seed: number; size: number }): Promise<Buffer> {
  const rng = createRng(deriveSeed(opts.seed, 7));
  const { data, info } = await sharp(Buffer.from(syntheticSvg(opts))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sigma = rng.uniform(4, 22);
  for (let i = 0; i < data.length; i++) {
    // the sum of two uniforms: a cheap, bounded bell-shaped noise
    const noise = (rng.next() + rng.next() - 1) * sigma * 2.45;
    data[i] = Math.max(0, Math.min(255, data[i] + noise));
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: Math.round(rng.uniform(60, 92)) })
    .toBuffer();
}

/** The stamp file a generated set carries: how a synthetic folder is told from photos. */
export const SYNTHETIC_STAMP_FILE = "generator.json";

/**
 * Writes <dir>/{cat,dog}/<label>.<n>.jpg unless a stamp shows the same (seed, perClass, size) set is
 * already there. Returns the folder and whether anything was generated.
 */
export async function generateSyntheticImages(opts: SyntheticOptions): Promise<{ dir: string; generated: boolean; seconds: number }> {
  const size = opts.size ?? 128;
  const started = performance.now();
  const stampPath = path.join(opts.dir, SYNTHETIC_STAMP_FILE);
  const wanted: Stamp = { schema: STAMP_SCHEMA, version: SYNTHETIC_GENERATOR_VERSION, perClass: opts.perClass, seed: opts.seed, size };
  try {
    const stamp = await readJson<Stamp>(stampPath);
    if (JSON.stringify(stamp) === JSON.stringify(wanted)) return { dir: opts.dir, generated: false, seconds: 0 };
  } catch {
    // no stamp: generate
  }
  await fs.rm(opts.dir, { recursive: true, force: true });
  const jobs = SYNTHETIC_CLASSES.flatMap((label, classIndex) =>
    Array.from({ length: opts.perClass }, (_, n) => ({ label, n, seed: deriveSeed(opts.seed, classIndex, n) })),
  );
  await mapLimit(jobs, opts.concurrency ?? 8, async (job) => {
    const jpeg = await renderSyntheticJpeg({ label: job.label, seed: job.seed, size });
    await writeFileAtomic(path.join(opts.dir, job.label, `${job.label}.${job.n}.jpg`), jpeg, "synthetic images");
  });
  await writeJsonAtomic(stampPath, wanted, "synthetic images");
  return { dir: opts.dir, generated: true, seconds: (performance.now() - started) / 1000 };
}
