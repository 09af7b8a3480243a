// Headless Chromium (Debian `chromium`; skipped when absent, a failure with REQUIRE_TOOLS=1): the
// Plotly charts render (an SVG in every chart div) and no error banner shows — in the HTML report
// page the runner renders from our display bundles, in a JupyterLab-like page built from our
// text/html outputs, and in an index.html that `showcase report` writes in this test (never one
// left in reports/ by an earlier run).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { mergeLatency } from "../lib/evaluate/latency-file";
import { summarize } from "../lib/evaluate/summary";
import { renderReportHtml } from "../lib/notebook/html";
import type { Notebook, Output } from "../lib/notebook/nbformat";
import { projectPath } from "../lib/paths";
import { buildCharts, buildFrames, figureBundle, frameBundle } from "../lib/report/index";
import { EVALUATIONS, fixtureResults, HISTORIES } from "./report-fixture";
import { chartSegments, chromiumDom, skipWithout } from "./tools";

const skip = skipWithout("chromium");

function fixtureBundles(): { charts: Record<string, unknown>[]; table: Record<string, unknown> } {
  const results = fixtureResults();
  const latency = mergeLatency(results.latency);
  const summary = summarize({ histories: results.histories, evaluations: results.evaluations, latency });
  const charts = buildCharts({ histories: HISTORIES, evaluations: EVALUATIONS, latency, summary, stepsPerEpoch: 5 }).map((f) => figureBundle(f).data);
  return { charts, table: frameBundle(buildFrames({ results, summary })[4]).data };
}

const display = (data: Record<string, unknown>): Output => ({ output_type: "display_data", data, metadata: {} });

test("charts render in the headless report page, both as plotly JSON and as notebook HTML", { skip, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "chromium-"));
  try {
    const { charts, table } = fixtureBundles();
    // Cell 1: what JupyterLab and the report get (plotly MIME first). Cell 3: only our text/html, as
    // JupyterLab without the plotly extension shows it — a div and a script that draws it, bringing plotly.js.
    const notebook: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
      cells: [
        { cell_type: "code", source: "showFigure(...)", metadata: {}, execution_count: 1, outputs: charts.map(display) },
        { cell_type: "code", source: "showFrame(...)", metadata: {}, execution_count: 2, outputs: [display(table)] },
        { cell_type: "code", source: "html only", metadata: {}, execution_count: 3, outputs: charts.map((c) => display({ "text/html": c["text/html"], "text/plain": c["text/plain"] })) },
      ],
    };
    const reportFile = path.join(dir, "index.html");
    await writeFile(reportFile, renderReportHtml({ entries: [{ name: "03-evaluate.ipynb", status: "passed", notebook }] }));
    const dom = chromiumDom(reportFile, path.join(dir, "profile"));
    const segments = chartSegments(dom, "plotly-chart");
    assert.equal(segments.length, charts.length, "one chart div per figure");
    segments.forEach((segment, i) => assert.match(segment, /<svg[^>]*class="main-svg"/, `chart ${i + 1} rendered an SVG`));
    const htmlCharts = chartSegments(dom, "showcase-plotly");
    assert.equal(htmlCharts.length, charts.length);
    htmlCharts.forEach((segment, i) => assert.match(segment, /<svg[^>]*class="main-svg"/, `text/html chart ${i + 1} rendered an SVG`));
    assert.doesNotMatch(dom, /class="banner fail"/);
    assert.doesNotMatch(dom, /class="output error"/);
    assert.match(dom, /<table class="showcase-table">/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an index.html written by `showcase report` (fixture notebooks with two charts): charts rendered, no error banner", { skip, timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "chromium-report-"));
  try {
    const out = path.join(dir, "reports");
    const report = spawnSync(process.execPath, ["--import", "tsx", projectPath("lib", "cli.ts"), "report", "--notebook-dir", projectPath("test", "fixtures", "notebooks", "pipeline"), "--out", out], {
      cwd: projectPath(),
      encoding: "utf8",
      env: { ...process.env, PIPELINE_DIR: dir },
      timeout: 150_000,
    });
    assert.equal(report.status, 0, report.stderr);
    const dom = chromiumDom(path.join(out, "index.html"), path.join(dir, "profile"));
    assert.doesNotMatch(dom, /class="banner fail"/, "the report says a notebook failed");
    assert.doesNotMatch(dom, /class="output error"/);
    const segments = chartSegments(dom, "plotly-chart");
    assert.equal(segments.length, 2, "the two charts of 01-write.ipynb");
    segments.forEach((segment, i) => assert.match(segment, /<svg[^>]*class="main-svg"/, `chart ${i + 1} rendered an SVG`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
