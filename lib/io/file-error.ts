// A failed write in one line: which file, at which stage, why, and (when the disk is full) how much
// space is left — instead of "ENOSPC: no space left on device, write" and a stack trace. The CLI
// prints the message alone and exits 1.
import { promises as fs } from "node:fs";
import * as path from "node:path";

const REASONS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
};

const WHAT_TO_DO: Record<string, string> = {
  ENOSPC: "free some space",
  EDQUOT: "free some space",
  EACCES: "make the folder writable",
  EPERM: "make the folder writable",
  EROFS: "remount it writable or choose another folder (RUNS_DIR for runs)",
};

/** What failed, as plain data (it crosses the worker processes' IPC, lib/train/worker-protocol). */
export interface FileWriteFailure {
  file: string;
  /** What was being written, e.g. "checkpoint", "history", "workbook". */
  stage?: string;
  /** The system error code (ENOSPC, EACCES, EROFS, …). */
  code: string;
  /** Bytes still free on that file system when the write failed, for ENOSPC and EDQUOT. */
  freeBytes?: number;
  /** Size of the file that was being written. */
  bytes?: number;
  /** The system error's own message, shown for codes without a sentence of their own. */
  detail: string;
}

export class FileWriteError extends Error {
  constructor(
    readonly failure: FileWriteFailure,
    options?: { cause?: unknown },
  ) {
    const { file, stage, code, freeBytes, bytes, detail } = failure;
    super(
      `cannot write ${file}${stage ? ` (${stage})` : ""}: ${REASONS[code] ?? detail}` +
        (freeBytes !== undefined ? ` (${bytes !== undefined ? `writing ${formatBytes(bytes)}, ` : ""}${formatBytes(freeBytes)} free)` : "") +
        `; ${WHAT_TO_DO[code] ?? "fix that"}, then run the same command again — files written before this one are intact`,
      options,
    );
    this.name = "FileWriteError";
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Bytes available to this user on the file system holding `file` (its nearest existing folder). */
async function freeBytesAt(file: string): Promise<number | undefined> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const stats = await fs.statfs(dir);
      return stats.bavail * stats.bsize;
    } catch {
      if (dir === path.dirname(dir)) return undefined;
    }
  }
}

/** `error` as a FileWriteError naming `file` and `stage`; errors that are not system errors are returned as they are. */
export async function fileWriteError(file: string, stage: string | undefined, error: unknown, bytes?: number): Promise<unknown> {
  if (error instanceof FileWriteError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string" || !/^E[A-Z]+$/.test(code)) return error;
  const freeBytes = code === "ENOSPC" || code === "EDQUOT" ? await freeBytesAt(file) : undefined;
  return new FileWriteError({ file, stage, code, freeBytes, bytes, detail: (error as Error).message }, { cause: error });
}
