// Which TensorFlow.js packages are really installed, read from their package.json files.
// A successful require proves nothing here: danfojs-node's npm alias puts pure tfjs under the
// name "@tensorflow/tfjs-node", so the manifest's own "name" field is what tells them apart.
import { readFileSync } from "node:fs";
import * as path from "node:path";

export interface InstalledPackage {
  /** The name asked for (the folder under node_modules). */
  requested: string;
  /** The package's own name; differs from `requested` for an npm alias. */
  name: string;
  version: string;
  dir: string;
}

export function findInstalledPackage(requested: string, opts: { paths?: string[] } = {}): InstalledPackage | undefined {
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${requested}/package.json`, opts.paths ? { paths: opts.paths } : undefined);
  } catch {
    return undefined;
  }
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { name?: string; version?: string };
    return { requested, name: manifest.name ?? requested, version: manifest.version ?? "unknown", dir: path.dirname(manifestPath) };
  } catch {
    return undefined;
  }
}

/** The package under `requested`, only when it is that package and not an alias of another one. */
export function findGenuinePackage(requested: string, opts: { paths?: string[] } = {}): InstalledPackage | undefined {
  const found = findInstalledPackage(requested, opts);
  return found && found.name === requested ? found : undefined;
}

const VERSIONED_PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-layers",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-webgpu",
  "@tensorflow/tfjs-node",
  "@tensorflow/tfjs-node-gpu",
  "webgpu",
] as const;

/** Versions of node and of every genuine TensorFlow.js package present (aliases are named as such). */
export function collectVersions(): Record<string, string> {
  const versions: Record<string, string> = { node: process.versions.node };
  for (const name of VERSIONED_PACKAGES) {
    const found = findInstalledPackage(name);
    if (!found) continue;
    versions[name] = found.name === name ? found.version : `alias of ${found.name}@${found.version}`;
  }
  return versions;
}
