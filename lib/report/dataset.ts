// The prepared dataset as tables: HTML for notebook 01 (plain HTML, no danfo), text for the CLI.
import * as path from "node:path";
import { imageRootOf, relativeImagePath } from "../data/image-root";
import { SPLIT_NAMES } from "../data/split";
import type { DatasetManifest } from "../data/types";
import { escapeHtml } from "../html";

function table(header: string[], rows: (string | number)[][]): string {
  const cell = (tag: string, value: string | number) => `<${tag}${typeof value === "number" ? ' style="text-align:right"' : ""}>${escapeHtml(String(value))}</${tag}>`;
  return `<table><thead><tr>${header.map((h) => cell("th", h)).join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((value) => cell("td", value)).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** Images per split (rows) and class (columns), with totals. */
export function countsTableHtml(manifest: DatasetManifest): string {
  const rows = SPLIT_NAMES.filter((split) => manifest.splits[split].length > 0 || split !== "test").map((split) => {
    const perClass = manifest.classes.map((label) => manifest.counts[split][label] ?? 0);
    return [split, ...perClass, perClass.reduce((a, b) => a + b, 0)];
  });
  return table(["split", ...manifest.classes, "total"], rows);
}

export function rejectedTableHtml(manifest: DatasetManifest): string {
  if (manifest.rejected.length === 0) return "<p>No file was rejected: every image decoded and none was a duplicate.</p>";
  const root = imageRootOf(manifest);
  return table([`file (in ${path.basename(root)}/)`, "reason"], manifest.rejected.map((file) => [relativeImagePath(root, file.path), file.reason]));
}


export function countsTableText(manifest: DatasetManifest): string {
  const header = ["split", ...manifest.classes, "total"];
  const rows = SPLIT_NAMES.filter((split) => split !== "test" || manifest.splits.test.length > 0).map((split) => {
    const perClass = manifest.classes.map((label) => manifest.counts[split][label] ?? 0);
    return [split, ...perClass.map(String), String(perClass.reduce((a, b) => a + b, 0))];
  });
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ")).join("\n");
}
