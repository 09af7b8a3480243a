// Notebooks import lib/ through tslab, which type-checks it with its own TypeScript (5.0) and its own
// fixed options — strict OFF, ESNext modules, declarations emitted. Code that passes the project's
// strict `npm run typecheck` can still fail there (e.g. narrowing a union on `ok: false` needs
// strictNullChecks), and then a notebook fails at its import cell. This check finds that in seconds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectPath } from "../lib/paths";

// The options tslab's converter passes to its compiler (node_modules/tslab/dist/converter.js).
const TSLAB_OPTIONS = [
  "--module", "esnext", "--moduleResolution", "node10", "--esModuleInterop", "--target", "es2022", "--lib", "es2022",
  "--resolveJsonModule", "--skipLibCheck", "--experimentalDecorators", "--allowJs", "--declaration", "--emitDeclarationOnly",
];

async function typescriptFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map(async (entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(file);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
  }));
  return nested.flat();
}

/** Compiles `files` (and what they import) with tslab's compiler and options; returns the error lines. */
async function tslabErrors(files: string[]): Promise<string | undefined> {
  const tsc = require.resolve("@tslab/typescript-for-tslab/bin/tsc", { paths: [require.resolve("tslab")] });
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-tslab-tsc-"));
  try {
    const result = spawnSync(process.execPath, [tsc, ...TSLAB_OPTIONS, "--outDir", outDir, ...files], { cwd: projectPath(), encoding: "utf8", timeout: 120_000 });
    if (result.status === 0) return undefined;
    const errors = result.stdout.split("\n").filter((line) => /error TS\d+/.test(line));
    return errors.join("\n") || result.stdout + result.stderr;
  } finally {
    await fs.rm(outDir, { recursive: true, force: true });
  }
}

test("lib/ compiles under tslab's compiler and options, as the notebooks import it", async () => {
  const errors = await tslabErrors(await typescriptFiles(projectPath("lib")));
  assert.equal(errors, undefined, `tslab cannot compile lib/ (a notebook importing these files fails):\n${errors}`);
});

// Compiled together, some files bring type declarations into scope (e.g. the WebAssembly API's
// members) that a notebook importing only its own modules does not get: each notebook is checked
// with exactly the lib/ modules it imports, as the kernel compiles them.
test("each notebook's lib/ imports compile on their own under tslab", async () => {
  const notebooks = (await fs.readdir(projectPath("notebooks"))).filter((name) => name.endsWith(".ipynb"));
  assert.ok(notebooks.length >= 3);
  for (const name of notebooks) {
    const notebook = JSON.parse(await fs.readFile(projectPath("notebooks", name), "utf8")) as { cells: Array<{ cell_type: string; source: string[] | string }> };
    const code = notebook.cells.filter((cell) => cell.cell_type === "code").map((cell) => [cell.source].flat().join("")).join("\n");
    const entries = [...new Set([...code.matchAll(/from "\.\/(lib\/[^"]+)"/g)].map((match) => projectPath(`${match[1]}.ts`)))];
    assert.ok(entries.length > 0, `${name} imports lib/`);
    const errors = await tslabErrors(entries);
    assert.equal(errors, undefined, `${name}: its imports do not compile in the tslab kernel:\n${errors}`);
  }
});
