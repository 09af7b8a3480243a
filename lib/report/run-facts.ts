// What the numbers of a run are: data source, weights, transfer mode, engine and device. The first
// thing a reader sees — on top of reports/index.html and in each notebook's first output — so that
// nobody learns about synthetic data or random bases 1,800 px down. One function of the run manifest
// (run.json: params, engine, dataset); before run.json exists, of the parameters alone.
import { formatTransfer, type RunParams } from "../config";
import type { EngineDescription } from "../engine/types";
import { escapeHtml } from "../html";
import { archsWithWidth } from "../models/width";

/** The fields of run.json the facts come from; `engine` and `dataset` are absent before training. */
export interface RunFactsSource {
  params: Pick<RunParams, "dataDir" | "weights" | "transfer" | "engine"> & Partial<Pick<RunParams, "archs" | "alpha">>;
  engine?: Pick<EngineDescription, "engine" | "device">;
  dataset?: { synthetic?: boolean; dataset?: string };
}

export interface RunFact {
  label: string;
  value: string;
  /** The reader should not take the numbers at face value because of this fact. */
  caution: boolean;
}

export function runFacts(source: RunFactsSource): RunFact[] {
  const { params, engine, dataset } = source;
  const synthetic = dataset?.synthetic ?? params.dataDir === undefined;
  const random = params.weights === "none";
  return [
    { label: "Data", value: synthetic ? "SYNTHETIC (generated drawings, not photos)" : `real photos (${dataset?.dataset ?? params.dataDir})`, caution: synthetic },
    { label: "Weights", value: random ? "random (no ImageNet weights)" : "ImageNet (Keras)", caution: random },
    // the width is part of what the numbers are: shown whenever ALPHA chose one
    ...(params.archs && params.alpha !== undefined ? [{ label: "Networks", value: archsWithWidth(params.archs, params.alpha), caution: false }] : []),
    { label: "Transfer", value: formatTransfer(params.transfer), caution: false },
    { label: "Engine", value: engine ? engine.engine : `ENGINE=${params.engine} (chosen when training)`, caution: false },
    { label: "Device", value: engine ? engine.device : "not chosen yet", caution: false },
  ];
}

/** One Markdown line: "**Data:** … · **Weights:** … · …" (cautions in bold). */
export function runFactsMarkdown(source: RunFactsSource): string {
  return runFacts(source)
    .map((fact) => `${fact.label}: ${fact.caution ? `**${fact.value}**` : fact.value}`)
    .join(" · ");
}

/** The same facts as a banner for the report page. */
export function runFactsHtml(source: RunFactsSource): string {
  const items = runFacts(source).map((fact) => `<span class="fact${fact.caution ? " caution" : ""}"><b>${escapeHtml(fact.label)}</b> ${escapeHtml(fact.value)}</span>`);
  return `<div class="banner facts">${items.join(" · ")}</div>`;
}
