// nvidia-smi: the one portable way to read an NVIDIA GPU's name, memory, driver and load.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import * as path from "node:path";

export interface GpuInfo {
  name: string;
  memoryMiB: number;
  driverVersion: string;
}

/** Absolute path of an executable on PATH, or undefined (no process is started to find out). */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Parses `--query-gpu=name,memory.total,driver_version --format=csv,noheader` output. */
export function parseGpuList(csv: string): GpuInfo[] {
  return csv
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, memory, driver] = line.split(",").map((field) => field.trim());
      const memoryMiB = Number.parseFloat(memory ?? "");
      return { name: name ?? "unknown", memoryMiB: Number.isFinite(memoryMiB) ? memoryMiB : 0, driverVersion: driver ?? "unknown" };
    });
}

export interface GpuQuery {
  gpus: GpuInfo[];
  /** Why the list is empty: no nvidia-smi, or it failed. */
  note?: string;
}

export function queryGpus(opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<GpuQuery> {
  const env = opts.env ?? process.env;
  const executable = findExecutable("nvidia-smi", env);
  if (!executable) return Promise.resolve({ gpus: [], note: "no NVIDIA GPU: nvidia-smi is not on PATH" });
  return new Promise((resolve) => {
    execFile(
      executable,
      ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
      { timeout: opts.timeoutMs ?? 10_000, env, encoding: "utf8" },
      (error, stdout) => {
        if (error) resolve({ gpus: [], note: `nvidia-smi failed: ${error.message.split("\n")[0]}` });
        else {
          const gpus = parseGpuList(stdout);
          resolve(gpus.length ? { gpus } : { gpus, note: "nvidia-smi lists no GPU" });
        }
      },
    );
  });
}
