// Plotly figure specs (plain data + layout objects): the study's Graphs 1–4 and the accuracy/latency
// trade-off. Rendering happens in the notebook (display.ts) or the HTML report.
import type { LatencyRow } from "../evaluate/latency-file";
import type { Evaluation } from "../schemas/evaluation";
import type { Summary } from "../evaluate/summary";
import type { ArchHistory } from "../schemas/history";

export interface PlotlyTrace {
  type: "scatter" | "bar";
  name: string;
  x: (number | string)[];
  y: number[];
  mode?: string;
  text?: string[];
  [key: string]: unknown;
}

export interface Figure {
  /** Stable id for the chart's div (and for tests). */
  id: string;
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
}

// Plotly's toolbar sits in the top-right corner and covers a long centred title: the toolbar stands
// upright in a right margin of its own, and the title starts at the left.
const baseLayout = (title: string, x: string, y: string, extra: Record<string, unknown> = {}) => ({
  title: { text: title, x: 0, xref: "paper", xanchor: "left" },
  xaxis: { title: { text: x } },
  yaxis: { title: { text: y } },
  legend: { orientation: "h", y: -0.2 },
  modebar: { orientation: "v" },
  margin: { t: 50, r: 50, b: 60, l: 60 },
  height: 420,
  ...extra,
});

/** Graph 1: validation accuracy per epoch, one line per network. */
export function validationAccuracyChart(histories: readonly ArchHistory[]): Figure {
  return {
    id: "graph1-validation-accuracy",
    data: histories.map((h) => ({ type: "scatter", mode: "lines+markers", name: h.displayName, x: h.epochs.map((e) => e.epoch), y: h.epochs.map((e) => e.validationAccuracy) })),
    layout: baseLayout("Graph 1 — Validation accuracy per epoch", "Epoch", "Validation accuracy", { yaxis: { title: { text: "Validation accuracy" }, tickformat: ".0%" }, xaxis: { title: { text: "Epoch" }, dtick: 1 } }),
  };
}

/** Graph 2: wrong classifications per network, stacked by true class. */
export function wrongClassificationsChart(evaluations: readonly Evaluation[]): Figure {
  const classes = [...new Set(evaluations.flatMap((e) => e.classes))];
  return {
    id: "graph2-wrong-classifications",
    data: classes.map((c) => ({ type: "bar", name: `true ${c}`, x: evaluations.map((e) => e.displayName), y: evaluations.map((e) => e.wrongPerClass[c] ?? 0) })),
    layout: baseLayout("Graph 2 — Wrong classifications per network, by true class", "Network", "Wrong classifications", { barmode: "stack" }),
  };
}

/** Graph 3: the "time wall" — validation accuracy against cumulative training wall-clock time. */
export function timeWallChart(histories: readonly ArchHistory[]): Figure {
  return {
    id: "graph3-time-wall",
    data: histories.map((h) => {
      let seconds = h.buildSeconds ?? 0;
      const x = h.epochs.map((e) => (seconds += e.epochSeconds));
      return { type: "scatter", mode: "lines+markers", name: h.displayName, x, y: h.epochs.map((e) => e.validationAccuracy) };
    }),
    layout: baseLayout("Graph 3 — Time wall: validation accuracy against cumulative training time", "Wall-clock seconds (build + epochs)", "Validation accuracy", { yaxis: { title: { text: "Validation accuracy" }, tickformat: ".0%" } }),
  };
}

/**
 * Graph 4: loss (top) and accuracy (bottom) against training step, train and validation, per network.
 * The history is per epoch, so points sit at the step that ends each epoch.
 */
export function lossAccuracyChart(histories: readonly ArchHistory[], opts: { stepsPerEpoch: number }): Figure {
  const data: PlotlyTrace[] = [];
  histories.forEach((h, i) => {
    const x = h.epochs.map((e) => e.epoch * opts.stepsPerEpoch);
    const color = PALETTE[i % PALETTE.length];
    const common = { type: "scatter" as const, mode: "lines+markers", x, legendgroup: h.arch };
    data.push({ ...common, name: `${h.displayName} train loss`, y: h.epochs.map((e) => e.trainLoss), line: { color, dash: "dot" }, xaxis: "x", yaxis: "y" });
    data.push({ ...common, name: `${h.displayName} validation loss`, y: h.epochs.map((e) => e.validationLoss), line: { color }, xaxis: "x", yaxis: "y" });
    data.push({ ...common, name: `${h.displayName} train accuracy`, y: h.epochs.map((e) => e.trainAccuracy), line: { color, dash: "dot" }, xaxis: "x2", yaxis: "y2", showlegend: false });
    data.push({ ...common, name: `${h.displayName} validation accuracy`, y: h.epochs.map((e) => e.validationAccuracy), line: { color }, xaxis: "x2", yaxis: "y2", showlegend: false });
  });
  return {
    id: "graph4-loss-accuracy",
    data,
    layout: {
      ...baseLayout("Graph 4 — Loss and accuracy against step (dotted: train, solid: validation)", "", ""),
      grid: { rows: 2, columns: 1, pattern: "independent" },
      xaxis: { title: { text: "" }, anchor: "y" },
      yaxis: { title: { text: "Loss" }, domain: [0.55, 1] },
      xaxis2: { title: { text: "Step" }, anchor: "y2" },
      yaxis2: { title: { text: "Accuracy" }, tickformat: ".0%", domain: [0, 0.45] },
      height: 640,
    },
  };
}

/**
 * Accuracy against p50 latency on one machine, the Pareto front drawn as a line: one pair of traces
 * per runtime/engine that measured there (tfjs and ONNX Runtime side by side), named after it when
 * there are several.
 */
export function tradeOffChart(opts: { latency: readonly LatencyRow[]; summary: Summary; machine?: string; engine?: string }): Figure {
  const first = opts.summary.machines.find((m) => (opts.machine ? m.machine === opts.machine : true) && (opts.engine ? m.engine === opts.engine : true));
  const groups = first ? opts.summary.machines.filter((m) => m.machine === first.machine && (opts.engine ? m.engine === opts.engine : true)) : [];
  const accuracy = new Map(opts.summary.scores.map((s) => [s.arch, s.accuracy]));
  const runtimeOf = (engine: string) => opts.latency.find((r) => r.engine === engine)?.runtime;
  const label = (engine: string) => `${engine}${runtimeOf(engine) === "onnxruntime" ? "" : " (tfjs)"}`;
  const data = groups.flatMap((group): PlotlyTrace[] => {
    const rows = opts.latency.filter((r) => r.machine === group.machine && r.engine === group.engine && accuracy.has(r.arch));
    const suffix = groups.length > 1 ? ` — ${label(group.engine)}` : "";
    return [
      { type: "scatter", mode: "markers+text", name: `networks${suffix}`, x: rows.map((r) => r.modelOnlyP50Ms), y: rows.map((r) => accuracy.get(r.arch)!), text: rows.map((r) => r.displayName), textposition: "top center", marker: { size: 10 } },
      { type: "scatter", mode: "lines+markers", name: `Pareto front${suffix}`, x: group.pareto.map((p) => p.p50Ms), y: group.pareto.map((p) => p.accuracy), line: { dash: "dash" }, marker: { symbol: "diamond-open", size: 14 } },
    ];
  });
  const where = first ? ` on ${first.machine} (${groups.map((g) => label(g.engine)).join(", ")})` : "";
  return {
    id: "trade-off-accuracy-latency",
    data: data.length ? data : ([{ type: "scatter", mode: "markers+text", name: "networks", x: [], y: [], text: [] }, { type: "scatter", mode: "lines+markers", name: "Pareto front", x: [], y: [] }] as PlotlyTrace[]),
    layout: baseLayout(`Accuracy against p50 latency per image${where}`, "p50 latency per image, model only (ms)", "Validation accuracy", { yaxis: { title: { text: "Validation accuracy" }, tickformat: ".0%" }, xaxis: { title: { text: "p50 latency per image, model only (ms)" }, type: "log" } }),
  };
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function buildCharts(opts: { histories: readonly ArchHistory[]; evaluations: readonly Evaluation[]; latency: readonly LatencyRow[]; summary: Summary; stepsPerEpoch: number }): Figure[] {
  return [
    validationAccuracyChart(opts.histories),
    wrongClassificationsChart(opts.evaluations),
    timeWallChart(opts.histories),
    lossAccuracyChart(opts.histories, { stepsPerEpoch: opts.stepsPerEpoch }),
    tradeOffChart({ latency: opts.latency, summary: opts.summary }),
  ];
}
