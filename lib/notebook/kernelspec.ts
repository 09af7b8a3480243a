// Registers the tslab kernel for Jupyter without Python: a kernelspec is only a kernel.json in
// Jupyter's data directory. `tslab install` needs Python + jupyter_client and writes a bare
// `tslab` command that fails when node_modules/.bin is not on PATH, so the argv here is absolute.
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJson, writeJsonAtomic } from "../io/atomic";
import { tslabCommand } from "./kernel-client";

export const KERNEL_DISPLAY_NAME = "TypeScript (showcase)";
/** The notebooks' metadata names this kernel, so JupyterLab picks it without asking. */
export const DEFAULT_KERNEL_NAME = "tslab";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal";
  metadata: Record<string, unknown>;
}

export interface InstallKernelOptions {
  name?: string;
  displayName?: string;
  /** Like `jupyter kernelspec install --prefix`: <prefix>/share/jupyter/kernels/<name>. */
  prefix?: string;
  env?: Record<string, string | undefined>;
}

export interface InstalledKernel {
  name: string;
  dir: string;
  specPath: string;
  spec: KernelSpec;
  /** The kernel.json that was there before, when it differed. */
  replaced?: KernelSpec;
}

/** Jupyter's per-user data directory, as jupyter_core computes it. */
export function jupyterDataDir(env: Record<string, string | undefined> = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.JUPYTER_DATA_DIR) return path.resolve(env.JUPYTER_DATA_DIR);
  const home = env.HOME || os.homedir();
  if (platform === "darwin") return path.join(home, "Library", "Jupyter");
  if (platform === "win32") return path.join(env.APPDATA || path.join(home, "AppData", "Roaming"), "jupyter");
  return path.join(env.XDG_DATA_HOME || path.join(home, ".local", "share"), "jupyter");
}

export function kernelSpec(displayName = KERNEL_DISPLAY_NAME): KernelSpec {
  const { command, args } = tslabCommand();
  return {
    argv: [command, ...args, "kernel", "--config-path", "{connection_file}"],
    display_name: displayName,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { installedBy: "deeplearning-showcase (showcase kernel install)" },
  };
}

export async function installKernelSpec(options: InstallKernelOptions = {}): Promise<InstalledKernel> {
  const name = options.name ?? DEFAULT_KERNEL_NAME;
  if (!/^[a-z0-9._-]+$/i.test(name)) throw new Error(`kernel name "${name}" may only contain letters, digits, '.', '_' and '-'`);
  const root = options.prefix ? path.join(path.resolve(options.prefix), "share", "jupyter") : jupyterDataDir(options.env);
  const dir = path.join(root, "kernels", name);
  const specPath = path.join(dir, "kernel.json");
  const spec = kernelSpec(options.displayName);
  let replaced: KernelSpec | undefined;
  try {
    const previous = await readJson<KernelSpec>(specPath);
    if (JSON.stringify(previous) !== JSON.stringify(spec)) replaced = previous;
  } catch {
    // Nothing there yet.
  }
  await fs.mkdir(dir, { recursive: true });
  await writeJsonAtomic(specPath, spec, "kernelspec");
  return { name, dir, specPath, spec, replaced };
}
