import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { decodeOne } from "../lib/data/decode";
import { prepareDataset } from "../lib/data/prepare";
import { removeDuplicates, validateImages } from "../lib/data/validate";
import { resolveParams } from "../lib/config";
import { jpeg, jpegs, tempDir, writeFiles } from "./data-helpers";

/** A 20×10 JPEG, left half red and right half blue, stored with an EXIF orientation tag. */
async function orientedJpeg(orientation: number): Promise<Buffer> {
  const pixels = Buffer.alloc(20 * 10 * 3);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) pixels.set(x < 10 ? [255, 0, 0] : [0, 0, 255], (y * 20 + x) * 3);
  return sharp(pixels, { raw: { width: 20, height: 10, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
}

test("corrupt and unusual files: rejected with a reason or converted, never fatal", async () => {
  const root = await tempDir();
  const good = await jpeg(1, { width: 64, height: 48 });
  const gray = await sharp(Buffer.alloc(16 * 16, 128), { raw: { width: 16, height: 16, channels: 1 } }).jpeg().toColourspace("b-w").toBuffer();
  const cmyk = await sharp(await jpeg(2)).toColourspace("cmyk").jpeg().toBuffer();
  const png = await sharp(await jpeg(3)).png().toBuffer();
  await writeFiles(root, {
    "cat/good.jpg": good,
    "cat/empty.jpg": Buffer.alloc(0),
    "cat/truncated.jpg": good.subarray(0, Math.floor(good.length / 2)),
    "cat/text.jpg": "this is not a picture\n",
    "dog/png-named.jpg": png,
    "dog/cmyk.jpg": cmyk,
    "dog/gray.jpg": gray,
    "dog/rotated.jpg": await orientedJpeg(6),
  });
  assert.equal((await sharp(cmyk).metadata()).space, "cmyk", "the fixture really is CMYK");
  assert.equal((await sharp(gray).metadata()).channels, 1, "the fixture really is grayscale");
  const images = (await fs.readdir(path.join(root, "cat"))).map((f) => ({ path: path.join(root, "cat", f), label: "cat" }))
    .concat((await fs.readdir(path.join(root, "dog"))).map((f) => ({ path: path.join(root, "dog", f), label: "dog" })));
  const { valid, rejected } = await validateImages(images);
  const reason = (name: string) => rejected.find((r) => path.basename(r.path) === name)?.reason ?? "";
  assert.match(reason("empty.jpg"), /empty file \(0 bytes\)/);
  assert.match(reason("truncated.jpg"), /truncated|cannot decode/);
  assert.match(reason("text.jpg"), /not an image/);
  assert.equal(rejected.length, 3);
  const byName = new Map(valid.map((v) => [path.basename(v.path), v]));
  assert.equal(byName.get("png-named.jpg")?.format, "png");
  assert.deepEqual([byName.get("rotated.jpg")?.width, byName.get("rotated.jpg")?.height], [10, 20], "EXIF orientation 6 swaps width and height");

  // decoding gives 3-channel sRGB for all of them, and applies the EXIF rotation
  for (const name of ["png-named.jpg", "cmyk.jpg", "gray.jpg"]) {
    const pixels = await decodeOne(path.join(root, "dog", name), 8);
    assert.equal(pixels.length, 8 * 8 * 3, name);
  }
  const gray8 = await decodeOne(path.join(root, "dog", "gray.jpg"), 8);
  assert.ok(Math.abs(gray8[0] - gray8[1]) <= 1 && Math.abs(gray8[1] - gray8[2]) <= 1, "gray stays gray in RGB");
  const cmykPixels = await decodeOne(path.join(root, "dog", "cmyk.jpg"), 24);
  const rgbPixels = await decodeOne(await writeTemp(root, await jpeg(2)), 24);
  const meanDiff = cmykPixels.reduce((sum, v, i) => sum + Math.abs(v - rgbPixels[i]), 0) / cmykPixels.length;
  assert.ok(meanDiff < 40, `CMYK is converted back to RGB (mean difference ${meanDiff.toFixed(1)})`);
  // orientation 6 = rotate 90° clockwise: red (left) ends up on top, blue at the bottom
  const rotated = await decodeOne(path.join(root, "dog", "rotated.jpg"), 10);
  const top = rotated.subarray(0, 3);
  const bottom = rotated.subarray(rotated.length - 3);
  assert.ok(top[0] > 200 && top[2] < 60, `top is red: ${[...top]}`);
  assert.ok(bottom[2] > 200 && bottom[0] < 60, `bottom is blue: ${[...bottom]}`);
});

async function writeTemp(root: string, bytes: Buffer): Promise<string> {
  const file = path.join(root, `tmp-${Math.random().toString(36).slice(2)}.jpg`);
  await fs.writeFile(file, bytes);
  return file;
}

test("exact duplicates never land in two splits; prepare lists them as rejected", async () => {
  const root = await tempDir();
  await jpegs(root, 6, (i) => `train/cat/c${i}.jpg`);
  await jpegs(root, 6, (i) => `train/dog/d${i}.jpg`, 100);
  await jpegs(root, 3, (i) => `validation/cat/c${i}.jpg`, 200);
  await jpegs(root, 3, (i) => `validation/dog/d${i}.jpg`, 300);
  // the same bytes in train/ and validation/, and a copy inside train/
  await fs.copyFile(path.join(root, "train/cat/c0.jpg"), path.join(root, "validation/cat/copy-of-c0.jpg"));
  await fs.copyFile(path.join(root, "train/dog/d1.jpg"), path.join(root, "train/dog/zz-copy-of-d1.jpg"));
  await writeFiles(root, { "train/cat/broken.jpg": Buffer.alloc(0) });
  const params = { ...resolveParams({}), dataDir: root, preparedDir: path.join(root, "prepared"), trainPerClass: 5, validationPerClass: 4, testPerClass: 0 };
  const { manifest, manifestPath } = await prepareDataset(params);
  assert.equal(manifestPath, path.join(root, "prepared", path.basename(root).toLowerCase(), "manifest.json"));
  const shaSplits = new Map<string, Set<string>>();
  for (const split of ["train", "validation", "test"] as const) {
    for (const record of manifest.splits[split]) shaSplits.set(record.sha256, (shaSplits.get(record.sha256) ?? new Set()).add(split));
  }
  const all = Object.values(manifest.splits).flat();
  assert.equal(new Set(all.map((r) => r.sha256)).size, all.length, "every sha256 at most once in the whole manifest");
  const reasons = manifest.rejected.map((r) => `${path.basename(r.path)}: ${r.reason}`);
  assert.ok(reasons.some((r) => r.startsWith("copy-of-c0.jpg: duplicate of") && r.includes("train/cat/c0.jpg")), reasons.join("\n"));
  assert.ok(reasons.some((r) => r.startsWith("zz-copy-of-d1.jpg: duplicate of")), reasons.join("\n"));
  assert.ok(reasons.some((r) => r.startsWith("broken.jpg: empty file")), reasons.join("\n"));
  assert.equal(manifest.counts.validation.cat, 3, "validation/cat keeps its 3 own images (the copy is dropped), not topped up from train/");
  assert.equal(manifest.counts.validation.dog, 3);
  assert.deepEqual(manifest.warnings, ["validation: only 3 cat images (asked for 4)", "validation: only 3 dog images (asked for 4)"]);
  // removeDuplicates on its own: the train copy wins over validation regardless of path order
  const { valid } = removeDuplicates([
    { path: "/a/validation/x.jpg", label: "cat", split: "validation", sha256: "s", width: 1, height: 1, format: "jpeg" },
    { path: "/z/train/x.jpg", label: "cat", split: "train", sha256: "s", width: 1, height: 1, format: "jpeg" },
  ]);
  assert.deepEqual(valid.map((v) => v.split), ["train"]);
});
