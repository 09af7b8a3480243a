// What a user runs: `showcase report` executes the real notebooks 01 → 02 → 03 in fresh tslab
// kernels, with tiny settings, in the two ways training runs — in the kernel's own process
// (WORKERS=1, here also TRANSFER=top:1) and in worker processes (the default WORKERS=auto, two
// networks). Every file goes to the test's own folder, the workbook included (REPORTS_DIR from --out).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, promises as fs, statSync } from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { type CodeCell, joinText, readNotebook } from "../lib/notebook/nbformat";
import { selectEngine } from "../lib/engine";
import { projectPath } from "../lib/paths";
import { WORKBOOK_FILE } from "../lib/report/workbook";
import { loadRun } from "../lib/train";
import type { RunManifest } from "../lib/schemas/run-manifest";
import { tinyRunEnv } from "./project-notebooks";
import { tempDir } from "./temp-dir";
import { chartSegments, chromiumDom, skipWithout, tool } from "./tools";

const NOTEBOOKS = ["01-data.ipynb", "02-train.ipynb", "03-evaluate.ipynb"];

const CONFIGURATIONS = [
  { name: "WORKERS=1, TRANSFER=top:1", archs: ["mobilenet_v2"], env: { WORKERS: "1", TRANSFER: "top:1" } },
  { name: "default workers, two networks", archs: ["mobilenet_v2", "mobilenet"], env: { WORKERS: undefined } },
];

/** The project's own reports/ workbook: it must be exactly as it was (or still absent) afterwards. */
function projectWorkbookState(): string {
  const file = projectPath("reports", WORKBOOK_FILE);
  return existsSync(file) ? `${statSync(file).mtimeMs}:${statSync(file).size}` : "absent";
}

for (const configuration of CONFIGURATIONS) {
  describe(`showcase report on the real notebooks, ${configuration.name}`, () => {
    let dir: string;
    let out: string;
    let workbookBefore: string;

    test("3 passed: every notebook ran to its end through the kernel", { timeout: 600_000 }, async () => {
      dir = await tempDir("notebook-pipeline-");
      out = path.join(dir, "reports");
      workbookBefore = projectWorkbookState();
      const env: Record<string, string | undefined> = { ...process.env, ...tinyRunEnv(dir, { ARCHS: configuration.archs.join(",") }), ...configuration.env, REPORTS_DIR: undefined };
      const report = spawnSync(process.execPath, ["--import", "tsx", projectPath("lib", "cli.ts"), "report", "--out", out], {
        cwd: projectPath(),
        encoding: "utf8",
        env: env as NodeJS.ProcessEnv,
        timeout: 590_000,
      });
      assert.equal(report.status, 0, `${report.stdout}\n${report.stderr.slice(-3000)}`);
      assert.equal(report.stdout.trim().split("\n").at(-1), "3 passed, 0 failed");
    });

    test("the executed notebooks are complete nbformat 4 with no error, and warn of nothing the engine does not warn of outside the kernel", async () => {
      const manifest = JSON.parse(await fs.readFile(path.join(dir, "runs", "notebook-test", "run.json"), "utf8")) as RunManifest;
      // The same engine chosen in a plain Node process: its warnings (e.g. wasm's single thread) are
      // facts of the engine; anything beyond them (a kernel without training kernels) is the kernel's.
      const plain = (await selectEngine({ engine: manifest.engine.engine, quiet: true })).warnings;
      assert.deepEqual(manifest.engine.warnings, plain, "run.json: the kernel's engine warnings");
      for (const name of NOTEBOOKS) {
        const notebook = await readNotebook(path.join(out, "executed", name));
        assert.equal(notebook.nbformat, 4);
        const code = notebook.cells.filter((cell): cell is CodeCell => cell.cell_type === "code");
        assert.ok(code.length > 0);
        for (const cell of code) {
          if (cell.source.length === 0) continue;
          assert.equal(typeof cell.execution_count, "number", `${name}: a cell was not executed`);
          assert.deepEqual(cell.outputs.filter((output) => output.output_type === "error"), [], `${name}: error output`);
        }
        // What a reader sees as text (streams, Markdown, plain text; not the inlined Plotly library).
        const text = code.flatMap((cell) => cell.outputs.map((output) =>
          output.output_type === "stream" ? joinText(output.text) : output.output_type === "display_data" ? joinText((output.data["text/markdown"] ?? output.data["text/plain"] ?? "") as string | string[]) : ""));
        const warnings = text.join("\n").split("\n").filter((line) => /did not register|not registered|warning|⚠|fell back|falling back/i.test(line));
        assert.deepEqual(warnings.filter((line) => !plain.some((warning) => line.includes(warning))), [], `${name}: warnings beyond the engine's own`);
      }
    });

    test("nbformat.validate accepts every executed notebook (Jupyter's own reader)", { skip: skipWithout("nbconvert") }, () => {
      const files = NOTEBOOKS.map((name) => path.join(out, "executed", name));
      execFileSync(tool("nbconvert"), ["-c", "import nbformat, sys\nfor f in sys.argv[1:]: nbformat.validate(nbformat.read(f, as_version=4))", ...files], { encoding: "utf8" });
    });

    test("every output is in the test's folder: run, models, workbook; the project's reports/ is untouched", async () => {
      const { manifest, histories } = await loadRun(path.join(dir, "runs", "notebook-test"));
      assert.deepEqual(histories.map((h) => [h.arch, h.status]), configuration.archs.map((arch) => [arch, "finished"]));
      assert.equal(manifest.params.transfer.kind, configuration.env.TRANSFER ? "top" : "frozen");
      assert.ok(existsSync(path.join(out, WORKBOOK_FILE)), "the workbook beside the report");
      assert.ok(existsSync(path.join(out, "index.html")));
      assert.equal(projectWorkbookState(), workbookBefore, "reports/ of the project was not written");
    });

    test("Chromium renders the generated report: every chart an SVG, no failure banner", { skip: skipWithout("chromium"), timeout: 120_000 }, () => {
      const dom = chromiumDom(path.join(out, "index.html"), path.join(dir, "chromium"));
      assert.doesNotMatch(dom, /class="banner fail"/);
      const charts = chartSegments(dom, "plotly-chart");
      assert.ok(charts.length >= 5, `the evaluation charts: ${charts.length}`);
      charts.forEach((chart, i) => assert.match(chart, /<svg[^>]*class="main-svg"/, `chart ${i + 1} rendered`));
    });
  });
}
