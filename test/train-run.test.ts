// A tiny real run (two architectures at 32 px, two epochs, a few synthetic images, wasm engine):
// history contents and schema, run.json inventory, TensorBoard read-back, no tensor growth,
// frozen means frozen, skip on rerun, refusal of another configuration under the same RUN_ID.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { resolveParams, type RunParams } from "../lib/config";
import { projectPath } from "../lib/paths";
import { selectEngine, type EngineDescription } from "../lib/engine";
import type { TransferModel } from "../lib/models";
import {
  HISTORY_SCHEMA, loadRun, loadTrainedModel, RUN_MANIFEST_SCHEMA, RunConfigMismatchError, runTraining,
  type RunSummary, type TrainProgress,
} from "../lib/train";
import { tinyEnv } from "./train-fixtures";
import { readEventFile } from "./train-tfevents";

const ARCHS = ["mobilenet_v2", "mobilenet"] as const;
const EPOCHS = 2;

function tinyParams(dir: string, overrides: Record<string, string> = {}): RunParams {
  return resolveParams(tinyEnv(dir, { ARCHS: ARCHS.join(","), EPOCHS: String(EPOCHS), ...overrides }));
}

type Snapshot = Map<string, Float32Array>;
function snapshot(model: tf.LayersModel): Snapshot {
  return new Map(model.weights.map((weight) => [weight.originalName, Float32Array.from(weight.read().dataSync() as Float32Array)]));
}

describe("a tiny training run", () => {
  let dir: string;
  let engine: EngineDescription;
  let params: RunParams;
  let summary: RunSummary;
  const events: TrainProgress[] = [];
  const tensorsAtEpochEnd: Record<string, number[]> = {};
  const baseBefore: Record<string, Snapshot> = {};
  const headBefore: Record<string, Snapshot> = {};
  let tensorsBefore = 0;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-train-"));
    engine = await selectEngine({ engine: "wasm", quiet: true });
    params = tinyParams(dir);
    tensorsBefore = tf.memory().numTensors;
    summary = await runTraining(params, {
      engine,
      onProgress: (p) => {
        events.push(p);
        if (p.phase === "validate") (tensorsAtEpochEnd[p.arch] ??= []).push(tf.memory().numTensors);
      },
      onModelReady: (transfer: TransferModel) => {
        baseBefore[transfer.arch] = snapshot(transfer.base);
        headBefore[transfer.arch] = snapshot(transfer.head);
      },
    });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("every architecture has a finished, schema-versioned history with EPOCHS finite epochs", async () => {
    assert.equal(summary.aborted, false);
    const { manifest, histories } = await loadRun(summary.runDir);
    assert.equal(manifest.schema, RUN_MANIFEST_SCHEMA);
    assert.deepEqual(histories.map((h) => h.arch), [...ARCHS]);
    for (const history of histories) {
      assert.equal(history.schema, HISTORY_SCHEMA);
      assert.equal(history.status, "finished");
      assert.equal(history.inputSize, 32);
      assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2]);
      for (const epoch of history.epochs) {
        for (const key of ["trainLoss", "trainAccuracy", "validationLoss", "validationAccuracy", "epochSeconds", "imagesPerSecond"] as const) {
          assert.ok(Number.isFinite(epoch[key]), `${history.arch} epoch ${epoch.epoch} ${key} = ${epoch[key]}`);
        }
        assert.ok(epoch.trainAccuracy >= 0 && epoch.trainAccuracy <= 1 && epoch.validationAccuracy >= 0 && epoch.validationAccuracy <= 1);
        assert.equal(epoch.gpu, undefined, "no GPU here: no GPU fields");
      }
      const best = history.epochs.reduce((a, b) => (b.validationLoss < a.validationLoss ? b : a));
      assert.equal(history.bestEpoch, best.epoch);
      assert.ok(history.parameters > history.trainableParameters && history.trainableParameters > 0);
      assert.ok(history.buildSeconds > 0 && history.saveSeconds > 0);
      const epochSum = history.epochs.reduce((sum, e) => sum + e.epochSeconds, 0);
      assert.ok(history.totalSeconds >= history.buildSeconds + epochSum + history.saveSeconds - 1e-9);
      assert.equal(history.provenance?.engine, "wasm");
      assert.equal(history.provenance?.trainImages, 16);
      assert.equal(history.provenance?.validationImages, 8);
      assert.deepEqual(history.provenance?.resumedAtEpochs, []);
      assert.equal(history.provenance?.batchNormCalibration?.images, 16);
      await assert.rejects(fs.access(path.join(summary.runDir, history.arch, "checkpoint")), "checkpoint removed once the model is saved");
    }
  });

  test("run.json records parameters, dataset hash, engine, versions, git commit and the machine inventory", async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(summary.runDir, "run.json"), "utf8"));
    assert.equal(manifest.runId, "tiny");
    assert.equal(manifest.params.epochs, EPOCHS);
    assert.match(manifest.dataset.sha256, /^[0-9a-f]{64}$/);
    assert.match(manifest.dataset.contentSha256, /^[0-9a-f]{64}$/);
    assert.match(manifest.configFingerprint, /^[0-9a-f]{64}$/);
    assert.equal(manifest.engine.backend, "wasm");
    const tfjsVersion = (JSON.parse(await fs.readFile(require.resolve("@tensorflow/tfjs/package.json"), "utf8")) as { version: string }).version;
    assert.equal(manifest.versions["@tensorflow/tfjs"], tfjsVersion);
    // The project's own checkout (null outside one, e.g. an unpacked release), asked of git directly.
    const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: projectPath(), encoding: "utf8" });
    assert.equal(manifest.git.commit, head.status === 0 ? head.stdout.trim() : null);
    const inventory = manifest.inventory;
    assert.equal(inventory.cpu.model, os.cpus()[0].model.trim());
    assert.equal(inventory.cpu.logicalCores, os.cpus().length);
    assert.equal(inventory.memory.totalBytes, os.totalmem());
    assert.equal(inventory.disk.path, projectPath());
    assert.ok(inventory.disk.totalBytes > 0, `disk size of ${inventory.disk.path}`);
    assert.deepEqual([inventory.os.platform, inventory.os.arch, inventory.node], [process.platform, process.arch, process.versions.node]);
    assert.equal(inventory.versions["@tensorflow/tfjs"], tfjsVersion);
    const gpuList = spawnSync("nvidia-smi", ["-L"], { encoding: "utf8" });
    assert.equal(inventory.gpus.length, gpuList.status === 0 ? gpuList.stdout.trim().split("\n").length : 0, "one entry per GPU nvidia-smi lists");
    assert.ok(Date.parse(manifest.createdAt) > 0);
  });

  test("TensorBoard event files read back (CRCs, tags, steps, values) and match the history", async () => {
    const { histories } = await loadRun(summary.runDir);
    for (const history of histories) {
      for (const kind of ["train", "validation"] as const) {
        const logDir = path.join(summary.runDir, "tensorboard", history.arch, kind);
        const files = (await fs.readdir(logDir)).filter((f) => f.startsWith("events.out.tfevents."));
        assert.equal(files.length, 1, `${logDir}: one event file`);
        const parsed = readEventFile(await fs.readFile(path.join(logDir, files[0])));
        assert.equal(parsed[0].fileVersion, "brain.Event:2");
        const scalars = parsed.slice(1).map((e) => ({ step: e.step, ...e.scalars[0] }));
        for (const epoch of history.epochs) {
          const value = (tag: string) => scalars.find((s) => s.step === epoch.epoch && s.tag === tag)?.value;
          const loss = kind === "train" ? epoch.trainLoss : epoch.validationLoss;
          const accuracy = kind === "train" ? epoch.trainAccuracy : epoch.validationAccuracy;
          assert.equal(value("epoch_loss"), Math.fround(loss));
          assert.equal(value("epoch_accuracy"), Math.fround(accuracy));
          if (kind === "train") assert.equal(value("epoch_seconds"), Math.fround(epoch.epochSeconds));
        }
        assert.equal(new Set(scalars.map((s) => s.step)).size, EPOCHS);
      }
    }
  });

  test("tensor count is flat over epochs and back to the start after every architecture", () => {
    for (const arch of ARCHS) {
      const counts = tensorsAtEpochEnd[arch];
      assert.equal(counts.length, EPOCHS);
      assert.ok(counts.every((count) => count === counts[0]), `${arch}: ${counts.join(", ")}`);
    }
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  test("progress events cover build, batches with loss/acc/ETA, validation and done, per architecture", () => {
    for (const [index, arch] of ARCHS.entries()) {
      const mine = events.filter((e) => e.arch === arch);
      assert.ok(mine.every((e) => e.archIndex === index + 1 && e.archCount === ARCHS.length));
      const batches = mine.filter((e) => e.phase === "train");
      assert.equal(batches.length, EPOCHS * 2); // 16 images / batch 8
      assert.ok(batches.every((e) => Number.isFinite(e.loss) && Number.isFinite(e.etaSeconds) && e.batches === 2));
      assert.deepEqual(mine.filter((e) => e.phase === "validate").map((e) => e.epoch), [1, 2]);
      assert.equal(mine.at(-1)?.phase, "done");
    }
  });

  test("frozen means frozen: every base weight, moving mean/variance included, is bit-identical after training", async () => {
    for (const arch of ARCHS) {
      const model = await loadTrainedModel(summary.runDir, arch);
      try {
        const after = snapshot(model);
        const base = baseBefore[arch];
        const movingStats = [...base.keys()].filter((name) => /moving_(mean|variance)$/.test(name));
        assert.ok(movingStats.length > 10, `${arch}: BN moving statistics present (${movingStats.length})`);
        for (const [name, before] of base) {
          const saved = after.get(name);
          assert.ok(saved, `${arch}: ${name} in the saved model`);
          assert.ok(Buffer.from(saved.buffer).equals(Buffer.from(before.buffer)), `${arch}: ${name} changed`);
        }
        const headKernel = [...headBefore[arch].keys()].find((name) => name.endsWith("kernel"))!;
        assert.ok(!Buffer.from(after.get(headKernel)!.buffer).equals(Buffer.from(headBefore[arch].get(headKernel)!.buffer)), "the head did train");
        const probabilities = tf.tidy(() => (model.predict(tf.zeros([3, 32, 32, 3])) as tf.Tensor).arraySync() as number[][]);
        assert.equal(probabilities.length, 3);
        assert.ok(Math.abs(probabilities[0][0] + probabilities[0][1] - 1) < 1e-5);
      } finally {
        model.dispose();
      }
    }
  });

  test("the same configuration under the same RUN_ID skips finished architectures", async () => {
    const again = await runTraining(params, { engine });
    assert.deepEqual(again.skipped, [...ARCHS]);
    assert.equal(again.manifest.sessions.length, 2);
  });

  test("another configuration under an existing RUN_ID is refused, saying what differs", async () => {
    await assert.rejects(runTraining(tinyParams(dir, { EPOCHS: "3", LEARNING_RATE: "0.01" }), { engine }), (error: unknown) => {
      assert.ok(error instanceof RunConfigMismatchError);
      assert.match(error.message, /epochs: 3 now vs 2 in run\.json/);
      assert.match(error.message, /learningRate: 0\.01 now vs 0\.001/);
      assert.match(error.message, /another RUN_ID/);
      return true;
    });
  });

  test("top:1 trains the last block only: every weight of a frozen layer, BN statistics included, is bit-identical", async () => {
    let before: Snapshot = new Map();
    const frozenNames = new Set<string>();
    const trainedNames = new Set<string>();
    const run = await runTraining(tinyParams(dir, { ARCHS: "mobilenet", EPOCHS: "1", TRANSFER: "top:1", RUN_ID: "top-1" }), {
      engine,
      onModelReady: (transfer: TransferModel) => {
        before = snapshot(transfer.model);
        for (const layer of transfer.model.layers) for (const weight of layer.weights) (layer.trainable ? trainedNames : frozenNames).add(weight.originalName);
      },
    });
    const model = await loadTrainedModel(run.runDir, "mobilenet");
    try {
      const after = snapshot(model);
      const same = (name: string) => Buffer.from(after.get(name)!.buffer).equals(Buffer.from(before.get(name)!.buffer));
      assert.ok([...frozenNames].some((name) => name.endsWith("moving_mean")));
      for (const name of frozenNames) assert.ok(same(name), `frozen ${name} changed`);
      assert.ok(trainedNames.has("conv_pw_13/kernel") && !same("conv_pw_13/kernel"), "the last block trained");
      assert.ok(!frozenNames.has("conv_pw_13/kernel") && frozenNames.has("conv_pw_12/kernel"));
    } finally {
      model.dispose();
    }
  });
});
