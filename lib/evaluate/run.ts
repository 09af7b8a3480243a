// Reads everything a run directory holds — whatever order (or machines) produced it — and says what is
// missing or failed instead of silently leaving it out. Reads files only, never another stage's memory.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { fileExists, readJson } from "../io/atomic";
import type { ArchHistory } from "../train/types";
import { compareArchs, type LatencyFile, loadLatencyFiles } from "./latency-file";
import { type Evaluation, EVALUATION_SCHEMA } from "./predict";

/** The fields of run.json (lib/train's RunManifest) that evaluation uses; everything else is passed through. */
export interface RunManifestLike {
  schema?: string;
  runId?: string;
  createdAt?: string;
  params?: { archs?: string[]; profile?: string; epochs?: number; imageSize?: number; batchSize?: number; stepsPerEpoch?: number; seed?: number; [key: string]: unknown };
  dataset?: { manifestPath?: string; sha256?: string; [key: string]: unknown };
  engine?: { engine?: string; backend?: string; device?: string; [key: string]: unknown };
  inventory?: Record<string, unknown>;
  [key: string]: unknown;
}

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
  manifest: RunManifestLike | undefined;
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

const NOT_RUN_FOLDERS = new Set(["evaluation", "tensorboard", "checkpoint", "model"]);

function messageOf(raw: Record<string, unknown>): string {
  for (const field of ["message", "error", "reason", "summary"]) {
    const value = raw[field];
    if (typeof value === "string" && value) return value;
    if (value && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") return (value as { message: string }).message;
  }
  return "failed (no message in the error record)";
}

export async function loadEvaluations(runDir: string): Promise<Evaluation[]> {
  const dir = path.join(runDir, "evaluation");
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const evaluations: Evaluation[] = [];
  for (const name of names) {
    const evaluation = await readJson<Evaluation>(path.join(dir, name));
    if (evaluation.schema === EVALUATION_SCHEMA) evaluations.push(evaluation);
  }
  return evaluations.sort((a, b) => compareArchs(a.arch, b.arch));
}

export async function loadRunResults(runDir: string): Promise<RunResults> {
  if (!(await fileExists(runDir))) {
    throw new Error(`no run at ${runDir}: train first (notebook 02 or \`npx showcase train\`), or set RUN_ID to an existing run under reports/runs/`);
  }
  const manifestPath = path.join(runDir, "run.json");
  const manifest = (await fileExists(manifestPath)) ? await readJson<RunManifestLike>(manifestPath) : undefined;
  const histories: ArchHistory[] = [];
  const unfinished: ArchHistory[] = [];
  const failures: FailureRecord[] = [];
  const entries = (await fs.readdir(runDir, { withFileTypes: true })).filter((e) => e.isDirectory() && !NOT_RUN_FOLDERS.has(e.name));
  for (const entry of entries.map((e) => e.name).sort()) {
    const folder = path.join(runDir, entry);
    const historyPath = path.join(folder, "history.json");
    const errorPath = path.join(folder, "error.json");
    if (await fileExists(historyPath)) {
      const history = await readJson<ArchHistory>(historyPath);
      (history.status === "finished" ? histories : unfinished).push(history);
    } else if (await fileExists(errorPath)) {
      const raw = await readJson<Record<string, unknown>>(errorPath);
      failures.push({ key: entry, arch: typeof raw.arch === "string" ? raw.arch : entry.split("__")[0], message: messageOf(raw), raw });
    }
  }
  histories.sort((a, b) => compareArchs(a.arch, b.arch));
  unfinished.sort((a, b) => compareArchs(a.arch, b.arch));
  failures.sort((a, b) => compareArchs(a.arch, b.arch) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const accounted = new Set<string>([...histories.map((h) => h.arch), ...failures.map((f) => f.arch)]);
  const expected = manifest?.params?.archs ?? [];
  const missing = [...new Set(expected)].filter((arch) => !accounted.has(arch)).sort(compareArchs);
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
