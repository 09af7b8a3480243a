// GPU telemetry during training: one long-running `nvidia-smi -lms N` child (not a process per
// sample), its CSV lines folded into running totals. The child is unref'ed, killed on stop() and on
// process exit, so it never keeps a run alive or outlives it. Without nvidia-smi it does nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { findExecutable } from "./nvidia-smi";

export interface GpuSampleSummary {
  /** nvidia-smi lines read (one per GPU per interval). */
  samples: number;
  meanUtilizationPercent: number;
  maxMemoryUsedMiB: number;
  intervalMs: number;
}

export interface GpuSampler {
  /** False when there is no nvidia-smi: stop() then returns undefined. */
  readonly active: boolean;
  stop(): GpuSampleSummary | undefined;
}

/** Parses one `utilization.gpu,memory.used` line (nounits); undefined for "[N/A]" or junk. */
export function parseSampleLine(line: string): { utilizationPercent: number; memoryUsedMiB: number } | undefined {
  const [utilization, memory] = line.split(",").map((field) => Number.parseFloat(field.trim()));
  if (!Number.isFinite(utilization) || !Number.isFinite(memory)) return undefined;
  return { utilizationPercent: utilization, memoryUsedMiB: memory };
}

export function startGpuSampler(opts: { intervalMs?: number; env?: NodeJS.ProcessEnv } = {}): GpuSampler {
  const intervalMs = Math.max(50, Math.round(opts.intervalMs ?? 1000));
  const env = opts.env ?? process.env;
  const executable = findExecutable("nvidia-smi", env);
  if (!executable) return { active: false, stop: () => undefined };

  let samples = 0;
  let utilizationSum = 0;
  let maxMemory = 0;
  let pending = "";
  const take = (line: string) => {
    const sample = parseSampleLine(line);
    if (!sample) return;
    samples += 1;
    utilizationSum += sample.utilizationPercent;
    maxMemory = Math.max(maxMemory, sample.memoryUsedMiB);
  };

  let child: ChildProcess | undefined = spawn(executable, ["--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits", `-lms`, String(intervalMs)], {
    stdio: ["ignore", "pipe", "ignore"],
    env,
  });
  child.on("error", () => {
    child = undefined; // could not start: the summary stays empty
  });
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    lines.forEach(take);
  });
  // Neither the child nor its pipe may keep the event loop (and so a finished run) alive.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  let final: GpuSampleSummary | undefined;
  let stopped = false;
  return {
    active: true,
    stop() {
      if (stopped) return final;
      stopped = true;
      process.removeListener("exit", killOnExit);
      if (child) {
        child.stdout?.removeAllListeners("data");
        child.kill("SIGTERM");
        child = undefined;
      }
      if (pending) take(pending);
      pending = "";
      if (samples > 0) final = { samples, meanUtilizationPercent: utilizationSum / samples, maxMemoryUsedMiB: maxMemory, intervalMs };
      return final;
    },
  };
}
