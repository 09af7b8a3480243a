// Whether this code runs inside the tslab kernel (a notebook), and tslab's display sink there: the
// one test for it. Outside the kernel (CLI, tests, workers) the sink does not exist.
/** A display_data message's content: MIME type → data, metadata, transient (display id). */
export type WriteDisplayData = (bundle: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient?: unknown }, update: boolean) => void;

/** tslab's display sink when running inside the tslab kernel; undefined elsewhere. */
export function tslabDisplaySink(): WriteDisplayData | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

export function insideTslab(): boolean {
  return tslabDisplaySink() !== undefined;
}
