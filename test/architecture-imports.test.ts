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
