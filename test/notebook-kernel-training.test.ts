// Training and evaluation inside the tslab kernel, as a JupyterLab user runs them: notebook 02 with
// WORKERS=1 (training in the kernel's own process) and full fine-tuning, then notebook 03. The wasm
// engine must bring its training kernels there too: a lazy import that only tsx resolves left the
// kernel without them, and fine-tuning failed on "Conv2DBackpropFilter not registered".
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { resolveParams } from "../lib/config";
import { prepareDataset } from "../lib/data/index";
import type { RunManifest } from "../lib/schemas/run-manifest";
import { firstOutput, outputText, runProjectNotebook, tinyRunEnv } from "./project-notebooks";

test("notebooks 02 (WORKERS=1, TRANSFER=finetune) and 03 train and evaluate on wasm with its training kernels", { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "notebook-kernel-training-"));
  try {
    const env = tinyRunEnv(dir, { ENGINE: "wasm", TRANSFER: "finetune" });
    await prepareDataset(resolveParams(env)); // notebook 01's work, in this process: only 02 and 03 are under test

    const train = await runProjectNotebook("02-train.ipynb", { env });
    const manifest = JSON.parse(await readFile(path.join(dir, "runs", "notebook-test", "run.json"), "utf8")) as RunManifest;
    assert.equal(manifest.engine.engine, "wasm");
    const added = Number(/(\d+) training kernels added/.exec(manifest.engine.reason)?.[1]);
    assert.ok(added > 0, `run.json's engine reports its training kernels: ${manifest.engine.reason}`);
    assert.deepEqual(manifest.engine.warnings.filter((w) => /did not register/.test(w)), []);
    const history = JSON.parse(await readFile(path.join(dir, "runs", "notebook-test", "mobilenet_v2", "history.json"), "utf8"));
    assert.equal(history.status, "finished");
    assert.equal(history.epochs.length, 1);
    assert.doesNotMatch(outputText(train.notebook), /did not register/);
    assert.match(firstOutput(train.notebook), /^Data: \*\*SYNTHETIC .*Weights: \*\*random .*Transfer: finetune · Engine: wasm · Device: cpu/, "the first output says what the numbers are");

    // Up to the workbook: that cell writes into the project's reports/ folder.
    const evaluate = await runProjectNotebook("03-evaluate.ipynb", { env, stopBefore: "writeWorkbook" });
    const text = outputText(evaluate.notebook);
    assert.match(text, /\*\*wasm\*\* on cpu — ENGINE=wasm was asked for: .*\b[1-9]\d* training kernels added/);
    assert.doesNotMatch(text, /did not register/);
    assert.match(text, /evaluated 1 networks/);
    assert.match(firstOutput(evaluate.notebook), /^Data: \*\*SYNTHETIC .*Weights: \*\*random .*Transfer: finetune · Engine: wasm · Device: cpu/, "03's facts come from run.json");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
