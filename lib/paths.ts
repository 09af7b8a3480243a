// Where things live. Everything is relative to the project root, which callers may override
// (tests point it at a temporary folder).
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const SHARED_DIR = path.resolve(PROJECT_ROOT, "..", "shared");

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
