// The tiny training configuration the train tests share: synthetic images, 32 px, 8 + 8 training and
// 4 + 4 validation images, batch 8, wasm, everything under a temporary folder. One architecture at a
// time in the test's own process (WORKERS=1): the tests inspect models and tensors in-process;
// test/train-workers.test.ts sets WORKERS itself.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { TrainProgress } from "../lib/train";

export function tinyEnv(dir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ARCHS: "mobilenet_v2,mobilenet",
    EPOCHS: "2",
    IMAGE_SIZE: "32",
    BATCH_SIZE: "8",
    STEPS_PER_EPOCH: "all",
    TRAIN_PER_CLASS: "8",
    VALIDATION_PER_CLASS: "4",
    SYNTHETIC_PER_CLASS: "12",
    ENGINE: "wasm",
    WORKERS: "1",
    RUN_ID: "tiny",
    PREPARED_DIR: path.join(dir, "prepared"),
    RUNS_DIR: path.join(dir, "runs"),
    ...overrides,
  };
}

export interface HeldTrainer {
  child: ChildProcess;
  /** The signal the child ended with. */
  exited: Promise<NodeJS.Signals | null>;
  /** The progress events the child printed up to the held epoch. */
  seen: TrainProgress[];
}

/**
 * A training child (test/train-resume-child.ts) that blocks inside the first batch of `arch`'s `epoch`
 * (it holds the run's lock meanwhile); resolves once it got there, with the progress events seen until then.
 */
export async function holdingTrainer(env: Record<string, string>, arch: string, epoch: number): Promise<HeldTrainer> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "train-resume-child.ts")], {
    env: { ...process.env, ...env, HOLD_AT_EPOCH: `${arch}:${epoch}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  const seen: TrainProgress[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    const progress = JSON.parse(line) as TrainProgress;
    seen.push(progress);
    if (progress.phase === "train" && progress.arch === arch && progress.epoch === epoch) return { child, exited, seen };
  }
  throw new Error(`the training child ended before ${arch}'s epoch ${epoch}: ${stderr.slice(-800)}`);
}

/**
 * Trains in a child process (test/train-resume-child.ts) and kills it with SIGKILL inside the first
 * batch of `arch`'s `epoch`; returns the progress events seen until then.
 */
export async function trainUntilKilled(env: Record<string, string>, arch: string, epoch: number): Promise<TrainProgress[]> {
  const { child, exited, seen } = await holdingTrainer(env, arch, epoch);
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL", "the child was killed, not finished");
  return seen;
}
