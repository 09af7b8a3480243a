// Turns a run directory into the report: summary, danfo tables, Plotly charts and the workbook.
// The only entry point of lib/report for the CLI and notebook 03.
import { mergeLatency } from "../evaluate/latency-file";
import { loadRunResults, type RunResults, stepsPerEpochOf } from "../evaluate/run";
import { type Summary, summarize } from "../evaluate/summary";
import { summaryMarkdown } from "./summary-markdown";
import { buildCharts, type Figure } from "./charts";
import { buildFrames, type ReportFrame } from "./frames";
import { writeWorkbook } from "./workbook";

export * from "./charts";
export * from "./display";
export * from "./frames";
export * from "./tables";
export * from "./workbook";
export { summaryMarkdown } from "./summary-markdown";

export interface Report {
  results: RunResults;
  summary: Summary;
  markdown: string;
  frames: ReportFrame[];
  charts: Figure[];
  workbookPath?: string;
}

/** Reads the run directory (every shard's and machine's files) and builds the report in memory. */
export async function buildReport(opts: { runDir: string }): Promise<Report> {
  const results = await loadRunResults(opts.runDir);
  const latency = mergeLatency(results.latency);
  const summary = summarize({
    histories: results.histories,
    evaluations: results.evaluations,
    latency,
    failures: results.failures,
    missing: results.missing,
    unfinished: results.unfinished.map((h) => h.arch),
    synthetic: results.manifest?.dataset?.synthetic ?? false,
    randomWeights: results.manifest?.params?.weights === "none",
  });
  const frames = buildFrames({ results, summary });
  const charts = buildCharts({ histories: results.histories, evaluations: results.evaluations, latency, summary, stepsPerEpoch: stepsPerEpochOf(results.manifest) });
  return { results, summary, markdown: summaryMarkdown(summary), frames, charts };
}

/** buildReport, then the workbook written atomically (default reports/Deeplearning-showcase_Tables.xlsx). */
export async function writeReport(opts: { runDir: string; workbookPath?: string }): Promise<Report & { workbookPath: string }> {
  const report = await buildReport(opts);
  const workbookPath = await writeWorkbook({ frames: report.frames, path: opts.workbookPath });
  return { ...report, workbookPath };
}
export { misclassifiedGalleryHtml } from "./gallery";

/** The frame of one sheet (e.g. "Validation Loss"); throws with the sheet names when unknown. */
export function frameOf(report: Pick<Report, "frames">, sheet: string): ReportFrame {
  const found = report.frames.find((f) => f.sheet === sheet);
  if (!found) throw new Error(`no table "${sheet}": tables are ${report.frames.map((f) => f.sheet).join(", ")}`);
  return found;
}

/** One chart by id (graph1-validation-accuracy, graph2-wrong-classifications, graph3-time-wall, graph4-loss-accuracy, trade-off-accuracy-latency). */
export function chartOf(report: Pick<Report, "charts">, id: string): Figure {
  const found = report.charts.find((c) => c.id === id);
  if (!found) throw new Error(`no chart "${id}": charts are ${report.charts.map((c) => c.id).join(", ")}`);
  return found;
}
