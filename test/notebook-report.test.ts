// `showcase report` end to end on fixture notebooks (the real ones are slow): order, stop after a
// failing notebook, summary lines, exit codes, executed notebooks and index.html; and fast
// parameter errors before any kernel starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CodeCell } from "../lib/notebook/nbformat";
import { readNotebook } from "../lib/notebook/nbformat";
import { KernelClient } from "../lib/notebook/kernel-client";
import { installKernelSpec, jupyterDataDir } from "../lib/notebook/kernelspec";
import { listReportNotebooks } from "../lib/notebook/report";
import { projectPath } from "../lib/paths";
import { main } from "../lib/cli";

const PIPELINE = projectPath("test", "fixtures", "notebooks", "pipeline");

function showcase(args: string[], env: Record<string, string> = {}) {
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", projectPath("lib", "cli.ts"), ...args], {
    cwd: projectPath(),
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

test("report runs notebooks in order, stops after a failing one, and always writes the partial results", async () => {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-report-"));
  try {
    const out = path.join(work, "reports");
    const run = showcase(["report", "--notebook-dir", PIPELINE, "--out", out], { PIPELINE_DIR: work, PIPELINE_FAIL: "02", ARCHS: "mobilenet" });
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.match(lines[0], /^01-write\.ipynb\s+3\/3 cells\s+[\d.]+ s\s+ok$/);
    assert.match(lines[1], /^02-read\.ipynb\s+3\/4 cells\s+[\d.]+ s\s+FAILED$/);
    assert.match(lines[2], /^03-summary\.ipynb\s+not run\s+-\s+FAILED \(not run: 02-read\.ipynb failed/);
    assert.equal(lines.at(-1), "1 passed, 2 failed");
    assert.match(run.stderr, /02-read\.ipynb cell 4 \(code cell 3\) failed: Error: asked to fail with 5 values/);
    assert.equal(run.stderr.split("\n").filter((line) => /^\s+0\d-\w+ \[\d\/\d\] (ok|ERROR)/.test(line)).length, 6, "one progress line per executed cell");

    const first = await readNotebook(path.join(out, "executed", "01-write.ipynb"));
    const plot = first.cells[4] as CodeCell;
    assert.equal(plot.outputs.length, 2);
    assert.ok(plot.outputs.every((output) => output.output_type === "display_data" && "application/vnd.plotly.v1+json" in output.data));
    assert.equal((first.metadata.showcase as { parameters: Record<string, string> }).parameters.ARCHS, "mobilenet");

    const partial = await readNotebook(path.join(out, "executed", "02-read.ipynb"));
    assert.deepEqual((partial.cells[2] as CodeCell).outputs, [{ output_type: "stream", name: "stdout", text: "5\n" }], "read 01's file");
    assert.equal((partial.cells[3] as CodeCell).outputs.at(-1)?.output_type, "error");
    assert.equal((partial.cells[4] as CodeCell).execution_count, null);
    assert.ok(!existsSync(path.join(out, "executed", "03-summary.ipynb")), "a notebook that did not run has no executed copy");

    const page = await fs.readFile(path.join(out, "index.html"), "utf8");
    assert.match(page, /banner fail/);
    assert.match(page, /asked to fail with 5 values/);
    assert.equal(page.split("* plotly.js (basic - minified) v").length - 1, 1, "plotly.js inlined once for two charts");
    assert.equal((page.match(/class="plotly-chart"/g) ?? []).length, 2);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
});

test("--notebooks picks by number or file name, in run order", async () => {
  assert.deepEqual(await listReportNotebooks(PIPELINE, ["03", "01-write.ipynb"]), ["01-write.ipynb", "03-summary.ipynb"]);
  assert.deepEqual(await listReportNotebooks(PIPELINE), ["01-write.ipynb", "02-read.ipynb", "03-summary.ipynb"]);
});

/** `main()` in this process with a temporary environment; console output captured. */
async function showcaseInProcess(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  const { log, error } = console;
  let stdout = "";
  let stderr = "";
  console.log = (...parts: unknown[]) => void (stdout += `${parts.join(" ")}\n`);
  console.error = (...parts: unknown[]) => void (stderr += `${parts.join(" ")}\n`);
  Object.assign(process.env, env);
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    console.log = log;
    console.error = error;
    for (const name of Object.keys(env)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

test("bad parameters and options fail at once with exit code 2, before any kernel starts", async () => {
  const out = path.join(os.tmpdir(), `showcase-report-bad-${process.pid}`);
  const spawned = showcase(["report", "--notebook-dir", PIPELINE, "--out", out], { EPOCHS: "ten" });
  assert.equal(spawned.status, 2);
  assert.equal(spawned.stderr, 'showcase report: invalid EPOCHS="ten": allowed a whole number from 1 to 9007199254740991\n');
  // Every kernel start in this process is counted (and refused): the answers must need none.
  const start = KernelClient.start;
  let kernelStarts = 0;
  KernelClient.start = async () => {
    kernelStarts++;
    throw new Error("no kernel may start for a parameter error");
  };
  try {
    for (const [env, args, message] of [
      [{ PROFILE: "huge" }, [], /invalid PROFILE="huge": allowed one of quick, lite, full/],
      [{ ARCHS: "vgg16" }, [], /invalid ARCHS="vgg16"/],
      [{ CELL_TIMEOUT_S: "0" }, [], /invalid CELL_TIMEOUT_S="0"/],
      [{}, ["--notebooks", "07"], /unknown notebook "07": allowed 01, 02, 03/],
      [{}, ["--bogus", "1"], /unknown option --bogus/],
    ] as const) {
      const result = await showcaseInProcess(["report", "--notebook-dir", PIPELINE, "--out", out, ...args], env);
      assert.equal(result.status, 2, `${JSON.stringify(env)} ${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, "a one-line message");
    }
  } finally {
    KernelClient.start = start;
  }
  assert.equal(kernelStarts, 0, "answered without starting a kernel");
  assert.ok(!existsSync(out), "nothing was written");
});

test("kernel install writes an absolute, Python-free kernelspec where Jupyter looks", async () => {
  const prefix = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-kernelspec-"));
  try {
    const installed = await installKernelSpec({ prefix, name: "showcase-test" });
    assert.equal(installed.specPath, path.join(prefix, "share", "jupyter", "kernels", "showcase-test", "kernel.json"));
    const spec = JSON.parse(await fs.readFile(installed.specPath, "utf8"));
    assert.equal(spec.display_name, "TypeScript (showcase)");
    assert.equal(spec.language, "typescript");
    assert.deepEqual(spec.argv.slice(-3), ["kernel", "--config-path", "{connection_file}"]);
    assert.ok(path.isAbsolute(spec.argv[0]) && existsSync(spec.argv[0]), "node by absolute path");
    assert.ok(path.isAbsolute(spec.argv[1]) && existsSync(spec.argv[1]), "tslab's CLI by absolute path");

    const cli = await showcaseInProcess(["kernel", "install", "--prefix", prefix, "--name", "showcase-cli"], {});
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /jupyter lab notebooks\//);
    assert.ok(existsSync(path.join(prefix, "share", "jupyter", "kernels", "showcase-cli", "kernel.json")));
  } finally {
    await fs.rm(prefix, { recursive: true, force: true });
  }
  assert.equal(jupyterDataDir({ JUPYTER_DATA_DIR: "/x/jd" }), "/x/jd");
  assert.equal(jupyterDataDir({ HOME: "/home/u" }, "linux"), "/home/u/.local/share/jupyter");
  assert.equal(jupyterDataDir({ HOME: "/home/u", XDG_DATA_HOME: "/xdg" }, "linux"), "/xdg/jupyter");
  assert.equal(jupyterDataDir({ HOME: "/Users/u" }, "darwin"), "/Users/u/Library/Jupyter");
});
