// Content fingerprints of configurations: a run directory (lib/train) and each sharded run
// (lib/scale) are identified by the sha256 of their configuration's canonical JSON.
import { createHash } from "node:crypto";

/** JSON with keys sorted at every level and undefined fields left out: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

export function fingerprintOf(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}
