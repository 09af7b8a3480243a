// The summary of a run as Markdown, for notebook 03 and the report: every sentence generated from
// the numbers (lib/evaluate/summary.ts decides them), nothing names a network in advance.
import { SIGNIFICANCE_LEVEL, type Summary } from "../evaluate/summary";

const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const pValue = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

/** The summary as Markdown for the notebook and the report. */
export function summaryMarkdown(summary: Summary): string {
  const name = (arch: string | undefined) => summary.scores.find((s) => s.arch === arch)?.displayName ?? arch ?? "—";
  const lines: string[] = ["## Summary", ""];
  if (summary.synthetic) lines.push("> **Synthetic data.** These numbers come from the embedded synthetic dataset, not from cat and dog photos: they show the pipeline works, not how the networks compare on the study's task.", "");
  const top = summary.mostAccurate;
  const single = summary.scores.length === 1;
  if (!top) {
    lines.push("No finished training history yet: nothing to compare.");
  } else {
    const interval = top.interval95 ? ` (95 % Wilson interval ${percent(top.interval95.low)}–${percent(top.interval95.high)}, ${top.images} images)` : "";
    // With one network there is nothing to rank: say what it scored, not that it "won".
    if (single) lines.push(`- **Validation accuracy:** ${top.displayName}, ${percent(top.accuracy)}${interval}. One network was trained, so this run ranks nothing.`);
    else lines.push(`- **Most accurate:** ${top.displayName}, ${percent(top.accuracy)}${interval}.`);
    if (summary.lowestLoss) lines.push(`- **${single ? "Validation loss" : "Lowest validation loss"}:** ${summary.lowestLoss.displayName}, ${summary.lowestLoss.loss.toFixed(4)}.`);
    if (summary.fewestWrong) {
      const perClass = summary.fewestWrong.wrongPerClass ? ` (${Object.entries(summary.fewestWrong.wrongPerClass).map(([c, n]) => `${n} ${c}`).join(", ")})` : "";
      lines.push(`- **${single ? "Wrong classifications" : "Fewest wrong classifications"}:** ${summary.fewestWrong.displayName}, ${summary.fewestWrong.wrong} of ${summary.fewestWrong.images}${perClass}.`);
    }
    const margin = summary.topMargin;
    if (margin) {
      const verdict = margin.significant ? "is statistically significant" : "is **not** statistically significant";
      lines.push(
        `- **Is the margin real?** ${top.displayName} beats the runner-up ${name(margin.runnerUp)} by ${(100 * margin.accuracyMargin).toFixed(1)} points; on the same images it alone was right ${margin.onlyTop} times and the runner-up alone ${margin.onlyThis} times — exact McNemar ${pValue(margin.pValue)}, so the margin ${verdict} at the ${SIGNIFICANCE_LEVEL} level.`,
      );
      const tied = summary.comparisons.filter((c) => !c.significant).map((c) => name(c.arch));
      if (tied.length) lines.push(`- Not significantly less accurate than ${top.displayName}: ${tied.join(", ")}.`);
    } else if (summary.scores.length > 1) {
      lines.push("- Significance not tested: per-image predictions are needed for at least two models (run the evaluation).");
    }
  }
  for (const machine of summary.machines) {
    lines.push(`- **${single ? "Classification time" : "Fastest"} on ${machine.machine} (${machine.engine}):** ${machine.fastest.displayName}, ${ms(machine.fastest.p50Ms)} p50 per image (model only).`);
    if (machine.pareto.length && !single) lines.push(`  Pareto set (accuracy vs p50 latency): ${machine.pareto.map((p) => `${p.displayName} (${percent(p.accuracy)}, ${ms(p.p50Ms)})`).join(" → ")}.`);
  }
  if (summary.epochs.length) {
    lines.push("- **Where training could have stopped:**");
    for (const advice of summary.epochs) {
      const onset = advice.overfittingEpoch === null ? "no sign of overfitting" : `overfitting from epoch ${advice.overfittingEpoch}`;
      lines.push(`  - ${advice.displayName}: best validation loss at epoch ${advice.bestEpoch ?? "—"} of ${advice.epochs}; ${onset}.`);
    }
  }
  const { accuracyCritical, latencyCritical, balanced } = summary.recommendation;
  if ((accuracyCritical || latencyCritical) && !single) {
    lines.push("", "### Recommendation", "");
    if (summary.randomWeights) lines.push("> **The bases were randomly initialised** (`WEIGHTS=none`), not ImageNet-trained: this ranks random feature extractors, not transfer learning. Run with `WEIGHTS=imagenet` before choosing a network.", "");
    if (accuracyCritical) lines.push(`- Accuracy-critical use: **${name(accuracyCritical)}**${summary.topMargin && !summary.topMargin.significant ? " — though its lead is within the noise of this validation set" : ""}.`);
    if (latencyCritical) lines.push(`- Latency-critical use: **${name(latencyCritical)}** (fastest on ${summary.machines[0].machine}, ${summary.machines[0].engine}).`);
    if (balanced && balanced !== latencyCritical && balanced !== accuracyCritical) lines.push(`- Balanced: **${name(balanced)}**, the fastest model not significantly less accurate than the top one.`);
    else if (balanced && balanced === latencyCritical) lines.push(`- The fastest model is also not significantly less accurate than the top one: **${name(balanced)}** serves both.`);
  }
  if (summary.failures.length || summary.missing.length || summary.unfinished.length) {
    lines.push("", "### Missing and failed", "");
    for (const failure of summary.failures) lines.push(`- **Failed:** ${failure.key} — ${failure.message}`);
    for (const arch of summary.unfinished) lines.push(`- **Unfinished:** ${arch} (training history still marked running)`);
    for (const arch of summary.missing) lines.push(`- **Missing:** ${arch} (no history and no error record)`);
  }
  return `${lines.join("\n")}\n`;
}
