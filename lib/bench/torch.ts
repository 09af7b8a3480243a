// Optional PyTorch reference in the same session: scripts/torch-bench.py, run with the system
// python when it can import torch (Debian python3-torch). Same measurements, same thread count.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { projectPath } from "../paths";
import { fileExists } from "../io/atomic";
import type { BenchRow } from "./types";

const run = promisify(execFile);
export const TORCH_SCRIPT = projectPath("scripts", "torch-bench.py");

export async function torchAvailable(python = process.env.TORCH_PYTHON ?? "/usr/bin/python3"): Promise<string | undefined> {
  if (!(await fileExists(TORCH_SCRIPT))) return "scripts/torch-bench.py is missing";
  try {
    await run(python, ["-c", "import torch"], { timeout: 60_000 });
    return undefined;
  } catch {
    return `${python} cannot import torch (apt-get install python3-torch python3-torchvision)`;
  }
}

export async function benchTorch(opts: { archs: string[]; threads: number; latencyReps: number; trainSizes: number[]; trainSteps: number; batch: number; python?: string; timeoutMs?: number }): Promise<BenchRow[]> {
  const args = [TORCH_SCRIPT, "--archs", opts.archs.join(","), "--threads", String(opts.threads), "--reps", String(opts.latencyReps),
    "--train-sizes", opts.trainSizes.join(","), "--steps", String(opts.trainSteps), "--batch", String(opts.batch)];
  // OpenBLAS otherwise picks a slow generic kernel on these virtual CPUs (see shared/notes/engines.md).
  const env = { ...process.env, OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? "SkylakeX" };
  const { stdout } = await run(opts.python ?? process.env.TORCH_PYTHON ?? "/usr/bin/python3", args, { env, timeout: opts.timeoutMs ?? 900_000, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "[]") as BenchRow[];
}
