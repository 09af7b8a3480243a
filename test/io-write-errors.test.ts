// Writes that fail: a full disk, a read-only file system, a refused permission. Each writer of a run
// must stop with one line naming the file, the stage and (disk full) the free space, remove its temp
// file and leave the previous version of the file intact; the same command then resumes. Injected
// errors (any machine) at four points of a training run and a refused permission (root is never
// refused one); real small file systems where this user may mount a tmpfs (root, as CI runs).
import { after, before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, promises as fs, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { saveLatencyFile } from "../lib/evaluate/latency-file";
import { type LatencyFile } from "../lib/schemas/latency";
import { saveEvaluation, scorePredictions } from "../lib/evaluate/predict";
import { writeFileAtomic } from "../lib/io/atomic";
import { FileWriteError } from "../lib/io/file-error";
import { writeNotebook } from "../lib/notebook/nbformat";
import { PROJECT_ROOT } from "../lib/paths";
import { writeWorkbook } from "../lib/report/workbook";
import { loadRun, runTraining } from "../lib/train";
import { saveModelFiles } from "../lib/train/checkpoint";
import { eventFileName, writeScalarEvents } from "../lib/train/tensorboard";
import { exitOf } from "./child-exit";
import { tinyEnv } from "./train-fixtures";

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function remount(dir: string, options: string): void {
  execFileSync("mount", ["-o", `remount,${options}`, dir], { stdio: "ignore" });
}

async function unmount(dir: string): Promise<void> {
  try {
    execFileSync("umount", [dir], { stdio: "ignore" });
  } catch {
    execFileSync("umount", ["-l", dir], { stdio: "ignore" }); // something still holds it: detach lazily
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** Every file under `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
}

function mountWorks(): boolean {
  const probe = mkdtempSync(path.join(os.tmpdir(), "showcase-mount-"));
  const mounted = tryMount(probe, "64k");
  if (mounted) execFileSync("umount", [probe], { stdio: "ignore" });
  rmSync(probe, { recursive: true, force: true });
  return mounted;
}
const canMount = mountWorks();
const needsMount = canMount ? false : "mounting a tmpfs needs root allowed to mount (CI runs as root); the injected-error tests cover the same points";

test("an injected permission error: one line naming the file and the stage, no temp file, the previous file intact", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-eacces-"));
  try {
    const file = path.join(dir, "history.json");
    await writeFileAtomic(file, "previous");
    const rename = mock.method(fs, "rename", async () => {
      throw Object.assign(new Error("EACCES: permission denied, rename"), { code: "EACCES" });
    });
    try {
      await assert.rejects(writeFileAtomic(file, "next", "history"), (error: unknown) => {
        assert.ok(error instanceof FileWriteError);
        assert.equal(error.message, `cannot write ${file} (history): permission denied; make the folder writable, then run the same command again — files written before this one are intact`);
        return true;
      });
    } finally {
      rename.mock.restore();
    }
    assert.deepEqual(await fs.readdir(dir), ["history.json"], "the temp file is removed");
    assert.equal(await fs.readFile(file, "utf8"), "previous");
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

describe("a disk that fills up at several points of a training run (injected ENOSPC, on any machine)", () => {
  let dir: string;
  let engine: Awaited<ReturnType<typeof selectEngine>>;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-enospc-"));
    engine = await selectEngine({ engine: "wasm", quiet: true });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The `nth` write whose path matches `pattern` fails with ENOSPC after its temp file was opened. */
  function failWrite(pattern: RegExp, nth: number) {
    const realOpen = fs.open.bind(fs);
    let seen = 0;
    return mock.method(fs, "open", async (...args: Parameters<typeof fs.open>) => {
      const handle = await realOpen(...args);
      if (pattern.test(String(args[0])) && ++seen === nth) {
        handle.writeFile = async () => {
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        };
      }
      return handle;
    });
  }

  // [stage, the file that fails, which of its writes, the epoch a resume continues with]
  const points: Array<[string, RegExp, number, number]> = [
    ["checkpoint", /checkpoint\/epoch-002\/weights\.bin/, 1, 2],
    ["TensorBoard events", /tensorboard\/mobilenet_v2\/train\/events/, 1, 2],
    ["history", /mobilenet_v2\/history\.json/, 2, 3],
    ["model", /mobilenet_v2\/model\/weights\.bin/, 1, 3],
  ];
  for (const [stage, pattern, nth, resumesAt] of points) {
    test(`${stage}: one line naming the file and the stage, no temp file; the same command resumes with nothing lost`, async () => {
      const env = tinyEnv(dir, { ARCHS: "mobilenet_v2", EPOCHS: "2", RUN_ID: stage.replace(/\s/g, "-") });
      const runDir = path.join(dir, "runs", env.RUN_ID);
      const open = failWrite(pattern, nth);
      try {
        await assert.rejects(runTraining(resolveParams(env), { engine }), (error: unknown) => {
          assert.ok(error instanceof FileWriteError, String(error));
          assert.equal(error.failure.stage, stage);
          assert.match(error.failure.file, pattern);
          assert.match(error.message, new RegExp(`^cannot write ${error.failure.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(${stage}\\): no space left on the device \\(writing \\d+`));
          assert.doesNotMatch(error.message, /\n/);
          return true;
        });
      } finally {
        open.mock.restore();
      }
      assert.deepEqual((await filesUnder(runDir)).filter((f) => f.endsWith(".tmp")), [], "no temp file left");
      const resumed = await runTraining(resolveParams(env), { engine });
      const history = resumed.histories[0];
      assert.equal(history.status, "finished");
      assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2]);
      assert.deepEqual(history.provenance?.resumedAtEpochs, [resumesAt]);
    });
  }
});

describe("every writer of a run on a full disk and on a read-only file system", { skip: needsMount }, () => {
  let dir: string;
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
  const evaluation = scorePredictions({ arch: "mobilenet", displayName: "MobileNet", split: "validation", classes: ["cat", "dog"], rows: [{ path: "cat/cat.1.jpg", labelIndex: 0, probabilities: [0.2, 0.8] }] });
  const latency = { schema: "showcase.latency/1", runId: "r", machine: "m", engine: { engine: "wasm" }, inventory: {}, models: "trained", imageSize: 32, createdAt: "", archs: [] } as unknown as LatencyFile;
  // [stage, the file it writes (relative to the tmpfs), the write]
  const writers: Array<[string, string, () => Promise<unknown>]> = [
    ["model", "run/mobilenet/model/weights.bin", () => saveModelFiles(model, path.join(dir, "run/mobilenet/model"))],
    ["TensorBoard events", `run/tensorboard/mobilenet/train/${eventFileName(1)}`, () => writeScalarEvents({ logDir: path.join(dir, "run/tensorboard/mobilenet/train"), createdWallTime: 1, events: [{ tag: "epoch_loss", value: 0.5, step: 1, wallTime: 1 }], newStep: 1 })],
    ["predictions", "run/evaluation/mobilenet.json", () => saveEvaluation({ runDir: path.join(dir, "run"), evaluation })],
    ["latency", "run/latency-m-wasm.json", () => saveLatencyFile({ runDir: path.join(dir, "run"), file: latency })],
    ["workbook", "tables.xlsx", () => writeWorkbook({ frames: [], path: path.join(dir, "tables.xlsx") })],
    ["notebook", "executed/02-train.ipynb", () => writeNotebook(path.join(dir, "executed/02-train.ipynb"), { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] })],
  ];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-full-"));
    assert.ok(tryMount(dir, "1m"));
    // the previous version of every file, which a failed write must leave as it is
    for (const [, relative] of writers) {
      await fs.mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
      await fs.writeFile(path.join(dir, relative), "previous");
    }
  });

  after(async () => {
    model.dispose();
    await unmount(dir);
  });

  async function expectFailures(reason: RegExp): Promise<void> {
    for (const [stage, relative, write] of writers) {
      const file = path.join(dir, relative);
      await assert.rejects(write(), (error: unknown) => {
        assert.ok(error instanceof FileWriteError, `${stage}: ${String(error)}`);
        assert.equal(error.failure.stage, stage);
        assert.ok(error.message.startsWith(`cannot write ${file} (${stage}): `), error.message);
        assert.match(error.message, reason);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
      assert.equal(await fs.readFile(file, "utf8"), "previous", `${relative} is intact`);
    }
    assert.deepEqual((await filesUnder(dir)).filter((f) => f.endsWith(".tmp")), [], "no temp file left");
  }

  test("disk full: ENOSPC with the free space", async () => {
    const free = async () => {
      const stats = await fs.statfs(dir);
      return stats.bavail * stats.bsize;
    };
    await fs.writeFile(path.join(dir, "filler"), Buffer.alloc(await free())).catch(() => undefined);
    await expectFailures(/: no space left on the device \(writing \d+ (B|KiB), \d+ (B|KiB) free\); free some space, then run the same command again/);
    await fs.rm(path.join(dir, "filler"));
  });

  test("read-only file system: EROFS", async () => {
    remount(dir, "ro");
    try {
      await expectFailures(/: read-only file system; remount it writable or choose another folder/);
    } finally {
      remount(dir, "rw");
    }
  });
});

describe("a training run whose disk fills up or turns read-only", { skip: needsMount }, () => {
  let dir: string;
  let runs: string;
  let env: Record<string, string>;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-smalldisk-"));
    runs = path.join(dir, "runs");
    await fs.mkdir(runs);
    // MobileNetV2 at 32 px: the frozen base's checkpoint (9 MB) fits in 12 MiB, the final model (9 MB more) does not.
    assert.ok(tryMount(runs, "12m"));
    env = tinyEnv(dir, { ARCHS: "mobilenet_v2", EPOCHS: "2", RUN_ID: "small" });
  });

  after(async () => {
    await unmount(runs);
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("disk full while saving the model: the CLI prints one line with the path, the stage and the free space, exits 1; after space is freed the run resumes and finishes", async () => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, "bin", "showcase.js"), "train", "--quiet"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const { code, stderr } = await exitOf(child);
    const runDir = path.join(runs, "small");
    const lines = stderr.trim().split("\n");
    assert.equal(code, 1, stderr);
    assert.equal(lines.length, 1, `one line, no stack trace:\n${stderr}`);
    assert.match(lines[0], new RegExp(`^showcase train: cannot write ${path.join(runDir, "mobilenet_v2", "model", "weights.bin")} \\(model\\): no space left on the device \\(writing \\d+\\.\\d MiB, \\d+(\\.\\d)? (B|KiB|MiB) free\\)`));
    assert.deepEqual((await filesUnder(runDir)).filter((f) => f.endsWith(".tmp")), [], "no temp file left");
    const history = JSON.parse(await fs.readFile(path.join(runDir, "mobilenet_v2", "history.json"), "utf8"));
    assert.equal(history.status, "running");
    assert.equal(history.epochs.length, 2);

    remount(runs, "size=40m");
    const engine = await selectEngine({ engine: "wasm", quiet: true });
    const resumed = await runTraining(resolveParams(env), { engine });
    assert.deepEqual(resumed.resumed, ["mobilenet_v2"]);
    const { histories } = await loadRun(runDir);
    assert.deepEqual(histories[0].epochs.map((e) => e.epoch), [1, 2], "nothing lost: the epochs of the failed session");
    assert.equal(histories[0].status, "finished");
  });

  test("file system turned read-only after epoch 1: the epoch 2 checkpoint fails naming its file, epoch 1's stays and resumes", async () => {
    const runEnv = { ...env, RUN_ID: "readonly" };
    const runDir = path.join(runs, "readonly");
    const engine = await selectEngine({ engine: "wasm", quiet: true });
    let remounted = false;
    try {
      await assert.rejects(
        runTraining(resolveParams(runEnv), {
          engine,
          onProgress: (p) => {
            if (!remounted && p.phase === "validate" && p.epoch === 1) {
              remount(runs, "ro");
              remounted = true;
            }
          },
        }),
        (error: unknown) => {
          assert.ok(error instanceof FileWriteError, String(error));
          assert.equal(error.failure.code, "EROFS");
          assert.equal(error.failure.stage, "checkpoint");
          assert.ok(error.failure.file.startsWith(path.join(runDir, "mobilenet_v2", "checkpoint", "epoch-002") + path.sep), error.message);
          return true;
        },
      );
    } finally {
      if (remounted) remount(runs, "rw");
    }
    assert.ok(remounted);
    const resumed = await runTraining(resolveParams(runEnv), { engine });
    assert.deepEqual(resumed.resumed, ["mobilenet_v2"]);
    const history = resumed.histories[0];
    assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2]);
    assert.deepEqual(history.provenance?.resumedAtEpochs, [2], "continued from epoch 1's checkpoint");
  });
});
