// The run directory: reports/runs/<run-id>/ with run.json (RunManifest) and one folder per
// architecture. A run id is bound to one configuration: the same configuration resumes, a different
// one is refused with what differs, so results are never silently mixed.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fingerprintOf } from "../io/fingerprint";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatTransfer, type RunParams } from "../config";
import type { DatasetManifest } from "../data/types";
import { collectVersions, findInstalledPackage } from "../engine/packages";
import type { EngineDescription } from "../engine/types";
import { fileExists, removeStaleTempFiles, writeJsonAtomic } from "../io/atomic";
import { PROJECT_ROOT } from "../paths";
import type { MachineInventory } from "../schemas/inventory";
import { type DatasetIdentity, readRunManifestFile, RUN_MANIFEST_FILE, RUN_MANIFEST_SCHEMA, type RunManifest, type RunSession } from "../schemas/run-manifest";

export function runDirFor(params: Pick<RunParams, "runsDir" | "runId">): string {
  return path.join(params.runsDir, params.runId);
}

/** Layout of one architecture's folder inside a run directory. */
export function archPaths(runDir: string, arch: string) {
  const archDir = path.join(runDir, arch);
  return {
    archDir,
    history: path.join(archDir, "history.json"),
    checkpoint: path.join(archDir, "checkpoint"),
    model: path.join(archDir, "model"),
    tensorboard: path.join(runDir, "tensorboard", arch),
  };
}

export class RunConfigMismatchError extends Error {
  constructor(
    readonly runDir: string,
    readonly differences: string[],
  ) {
    super(
      `${runDir} already holds a run with a different configuration (${differences.join("; ")}). ` +
        `Choose another RUN_ID (e.g. RUN_ID=${path.basename(runDir)}-2 or --run-id), or delete that folder to start over.`,
    );
    this.name = "RunConfigMismatchError";
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Dataset content: classes and each split's (image hash, label) pairs; paths and dates left out. */
export async function datasetIdentity(manifest: DatasetManifest, manifestPath: string): Promise<DatasetIdentity> {
  const content = {
    classes: manifest.classes,
    splits: Object.fromEntries(
      Object.entries(manifest.splits).map(([split, records]) => [split, records.map((r) => [r.sha256, r.label])]),
    ),
  };
  let fileSha = "";
  try {
    fileSha = sha256(await fs.readFile(manifestPath));
  } catch {
    fileSha = "unreadable";
  }
  return {
    manifestPath,
    sha256: fileSha,
    contentSha256: sha256(JSON.stringify(content)),
    dataset: manifest.dataset,
    source: manifest.source.kind,
    synthetic: manifest.source.synthetic,
    counts: manifest.counts,
  };
}

/**
 * What changes the numbers a run produces. Left out on purpose: the architecture list (a run may
 * grow by architectures), the engine (recorded per architecture instead), machine-local paths.
 */
export function configOf(params: RunParams, dataset: DatasetIdentity): Record<string, unknown> {
  return {
    epochs: params.epochs,
    seed: params.seed,
    weights: params.weights,
    // only when set, so that runs created before ALPHA existed keep their fingerprint
    ...(params.alpha !== undefined ? { alpha: params.alpha } : {}),
    transfer: formatTransfer(params.transfer),
    imageSize: params.imageSize,
    batchSize: params.batchSize,
    stepsPerEpoch: params.stepsPerEpoch ?? null,
    optimizer: params.optimizer,
    learningRate: params.learningRate,
    patience: params.patience ?? null,
    trainPerClass: params.trainPerClass,
    validationPerClass: params.validationPerClass,
    datasetContentSha256: dataset.contentSha256,
  };
}

export function fingerprint(config: Record<string, unknown>): string {
  return fingerprintOf(config);
}

export function describeDifferences(wanted: Record<string, unknown>, existing: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(wanted), ...Object.keys(existing)])].sort();
  return keys
    .filter((key) => JSON.stringify(wanted[key]) !== JSON.stringify(existing[key]))
    .map((key) => `${key}: ${JSON.stringify(wanted[key] ?? null)} now vs ${JSON.stringify(existing[key] ?? null)} in run.json`);
}

export function gitState(cwd = PROJECT_ROOT): RunManifest["git"] {
  const git = (args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).trim();
  try {
    const commit = git(["rev-parse", "HEAD"]);
    let dirty: boolean | null = null;
    try {
      dirty = git(["status", "--porcelain", "--untracked-files=no"]).length > 0;
    } catch {
      dirty = null;
    }
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null }; // not a git checkout (e.g. an unpacked release)
  }
}

/** tfjs and engine packages (lib/engine) plus the others whose versions change results or speed. */
export function packageVersions(): Record<string, string> {
  const versions = collectVersions();
  for (const name of ["sharp", "h5wasm", "tslab", "typescript"]) {
    const found = findInstalledPackage(name);
    if (found) versions[name] = found.version;
  }
  return versions;
}

export interface OpenRunOptions {
  params: RunParams;
  engine: EngineDescription;
  dataset: DatasetManifest;
  datasetManifestPath: string;
  /** lib/system's collectInventory; injected so tests and shards can pass a cheap one. */
  collectInventory: () => Promise<MachineInventory>;
  /** Architectures this session trains at the same time (recorded in its session entry); default 1. */
  workers?: number;
}

/**
 * Creates the run directory and run.json, or checks an existing one: same configuration → resume
 * (a session is appended), different → RunConfigMismatchError. Returns the manifest now on disk.
 */
export async function openRunDir(opts: OpenRunOptions): Promise<{ runDir: string; manifest: RunManifest; created: boolean }> {
  const { params, engine } = opts;
  const runDir = runDirFor(params);
  const file = path.join(runDir, RUN_MANIFEST_FILE);
  const dataset = await datasetIdentity(opts.dataset, opts.datasetManifestPath);
  const config = configOf(params, dataset);
  const configFingerprint = fingerprint(config);
  const session: RunSession = {
    startedAt: new Date().toISOString(),
    hostname: os.hostname(),
    engine: engine.engine,
    backend: engine.backend,
    archs: [...params.archs],
    workers: opts.workers ?? 1,
  };
  await removeStaleTempFiles(runDir, { recursive: false }); // a killed session's run.json temp (its caller holds the run lock)
  if (await fileExists(file)) {
    const existing = await readRunManifestFile(file);
    if (existing.configFingerprint !== configFingerprint) {
      throw new RunConfigMismatchError(runDir, describeDifferences(config, existing.config ?? {}));
    }
    const manifest: RunManifest = {
      ...existing,
      sessions: [...(existing.sessions ?? []), session],
      archs: [...new Set([...(existing.archs ?? []), ...params.archs])],
    };
    await writeJsonAtomic(file, manifest, "run manifest");
    return { runDir, manifest, created: false };
  }
  const manifest: RunManifest = {
    schema: RUN_MANIFEST_SCHEMA,
    runId: params.runId,
    params,
    configFingerprint,
    config,
    dataset,
    engine,
    inventory: await opts.collectInventory(),
    versions: packageVersions(),
    git: gitState(),
    createdAt: session.startedAt,
    sessions: [session],
    archs: [...params.archs],
  };
  await writeJsonAtomic(file, manifest, "run manifest");
  return { runDir, manifest, created: true };
}

export async function readRunManifest(runDir: string): Promise<RunManifest> {
  const file = path.join(runDir, RUN_MANIFEST_FILE);
  if (!(await fileExists(file))) {
    throw new Error(`no ${RUN_MANIFEST_FILE} in ${runDir}: train first (notebook 02 or \`npx showcase train\`) or check RUN_ID / RUNS_DIR`);
  }
  return readRunManifestFile(file);
}
