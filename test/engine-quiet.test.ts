// tfjs's "Hi, looks like you are running TensorFlow.js in Node.js…" advice must not reach notebook
// outputs: notebook 01's augmentation preview runs on tfjs's default backend before any engine is
// chosen, and the cpu engine can be chosen or fallen back to. Each case in a fresh process, because
// tfjs prints the advice once per process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { projectPath } from "../lib/paths";

const ADVICE = /looks like you are running TensorFlow\.js in Node\.js/;

function runScript(code: string): { stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: projectPath(), encoding: "utf8", timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  return { stdout: result.stdout, stderr: result.stderr };
}

test("the augmentation preview (notebook 01) prints no tfjs advice", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "quiet-"));
  try {
    const image = path.join(dir, "cat.jpg");
    const { stdout, stderr } = runScript(`
      const sharp = require("sharp");
      const { augmentedGridPng, STUDY_AUGMENT } = require("./lib/data/index");
      (async () => {
        await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 90, b: 30 } } }).jpeg().toFile(${JSON.stringify(image)});
        const record = { path: ${JSON.stringify(image)}, label: "cat", labelIndex: 0, sha256: "", width: 40, height: 30 };
        const png = await augmentedGridPng({ records: [record], config: STUDY_AUGMENT, seed: 1, copies: 2, size: 64 });
        console.log("png", png.length > 0);
      })();`);
    assert.match(stdout, /png true/);
    assert.doesNotMatch(stdout + stderr, ADVICE);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the cpu engine, once chosen, prints no tfjs advice", () => {
  const { stdout, stderr } = runScript(`
    const tf = require("@tensorflow/tfjs");
    const { selectEngine } = require("./lib/engine/index");
    selectEngine({ engine: "cpu", quiet: true }).then((engine) => console.log(engine.engine, tf.tensor1d([1, 2]).sum().dataSync()[0]));`);
  assert.match(stdout, /^cpu 3$/m);
  assert.doesNotMatch(stdout + stderr, ADVICE);
});
