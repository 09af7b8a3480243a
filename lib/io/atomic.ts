// Every file the pipeline writes goes through here: temp file in the same folder, fsync, rename.
// A crash leaves either the old file or the new one, never half of one; a failed write removes its
// temp file and throws a FileWriteError naming the file and the stage (lib/io/file-error).
import { promises as fs, rmSync } from "node:fs";
import * as path from "node:path";
import { fileWriteError } from "./file-error";

// <file>.<pid>.<ms>.<random>.tmp: only names of this shape are ever removed as stale.
const TEMP_NAME = /\.\d+\.\d+\.[a-z0-9]+\.tmp$/;

// Temp files being written: removed if the process exits (process.exit, a handled signal) mid-write.
const inFlight = new Set<string>();
process.on("exit", () => {
  for (const temp of inFlight) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // nothing more can be done while exiting; the next run removes it (removeStaleTempFiles)
    }
  }
});

/** `stage` names what is written ("checkpoint", "history", "workbook", …) in the error a failure throws. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, stage?: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
  inFlight.add(temp);
  try {
    await makeDir(path.dirname(file));
    const handle = await fs.open(temp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    const failure = await fileWriteError(file, stage, error, typeof data === "string" ? Buffer.byteLength(data) : data.byteLength); // free space before the temp file goes
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw failure;
  } finally {
    inFlight.delete(temp);
  }
}

/** mkdir -p, but with the file system's own reason when it fails: Node's recursive mkdir reports ENOENT for EROFS. */
async function makeDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const missing: string[] = [];
    for (let d = dir; !(await fileExists(d)) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      try {
        await fs.mkdir(d); // throws the real reason (EROFS, EACCES)
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code !== "EEXIST") throw inner;
      }
    }
  }
}

export async function writeJsonAtomic(file: string, value: unknown, stage?: string): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, stage);
}

/**
 * Removes temp files that writeFileAtomic left in `dir` and its subfolders (a process killed between
 * open and rename). Call it only on folders this process alone writes (the run folder's top level under
 * its lock, an architecture's folder while it trains): another writer's temp file would be in flight.
 */
export async function removeStaleTempFiles(dir: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (opts.recursive !== false) removed.push(...(await removeStaleTempFiles(full)));
    } else if (TEMP_NAME.test(entry.name)) {
      await fs.rm(full, { force: true });
      removed.push(full);
    }
  }
  return removed;
}

/** A JSON file; one that does not parse (cut short, damaged) is a SyntaxError naming the file. */
export async function readJson<T>(file: string): Promise<T> {
  const text = await fs.readFile(file, "utf8");
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SyntaxError(`${file} is not valid JSON (cut short or damaged?): ${(error as Error).message}`);
  }
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
