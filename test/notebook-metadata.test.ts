// The stored notebooks name the kernel exactly as the installed kernelspec and the running kernel
// describe themselves, so opening and saving a notebook in Jupyter leaves its metadata as it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { KernelClient } from "../lib/notebook/kernel-client";
import { DEFAULT_KERNEL_NAME, kernelSpec } from "../lib/notebook/kernelspec";
import { readNotebook } from "../lib/notebook/nbformat";
import { projectPath } from "../lib/paths";
import { skipWithout, tool } from "./tools";

const NOTEBOOKS = ["01-data.ipynb", "02-train.ipynb", "03-evaluate.ipynb"].map((name) => projectPath("notebooks", name));

test("stored notebooks carry the installed kernel's name, display name, language and language_info", async () => {
  const spec = kernelSpec();
  const kernel = await KernelClient.start({ cwd: projectPath("notebooks"), env: { ...process.env } });
  let languageInfo: unknown;
  try {
    languageInfo = kernel.kernelInfo.language_info;
  } finally {
    await kernel.shutdown();
  }
  assert.ok(languageInfo && typeof languageInfo === "object", "the kernel reports language_info");
  for (const file of NOTEBOOKS) {
    const { metadata } = await readNotebook(file);
    const name = path.basename(file);
    assert.deepEqual(metadata.kernelspec, { name: DEFAULT_KERNEL_NAME, display_name: spec.display_name, language: spec.language }, `${name}: kernelspec`);
    assert.deepEqual(metadata.language_info, languageInfo, `${name}: language_info as the kernel reports it`);
  }
});

// Jupyter saves with nbformat's writer (sorted keys, one-space indent, sources as lists of lines):
// stored in that form, a notebook opened and saved unchanged in Jupyter shows no diff at all.
test("stored notebooks are byte for byte what Jupyter's nbformat writes when it saves them", { skip: skipWithout("nbconvert") }, () => {
  const resave = "import nbformat, sys\nnb = nbformat.read(sys.argv[1], as_version=4)\nsys.stdout.write(nbformat.writes(nb) + '\\n')";
  for (const file of NOTEBOOKS) {
    const stored = readFileSync(file, "utf8");
    const saved = execFileSync(tool("nbconvert"), ["-c", resave, file], { encoding: "utf8" });
    assert.equal(stored, saved, `${path.basename(file)} differs from Jupyter's own save; rewrite it with nbformat.write`);
  }
});
