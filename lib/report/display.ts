// Notebook display helpers: danfo frames as HTML tables, Plotly figures as multi-MIME bundles that
// render in JupyterLab (with or without the plotly extension) and in the headless HTML report.
// tslab is loaded only when something is shown, and outside a kernel everything falls back to text.
import type { DataFrame } from "danfojs-node";
import { chartHtml, PLOTLY_MIME } from "./chart-html";
import type { Figure } from "./charts";
import { frameRows, type ReportFrame } from "./frames";
import type { ColumnFormat, ColumnSpec } from "./tables";
import { bestRowIndexes } from "./workbook";
import { escapeHtml } from "../html";
import { tslabDisplaySink } from "../notebook/in-kernel";

export { PLOTLY_MIME };

export interface MimeBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient?: Record<string, unknown>;
}


/** A cell as people read it: fractions as percentages, times with sensible decimals. */
export function formatCell(value: unknown, format: ColumnFormat): string {
  if (value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))) return "—";
  if (typeof value !== "number") return String(value);
  switch (format) {
    case "percent":
      return `${(100 * value).toFixed(1)} %`;
    case "seconds":
    case "rate":
      return value.toFixed(1);
    case "ms":
      return value.toFixed(2);
    case "loss":
      return value.toFixed(4);
    case "pvalue":
      return value < 0.001 ? "< 0.001" : value.toFixed(3);
    case "integer":
      return String(Math.round(value));
    default:
      return String(value);
  }
}

function isReportFrame(value: ReportFrame | DataFrame): value is ReportFrame {
  return "sheet" in value && "columns" in value && "frame" in value;
}

function specsFor(frame: DataFrame, columns?: ColumnSpec[]): ColumnSpec[] {
  return columns ?? frame.columns.map((name) => ({ name, format: "text" as const }));
}

/** HTML table of a frame; the best value of each numeric column (per its spec) in bold on green. */
export function frameHtml(report: ReportFrame | DataFrame, opts: { caption?: string } = {}): string {
  const frame = isReportFrame(report) ? report.frame : report;
  const specs = specsFor(frame, isReportFrame(report) ? report.columns : undefined);
  const caption = opts.caption ?? (isReportFrame(report) ? report.title : undefined);
  const rows = frameRows(frame);
  const best = specs.map((spec, c) => new Set(bestRowIndexes(rows.map((r) => r[c]), spec.best)));
  const head = frame.columns.map((name) => `<th>${escapeHtml(name)}</th>`).join("");
  const body = rows
    .map((row, r) => `<tr>${row.map((value, c) => {
      const numeric = typeof value === "number";
      const style = [numeric ? "text-align:right" : "text-align:left", best[c].has(r) ? "font-weight:bold;background:#c6efce" : ""].filter(Boolean).join(";");
      return `<td style="${style}">${escapeHtml(formatCell(value, specs[c].format))}</td>`;
    }).join("")}</tr>`)
    .join("\n");
  const empty = rows.length === 0 ? `<tr><td colspan="${frame.columns.length}"><em>no rows</em></td></tr>` : "";
  return `<table class="showcase-table">${caption ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(caption)}</caption>` : ""}<thead><tr>${head}</tr></thead><tbody>${body}${empty}</tbody></table>`;
}

/** Fixed-width text of a frame, for consoles and the text/plain fallback. */
export function frameText(report: ReportFrame | DataFrame): string {
  const frame = isReportFrame(report) ? report.frame : report;
  const specs = specsFor(frame, isReportFrame(report) ? report.columns : undefined);
  const cells = [frame.columns, ...frameRows(frame).map((row) => row.map((v, c) => formatCell(v, specs[c].format)))];
  const widths = frame.columns.map((_, c) => Math.max(...cells.map((row) => String(row[c]).length)));
  return cells.map((row) => row.map((cell, c) => String(cell).padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

export function frameBundle(report: ReportFrame | DataFrame): MimeBundle {
  return { data: { "text/html": frameHtml(report), "text/plain": frameText(report) }, metadata: {} };
}

/**
 * A Plotly figure for every front end: the plotly MIME type (JupyterLab's plotly extension, the
 * headless report), HTML that carries plotly.js and draws itself (JupyterLab and Jupyter Notebook
 * when trusted, nbconvert's HTML; a text fallback where scripts do not run), and text.
 */
export function figureBundle(figure: Figure): MimeBundle {
  const spec = { data: figure.data, layout: figure.layout };
  const title = (figure.layout.title as { text?: string } | undefined)?.text ?? figure.id;
  return {
    data: {
      [PLOTLY_MIME]: spec,
      "text/html": chartHtml({ id: figure.id, title, spec }),
      "text/plain": `${title} (${figure.data.length} traces; a Plotly chart: trust the notebook or open reports/index.html to see it)`,
    },
    metadata: {},
  };
}

let fallbackLog: (text: string) => void = (text) => console.log(text);
/** Where text goes outside a kernel (tests replace it). */
export function setFallbackLog(log: (text: string) => void): void {
  fallbackLog = log;
}

export function showBundle(bundle: MimeBundle): void {
  const sink = tslabDisplaySink();
  if (sink) sink(bundle, false);
  else fallbackLog(String(bundle.data["text/plain"] ?? ""));
}

export function showFrame(report: ReportFrame | DataFrame): void {
  showBundle(frameBundle(report));
}

export function showFigure(figure: Figure): void {
  showBundle(figureBundle(figure));
}

export function showMarkdown(markdown: string): void {
  showBundle({ data: { "text/markdown": markdown, "text/plain": markdown }, metadata: {} });
}

export function showHtml(html: string, plain = ""): void {
  showBundle({ data: { "text/html": html, "text/plain": plain }, metadata: {} });
}
