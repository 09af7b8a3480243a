// Both cores without wasm threads (tfjs-backend-wasm 4.22 hard-codes them off under Node): the
// same training benchmark in N processes at once; the sum of their images/s is what spreading
// architectures or batches over worker processes would give.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../paths";
import { round } from "./measure";
import type { BenchReport, BenchRow } from "./types";

const run = promisify(execFile);

export async function benchWorkers(opts: { arch: string; workers: number; inputSize: number; batch: number; steps: number; engine: string }): Promise<BenchRow[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-bench-workers-"));
  try {
    const started = performance.now();
    const reports = await Promise.all(Array.from({ length: opts.workers }, async (_, i) => {
      const json = path.join(dir, `worker-${i}.json`);
      await run(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "lib", "cli.ts"), "bench", "train", "--archs", opts.arch, "--sizes", String(opts.inputSize),
        "--batch", String(opts.batch), "--steps", String(opts.steps), "--engine", opts.engine, "--json", json, "--quiet"], { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 1_800_000 });
      return JSON.parse(await fs.readFile(json, "utf8")) as BenchReport;
    }));
    const wallSeconds = (performance.now() - started) / 1000;
    const perWorker = reports.map((r) => r.rows.find((row) => row.kind === "train")?.imagesPerSecond ?? 0);
    return [{
      kind: "train", subject: opts.arch, variant: `${opts.workers} processes`, engine: opts.engine, threads: opts.workers, inputSize: opts.inputSize, batch: opts.batch,
      imagesPerSecond: round(perWorker.reduce((a, b) => a + b, 0)), repetitions: opts.steps,
      note: `per process ${perWorker.map((v) => v.toFixed(2)).join(" + ")} img/s; ${wallSeconds.toFixed(0)} s including start-up`,
    }];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
