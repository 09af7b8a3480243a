// How many architectures train at the same time. tfjs-backend-wasm 4.22 runs one thread under Node
// and the pure-JS cpu backend one as well, so on those engines the other cores are reached only by
// training in several processes (measured 1.75× with two on 2 cores, docs/performance.md). GPU engines
// and the native tfjs-node engines use the whole machine already: one process.
import { availableParallelism } from "node:os";
import type { WorkersChoice } from "../config";
import { usesOneCorePerProcess } from "../engine/capabilities";
import type { EngineDescription } from "../engine/types";

/**
 * Worker processes for a session: WORKERS=auto → min(cores, architectures to train) on wasm/cpu,
 * 1 elsewhere; a number is taken as given but never above the architectures to train. Always ≥ 1.
 */
export function resolveWorkerCount(opts: {
  workers: WorkersChoice;
  engine: Pick<EngineDescription, "engine">;
  /** Architectures not finished yet (finished ones are only skipped). */
  pendingArchs: number;
  cores?: number;
}): number {
  const wanted = opts.workers === "auto" ? (usesOneCorePerProcess(opts.engine) ? (opts.cores ?? availableParallelism()) : 1) : opts.workers;
  return Math.max(1, Math.min(wanted, opts.pendingArchs));
}
