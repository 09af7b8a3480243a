// Image paths in what people share (the report, executed notebooks, predictions files) are relative
// to the dataset's root — the deepest folder holding all its images — never absolute local paths
// such as /home/<user>/…/cat.123.jpg.
import * as path from "node:path";
import type { DatasetManifest } from "./types";

/** The deepest folder that holds every image (and rejected file) of the manifest. */
export function imageRootOf(manifest: Pick<DatasetManifest, "splits" | "rejected">): string {
  const files = [...Object.values(manifest.splits).flat().map((r) => r.path), ...manifest.rejected.map((r) => r.path)];
  if (files.length === 0) return "";
  let root = path.dirname(path.resolve(files[0]));
  for (const file of files) {
    const resolved = path.resolve(file);
    while (root !== path.dirname(root) && !resolved.startsWith(root + path.sep)) root = path.dirname(root);
  }
  return root;
}

/** `file` relative to `root`, with "/" separators on every platform; already relative paths stay as they are. */
export function relativeImagePath(root: string, file: string): string {
  const relative = path.isAbsolute(file) && root ? path.relative(root, file) : file;
  return relative.split(path.sep).join("/");
}
