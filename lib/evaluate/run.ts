// Reads everything a run directory holds — whatever order (or machines) produced it — and says what is
// missing or failed instead of silently leaving it out. Reads files only, never another stage's memory.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { fileExists, readJson } from "../io/atomic";
import { skipOtherVersion } from "../schemas/check";
import { type Evaluation, evaluationDir, readEvaluation } from "../schemas/evaluation";
import { type ArchHistory, readHistory } from "../schemas/history";
import { readRunManifestFile, RUN_MANIFEST_FILE, type RunManifest } from "../schemas/run-manifest";
import { compareArchs, loadLatencyFiles } from "./latency-file";
import { type LatencyFile } from "../schemas/latency";

/** An error record (<arch or run key>/error.json) written by a training shard that failed. */
export interface FailureRecord {
  /** The folder it was found in (architecture id or run key). */
  key: string;
  arch: string;
  message: string;
  raw: Record<string, unknown>;
}

export interface RunResults {
  runDir: string;
  runId: string;
  manifest: RunManifest | undefined;
  /** Finished training histories, in study order. */
  histories: ArchHistory[];
  /** Histories still marked "running" (interrupted or in progress): not used for comparisons. */
  unfinished: ArchHistory[];
  failures: FailureRecord[];
  /** Expected architectures (run.json params.archs) with neither a finished history nor an error record. */
  missing: string[];
  evaluations: Evaluation[];
  latency: LatencyFile[];
}

/** lib/scale's run list file (kept in step with lib/scale/runlist.ts). */
export const RUN_LIST_FILE = "runlist.json";

const NOT_RUN_FOLDERS = new Set(["evaluation", "tensorboard", "checkpoint", "model", "results"]);

function messageOf(raw: Record<string, unknown>): string {
  for (const field of ["message", "error", "reason", "summary"]) {
    const value = raw[field];
    if (typeof value === "string" && value) return value;
    if (value && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") return (value as { message: string }).message;
  }
  return "failed (no message in the error record)";
}

export async function loadEvaluations(runDir: string): Promise<Evaluation[]> {
  const dir = evaluationDir(runDir);
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const evaluations: Evaluation[] = [];
  for (const name of names) {
    // One of another version is left out (notebook 03 writes it anew); a damaged one is an error.
    const evaluation = await skipOtherVersion(readEvaluation(path.join(dir, name)));
    if (evaluation) evaluations.push(evaluation);
  }
  return evaluations.sort((a, b) => compareArchs(a.arch, b.arch));
}

export async function loadRunResults(runDir: string): Promise<RunResults> {
  if (!(await fileExists(runDir))) {
    throw new Error(`no run at ${runDir}: train first (notebook 02 or \`npx showcase train\`), or set RUN_ID to an existing run under reports/runs/`);
  }
  const manifestPath = path.join(runDir, RUN_MANIFEST_FILE);
  let manifest = (await fileExists(manifestPath)) ? await readRunManifestFile(manifestPath) : undefined;
  if (!manifest) {
    // A sharded run has no run.json of its own: every results/<key>/ has one; the first describes the machine and data.
    const keys = (await fs.readdir(path.join(runDir, "results")).catch(() => [] as string[])).sort();
    for (const key of keys) {
      const inner = path.join(runDir, "results", key, RUN_MANIFEST_FILE);
      if (await fileExists(inner)) {
        manifest = await readRunManifestFile(inner);
        break;
      }
    }
  }
  const histories: ArchHistory[] = [];
  const unfinished: ArchHistory[] = [];
  const failures: FailureRecord[] = [];
  // <arch>/ (notebook 02, `showcase train`) and results/<key>/<arch>/ (sharded runs: each result
  // folder is a lib/train run folder of its own), plus results/<key>/error.json for failed shards.
  const folders: { key: string; folder: string; sharded: boolean }[] = [];
  for (const entry of await fs.readdir(runDir, { withFileTypes: true })) {
    if (entry.isDirectory() && !NOT_RUN_FOLDERS.has(entry.name)) folders.push({ key: entry.name, folder: path.join(runDir, entry.name), sharded: false });
  }
  const resultsDir = path.join(runDir, "results");
  for (const entry of await fs.readdir(resultsDir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const keyDir = path.join(resultsDir, entry.name);
    folders.push({ key: entry.name, folder: keyDir, sharded: true });
    for (const inner of await fs.readdir(keyDir, { withFileTypes: true })) {
      if (inner.isDirectory() && !NOT_RUN_FOLDERS.has(inner.name)) folders.push({ key: entry.name, folder: path.join(keyDir, inner.name), sharded: true });
    }
  }
  folders.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
  const keysPerArch = new Map<string, Set<string>>();
  const found: { key: string; sharded: boolean; history: ArchHistory }[] = [];
  for (const { key, folder, sharded } of folders) {
    const historyPath = path.join(folder, "history.json");
    const errorPath = path.join(folder, "error.json");
    if (await fileExists(historyPath)) {
      const history = await readHistory(historyPath);
      found.push({ key, sharded, history });
      keysPerArch.set(history.arch, (keysPerArch.get(history.arch) ?? new Set()).add(key));
    } else if (await fileExists(errorPath)) {
      const raw = await readJson<Record<string, unknown>>(errorPath);
      failures.push({ key, arch: typeof raw.arch === "string" ? raw.arch : key.split("__")[0], message: messageOf(raw), raw });
    }
  }
  for (const { key, sharded, history } of found) {
    // Several runs of one architecture (seeds, learning rates): name each row by its run key.
    const labelled = sharded && (keysPerArch.get(history.arch)?.size ?? 0) > 1 ? { ...history, displayName: `${history.displayName} [${key.split("__").slice(1).join(" ")}]` } : history;
    (history.status === "finished" ? histories : unfinished).push(labelled);
  }
  let missingKeys: string[] | undefined;
  const runListPath = path.join(runDir, RUN_LIST_FILE);
  if (await fileExists(runListPath)) {
    // A sharded run (lib/scale): its run list says what should be there. Read here rather than through
    // lib/scale's merge so that notebooks compile only what they use.
    const list = await readJson<{ runs?: { key: string; arch: string }[] }>(runListPath);
    missingKeys = [];
    for (const run of list.runs ?? []) {
      const folder = path.join(runDir, "results", run.key);
      const done = (await fileExists(path.join(folder, "result.json"))) || found.some((f) => f.key === run.key && f.history.status === "finished");
      const failed = failures.some((f) => f.key === run.key);
      if (!done && !failed) missingKeys.push(`${run.key} (no result yet: not started, still running, or interrupted)`);
    }
  }
  const byArchThenName = (a: ArchHistory, b: ArchHistory) => compareArchs(a.arch, b.arch) || (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0);
  histories.sort(byArchThenName);
  unfinished.sort(byArchThenName);
  failures.sort((a, b) => compareArchs(a.arch, b.arch) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const accounted = new Set<string>([...histories.map((h) => h.arch), ...failures.map((f) => f.arch)]);
  const expected = manifest?.archs ?? manifest?.params?.archs ?? [];
  const missing = missingKeys ?? [...new Set(expected)].filter((arch) => !accounted.has(arch)).sort(compareArchs);
  return {
    runDir,
    runId: manifest?.runId ?? path.basename(runDir),
    manifest,
    histories,
    unfinished,
    failures,
    missing,
    evaluations: await loadEvaluations(runDir),
    latency: await loadLatencyFiles(runDir),
  };
}

/** Optimizer steps per epoch of the run: STEPS_PER_EPOCH, else ⌈training images / batch size⌉; 1 when unknown. */
export function stepsPerEpochOf(manifest: RunManifest | undefined): number {
  const params = manifest?.params;
  if (params?.stepsPerEpoch) return params.stepsPerEpoch;
  const trainImages = Object.values(manifest?.dataset?.counts?.train ?? {}).reduce((sum, n) => sum + n, 0);
  return trainImages > 0 && params?.batchSize ? Math.ceil(trainImages / params.batchSize) : 1;
}
