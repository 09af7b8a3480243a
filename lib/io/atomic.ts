// Every file the pipeline writes goes through here: temp file in the same folder, fsync, rename.
// A crash leaves either the old file or the new one, never half of one; a failed write removes its
// temp file and throws a FileWriteError naming the file and the stage (lib/io/file-error).
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { fileWriteError } from "./file-error";

// <file>.<pid>.<ms>.<random>.tmp: only names of this shape are ever removed as stale.
const TEMP_NAME = /\.\d+\.\d+\.[a-z0-9]+\.tmp$/;

/** `stage` names what is written ("checkpoint", "history", "workbook", …) in the error a failure throws. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, stage?: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(temp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw await fileWriteError(file, stage, error);
  }
}

export async function writeJsonAtomic(file: string, value: unknown, stage?: string): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, stage);
}

/**
 * Removes temp files that writeFileAtomic left in `dir` and its subfolders (a process killed between
 * open and rename). Call it only on folders this process alone writes (an architecture's folder while
 * it trains): another writer's temp file would be in flight.
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) removed.push(...(await removeStaleTempFiles(full)));
    else if (TEMP_NAME.test(entry.name)) {
      await fs.rm(full, { force: true });
      removed.push(full);
    }
  }
  return removed;
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, "utf8")) as T;
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
