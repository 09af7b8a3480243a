// Where things live. The root is found through the real path of this file, so that notebooks,
// which import lib/ through the notebooks/lib symlink, resolve the same folders as the CLI.
import { realpathSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(realpathSync(__dirname), "..");
/** Read-only reference data beside the checkout (tests and benchmarks only; may be absent). */
export const SHARED_DIR = path.resolve(PROJECT_ROOT, "..", "shared");

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}

/**
 * The folder of report outputs (the workbook): REPORTS_DIR, which `showcase report --out DIR` sets
 * for its kernels, else the project's reports/.
 */
export function reportsDir(): string {
  const dir = process.env.REPORTS_DIR?.trim();
  return dir ? path.resolve(dir) : projectPath("reports");
}

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/**
 * A local path as reports and notebook outputs show it, since people share those: relative to the
 * project ("reports/runs/quick"), else with the home folder as "~" (no user name), else as it is.
 */
export function shareablePath(file: string): string {
  const resolved = path.resolve(file);
  const inside = (root: string) => resolved === root || resolved.startsWith(root + path.sep);
  if (inside(PROJECT_ROOT)) return path.relative(PROJECT_ROOT, resolved) || ".";
  const home = os.homedir();
  if (home && home !== path.parse(home).root && inside(home)) return path.join("~", path.relative(home, resolved));
  return resolved;
}
