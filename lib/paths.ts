// Where things live. The root is found through the real path of this file, so that notebooks,
// which import lib/ through the notebooks/lib symlink, resolve the same folders as the CLI.
import { realpathSync } from "node:fs";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(realpathSync(__dirname), "..");
/** Read-only reference data beside the checkout (tests and benchmarks only; may be absent). */
export const SHARED_DIR = path.resolve(PROJECT_ROOT, "..", "shared");

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}
