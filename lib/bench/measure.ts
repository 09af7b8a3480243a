// Timing helpers: wall clock and this process's CPU time, peak memory. Percentiles come from
// lib/evaluate/latency (nearest rank), so bench tables and the report's latency tables agree.
import * as tf from "@tensorflow/tfjs";

export interface Timed {
  wallSeconds: number;
  cpuSeconds: number;
}

export function timeSync(fn: () => void): Timed {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const cpu = process.cpuUsage(cpu0);
  return { wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** `warmup` untimed calls, then `runs` timed ones: the wall time of each and the CPU time of all. */
export function timeRuns(fn: () => void, opts: { warmup: number; runs: number }): { wallSeconds: number[]; totalWallSeconds: number; cpuSeconds: number } {
  for (let i = 0; i < opts.warmup; i++) fn();
  const wallSeconds: number[] = [];
  let cpuSeconds = 0;
  for (let i = 0; i < opts.runs; i++) {
    const t = timeSync(fn);
    wallSeconds.push(t.wallSeconds);
    cpuSeconds += t.cpuSeconds;
  }
  return { wallSeconds, totalWallSeconds: wallSeconds.reduce((a, b) => a + b, 0), cpuSeconds };
}

/** timeRuns for an asynchronous call (ONNX Runtime's session.run). */
export async function timeRunsAsync(fn: () => Promise<unknown>, opts: { warmup: number; runs: number }): Promise<{ wallSeconds: number[]; cpuSeconds: number }> {
  for (let i = 0; i < opts.warmup; i++) await fn();
  const wallSeconds: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < opts.runs; i++) {
    const t0 = performance.now();
    await fn();
    wallSeconds.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  return { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

let peakHeapBytes = 0;

/** Samples the wasm heap size (it only grows) so that the report can state the peak. */
export function sampleWasmHeap(): number {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const bytes = backend.wasm?.HEAPU8?.buffer.byteLength ?? 0;
  peakHeapBytes = Math.max(peakHeapBytes, bytes);
  return peakHeapBytes;
}

export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
