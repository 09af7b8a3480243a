// Plain-text summaries for the CLI (the notebook uses the HTML tables in preview.ts).
import { SPLIT_NAMES } from "./split";
import type { DatasetManifest } from "./types";

export function countsTableText(manifest: DatasetManifest): string {
  const header = ["split", ...manifest.classes, "total"];
  const rows = SPLIT_NAMES.filter((split) => split !== "test" || manifest.splits.test.length > 0).map((split) => {
    const perClass = manifest.classes.map((label) => manifest.counts[split][label] ?? 0);
    return [split, ...perClass.map(String), String(perClass.reduce((a, b) => a + b, 0))];
  });
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ")).join("\n");
}
