// What the numbers are, first: data source, weights, transfer, engine and device from run.json (or
// from the parameters before training), as a notebook's Markdown line and as the report page's banner.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveParams } from "../lib/config";
import { renderReportHtml } from "../lib/notebook/html";
import { runFacts, runFactsHtml, runFactsMarkdown } from "../lib/report/run-facts";

test("facts from the parameters alone: synthetic data, random bases, engine not chosen yet", () => {
  const params = resolveParams({});
  assert.deepEqual(runFacts({ params }).map((f) => [f.label, f.value, f.caution]), [
    ["Data", "SYNTHETIC (generated drawings, not photos)", true],
    ["Weights", "random (no ImageNet weights)", true],
    ["Transfer", "frozen", false],
    ["Engine", "ENGINE=auto (chosen when training)", false],
    ["Device", "not chosen yet", false],
  ]);
  assert.equal(runFactsMarkdown({ params }), "Data: **SYNTHETIC (generated drawings, not photos)** · Weights: **random (no ImageNet weights)** · Transfer: frozen · Engine: ENGINE=auto (chosen when training) · Device: not chosen yet");
});

test("facts from a run manifest: real photos, ImageNet weights, the engine and device that trained", () => {
  const params = resolveParams({ DATA_DIR: "/data/cats-dogs", WEIGHTS: "imagenet", TRANSFER: "top:2" });
  const manifest = { params, engine: { engine: "webgpu" as const, device: "gpu" as const }, dataset: { synthetic: false, dataset: "kaggle-cats-dogs" } };
  assert.deepEqual(runFacts(manifest).map((f) => [f.label, f.value, f.caution]), [
    ["Data", "real photos (kaggle-cats-dogs)", false],
    ["Weights", "ImageNet (Keras)", false],
    ["Transfer", "top:2", false],
    ["Engine", "webgpu", false],
    ["Device", "gpu", false],
  ]);
});

test("the report page opens with the facts banner, above the pass/fail banner", () => {
  const html = renderReportHtml({ entries: [{ name: "01-data.ipynb", status: "not-run", note: "not run yet" }], facts: { params: resolveParams({}) }, plotlySource: () => "" });
  const facts = html.indexOf('<div class="banner facts">');
  assert.ok(facts > html.indexOf("<h1>") && facts < html.indexOf('<div class="banner fail">'), "facts first, then pass/fail");
  assert.ok(html.includes(runFactsHtml({ params: resolveParams({}) })));
  assert.match(html, /<span class="fact caution"><b>Data<\/b> SYNTHETIC/);
});

test("ALPHA shows in the facts, with what it did not apply to", () => {
  const lite = resolveParams({ PROFILE: "lite", DATA_DIR: "/data/cats-dogs" });
  assert.deepEqual(runFacts({ params: lite, engine: { engine: "wasm", device: "cpu" }, dataset: { synthetic: false, dataset: "cats-dogs" } }).map((f) => [f.label, f.value]), [
    ["Data", "real photos (cats-dogs)"],
    ["Weights", "ImageNet (Keras)"],
    ["Networks", "mobilenet α=0.25"],
    ["Transfer", "top:4"],
    ["Engine", "wasm"],
    ["Device", "cpu"],
  ]);
  const mixed = resolveParams({ ARCHS: "resnet50,mobilenet", ALPHA: "0.5" });
  assert.equal(runFacts({ params: mixed }).find((f) => f.label === "Networks")?.value, "resnet50, mobilenet α=0.5 (ALPHA=0.5 applies to mobilenet only; resnet50 has no width multiplier)");
});
