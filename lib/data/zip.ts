// Zip archives (Kaggle train.zip, Microsoft kagglecatsanddogs_*.zip) are extracted once under
// data/raw/<archive name>/. Extraction goes to a temporary sibling folder that is renamed when
// complete, so an interrupted extraction is never mistaken for a finished one.
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as yauzl from "yauzl";
import { readJson, writeJsonAtomic } from "../io/atomic";

const STAMP_SCHEMA = "showcase.extracted-zip/1";
const STAMP_FILE = ".extracted.json";

interface ExtractStamp {
  schema: string;
  archive: string;
  bytes: number;
  mtimeMs: number;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

/** Lists the entry names of an archive without extracting (used to recognise its layout). */
export async function listZipEntries(file: string): Promise<string[]> {
  const zip = await openZip(file);
  const names: string[] = [];
  return new Promise((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      zip.readEntry();
    });
    zip.on("end", () => resolve(names));
    zip.on("error", reject);
    zip.readEntry();
  });
}

async function extractAll(file: string, targetDir: string): Promise<number> {
  const zip = await openZip(file);
  let count = 0;
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      zip.close();
      reject(error);
    };
    zip.on("entry", (entry: yauzl.Entry) => {
      // yauzl already rejects absolute paths and ".." (zip-slip); directories end with "/"
      const target = path.join(targetDir, entry.fileName);
      if (entry.fileName.endsWith("/")) {
        fs.mkdir(target, { recursive: true }).then(() => zip.readEntry(), fail);
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error) return fail(error);
        fs.mkdir(path.dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target)))
          .then(() => {
            count++;
            zip.readEntry();
          }, fail);
      });
    });
    zip.on("end", () => resolve(count));
    zip.on("error", fail);
    zip.readEntry();
  });
}

/**
 * Extracts `archive` to `<rawDir>/<archive name without .zip>/` unless the same archive (size and
 * mtime) was extracted there before. Returns the folder.
 */
export async function extractZipOnce(opts: { archive: string; rawDir: string; onProgress?: (message: string) => void }): Promise<string> {
  const stat = await fs.stat(opts.archive);
  const name = path.basename(opts.archive).replace(/\.zip$/i, "");
  const targetDir = path.join(opts.rawDir, name);
  const wanted: ExtractStamp = { schema: STAMP_SCHEMA, archive: path.resolve(opts.archive), bytes: stat.size, mtimeMs: Math.floor(stat.mtimeMs) };
  try {
    const stamp = await readJson<ExtractStamp>(path.join(targetDir, STAMP_FILE));
    if (stamp.bytes === wanted.bytes && stamp.mtimeMs === wanted.mtimeMs) return targetDir;
  } catch {
    // not extracted yet
  }
  opts.onProgress?.(`extracting ${opts.archive} to ${targetDir}`);
  const partial = `${targetDir}.partial-${process.pid}`;
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial, { recursive: true });
  try {
    await extractAll(opts.archive, partial);
  } catch (error) {
    await fs.rm(partial, { recursive: true, force: true });
    throw new Error(`cannot extract ${opts.archive}: ${(error as Error).message} — the archive may be incomplete; download it again`);
  }
  await writeJsonAtomic(path.join(partial, STAMP_FILE), wanted, "archive extraction");
  await fs.rm(targetDir, { recursive: true, force: true });
  await fs.rename(partial, targetDir);
  return targetDir;
}
