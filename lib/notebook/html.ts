// Renders executed notebooks into ONE self-contained HTML page: a pass/fail banner, a table of
// contents per notebook, markdown, highlighted code and outputs (stream with ANSI colours, HTML,
// PNG/JPEG/SVG, text, Plotly charts). Nothing is fetched from the network: CSS is inline and
// plotly.js (the minified bundle) is inlined once per page, only when a chart needs it.
import { readFileSync } from "node:fs";
import { AnsiUp } from "ansi_up";
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import MarkdownIt from "markdown-it";
import { type Cell, type CellStatus, type CodeCell, type MimeBundle, type Notebook, type Output, joinText } from "./nbformat";
import type { CellFailure } from "./runner";
import { escapeHtml } from "../html";
import { PLOTLY_MIME, plotlyBasicSource } from "../report/chart-html";
import { runFactsHtml, type RunFactsSource } from "../report/run-facts";

export { PLOTLY_MIME };

export interface ReportEntry {
  /** File name, e.g. "02-train.ipynb". */
  name: string;
  status: "passed" | "failed" | "not-run";
  /** The executed notebook (partial when it failed); absent when it never ran. */
  notebook?: Notebook;
  failure?: CellFailure;
  seconds?: number;
  /** Why a notebook did not run or failed before its first cell (e.g. an earlier notebook failed). */
  note?: string;
}

export interface RenderReportOptions {
  entries: ReportEntry[];
  title?: string;
  generatedAt?: Date;
  /** Shown under the banner (the run parameters). */
  parameters?: Record<string, string>;
  /** What the numbers are (data, weights, transfer, engine, device): the first banner of the page. */
  facts?: RunFactsSource;
  /** plotly.js source; default: the basic bundle (scatter and bar) that every chart output carries too. */
  plotlySource?: () => string;
}

export function renderReportHtml(options: RenderReportOptions): string {
  const title = options.title ?? "Deeplearning showcase — report";
  const context = new RenderContext();
  const sections = options.entries.map((entry, index) => renderEntry(entry, index, context));
  const plotly = context.plotCount > 0 || context.htmlUsesPlotly;
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${PAGE_CSS}\n${highlightCss()}</style>`,
    // In the head, so that scripts inside notebook outputs may call window.Plotly at once.
    plotly ? plotlyLibrary(options.plotlySource ?? plotlyBasicSource) : "",
    "</head><body>",
    `<header><h1>${escapeHtml(title)}</h1>`,
    options.facts ? runFactsHtml(options.facts) : "",
    `<p class="meta">generated ${escapeHtml((options.generatedAt ?? new Date()).toISOString())}</p>`,
    renderBanner(options.entries),
    renderParameters(options.parameters),
    renderNavigation(options.entries),
    "</header>",
    "<main>",
    ...sections,
    "</main>",
    context.plotCount > 0 ? PLOT_CHARTS_SCRIPT : "",
    "</body></html>",
    "",
  ].join("\n");
}

/** Per page: unique ids for charts and headings. */
class RenderContext {
  plotCount = 0;
  /** An HTML output calls plotly.js itself (e.g. a div plus a script made for JupyterLab). */
  htmlUsesPlotly = false;
  readonly markdown = createMarkdown();
  readonly ansi = new AnsiUp();

  constructor() {
    if (!hljs.getLanguage("typescript")) hljs.registerLanguage("typescript", typescript);
  }
}

function createMarkdown(): MarkdownIt {
  const markdown = new MarkdownIt({ html: true, linkify: false });
  // Headings get ids (env.prefix keeps them unique per notebook) for the table of contents.
  markdown.core.ruler.push("heading_ids", (state) => {
    const env = state.env as { prefix?: string; headings?: Heading[] };
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i].type !== "heading_open") continue;
      const text = tokens[i + 1]?.content ?? "";
      const id = `${env.prefix ?? "h"}-${(env.headings?.length ?? 0) + 1}-${slug(text)}`;
      tokens[i].attrSet("id", id);
      env.headings?.push({ level: Number(tokens[i].tag.slice(1)), text, id });
    }
    return true;
  });
  return markdown;
}

interface Heading {
  level: number;
  text: string;
  id: string;
}

function renderEntry(entry: ReportEntry, index: number, context: RenderContext): string {
  const prefix = `nb${index + 1}`;
  const statusLabel = entry.status === "passed" ? "passed" : entry.status === "failed" ? "FAILED" : "not run";
  const headerLine = `<h2 class="notebook-title"><span class="badge ${entry.status}">${statusLabel}</span> ${escapeHtml(entry.name)}${
    entry.seconds !== undefined ? ` <small>${entry.seconds.toFixed(1)} s</small>` : ""
  }</h2>`;
  if (!entry.notebook) {
    return `<section class="notebook" id="${prefix}">${headerLine}<p class="note">${escapeHtml(entry.note ?? "not run")}</p></section>`;
  }
  const headings: Heading[] = [];
  let codeNumber = 0;
  const cells = entry.notebook.cells.map((cell, cellIndex) => {
    if (cell.cell_type === "code") codeNumber++;
    return renderCell(cell, { id: `${prefix}-cell${cellIndex}`, prefix: `${prefix}-c${cellIndex}`, headings, context, codeNumber });
  });
  const note = entry.note ? `<p class="note">${escapeHtml(entry.note)}</p>` : "";
  return [
    `<section class="notebook" id="${prefix}">`,
    headerLine,
    note,
    renderToc(headings),
    ...cells,
    "</section>",
  ].join("\n");
}

function renderCell(cell: Cell, opts: { id: string; prefix: string; headings: Heading[]; context: RenderContext; codeNumber: number }): string {
  const source = joinText(cell.source);
  if (cell.cell_type === "markdown") {
    const html = opts.context.markdown.render(inlineAttachments(source, cell.attachments), { prefix: opts.prefix, headings: opts.headings });
    return `<div class="cell markdown" id="${opts.id}">${html}</div>`;
  }
  if (cell.cell_type !== "code") return `<div class="cell raw" id="${opts.id}"><pre>${escapeHtml(source)}</pre></div>`;
  const status = ((cell.metadata.showcase as { status?: CellStatus } | undefined)?.status ?? "ok") as CellStatus;
  const prompt = cell.execution_count != null ? `[${cell.execution_count}]` : status === "not-run" ? "[ ]" : "[·]";
  const code = hljs.highlight(source, { language: "typescript", ignoreIllegals: true }).value;
  const outputs = (cell as CodeCell).outputs.map((output) => renderOutput(output, opts.context)).join("\n");
  const label = status === "not-run" ? '<span class="cell-note">not run</span>' : status !== "ok" ? `<span class="cell-note">${escapeHtml(status)}</span>` : "";
  return [
    `<div class="cell code status-${status}" id="${opts.id}">`,
    `<div class="input"><div class="prompt">${prompt}${label}</div><pre class="source hljs"><code>${code}</code></pre></div>`,
    outputs ? `<div class="outputs">${outputs}</div>` : "",
    "</div>",
  ].join("");
}

function renderOutput(output: Output, context: RenderContext): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="output stream ${output.name}">${context.ansi.ansi_to_html(joinText(output.text))}</pre>`;
    case "error": {
      const text = output.traceback.length > 0 ? output.traceback.join("\n") : `${output.ename}: ${output.evalue}`;
      return `<div class="output error"><p class="error-head">${escapeHtml(output.ename)}: ${escapeHtml(output.evalue)}</p><pre>${context.ansi.ansi_to_html(text)}</pre></div>`;
    }
    case "display_data":
    case "execute_result":
      return `<div class="output display">${renderBundle(output.data, context)}</div>`;
  }
}

/** The richest representation this page can show, like a notebook front end would pick. */
function renderBundle(data: MimeBundle, context: RenderContext): string {
  const text = (mime: string) => (typeof data[mime] === "string" || Array.isArray(data[mime]) ? joinText(data[mime] as string | string[]) : undefined);
  if (data[PLOTLY_MIME] !== undefined) return renderPlotly(data[PLOTLY_MIME], context);
  const html = text("text/html");
  if (html !== undefined) {
    if (/\bPlotly\.(newPlot|react|plot)\b/.test(html)) context.htmlUsesPlotly = true;
    return html;
  }
  for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
    const base64 = text(mime);
    if (base64 !== undefined) return `<img alt="" src="data:${mime};base64,${base64.replace(/\s+/g, "")}">`;
  }
  const svg = text("image/svg+xml");
  if (svg !== undefined) return svg;
  const markdown = text("text/markdown");
  if (markdown !== undefined) return context.markdown.render(markdown, {});
  if (data["application/json"] !== undefined) return `<pre>${escapeHtml(JSON.stringify(data["application/json"], null, 2))}</pre>`;
  const plain = text("text/plain") ?? text("text/latex");
  if (plain !== undefined) return `<pre>${context.ansi.ansi_to_html(plain)}</pre>`;
  return `<p class="note">(output of type ${escapeHtml(Object.keys(data).join(", ") || "none")} not shown)</p>`;
}

function renderPlotly(spec: unknown, context: RenderContext): string {
  const id = `plotly-chart-${++context.plotCount}`;
  const figure = typeof spec === "string" ? JSON.parse(spec) : spec;
  return `<div class="plotly-chart" id="${id}"></div><script type="application/json" data-plotly-for="${id}">${scriptSafeJson(figure)}</script>`;
}

function plotlyLibrary(source: () => string): string {
  // require.js (if some output brought it) would capture plotly's UMD wrapper: hide `define` meanwhile.
  const library = source().replace(/<\/script/gi, "<\\/script");
  return [
    "<script>window.__showcaseDefine = window.define; window.define = undefined;</script>",
    `<script>${library}</script>`,
    "<script>window.define = window.__showcaseDefine;</script>",
  ].join("\n");
}

const PLOT_CHARTS_SCRIPT = `<script>
document.querySelectorAll('script[data-plotly-for]').forEach(function (spec) {
  var figure = JSON.parse(spec.textContent);
  var target = document.getElementById(spec.getAttribute('data-plotly-for'));
  window.Plotly.newPlot(target, figure.data || [], figure.layout || {}, Object.assign({ responsive: true, displaylogo: false }, figure.config || {}));
});
</script>`;

function renderBanner(entries: ReportEntry[]): string {
  const failed = entries.filter((entry) => entry.status !== "passed");
  if (failed.length === 0) {
    return `<div class="banner pass">All ${entries.length} notebooks passed.</div>`;
  }
  const lines = failed.map((entry) => {
    const index = entries.indexOf(entry);
    if (entry.status === "not-run") return `<li><a href="#nb${index + 1}">${escapeHtml(entry.name)}</a>: ${escapeHtml(entry.note ?? "not run")}</li>`;
    const failure = entry.failure;
    const where = failure?.cellIndex !== undefined
      ? ` <a href="#nb${index + 1}-cell${failure.cellIndex}">cell ${failure.cellIndex + 1}${failure.codeCellNumber ? ` (code cell ${failure.codeCellNumber})` : ""}</a>`
      : "";
    const what = failure ? `${failure.ename}: ${failure.evalue}` : (entry.note ?? "failed");
    return `<li><a href="#nb${index + 1}">${escapeHtml(entry.name)}</a>${where}: <code>${escapeHtml(what)}</code></li>`;
  });
  const passed = entries.length - failed.length;
  return `<div class="banner fail"><strong>${failed.length} of ${entries.length} notebooks failed</strong> (${passed} passed)<ul>${lines.join("")}</ul></div>`;
}

function renderParameters(parameters: Record<string, string> | undefined): string {
  if (!parameters || Object.keys(parameters).length === 0) return "";
  const items = Object.entries(parameters).map(([name, value]) => `<code>${escapeHtml(name)}=${escapeHtml(value)}</code>`);
  return `<p class="meta">parameters: ${items.join(" ")}</p>`;
}

function renderNavigation(entries: ReportEntry[]): string {
  const items = entries.map((entry, index) => `<li><a href="#nb${index + 1}">${escapeHtml(entry.name)}</a> <span class="badge ${entry.status}">${entry.status}</span></li>`);
  return `<nav><ol>${items.join("")}</ol></nav>`;
}

function renderToc(headings: Heading[]): string {
  if (headings.length === 0) return "";
  const top = Math.min(...headings.map((heading) => heading.level));
  const items = headings
    .filter((heading) => heading.level <= top + 2)
    .map((heading) => `<li class="toc-level-${heading.level - top}"><a href="#${heading.id}">${escapeHtml(heading.text)}</a></li>`);
  return `<details class="toc" open><summary>Contents</summary><ul>${items.join("")}</ul></details>`;
}

/** `![x](attachment:name.png)` in markdown cells → data: URIs. */
function inlineAttachments(markdown: string, attachments: Record<string, MimeBundle> | undefined): string {
  if (!attachments) return markdown;
  return markdown.replace(/attachment:([^\s)"']+)/g, (whole, name: string) => {
    const bundle = attachments[name];
    const mime = bundle && Object.keys(bundle).find((key) => key.startsWith("image/"));
    return mime ? `data:${mime};base64,${joinText(bundle[mime] as string | string[]).replace(/\s+/g, "")}` : whole;
  });
}


function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "section";
}

function highlightCss(): string {
  try {
    return readFileSync(require.resolve("highlight.js/styles/github.min.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  } catch {
    return "";
  }
}

const PAGE_CSS = `
:root { --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --code-bg: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 1.5rem; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg); }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.meta { color: var(--muted); margin: .25rem 0; font-size: .9rem; }
.banner { padding: .75rem 1rem; border-radius: 6px; margin: 1rem 0; font-weight: 500; }
.banner.pass { background: #dafbe1; border: 1px solid var(--ok); color: #0f5323; }
.banner.fail { background: #ffebe9; border: 1px solid var(--bad); color: #82071e; }
.banner.facts { background: #f6f8fa; border: 1px solid #d0d7de; font-weight: normal; }
.banner.facts .caution { color: #82071e; font-weight: 600; }
.banner ul { margin: .5rem 0 0; font-weight: normal; }
nav ol { padding-left: 1.5rem; }
.badge { font-size: .75rem; padding: .1rem .45rem; border-radius: 1rem; vertical-align: middle; border: 1px solid var(--border); font-weight: 600; }
.badge.passed { background: #dafbe1; color: var(--ok); }
.badge.failed { background: #ffebe9; color: var(--bad); }
.badge.not-run { background: #eee; color: var(--muted); }
section.notebook { border-top: 3px solid var(--border); margin-top: 2rem; padding-top: .5rem; }
.notebook-title small { color: var(--muted); font-weight: normal; font-size: .9rem; }
.toc { background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; padding: .5rem 1rem; margin: .5rem 0 1rem; }
.toc ul { margin: .25rem 0; padding-left: 1rem; list-style: none; }
.toc-level-1 { padding-left: 1rem; } .toc-level-2 { padding-left: 2rem; }
.cell { margin: .75rem 0; }
.cell.code .input { display: flex; gap: .5rem; }
.prompt { flex: 0 0 4.5rem; color: var(--muted); font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; text-align: right; padding-top: .55rem; }
.cell-note { display: block; font-size: 11px; }
pre { margin: 0; overflow-x: auto; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.source { flex: 1; background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; padding: .5rem .75rem; }
.outputs { margin-left: 5rem; margin-top: .25rem; overflow-x: auto; }
.output { margin: .25rem 0; }
.output.stream { padding: .25rem .5rem; white-space: pre-wrap; word-break: break-word; }
.output.stream.stderr { background: #fff8e6; }
.output.error { background: #ffebe9; border-left: 4px solid var(--bad); padding: .5rem .75rem; }
.output.error .error-head { margin: 0 0 .25rem; font-weight: 600; color: #82071e; }
.output.display table { border-collapse: collapse; font-size: .9rem; }
.output.display th, .output.display td { border: 1px solid var(--border); padding: .2rem .5rem; text-align: right; }
.output.display img { max-width: 100%; }
.status-not-run { opacity: .55; }
.status-error .source, .status-timeout .source, .status-crashed .source { border-color: var(--bad); }
.plotly-chart { min-height: 360px; }
.note { color: var(--muted); font-style: italic; }
.markdown img { max-width: 100%; }
`;
