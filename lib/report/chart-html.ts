// The text/html of one chart output, made to stand on its own: it carries plotly.js (the basic bundle,
// scatter and bar: all our charts need, ~1 MB) and loads it only when the page has no window.Plotly,
// so the chart draws in a freshly loaded page while the kernel runs on, in a re-run cell, and in
// nbconvert's HTML — offline. Where scripts do not run (an untrusted notebook, a viewer without
// JavaScript) a short text says which chart this is and how to see it.
import { readFileSync } from "node:fs";
import { escapeHtml } from "../html";

let basicBundle: string | undefined;
/** plotly.js-basic-dist-min, read once when the first chart is made (not at import). */
export function plotlyBasicSource(): string {
  basicBundle ??= readFileSync(require.resolve("plotly.js-basic-dist-min/plotly-basic.min.js"), "utf8");
  return basicBundle;
}

/** The MIME type of a Plotly figure in a notebook output (JupyterLab's plotly extension renders it). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

function chartFallbackText(title: string): string {
  return `${title}: an interactive chart (Plotly) that needs JavaScript. Trust the notebook to see it (Trust Notebook in the command palette or the File menu, or \`jupyter trust <notebook>.ipynb\`), or open reports/index.html.`;
}

export function chartHtml(opts: { id: string; title: string; spec: { data: unknown; layout: Record<string, unknown> } }): string {
  const divId = `${opts.id}-${Math.random().toString(36).slice(2, 10)}`;
  const json = JSON.stringify(opts.spec).replace(/</g, "\\u003c");
  // In a text/plain script the library is inert text until needed; "</script" must not end it early.
  const library = plotlyBasicSource().replace(/<\/script/gi, "<\\/script");
  return [
    `<div id="${divId}" class="showcase-plotly" style="min-height:${Number(opts.spec.layout.height ?? 420)}px">`,
    `<p class="showcase-chart-fallback" style="padding:1em;border:1px dashed #999;color:#555">${escapeHtml(chartFallbackText(opts.title))}</p>`,
    "</div>",
    `<script type="text/plain" id="${divId}-plotly">${library}</script>`,
    "<script>(function () {",
    `  var div = document.getElementById("${divId}");`,
    `  var spec = ${json};`,
    "  if (!window.Plotly) {",
    `    var source = document.getElementById("${divId}-plotly");`,
    "    // require.js (Jupyter Notebook, nbconvert) would capture plotly's module wrapper: hide define meanwhile.",
    "    var define = window.define;",
    "    window.define = undefined;",
    "    try {",
    "      var script = document.createElement('script');",
    "      script.text = source.textContent;",
    "      document.head.appendChild(script);",
    "    } finally {",
    "      window.define = define;",
    "    }",
    "  }",
    "  if (!window.Plotly) return; // plotly.js did not load: the fallback text stays",
    "  div.innerHTML = '';",
    "  window.Plotly.newPlot(div, spec.data, spec.layout, { responsive: true, displaylogo: false });",
    "})();</script>",
  ].join("\n");
}
