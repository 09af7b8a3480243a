// Where a step's time goes, per TensorFlow.js kernel: every kernel of the active backend is wrapped
// with a timer for the duration of `work`, then restored. Times are exclusive ("self"): a kernel that
// runs other kernels (our wasm gradients call XNNPACK's BatchMatMul, Conv2D, …) is charged only for
// its own part, so the column adds up to the kernels' share of the step.
import * as tf from "@tensorflow/tfjs";

export interface KernelTime {
  kernel: string;
  selfMs: number;
  calls: number;
}

export function profileKernels(work: () => void): KernelTime[] {
  const backendName = tf.getBackend();
  const originals = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, KernelTime>();
  const childMs: number[] = []; // time spent in nested kernels, per open frame
  for (const config of originals) {
    const run = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        childMs.push(0);
        const started = performance.now();
        try {
          return run(args);
        } finally {
          const elapsed = performance.now() - started;
          const self = elapsed - childMs.pop()!;
          if (childMs.length) childMs[childMs.length - 1] += elapsed;
          const entry = totals.get(config.kernelName) ?? { kernel: config.kernelName, selfMs: 0, calls: 0 };
          entry.selfMs += self;
          entry.calls++;
          totals.set(config.kernelName, entry);
        }
      },
    });
  }
  try {
    work();
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  return [...totals.values()].sort((a, b) => b.selfMs - a.selfMs);
}

/** The slowest kernels as a plain-text table, with the rest summed in one line. */
export function formatKernelTable(title: string, times: KernelTime[], top = 12): string {
  const shown = times.slice(0, top);
  const rest = times.slice(top);
  const rows = shown.map((t) => [t.kernel, t.selfMs.toFixed(1), String(t.calls)]);
  if (rest.length) rows.push([`(${rest.length} others)`, rest.reduce((s, t) => s + t.selfMs, 0).toFixed(1), String(rest.reduce((s, t) => s + t.calls, 0))]);
  rows.push(["total", times.reduce((s, t) => s + t.selfMs, 0).toFixed(1), String(times.reduce((s, t) => s + t.calls, 0))]);
  const header = ["kernel", "self ms", "calls"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [title, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
