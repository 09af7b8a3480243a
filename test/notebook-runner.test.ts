// The headless runner against the real tslab kernel: outputs, synthesized errors, the stop at the
// first failing cell, cell timeouts, kernel crashes; and a cross-check with Debian's nbconvert.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { type CodeCell, type Notebook, type Output, joinText, readNotebook, writeNotebook } from "../lib/notebook/nbformat";
import { describeError, runNotebook } from "../lib/notebook/runner";
import { installKernelSpec } from "../lib/notebook/kernelspec";
import { projectPath } from "../lib/paths";
import { skipWithout, tool } from "./tools";

const FIXTURES = projectPath("test", "fixtures", "notebooks");
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function codeCell(notebook: Notebook, id: string): CodeCell {
  const cell = notebook.cells.find((candidate) => candidate.id === id);
  assert.ok(cell && cell.cell_type === "code", `code cell ${id}`);
  return cell as CodeCell;
}

function notebookOf(sources: string[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: sources.map((source, index) => ({ cell_type: "code", id: `c${index}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
}

test("tiny notebook: outputs, display updates, last value, synthesized error, later cells not run", async () => {
  const source = await readNotebook(path.join(FIXTURES, "tiny.ipynb"));
  const progress: string[] = [];
  const run = await runNotebook({
    notebook: source,
    cwd: FIXTURES,
    env: { ...process.env, GREETING: "hi from the test" },
    onProgress: (event) => progress.push(`${event.phase}:${event.codeCellNumber}${event.status ? `:${event.status}` : ""}`),
  });
  const notebook = run.notebook;

  assert.equal(notebook.nbformat, 4);
  assert.ok(notebook.nbformat_minor >= 4);
  assert.equal(notebook.metadata.kernelspec?.name, "tslab");
  assert.equal((notebook.metadata.language_info as { name?: string }).name, "typescript");
  assert.equal(notebook.cells.length, source.cells.length, "markdown cells kept");
  assert.equal(joinText(source.cells[1].source), joinText(notebook.cells[1].source), "sources unchanged");
  assert.equal((source.cells[1] as CodeCell).outputs.length, 0, "the input notebook is not modified");

  const params = codeCell(notebook, "params");
  assert.deepEqual(params.outputs, [{ output_type: "stream", name: "stdout", text: "greeting=hi from the test cwd=notebooks\n" }]);
  assert.equal(params.execution_count, 1);
  const execution = params.metadata.execution as Record<string, string>;
  for (const key of ["iopub.status.busy", "shell.execute_reply", "iopub.status.idle"]) assert.match(execution[key], ISO_DATE, key);

  const display = codeCell(notebook, "display");
  assert.equal(display.execution_count, 2);
  assert.deepEqual(
    display.outputs.map((output) => (output.output_type === "display_data" ? output.data : output)),
    [{ "text/html": '<b id="fixture">bold</b>' }, { "text/plain": "step 2 of 2" }],
    "update_display_data replaced the first text in place",
  );

  const value = codeCell(notebook, "value");
  assert.deepEqual(value.outputs, [{ output_type: "stream", name: "stdout", text: "42\n" }], "tslab prints the last value to stdout");

  const failing = codeCell(notebook, "throw");
  assert.equal(failing.execution_count, 4);
  assert.deepEqual(failing.outputs.map((output) => output.output_type), ["stream", "stream", "error"]);
  assert.deepEqual(failing.outputs[0], { output_type: "stream", name: "stderr", text: "a warning first\n" });
  assert.deepEqual(failing.outputs[1], { output_type: "stream", name: "stdout", text: "before the error\n" });
  const error = failing.outputs[2] as Extract<Output, { output_type: "error" }>;
  assert.equal(error.ename, "RangeError");
  assert.equal(error.evalue, "bad value 42");
  assert.ok(error.traceback.some((line) => line.includes("RangeError: bad value 42")));
  assert.ok(!error.traceback.some((line) => line.includes("tslab/dist")), "kernel-internal frames dropped");
  assert.deepEqual(failing.metadata.showcase && (failing.metadata.showcase as { status: string }).status, "error");

  const after = codeCell(notebook, "after");
  assert.equal(after.execution_count, null);
  assert.deepEqual(after.outputs, []);
  assert.deepEqual(after.metadata.showcase, { status: "not-run" });

  assert.equal(run.ok, false);
  assert.equal(run.cellsRun, 4);
  assert.equal(run.codeCells, 5);
  assert.deepEqual({ ...run.failure, traceback: undefined }, { cellIndex: 5, codeCellNumber: 4, status: "error", ename: "RangeError", evalue: "bad value 42", traceback: undefined });
  assert.deepEqual(progress, ["start:1", "end:1:ok", "start:2", "end:2:ok", "start:3", "end:3:ok", "start:4", "end:4:error"]);
  assert.equal((notebook.metadata.showcase as { ok: boolean }).ok, false);
});

test("a cell timeout and a kernel crash each fail their cell and stop the notebook", async () => {
  // Two kernels side by side: the timeout test mostly waits, so the crash test runs meanwhile.
  const [timedOut, crashed] = await Promise.all([
    runNotebook({
      notebook: notebookOf(['console.log("started")', "await new Promise((resolve) => setTimeout(resolve, 60_000));", 'console.log("never")']),
      cwd: FIXTURES,
      env: { ...process.env },
      cellTimeoutMs: 1500,
    }),
    runNotebook({
      notebook: notebookOf(['console.log("alive")', "process.exit(3)", 'console.log("never")']),
      cwd: FIXTURES,
      env: { ...process.env },
      cellTimeoutMs: 30_000,
    }),
  ]);

  assert.equal(timedOut.ok, false);
  assert.equal(timedOut.failure?.status, "timeout");
  assert.equal(timedOut.failure?.cellIndex, 1);
  const slowCell = timedOut.notebook.cells[1] as CodeCell;
  assert.equal((slowCell.outputs.at(-1) as { ename: string }).ename, "CellTimeoutError");
  assert.deepEqual((timedOut.notebook.cells[2] as CodeCell).metadata.showcase, { status: "not-run" });
  const slowSeconds = (slowCell.metadata.showcase as { seconds: number }).seconds;
  assert.ok(slowSeconds >= 1.5 && slowSeconds < 60, `stopped at the 1.5 s limit, not after the 60 s cell (${slowSeconds} s)`);

  assert.equal(crashed.failure?.status, "crashed");
  assert.equal(crashed.failure?.cellIndex, 1);
  assert.equal(crashed.failure?.ename, "KernelDiedError");
  assert.match(crashed.failure?.evalue ?? "", /code 3/);
  assert.deepEqual((crashed.notebook.cells[0] as CodeCell).outputs, [{ output_type: "stream", name: "stdout", text: "alive\n" }]);
  assert.deepEqual((crashed.notebook.cells[2] as CodeCell).metadata.showcase, { status: "not-run" });
});

test("error text from tslab's stderr becomes ename/evalue", () => {
  assert.deepEqual(describeError("2:5 - Type 'string' is not assignable to type 'number'.\n").ename, "CompileError");
  assert.equal(describeError("2:5 - Cannot find name 'x'.\n3:1 - Cannot find name 'y'.\n").evalue, "Cannot find name 'x'. (+1 more type error)");
  assert.deepEqual(
    { ...describeError("TypeError [ERR_INVALID_ARG_TYPE]: bad arg\n    at foo (x.ts:1:1)\n"), traceback: undefined },
    { ename: "TypeError", evalue: "bad arg", traceback: undefined },
  );
  assert.equal(describeError("just a thrown string\n").evalue, "just a thrown string");
  assert.match(describeError("").evalue, /without an error message/);
});

test("cross-check with Debian's jupyter nbconvert: same outputs, and our executed notebook validates", { skip: skipWithout("nbconvert") }, async () => {
  const python = tool("nbconvert");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-nbconvert-"));
  try {
    const notebookPath = path.join(dir, "passing.ipynb");
    await fs.copyFile(path.join(FIXTURES, "passing.ipynb"), notebookPath);
    await installKernelSpec({ prefix: dir, name: "showcase-crosscheck" });
    const ours = await runNotebook({ notebook: await readNotebook(notebookPath), cwd: dir, env: { ...process.env } });
    assert.equal(ours.ok, true);
    const oursPath = path.join(dir, "ours.ipynb");
    await writeNotebook(oursPath, ours.notebook);

    const converted = spawnSync(
      python,
      ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=showcase-crosscheck", "--output-dir", path.join(dir, "out"), notebookPath],
      { encoding: "utf8", env: { ...process.env, JUPYTER_PATH: path.join(dir, "share", "jupyter") }, timeout: 60_000 },
    );
    assert.equal(converted.status, 0, converted.stderr);
    const theirs = await readNotebook(path.join(dir, "out", "passing.ipynb"));
    const outputsOf = (notebook: Notebook) =>
      notebook.cells.filter((cell): cell is CodeCell => cell.cell_type === "code").map((cell) =>
        cell.outputs.map((output) =>
          output.output_type === "stream" ? { stream: output.name, text: joinText(output.text) } : output.output_type === "display_data" ? { data: Object.fromEntries(Object.entries(output.data).map(([mime, value]) => [mime, typeof value === "string" || Array.isArray(value) ? joinText(value as string[]) : value])) } : output,
        ),
      );
    assert.deepEqual(outputsOf(ours.notebook), outputsOf(theirs));

    const validate = spawnSync(python, ["-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", oursPath], { encoding: "utf8" });
    assert.equal(validate.status, 0, `nbformat.validate: ${validate.stderr}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
