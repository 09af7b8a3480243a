import type { EngineChoice } from "../config";

export type EngineName = Exclude<EngineChoice, "auto">;

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  limits: Record<string, number>;
}

/** Recorded with every output so that numbers can be traced to the engine that produced them. */
export interface EngineDescription {
  engine: EngineName;
  /** tf.getBackend() after selection — the backend that really registered. */
  backend: string;
  device: "gpu" | "cpu";
  /** One sentence: why this engine, and what was tried before it. */
  reason: string;
  /** Silent fallbacks and other warnings, each a sentence. */
  warnings: string[];
  threads: number;
  adapter?: GpuAdapterInfo;
  /** The engines passed over before this one (automatic selection), each with its reason. */
  skipped?: Array<{ engine: EngineName; reason: string }>;
  versions: Record<string, string>;
}
