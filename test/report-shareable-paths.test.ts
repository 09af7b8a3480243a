// What people share — the HTML report, executed notebooks, predictions files — shows image paths
// relative to the dataset root, never absolute local paths, and escapes every file name. The photos
// here are named like an attack (`"><img src=x onerror=alert(1)>.jpg`); a real model predicts on them.
// Other local paths (run folder, manifest, workbook) are shown relative to the project or under ~.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { resolveParams } from "../lib/config";
import { evalBatches, imageRootOf, prepareDataset } from "../lib/data/index";
import { rejectedTableHtml } from "../lib/report/dataset";
import { predictSplit, saveEvaluation } from "../lib/evaluate/predict";
import { type Evaluation } from "../lib/schemas/evaluation";
import { loadEvaluations } from "../lib/evaluate/run";
import { renderReportHtml } from "../lib/notebook/html";
import type { Notebook } from "../lib/notebook/nbformat";
import { PROJECT_ROOT, projectPath, shareablePath } from "../lib/paths";
import { misclassifiedGalleryHtml } from "../lib/report/gallery";
import { jpegs, writeFiles } from "./data-helpers";
import { tempDir } from "./temp-dir";

const HOSTILE = `"><img src=x onerror=alert(1)>`;

test("hostile image names: escaped everywhere, and shown relative to the dataset root in the gallery, the report and the predictions file", async () => {
  const dir = await tempDir("showcase-hostile-");
  const photos = path.join(dir, "photos");
  await jpegs(photos, 5, (i) => `cat/${HOSTILE}.${i}.jpg`);
  await jpegs(photos, 5, (i) => `dog/${HOSTILE}.${i}.jpg`, 100);
  await writeFiles(photos, { [`dog/${HOSTILE}.broken.jpg`]: "not a JPEG" });
  const params = resolveParams({ DATA_DIR: photos, PREPARED_DIR: path.join(dir, "prepared"), TRAIN_PER_CLASS: "2", VALIDATION_PER_CLASS: "3", TEST_PER_CLASS: "0" });
  const { manifest } = await prepareDataset(params);
  assert.equal(manifest.splits.validation.length, 6);
  assert.equal(imageRootOf(manifest), photos);

  // A real model over the decoded images: its bias makes it answer "cat" for everything, so every dog is misclassified.
  const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [32, 32, 3] }), tf.layers.dense({ units: 2, activation: "softmax" })] });
  const dense = model.layers[1];
  dense.setWeights([tf.zeros([3, 2]), tf.tensor1d(manifest.classes.map((c) => (c === "cat" ? 2 : 0)))]);
  let evaluation: Evaluation;
  try {
    evaluation = await predictSplit({
      arch: "mobilenet",
      displayName: "MobileNet",
      model,
      batches: evalBatches({ manifest, split: "validation", imageSize: 32, batchSize: 4 }),
      preprocess: (x) => x.div(255),
      classes: manifest.classes,
      imageRoot: imageRootOf(manifest),
    });
  } finally {
    model.dispose();
  }
  assert.equal(evaluation.misclassified.length, 3);

  // predictions file: relative paths with "/" only, the names as they are
  const runDir = path.join(dir, "run");
  await saveEvaluation({ runDir, evaluation });
  const [saved] = await loadEvaluations(runDir);
  for (const p of [...saved.predictions, ...saved.misclassified]) {
    assert.match(p.path, new RegExp(`^(cat|dog)/${HOSTILE.replace(/[()]/g, "\\$&")}\\.\\d\\.jpg$`), p.path);
  }

  // the gallery: thumbnails found through the root, captions relative and escaped
  const gallery = await misclassifiedGalleryHtml(saved);
  assert.equal(gallery.match(/src="data:image\/jpeg;base64,/g)?.length, 3, "each misclassified photo found and shown");
  assert.ok(!gallery.includes(dir), "no absolute local path");
  assert.ok(!gallery.includes("<img src=x"), "the file name is not markup");
  assert.equal(gallery.match(/title="dog\/&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;\.\d\.jpg"/g)?.length, 3);

  // notebook 01's table of rejected files
  const rejected = rejectedTableHtml(manifest);
  assert.ok(!rejected.includes(dir), "no absolute local path");
  assert.ok(!rejected.includes("<img src=x"));
  assert.ok(rejected.includes(`<td>dog/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.broken.jpg</td>`), rejected);

  // the executed notebook and the HTML report built from it
  const notebook: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: "code", source: "showHtml(gallery)", metadata: {}, execution_count: 1, outputs: [
      { output_type: "display_data", data: { "text/html": gallery, "text/plain": "3 misclassified" }, metadata: {} },
      { output_type: "display_data", data: { "text/html": rejected, "text/plain": "rejected" }, metadata: {} },
    ] }],
  };
  const report = renderReportHtml({ entries: [{ name: "03-evaluate.ipynb", status: "passed", notebook }], plotlySource: () => "" });
  for (const [what, text] of [["executed notebook", JSON.stringify(notebook)], ["HTML report", report]] as const) {
    assert.ok(!text.includes(dir), `${what}: no absolute local path`);
    assert.ok(!text.includes("<img src=x"), `${what}: no injected element`);
  }
});

test("local paths in notebook outputs and tables: relative to the project, the home folder as ~, others as they are", () => {
  assert.equal(shareablePath(projectPath("reports", "runs", "quick")), path.join("reports", "runs", "quick"));
  assert.equal(shareablePath(PROJECT_ROOT), ".");
  const home = os.homedir();
  if (!PROJECT_ROOT.startsWith(home + path.sep)) assert.equal(shareablePath(path.join(home, "data", "cats")), path.join("~", "data", "cats"));
  assert.equal(shareablePath("/srv/datasets/cats"), "/srv/datasets/cats");
});
