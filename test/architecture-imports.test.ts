// The import rules of lib/ (docs/lib-map.md), checked on the source text of every module.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { projectPath } from "../lib/paths";

const LIB = projectPath("lib");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

interface ImportSite {
  file: string;
  specifier: string;
  dynamic: boolean;
}

/** Every relative import of lib/: static (`from "…"`, `import "…"`) and dynamic (`import("…")`). */
function relativeImports(): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const file of sourceFiles(LIB)) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s+)"(\.[^"]*)"/g)) sites.push({ file, specifier: match[1], dynamic: false });
    for (const match of text.matchAll(/\bimport\(\s*"(\.[^"]*)"\s*\)/g)) sites.push({ file, specifier: match[1], dynamic: true });
  }
  return sites;
}

const where = (site: ImportSite) => `${path.relative(LIB, site.file)}: "${site.specifier}"`;

test("no dynamic import of a folder: the tslab kernel does not resolve it (import \"./x/index\")", () => {
  const sites = relativeImports().filter((site) => site.dynamic);
  assert.ok(sites.length > 10, "the scan finds lib/'s lazy imports");
  const folders = sites.filter((site) => {
    const target = path.resolve(path.dirname(site.file), site.specifier);
    return existsSync(target) && statSync(target).isDirectory();
  });
  assert.deepEqual(folders.map(where), []);
});

const ENGINE = path.join(LIB, "engine");
/** A backend's own code: only lib/engine may import it. */
const BACKEND_SPECIFIC = [path.join(ENGINE, "wasm"), path.join(ENGINE, "webgpu"), path.join(ENGINE, "wasm-backend"), path.join(ENGINE, "native")];
const outsideEngine = (file: string) => !file.startsWith(`${ENGINE}${path.sep}`);

test("the engine has one door: nothing outside lib/engine imports a backend's own modules", () => {
  const sites = relativeImports().filter((site) => outsideEngine(site.file));
  assert.ok(sites.some((site) => site.specifier.includes("engine/")), "the scan sees imports of lib/engine");
  const violations = sites.filter((site) => {
    const target = path.resolve(path.dirname(site.file), site.specifier).replace(/\.ts$/, "");
    return BACKEND_SPECIFIC.some((own) => target === own || target.startsWith(`${own}${path.sep}`));
  });
  assert.deepEqual(violations.map(where), [], "ask lib/engine/capabilities (or lib/engine/index) instead");
});

/** A tfjs backend or engine name in a comparison: code that should ask lib/engine for a capability. */
const NAME = String.raw`["'](?:wasm|webgpu|webgl|cpu|tensorflow|tfjs-node|tfjs-node-gpu)["']`;
const NAME_COMPARISONS = [
  /getBackend\(\)\s*[!=]==|[!=]==\s*(?:tf\.)?getBackend\(\)|\.includes\((?:tf\.)?getBackend\(\)\)/,
  new RegExp(String.raw`\b(?:engine|backend|backendName)\s*[!=]==\s*${NAME}|${NAME}\s*[!=]==\s*[\w.]*\b(?:engine|backend|backendName)\b`),
];

test("nothing outside lib/engine compares backend or engine names", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(LIB).filter(outsideEngine)) {
    readFileSync(file, "utf8").split("\n").forEach((line, index) => {
      if (NAME_COMPARISONS.some((pattern) => pattern.test(line))) violations.push(`${path.relative(LIB, file)}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(violations, [], "ask lib/engine/capabilities for what the backend can do");
  // The patterns do catch what they are for.
  for (const line of ['if (tf.getBackend() === "cpu") {', 'return opts.engine.engine === "wasm";', '["cpu", "wasm"].includes(tf.getBackend())', 'if (backend === "wasm") x();']) {
    assert.ok(NAME_COMPARISONS.some((pattern) => pattern.test(line)), line);
  }
});
