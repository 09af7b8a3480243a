// Chart specs carry the expected traces; tables and display bundles carry the expected content.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeLatency } from "../lib/evaluate/latency-file";
import { summarize } from "../lib/evaluate/summary";
import { buildCharts, buildFrames, figureBundle, frameBundle, frameHtml, frameRows, PLOTLY_MIME, SHEET_NAMES } from "../lib/report/index";
import { EVALUATIONS, fixtureResults, HISTORIES } from "./report-fixture";

function fixture() {
  const results = fixtureResults();
  const latency = mergeLatency(results.latency);
  const summary = summarize({ histories: results.histories, evaluations: results.evaluations, latency, failures: results.failures, missing: results.missing, synthetic: true });
  return { results, latency, summary };
}

test("Graphs 1–4 and the trade-off chart have the expected traces", () => {
  const { latency, summary } = fixture();
  const charts = buildCharts({ histories: HISTORIES, evaluations: EVALUATIONS, latency, summary, stepsPerEpoch: 5 });
  const [graph1, graph2, graph3, graph4, tradeOff] = charts;
  assert.deepEqual(charts.map((c) => c.id), ["graph1-validation-accuracy", "graph2-wrong-classifications", "graph3-time-wall", "graph4-loss-accuracy", "trade-off-accuracy-latency"]);
  // Graph 1: one line per network, epochs on x, validation accuracy on y
  assert.deepEqual(graph1.data.map((t) => t.name), ["DenseNet121", "ResNet50", "MobileNet"]);
  assert.deepEqual(graph1.data[0].x, [1, 2, 3]);
  assert.deepEqual(graph1.data[0].y, [0.7, 0.8, 0.9]);
  // Graph 2: stacked bars, one trace per true class; DenseNet121 wrong on cats 0,1 and dogs 25,26
  assert.equal(graph2.layout.barmode, "stack");
  assert.deepEqual(graph2.data.map((t) => [t.type, t.name]), [["bar", "true cat"], ["bar", "true dog"]]);
  assert.deepEqual(graph2.data[0].y, [2, 5, 7]);
  assert.deepEqual(graph2.data[1].y, [2, 3, 3]);
  // Graph 3: cumulative wall clock = build 1.5 s + epoch seconds
  assert.deepEqual(graph3.data[0].x, [31.5, 59.5, 88.5]);
  // Graph 4: train/validation × loss/accuracy per network, x in steps (epoch × 5)
  assert.equal(graph4.data.length, 4 * HISTORIES.length);
  assert.deepEqual(graph4.data[0].x, [5, 10, 15]);
  assert.deepEqual(new Set(graph4.data.map((t) => t.yaxis)), new Set(["y", "y2"]));
  // Trade-off: all networks on the first machine (laptop) plus the Pareto front
  assert.deepEqual(tradeOff.data.map((t) => t.name), ["networks", "Pareto front"]);
  assert.deepEqual(tradeOff.data[0].text, ["DenseNet121", "ResNet50", "MobileNet"]);
  // laptop: MobileNet 75 % at 9 ms, ResNet50 76 %... evaluations: MobileNet 30/40, ResNet50 32/40, DenseNet121 36/40 → all on the front
  assert.deepEqual(tradeOff.data[1].x, [9, 45, 60]);
  assert.deepEqual(tradeOff.data[1].y, [0.75, 0.8, 0.9]);
});

test("Plotly's toolbar keeps clear of the titles: upright in a right margin, titles start at the left", () => {
  const { latency, summary } = fixture();
  for (const chart of buildCharts({ histories: HISTORIES, evaluations: EVALUATIONS, latency, summary, stepsPerEpoch: 5 })) {
    const layout = chart.layout as { title: { x: number; xanchor: string }; modebar: { orientation: string }; margin: { r: number } };
    assert.deepEqual([layout.title.x, layout.title.xanchor], [0, "left"], chart.id);
    assert.equal(layout.modebar.orientation, "v", chart.id);
    assert.ok(layout.margin.r >= 40, `${chart.id}: right margin ${layout.margin.r} px holds the toolbar`);
  }
});

test("frames: one per sheet, with the study's columns and the missing and failed runs", () => {
  const { results, summary } = fixture();
  const frames = buildFrames({ results, summary });
  assert.deepEqual(frames.map((f) => f.sheet), [...SHEET_NAMES]);
  const duration = frames[0];
  assert.deepEqual(duration.frame.columns, ["Network", "Epoch 1 (s)", "Epoch 2 (s)", "Epoch 3 (s)", "Training (s)", "Build (s)", "Save (s)", "Total (s)"]);
  assert.deepEqual(frameRows(duration.frame)[0], ["DenseNet121", 30, 28, 29, 87, 1.5, 0.5, 89]);
  const time = frames[3];
  assert.equal(frameRows(time.frame).length, 6); // 2 machines × 3 networks
  const run = new Map(frameRows(frames[7].frame).map(([field, value]) => [field, value]));
  assert.equal(run.get("Failed"), "densenet169: out of memory at batch size 16");
  assert.equal(run.get("Missing"), "inception_v3");
  assert.match(String(run.get("Synthetic data")), /^yes/);
  const specs = new Map(frameRows(frames[6].frame).map(([field, ...values]) => [field, values]));
  assert.deepEqual(frames[6].frame.columns, ["Field", "trainer-trainer", "laptop", "workstation"]);
  assert.deepEqual(specs.get("CPU"), ["Trainer CPU", "laptop CPU", "workstation CPU"]);
});

test("display bundles: HTML table with the best value marked; Plotly as plotly JSON + HTML + text", () => {
  const { results, summary } = fixture();
  const wrong = buildFrames({ results, summary })[4];
  const html = frameHtml(wrong);
  assert.match(html, /<caption[^>]*>Wrong classifications per true class/);
  assert.match(html, /font-weight:bold;background:#c6efce">90\.0 %<\/td>/); // DenseNet121's accuracy, the best
  assert.deepEqual(Object.keys(frameBundle(wrong).data).sort(), ["text/html", "text/plain"]);
  const charts = buildCharts({ histories: HISTORIES, evaluations: EVALUATIONS, latency: mergeLatency(results.latency), summary, stepsPerEpoch: 1 });
  const bundle = figureBundle(charts[0]);
  assert.deepEqual(Object.keys(bundle.data).sort(), [PLOTLY_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual((bundle.data[PLOTLY_MIME] as { data: unknown[] }).data.length, 3);
  // The HTML carries plotly.js as inert text (loaded only without window.Plotly) and a text fallback for pages without scripts.
  const chart = String(bundle.data["text/html"]);
  assert.match(chart, /<div id="graph1-validation-accuracy-[a-z0-9]+" class="showcase-plotly"/);
  assert.match(chart, /<script type="text\/plain" id="graph1-validation-accuracy-[a-z0-9]+-plotly">\/\*\*\n\* plotly\.js \(basic - minified\) v\d/);
  assert.equal(chart.match(/<\/script>/g)?.length, 2, "the library's own text cannot end its script element early");
  assert.match(chart, /class="showcase-chart-fallback"[^>]*>Graph 1 — Validation accuracy per epoch: an interactive chart \(Plotly\) that needs JavaScript\. Trust the notebook/);
  assert.match(chart, /open reports\/index\.html/);
  assert.match(String(bundle.data["text/plain"]), /^Graph 1 — Validation accuracy per epoch \(3 traces; .*trust the notebook/);
});
