// Chart outputs that survive a page reload and say what to do when untrusted: a notebook executed by
// our runner in the real kernel (two cells, one showFigure each) is rendered in headless Chromium
// through Jupyter's own nbconvert HTML exporter and through the project's HTML report, and charts draw
// in both; a page holding one chart output alone (a fresh page, nothing loaded before) draws it; with
// its scripts removed (an untrusted notebook, a viewer without JavaScript) the fallback text shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { renderReportHtml } from "../lib/notebook/html";
import { type CodeCell, type Notebook, writeNotebook } from "../lib/notebook/nbformat";
import { runNotebook } from "../lib/notebook/runner";
import { projectPath } from "../lib/paths";
import { PLOTLY_MIME } from "../lib/report/display";
import { chartSegments, chromiumDom, skipWithout, tool } from "./tools";

const TITLES = ["First test chart", "Second test chart"];

/** A notebook of two chart cells, executed by our runner in the tslab kernel (cwd notebooks/: `./lib` resolves). */
async function executedChartNotebook(): Promise<Notebook> {
  const source = (title: string, i: number) =>
    `import { showFigure } from "./lib/report/index";\n` +
    `showFigure({ id: "chart-${i}", data: [{ type: "${i === 0 ? "scatter" : "bar"}", name: "values", x: [1, 2, 3], y: [0.5, 0.7, 0.6] }], layout: { title: { text: "${title}" }, height: 320 } });`;
  const notebook: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript (showcase)", language: "typescript" } },
    cells: TITLES.map((title, i) => ({ cell_type: "code", id: `chart${i}`, metadata: {}, source: source(title, i), outputs: [], execution_count: null })),
  };
  const run = await runNotebook({ notebook, cwd: projectPath("notebooks"), env: { ...process.env } });
  for (const cell of run.notebook.cells as CodeCell[]) {
    assert.deepEqual(cell.outputs.map((o) => o.output_type), ["display_data"], `cell ${cell.id}: one chart output (${JSON.stringify(cell.outputs).slice(0, 300)})`);
  }
  return run.notebook;
}

const skip = skipWithout("chromium", "nbconvert");

test("charts of an executed notebook draw in nbconvert's HTML, in the project's report, and alone in a fresh page; without scripts a fallback says how to see them", { skip, timeout: 300_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "chart-outputs-"));
  try {
    const notebook = await executedChartNotebook();
    const executed = path.join(dir, "charts.ipynb");
    await writeNotebook(executed, notebook);

    // Jupyter's own HTML exporter (Debian's nbconvert; its page loads require.js from /usr/share/javascript).
    execFileSync(tool("nbconvert"), ["-m", "nbconvert", "--to", "html", "--output-dir", dir, executed], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    const nbconvertHtml = path.join(dir, "charts.html");
    const nbconvertDom = chromiumDom(nbconvertHtml, path.join(dir, "profile-nbconvert"));
    const drawn = chartSegments(nbconvertDom, "showcase-plotly");
    assert.equal(drawn.length, 2, "one chart div per output in nbconvert's page");
    drawn.forEach((segment, i) => {
      assert.match(segment, /<svg[^>]*class="main-svg"/, `nbconvert: chart ${i + 1} drew an SVG`);
      assert.doesNotMatch(segment, /showcase-chart-fallback/, `nbconvert: chart ${i + 1} replaced its fallback text`);
    });

    // The project's HTML report (reports/index.html's renderer).
    const reportHtml = path.join(dir, "index.html");
    await writeFile(reportHtml, renderReportHtml({ entries: [{ name: "charts.ipynb", status: "passed", notebook }] }));
    const reportCharts = chartSegments(chromiumDom(reportHtml, path.join(dir, "profile-report")), "plotly-chart");
    assert.equal(reportCharts.length, 2);
    reportCharts.forEach((segment, i) => assert.match(segment, /<svg[^>]*class="main-svg"/, `report: chart ${i + 1} drew an SVG`));

    // A fresh page that holds only the second chart's output (the first never ran there): it brings plotly.js itself.
    const second = (notebook.cells[1] as CodeCell).outputs[0] as { data: Record<string, unknown> };
    const alone = path.join(dir, "alone.html");
    await writeFile(alone, `<!doctype html><html><head><meta charset="utf-8"></head><body>${second.data["text/html"]}</body></html>`);
    const aloneDom = chromiumDom(alone, path.join(dir, "profile-alone"));
    assert.match(chartSegments(aloneDom, "showcase-plotly")[0] ?? "", /<svg[^>]*class="main-svg"/, "the chart draws in a page where nothing loaded plotly.js before");

    // No scripts (JupyterLab strips them from an untrusted notebook's HTML; some viewers run none):
    // the same page without its script elements shows a fallback that names the chart and what to do.
    const stripped = path.join(dir, "no-scripts.html");
    await writeFile(stripped, (await readFile(nbconvertHtml, "utf8")).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, ""));
    const noScripts = chromiumDom(stripped, path.join(dir, "profile-noscript"));
    const fallbacks = [...noScripts.matchAll(/<p class="showcase-chart-fallback"[^>]*>([^<]*)<\/p>/g)].map((m) => m[1]);
    assert.equal(fallbacks.length, 2, "each chart shows its fallback text");
    fallbacks.forEach((text, i) => {
      assert.ok(text.startsWith(`${TITLES[i]}: an interactive chart`), text);
      assert.match(text, /Trust the notebook/);
      assert.match(text, /reports\/index\.html/);
    });
    for (const cell of notebook.cells as CodeCell[]) {
      const data = (cell.outputs[0] as { data: Record<string, unknown> }).data;
      assert.deepEqual(Object.keys(data).sort(), [PLOTLY_MIME, "text/html", "text/plain"].sort(), "the Plotly MIME bundle is kept for front ends that render it natively");
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
