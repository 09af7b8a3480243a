// External programs some tests need: the independent readers (a browser, a second xlsx reader,
// Jupyter's own client) and the software Vulkan driver. Absent, such a test skips, saying what to
// install; with REQUIRE_TOOLS=1 (set by .ci/run, which installs them) absence is a failure instead,
// so CI cannot go green by skipping them.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { findLavapipe } from "../lib/engine/lavapipe";

export interface Tool {
  /** What the test calls: an executable's path, or a folder for lavapipe. */
  path?: string;
  /** Why it is missing and how to get it (Debian). */
  missing: string;
}

const firstExisting = (paths: string[]) => paths.find((p) => existsSync(p));
const PYTHON = "/usr/bin/python3"; // Debian's, where apt puts python3-* modules (not a pyenv/venv one)
const pythonWith = (modules: string) => (existsSync(PYTHON) && spawnSync(PYTHON, ["-c", `import ${modules}`]).status === 0 ? PYTHON : undefined);

const FINDERS: Record<string, () => Tool> = {
  chromium: () => ({ path: firstExisting(["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]), missing: "Chromium is not installed (apt-get install chromium)" }),
  libreoffice: () => ({ path: firstExisting(["/usr/bin/libreoffice", "/usr/bin/soffice"]), missing: "LibreOffice is not installed (apt-get install libreoffice-calc-nogui)" }),
  nbconvert: () => ({ path: pythonWith("nbconvert, nbformat"), missing: "Debian's nbconvert is not installed (apt-get install python3-nbconvert jupyter-nbconvert)" }),
  openpyxl: () => ({ path: pythonWith("openpyxl"), missing: "Debian's openpyxl is not installed (apt-get install python3-openpyxl)" }),
  lavapipe: () => {
    const lookup = findLavapipe();
    return { path: lookup.found ? lookup.dir : undefined, missing: lookup.found ? "" : lookup.reason };
  },
};
export type ToolName = keyof typeof FINDERS;

export const toolsRequired = (env: NodeJS.ProcessEnv = process.env) => env.REQUIRE_TOOLS === "1";

/**
 * The `skip` option of a test that needs `name`: false when it is there or when REQUIRE_TOOLS=1 (the
 * test then fails in `tool()`), otherwise the reason.
 */
export function skipWithout(...names: ToolName[]): string | false {
  if (toolsRequired()) return false;
  const missing = names.map((name) => FINDERS[name]()).find((tool) => !tool.path);
  return missing ? missing.missing : false;
}

/** The tool's path; throws (failing the test) when it is missing. */
export function tool(name: ToolName): string {
  const found = FINDERS[name]();
  if (!found.path) throw new Error(`${found.missing}${toolsRequired() ? " — REQUIRE_TOOLS=1 makes this a failure, not a skip" : ""}`);
  return found.path;
}

/** The DOM of a local HTML file after headless Chromium ran its scripts (10 s of virtual time). */
export function chromiumDom(file: string, profileDir: string): string {
  return execFileSync(
    tool("chromium"),
    ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", `--user-data-dir=${profileDir}`, "--virtual-time-budget=10000", "--no-first-run", "--disable-extensions", "--disable-background-networking", "--dump-dom", `file://${file}`],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] },
  );
}

/** The markup of each element with the class, up to the next one (enough to find the SVG Plotly put inside). */
export function chartSegments(dom: string, className: string): string[] {
  const marker = new RegExp(`<div[^>]*class="[^"]*\\b${className}\\b[^"]*"`, "g");
  const starts = [...dom.matchAll(marker)].map((m) => m.index!);
  return starts.map((start, i) => dom.slice(start, starts[i + 1] ?? dom.length));
}
