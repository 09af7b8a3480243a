import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { resolveParams } from "../lib/config";
import { loadManifest, prepareDataset } from "../lib/data";
import { splitBalanced } from "../lib/data/split";
import type { ValidImage } from "../lib/data/validate";
import { sharedPath } from "../lib/paths";
import { tempDir } from "./data-helpers";

function fakeImages(perClass: number): ValidImage[] {
  return ["cat", "dog"].flatMap((label) =>
    Array.from({ length: perClass }, (_, i) => ({ path: `/data/${label}/${i}.jpg`, label, sha256: `${label}${i}`, width: 10, height: 10, format: "jpeg" })),
  );
}

test("seeded split: class-balanced, sizes from parameters, same seed → same split, other seed → other split", () => {
  const images = fakeImages(50);
  const sizes = { trainPerClass: 20, validationPerClass: 10, testPerClass: 5 };
  const a = splitBalanced({ images, classes: ["cat", "dog"], seed: 7, ...sizes });
  const b = splitBalanced({ images: [...images].reverse(), classes: ["cat", "dog"], seed: 7, ...sizes });
  const c = splitBalanced({ images, classes: ["cat", "dog"], seed: 8, ...sizes });
  for (const [split, n] of [["train", 20], ["validation", 10], ["test", 5]] as const) {
    assert.equal(a.splits[split].filter((r) => r.label === "cat").length, n);
    assert.equal(a.splits[split].filter((r) => r.label === "dog").length, n);
  }
  assert.deepEqual(a, b, "input order does not matter");
  assert.notDeepEqual(a.splits.train.map((r) => r.path), c.splits.train.map((r) => r.path));
  const all = [...a.splits.train, ...a.splits.validation, ...a.splits.test].map((r) => r.path);
  assert.equal(new Set(all).size, all.length, "no image in two splits");
  const short = splitBalanced({ images: fakeImages(12), classes: ["cat", "dog"], seed: 1, ...sizes });
  assert.equal(short.splits.validation.length, 0);
  assert.ok(short.warnings.includes("validation: only 0 cat images (asked for 10)"));
});

test("embedded synthetic set: generated as JPEG, split, and the same seed gives the same manifest (bytes unchanged on a rerun, apart from createdAt when regenerated)", async () => {
  const preparedDir = await tempDir();
  const params = { ...resolveParams({ SEED: "5" }), preparedDir, syntheticPerClass: 30, trainPerClass: 20, validationPerClass: 10 };
  const first = await prepareDataset(params);
  const bytes = await fs.readFile(first.manifestPath, "utf8");
  assert.equal(first.manifest.source.kind, "synthetic");
  assert.equal(first.manifest.source.synthetic, true);
  assert.match(first.manifest.source.description, /SYNTHETIC/);
  assert.deepEqual(first.manifest.counts.train, { cat: 20, dog: 20 });
  assert.deepEqual(first.manifest.counts.validation, { cat: 10, dog: 10 });
  assert.equal(first.manifest.rejected.length, 0);
  assert.ok(first.manifest.splits.train.every((r) => r.path.startsWith(path.join(preparedDir, "synthetic", "images")) && r.path.endsWith(".jpg")));
  assert.equal(first.written, true, "a new manifest is written");
  // A rerun over an unchanged dataset leaves the file alone: same bytes, createdAt included.
  const rerun = await prepareDataset(params);
  assert.equal(rerun.written, false, "an identical manifest is kept, not written (messages say so)");
  assert.equal(await fs.readFile(first.manifestPath, "utf8"), bytes, "an unchanged manifest is not rewritten");
  // Regenerated from scratch: same seed → same images → the same manifest but for its createdAt.
  await fs.rm(path.join(preparedDir, "synthetic"), { recursive: true });
  await new Promise((resolve) => setTimeout(resolve, 5)); // a later createdAt, so that its exclusion is what is tested
  const second = await prepareDataset(params);
  const regenerated = await fs.readFile(second.manifestPath, "utf8");
  assert.notEqual(second.manifest.createdAt, first.manifest.createdAt);
  const withoutCreatedAt = (text: string) => text.replace(/"createdAt": "[^"]*"/, '"createdAt": ""');
  assert.equal(withoutCreatedAt(regenerated), withoutCreatedAt(bytes), "the same bytes apart from createdAt");
  const loaded = await loadManifest(second.manifestPath);
  assert.equal(loaded.schema, "showcase.dataset-manifest/1");
  await assert.rejects(loadManifest(path.join(preparedDir, "nope.json")), /run notebook 01/);
});

test("real photos in ../shared/data/cats-dogs: 1000/1000/400/400 detected, nothing rejected", async (t) => {
  const dataDir = sharedPath("data", "cats-dogs");
  try {
    await fs.access(path.join(dataDir, "train"));
  } catch {
    t.skip(`shared photos absent (${dataDir})`);
    return;
  }
  const preparedDir = await tempDir();
  const { manifest } = await prepareDataset({ ...resolveParams({ PROFILE: "full", DATA_DIR: dataDir }), preparedDir });
  assert.equal(manifest.source.kind, "keras-dir");
  assert.deepEqual(manifest.counts.train, { cat: 1000, dog: 1000 });
  assert.deepEqual(manifest.counts.validation, { cat: 400, dog: 400 });
  assert.deepEqual(manifest.rejected, []);
  assert.equal(manifest.warnings, undefined);
  assert.ok(manifest.splits.train.every((r) => r.width > 0 && r.height > 0 && /^[0-9a-f]{64}$/.test(r.sha256)));
});
