import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { detectSource, LayoutError } from "../lib/data/sources";
import { jpeg, jpegs, tempDir, writeFiles, zipStored } from "./data-helpers";

const count = (images: { label: string; split?: string }[], label: string, split?: string) =>
  images.filter((image) => image.label === label && image.split === split).length;

test("Keras layout with train/ and validation/ (plural folder names) keeps the folders' split", async () => {
  const root = await tempDir();
  await jpegs(root, 3, (i) => `train/cats/c${i}.jpg`);
  await jpegs(root, 4, (i) => `train/dogs/d${i}.jpg`, 10);
  await jpegs(root, 2, (i) => `validation/cats/c${i}.jpg`, 20);
  await jpegs(root, 2, (i) => `validation/dogs/d${i}.jpg`, 30);
  await writeFiles(root, { "train/cats/notes.txt": "not an image", "train/dogs/Thumbs.db": "x" });
  const source = await detectSource({ dataDir: root, rawDir: path.join(root, "raw") });
  assert.equal(source.kind, "keras-dir");
  assert.deepEqual(source.classes, ["cat", "dog"]);
  assert.equal(count(source.images, "cat", "train"), 3);
  assert.equal(count(source.images, "dog", "train"), 4);
  assert.equal(count(source.images, "dog", "validation"), 2);
  assert.deepEqual(source.skipped.map((s) => path.basename(s.path)), ["notes.txt"]);
});

test("Keras layout with only train/ leaves the split to the seed", async () => {
  const root = await tempDir();
  await jpegs(root, 2, (i) => `train/cat/c${i}.jpg`);
  await jpegs(root, 2, (i) => `train/dog/d${i}.jpg`, 10);
  const source = await detectSource({ dataDir: root, rawDir: path.join(root, "raw") });
  assert.equal(source.kind, "keras-dir");
  assert.equal(count(source.images, "cat", undefined), 2);
  assert.match(source.description, /split by seed/);
});

test("Kaggle: extracted train/ with cat.N.jpg and dog.N.jpg, and train.zip", async () => {
  const root = await tempDir();
  await jpegs(root, 3, (i) => `train/cat.${i}.jpg`);
  await jpegs(root, 3, (i) => `train/dog.${i}.jpg`, 10);
  const folder = await detectSource({ dataDir: root, rawDir: path.join(root, "raw") });
  assert.equal(folder.kind, "kaggle");
  assert.equal(count(folder.images, "dog", undefined), 3);

  const zipRoot = await tempDir();
  const entries: Record<string, Buffer> = {};
  for (let i = 0; i < 3; i++) {
    entries[`train/cat.${i}.jpg`] = await jpeg(i + 1);
    entries[`train/dog.${i}.jpg`] = await jpeg(i + 11);
  }
  await writeFiles(zipRoot, { "train.zip": zipStored(entries) });
  const rawDir = path.join(zipRoot, "raw");
  for (const dataDir of [zipRoot, path.join(zipRoot, "train.zip")]) {
    const zipped = await detectSource({ dataDir, rawDir });
    assert.equal(zipped.kind, "kaggle");
    assert.equal(zipped.images.length, 6);
    assert.ok(zipped.images.every((image) => image.path.startsWith(path.join(rawDir, "train"))), "extracted under data/raw/");
  }
});

test("Microsoft PetImages: folder and kagglecatsanddogs_*.zip", async () => {
  const root = await tempDir();
  await jpegs(root, 2, (i) => `PetImages/Cat/${i}.jpg`);
  await jpegs(root, 3, (i) => `PetImages/Dog/${i}.jpg`, 10);
  const folder = await detectSource({ dataDir: root, rawDir: path.join(root, "raw") });
  assert.equal(folder.kind, "petimages");
  assert.deepEqual(folder.classes, ["cat", "dog"]);
  assert.equal(count(folder.images, "dog", undefined), 3);
  const direct = await detectSource({ dataDir: path.join(root, "PetImages"), rawDir: path.join(root, "raw") });
  assert.equal(direct.kind, "petimages");

  const zipRoot = await tempDir();
  const entries: Record<string, Buffer> = { "readme[1].txt": Buffer.from("licence") };
  for (let i = 0; i < 2; i++) {
    entries[`PetImages/Cat/${i}.jpg`] = await jpeg(i + 1);
    entries[`PetImages/Dog/${i}.jpg`] = await jpeg(i + 11);
  }
  entries["PetImages/Cat/Thumbs.db"] = Buffer.from("thumbnail cache");
  const archive = path.join(zipRoot, "kagglecatsanddogs_5340.zip");
  await fs.writeFile(archive, zipStored(entries));
  const zipped = await detectSource({ dataDir: archive, rawDir: path.join(zipRoot, "raw") });
  assert.equal(zipped.kind, "petimages");
  assert.equal(zipped.images.length, 4);
  assert.equal(zipped.skipped.length, 0, "Thumbs.db is ignored, not rejected");
  // a second detection reuses the extraction (the stamp), and the folder form works too
  const again = await detectSource({ dataDir: zipRoot, rawDir: path.join(zipRoot, "raw") });
  assert.equal(again.kind, "petimages");
});

test("an unrecognised layout gets a message listing the accepted layouts", async () => {
  const root = await tempDir();
  await writeFiles(root, { "photos/a.jpg": await jpeg(1), "readme.md": "hello" });
  await assert.rejects(detectSource({ dataDir: root, rawDir: path.join(root, "raw") }), (error: Error) => {
    assert.ok(error instanceof LayoutError);
    assert.match(error.message, /Keras folders: train\/\{cat,dog\}/);
    assert.match(error.message, /Kaggle Dogs vs\. Cats: train\.zip/);
    assert.match(error.message, /PetImages/);
    assert.match(error.message, /readme\.md/);
    return true;
  });
  await assert.rejects(detectSource({ dataDir: path.join(root, "missing"), rawDir: root }), /does not exist/);
});

test("a generated set is labelled synthetic in DATA_DIR itself, in a subfolder, and inside a zip (its generator.json stamp)", async () => {
  const root = await tempDir();
  await jpegs(root, 2, (i) => `set/cat/cat.${i}.jpg`);
  await jpegs(root, 2, (i) => `set/dog/dog.${i}.jpg`, 10);
  await writeFiles(root, { "set/generator.json": "{}" });
  const direct = await detectSource({ dataDir: path.join(root, "set"), rawDir: path.join(root, "raw") });
  assert.equal(direct.kind, "synthetic");
  assert.equal(direct.description, `SYNTHETIC: generated drawings in ${path.join(root, "set")} (generator.json), not photos`);
  const parent = await detectSource({ dataDir: root, rawDir: path.join(root, "raw") });
  assert.equal(parent.kind, "synthetic", "not Kaggle photos because of the cat.N.jpg names");
  assert.match(parent.description, /SYNTHETIC: .*\(set[\\/]generator\.json\)/);

  const zipRoot = await tempDir();
  const entries: Record<string, Buffer> = { "set/generator.json": Buffer.from("{}") };
  for (let i = 0; i < 2; i++) {
    entries[`set/cat/cat.${i}.jpg`] = await jpeg(i + 1);
    entries[`set/dog/dog.${i}.jpg`] = await jpeg(i + 11);
  }
  const archive = path.join(zipRoot, "generated.zip");
  await fs.writeFile(archive, zipStored(entries));
  assert.equal((await detectSource({ dataDir: archive, rawDir: path.join(zipRoot, "raw") })).kind, "synthetic");
});
