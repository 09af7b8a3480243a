// Engine selection: try the candidates in order of speed, start the first that really works, and
// say why each one before it was passed over. A forced engine that cannot start is an error.
import { ENGINES } from "../config";
import type { EngineDescription, EngineName, GpuAdapterInfo } from "./types";

export interface CandidateStarted {
  ok: true;
  /** Set when a candidate started under another engine's name (tfjs-node-gpu running on the CPU). */
  engine?: EngineName;
  backend: string;
  device: "gpu" | "cpu";
  /** What was started, for the reason sentence ("SIMD, 1 thread"). */
  detail: string;
  threads: number;
  warnings: string[];
  adapter?: GpuAdapterInfo;
}

export interface CandidateSkipped {
  ok: false;
  reason: string;
  /** A silent fallback someone should hear about even when another engine is chosen. */
  warning?: string;
}

export interface EngineCandidate {
  engine: EngineName;
  start(opts: { forced: boolean }): Promise<CandidateStarted | CandidateSkipped>;
}

export class EngineUnavailableError extends Error {
  constructor(readonly engine: EngineName, readonly why: string) {
    const others = ENGINES.filter((name) => name !== engine && name !== "auto");
    super(`ENGINE=${engine} cannot start: ${why}. Use ENGINE=auto (picks the fastest that starts) or one of ${others.join(", ")}`);
    this.name = "EngineUnavailableError";
  }
}

export type EngineOrderChoice = EngineName | "auto";

export async function chooseEngine(opts: {
  choice: EngineOrderChoice;
  candidates: EngineCandidate[];
  versions: () => Record<string, string>;
}): Promise<EngineDescription> {
  const { choice, candidates } = opts;
  if (choice !== "auto") {
    const candidate = candidates.find((c) => c.engine === choice);
    if (!candidate) throw new EngineUnavailableError(choice, "no such engine in this build");
    const result = await candidate.start({ forced: true });
    if (result.ok === false) throw new EngineUnavailableError(choice, result.reason);
    return describe(result, candidate.engine, `ENGINE=${choice} was asked for: ${result.detail}`, [], opts.versions());
  }
  const skipped: Array<{ engine: EngineName; reason: string }> = [];
  const warnings: string[] = [];
  for (const candidate of candidates) {
    const result = await candidate.start({ forced: false });
    if (result.ok === false) {
      skipped.push({ engine: candidate.engine, reason: result.reason });
      if (result.warning) warnings.push(result.warning);
      continue;
    }
    const name = result.engine ?? candidate.engine;
    const passedOver = skipped.map((s) => `${s.engine} (${s.reason})`).join(", ");
    const reason = `${name} chosen automatically (${result.detail})${skipped.length ? `; passed over ${passedOver}` : ""}`;
    return { ...describe(result, name, reason, warnings, opts.versions()), skipped };
  }
  throw new Error(`no TensorFlow.js engine could start: ${skipped.map((s) => `${s.engine}: ${s.reason}`).join("; ")}`);
}

function describe(result: CandidateStarted, engine: EngineName, reason: string, warnings: string[], versions: Record<string, string>): EngineDescription {
  return {
    engine: result.engine ?? engine,
    backend: result.backend,
    device: result.device,
    reason,
    warnings: [...warnings, ...result.warnings],
    threads: result.threads,
    ...(result.adapter ? { adapter: result.adapter } : {}),
    versions,
  };
}
