// Checkpoints that a disk or a crash damaged: a run killed with SIGKILL during epoch 3 leaves the
// checkpoints of epochs 1 and 2; each case copies that run folder, damages one file of the newest
// checkpoint (cut short, deleted, one bit flipped) and resumes. Resume must name the file and what is
// wrong in one line, fall back to epoch 1's checkpoint (or train from scratch when none is intact)
// and end with exactly EPOCHS continuous epochs. The temp files a killed session left go too.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { readJson } from "../lib/io/atomic";
import { isContinuous, loadRun, runTraining } from "../lib/train";
import { loadModelFiles, saveModelFiles } from "../lib/train/checkpoint";
import { tinyEnv, trainUntilKilled } from "./train-fixtures";

const EPOCHS = 3;
const ARCH = "mobilenet_v2";

type Damage = "cut short" | "deleted" | "bit flipped";

async function damage(file: string, how: Damage): Promise<void> {
  if (how === "deleted") return fs.rm(file);
  const data = await fs.readFile(file);
  if (how === "cut short") return fs.writeFile(file, data.subarray(0, Math.floor(data.length / 2)));
  data[Math.floor(data.length / 2)] ^= 0x04; // one bit, same size
  return fs.writeFile(file, data);
}

/** What the one line must say is wrong. */
const PROBLEM: Record<Damage, RegExp> = {
  "cut short": /has \d+ bytes, expected \d+ \(cut short\)|is not valid JSON/,
  deleted: /is missing/,
  "bit flipped": /is damaged|is not valid JSON/,
};

describe("resume after a damaged checkpoint", () => {
  let dir: string;
  let env: Record<string, string>;
  let killedRun: string;
  let engine: Awaited<ReturnType<typeof selectEngine>>;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-damage-"));
    env = tinyEnv(dir, { ARCHS: ARCH, EPOCHS: String(EPOCHS), RUN_ID: "killed" });
    await trainUntilKilled(env, ARCH, 3);
    killedRun = path.join(dir, "runs", "killed");
    engine = await selectEngine({ engine: "wasm", quiet: true });
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("the last two epochs' checkpoints are kept, each with every file's size and sha256", async () => {
    const checkpoint = path.join(killedRun, ARCH, "checkpoint");
    assert.deepEqual((await fs.readdir(checkpoint)).sort(), ["base", "epoch-001", "epoch-002"]);
    const state = JSON.parse(await fs.readFile(path.join(checkpoint, "epoch-002", "state.json"), "utf8"));
    assert.equal(state.epoch, 2);
    assert.deepEqual(Object.keys(state.files).sort(), ["base/model.json", "base/weights.bin", "epoch-002/model.json", "epoch-002/optimizer.bin", "epoch-002/weights.bin"]);
    for (const [file, digest] of Object.entries(state.files as Record<string, { bytes: number; sha256: string }>)) {
      assert.equal(digest.bytes, (await fs.stat(path.join(checkpoint, file))).size, file);
      assert.match(digest.sha256, /^[0-9a-f]{64}$/);
    }
  });

  /** Copies the killed run, damages `file` (relative to the checkpoint folder) and resumes it. */
  async function resumeDamaged(runId: string, file: string, how: Damage) {
    const runDir = path.join(dir, "runs", runId);
    await fs.cp(killedRun, runDir, { recursive: true });
    const damaged = path.join(runDir, ARCH, "checkpoint", file);
    await damage(damaged, how);
    const messages: string[] = [];
    const summary = await runTraining(resolveParams({ ...env, RUN_ID: runId }), { engine, onProgress: (p) => p.notice && p.message && messages.push(p.message) });
    const { histories } = await loadRun(runDir);
    assert.equal(histories.length, 1);
    const history = histories[0];
    assert.equal(history.status, "finished");
    assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2, 3], "exactly EPOCHS continuous epochs");
    assert.ok(isContinuous(history.epochs));
    assert.deepEqual((await fs.readdir(path.join(runDir, ARCH))).sort(), ["history.json", "model"], "no checkpoint or temp file left");
    const notes = messages.filter((m) => m.includes(damaged));
    assert.equal(notes.length, messages.length, `every notice names the damaged file: ${messages.join(" | ")}`);
    return { summary, history, notes, damaged };
  }

  for (const file of ["weights.bin", "optimizer.bin", "model.json", "state.json"]) {
    for (const how of ["cut short", "deleted", "bit flipped"] as const) {
      test(`epoch 2's ${file} ${how}: one line names it, resume continues from epoch 1's checkpoint`, async () => {
        const runId = `${file.replace(".", "-")}-${how.replace(" ", "-")}`;
        const { summary, history, notes, damaged } = await resumeDamaged(runId, path.join("epoch-002", file), how);
        assert.equal(notes.length, 1, `one line names ${damaged}`);
        assert.doesNotMatch(notes[0], /\n/);
        assert.match(notes[0], PROBLEM[how]);
        assert.match(notes[0], /resuming from the checkpoint of epoch 1 instead$/);
        assert.deepEqual(summary.resumed, [ARCH]);
        assert.deepEqual(history.provenance?.resumedAtEpochs, [2], "continued after epoch 1");
      });
    }
  }

  test("temp files a killed session left are removed by the next one; other .tmp files are not the run's and stay", async () => {
    const runDir = path.join(dir, "runs", "stale-temps");
    await fs.cp(killedRun, runDir, { recursive: true });
    const stale = [
      "run.json.4242.1764000000000.k3j4h5.tmp",
      `${ARCH}/history.json.4242.1764000000000.a1b2c3.tmp`,
      `${ARCH}/checkpoint/epoch-002/weights.bin.4242.1764000000000.zom3ez.tmp`,
      `tensorboard/${ARCH}/train/events.out.tfevents.1.host.4242.1764000000000.q9w8e7.tmp`,
    ];
    const foreign = `${ARCH}/notes.tmp`;
    for (const file of [...stale, foreign]) {
      await fs.mkdir(path.dirname(path.join(runDir, file)), { recursive: true });
      await fs.writeFile(path.join(runDir, file), "left behind");
    }
    await runTraining(resolveParams({ ...env, RUN_ID: "stale-temps" }), { engine });
    for (const file of stale) await assert.rejects(fs.access(path.join(runDir, file)), `${file} removed`);
    await fs.access(path.join(runDir, foreign));
  });

  test("the frozen base (shared by both checkpoints) cut short: one line, the architecture trains again from epoch 1", async () => {
    const { summary, history, notes } = await resumeDamaged("base-cut-short", path.join("base", "weights.bin"), "cut short");
    assert.equal(notes.length, 1, "one line per damaged file");
    assert.match(notes[0], /cut short.*no intact checkpoint is left, training again from epoch 1$/);
    assert.deepEqual(summary.resumed, []);
    assert.deepEqual(history.provenance?.resumedAtEpochs, []);
  });
});

test("a saved model cut short, or a JSON file cut short, is named in the error instead of tfjs's shape message", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-model-damage-"));
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
  try {
    await saveModelFiles(model, dir);
    const weights = path.join(dir, "weights.bin");
    await fs.truncate(weights, 20);
    await assert.rejects(loadModelFiles(dir), (error: Error) => {
      assert.equal(error.message, `${weights}: 20 bytes where ${path.join(dir, "model.json")} describes 40 (cut short or damaged): delete ${dir} and train again`);
      return true;
    });
    const json = path.join(dir, "model.json");
    await fs.truncate(json, 10);
    await assert.rejects(readJson(json), (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.ok(error.message.startsWith(`${json} is not valid JSON (cut short or damaged?): `), error.message);
      return true;
    });
  } finally {
    model.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
