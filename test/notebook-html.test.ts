// The report page: banner, table of contents, outputs, Plotly inlined once, nothing external.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CodeCell, Notebook, Output } from "../lib/notebook/nbformat";
import { PLOTLY_MIME, type ReportEntry, renderReportHtml } from "../lib/notebook/html";

const FAKE_PLOTLY = "/* plotly.js v9 fake */ window.Plotly = { newPlot: function () {} }; var s = '</script>';";

function code(source: string, outputs: Output[], status = "ok", count: number | null = 1): CodeCell {
  return { cell_type: "code", source, metadata: { showcase: { status } }, outputs, execution_count: count };
}

function notebook(cells: Notebook["cells"]): Notebook {
  return { nbformat: 4, nbformat_minor: 5, metadata: {}, cells };
}

const chart = (name: string): Output => ({
  output_type: "display_data",
  data: { [PLOTLY_MIME]: { data: [{ y: [1, 2], type: "bar" }], layout: { title: { text: `${name} </script><b>` } } }, "text/html": "<div>fallback</div>", "text/plain": name },
  metadata: {},
});

function entries(): ReportEntry[] {
  const first = notebook([
    { cell_type: "markdown", source: ["# Data\n", "Intro with <em>html</em>.\n\n## Samples"], metadata: {} },
    code("const a: number = 1;\nconsole.log(a)", [{ output_type: "stream", name: "stdout", text: "\u001b[32mgreen\u001b[0m <tag>\n" }]),
    code("show()", [
      { output_type: "display_data", data: { "text/html": "<table><tr><td>cell</td></tr></table>" }, metadata: {} },
      { output_type: "display_data", data: { "image/png": "iVBORw0KGgo=" }, metadata: {} },
      chart("accuracy"),
    ]),
    code("chart2()", [chart("loss")]),
  ]);
  const second = notebook([
    { cell_type: "markdown", source: "# Train", metadata: {} },
    code("train()", [{ output_type: "error", ename: "RangeError", evalue: "bad value 42", traceback: ["RangeError: bad value 42", "    at cell:1"] }], "error", 3),
    code("later()", [], "not-run", null),
  ]);
  return [
    { name: "01-data.ipynb", status: "passed", notebook: first, seconds: 1.5 },
    {
      name: "02-train.ipynb",
      status: "failed",
      notebook: second,
      seconds: 2,
      failure: { cellIndex: 1, codeCellNumber: 1, status: "error", ename: "RangeError", evalue: "bad value 42", traceback: [] },
    },
    { name: "03-evaluate.ipynb", status: "not-run", note: "not run: 02-train.ipynb failed" },
  ];
}

test("failing report: red banner naming notebook, cell and error; not-run notebook listed", () => {
  const html = renderReportHtml({ entries: entries(), plotlySource: () => FAKE_PLOTLY, parameters: { PROFILE: "quick", EPOCHS: "1" } });
  assert.match(html, /<div class="banner fail"><strong>2 of 3 notebooks failed<\/strong> \(1 passed\)/);
  assert.match(html, /02-train\.ipynb<\/a> <a href="#nb2-cell1">cell 2 \(code cell 1\)<\/a>: <code>RangeError: bad value 42<\/code>/);
  assert.match(html, /03-evaluate\.ipynb<\/a>: not run: 02-train\.ipynb failed<\/li>/);
  assert.ok(html.includes('id="nb2-cell1"'), "the banner's link target exists");
  assert.match(html, /<code>EPOCHS=1<\/code>/);
  assert.match(html, /class="cell code status-not-run"[^>]*><div class="input"><div class="prompt">\[ \]<span class="cell-note">not run/);
});

test("passing report: green banner", () => {
  const html = renderReportHtml({ entries: [entries()[0]], plotlySource: () => FAKE_PLOTLY });
  assert.match(html, /<div class="banner pass">All 1 notebooks passed\.<\/div>/);
  assert.ok(!html.includes("banner fail"));
});

test("cells: markdown with a table of contents, highlighted code, ANSI streams, HTML, PNG, errors", () => {
  const html = renderReportHtml({ entries: entries(), plotlySource: () => FAKE_PLOTLY });
  assert.match(html, /<h1 id="nb1-c0-1-data">Data<\/h1>/);
  assert.match(html, /<details class="toc" open><summary>Contents<\/summary><ul><li class="toc-level-0"><a href="#nb1-c0-1-data">Data<\/a><\/li><li class="toc-level-1"><a href="#nb1-c0-2-samples">Samples<\/a>/);
  assert.match(html, /Intro with <em>html<\/em>/);
  assert.match(html, /<span class="hljs-keyword">const<\/span>/);
  assert.match(html, /<span style="color:rgb\(0,187,0\)">green<\/span> &lt;tag&gt;/);
  assert.ok(html.includes("<table><tr><td>cell</td></tr></table>"));
  assert.ok(html.includes('<img alt="" src="data:image/png;base64,iVBORw0KGgo=">'));
  assert.match(html, /<p class="error-head">RangeError: bad value 42<\/p>/);
  assert.ok(!html.includes("<div>fallback</div>"), "the plotly MIME type wins over its text/html fallback");
});

test("plotly: every chart gets a div, the library is inlined once, JSON cannot close the script", () => {
  const html = renderReportHtml({ entries: entries(), plotlySource: () => FAKE_PLOTLY });
  assert.equal(html.split("plotly.js v9 fake").length - 1, 1, "inlined exactly once");
  assert.equal((html.match(/<div class="plotly-chart" id="plotly-chart-\d+"><\/div>/g) ?? []).length, 2);
  assert.ok(html.includes("window.define = undefined"), "require.js cannot capture plotly");
  assert.ok(html.includes("accuracy \\u003c/script>\\u003cb>"), "'<' escaped inside the JSON script");
  assert.ok(html.includes("var s = '<\\/script>'"), "the library cannot end its own script element");
  const withoutCharts = renderReportHtml({ entries: [entries()[2]], plotlySource: () => FAKE_PLOTLY });
  assert.ok(!withoutCharts.includes("plotly.js v9 fake"), "no charts, no library");
  assert.ok(html.indexOf("plotly.js v9 fake") < html.indexOf("</head>"), "library in the head, before any output script");

  const htmlChart = notebook([code("chart()", [{ output_type: "display_data", data: { "text/html": "<div id=p></div><script>Plotly.newPlot('p', [])</script>" }, metadata: {} }])]);
  const page = renderReportHtml({ entries: [{ name: "01-x.ipynb", status: "passed", notebook: htmlChart }], plotlySource: () => FAKE_PLOTLY });
  assert.ok(page.includes("plotly.js v9 fake"), "an HTML output that calls Plotly gets the library too");
  assert.ok(page.includes("<script>Plotly.newPlot('p', [])</script>"));
});

test("self-contained with the real plotly bundle: nothing loaded from outside, library once", () => {
  const html = renderReportHtml({ entries: entries() });
  const libraryStart = html.indexOf("<script>/**\n* plotly.js (basic - minified) v");
  assert.ok(libraryStart > 0, "the minified plotly.js basic bundle is inlined");
  assert.equal(html.split("* plotly.js (basic - minified) v").length - 1, 1);
  const page = html.slice(0, libraryStart) + html.slice(html.indexOf("</script>", libraryStart));
  assert.ok(!/<script[^>]+src=/i.test(page), "no external scripts");
  assert.ok(!/<link\b/i.test(page), "no stylesheets links");
  assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(page), "no external src/href");
  assert.ok(!/@import|url\(\s*["']?https?:/i.test(page), "no external CSS");
});
