// The prepared dataset as tables: HTML for notebook 01 (plain HTML, no danfo), text for the CLI.
import * as path from "node:path";
import { imageRootOf, relativeImagePath } from "../data/image-root";
import { SPLIT_NAMES } from "../data/split";
import type { DatasetManifest } from "../data/types";
import { escapeHtml } from "../html";
import { textTable } from "./training";

function table(header: string[], rows: (string | number)[][]): string {
  const cell = (tag: string, value: string | number) => `<${tag}${typeof value === "number" ? ' style="text-align:right"' : ""}>${escapeHtml(String(value))}</${tag}>`;
  return `<table><thead><tr>${header.map((h) => cell("th", h)).join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((value) => cell("td", value)).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** Images per split (rows; the test split only when it has images) and class (columns), with totals. */
function countRows(manifest: DatasetManifest): Array<[string, ...number[]]> {
  return SPLIT_NAMES.filter((split) => split !== "test" || manifest.splits.test.length > 0).map((split) => {
    const perClass = manifest.classes.map((label) => manifest.counts[split][label] ?? 0);
    return [split, ...perClass, perClass.reduce((a, b) => a + b, 0)];
  });
}

export function countsTableHtml(manifest: DatasetManifest): string {
  return table(["split", ...manifest.classes, "total"], countRows(manifest));
}

export function rejectedTableHtml(manifest: DatasetManifest): string {
  if (manifest.rejected.length === 0) return "<p>No file was rejected: every image decoded and none was a duplicate.</p>";
  const root = imageRootOf(manifest);
  return table([`file (in ${path.basename(root)}/)`, "reason"], manifest.rejected.map((file) => [relativeImagePath(root, file.path), file.reason]));
}


export function countsTableText(manifest: DatasetManifest): string {
  const columns = ["split", ...manifest.classes, "total"].map((name, i): [string, (row: (string | number)[]) => string] => [name, (row) => String(row[i])]);
  return textTable(countRows(manifest), columns);
}
