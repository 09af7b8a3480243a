// `showcase data prepare` (notebook 01's work, headless) and `showcase data download` (PetImages).
import * as path from "node:path";
import { type Env, parseInteger, resolveParams } from "../config";
import { type Command, parseFlags, rejectUnknownFlags, UsageError } from "./command";

const USAGE = [
  "showcase data prepare [--data-dir DIR|ZIP] [--seed N] [--train-per-class N] [--validation-per-class N] [--test-per-class N] [--prepared-dir DIR]",
  "       showcase data download [--dest DIR] [--url URL --sha256 HEX --bytes N]",
  "",
  "prepare: detect the layout of DATA_DIR (unset = embedded SYNTHETIC set), decode every image, split with the",
  "  seed and write data/prepared/<dataset>/manifest.json. Flags override the environment (PROFILE, DATA_DIR, SEED, …).",
  "download: fetch Microsoft's PetImages archive (kagglecatsanddogs_5340.zip, 787 MB) to --dest (default data/raw),",
  "  resuming a .part file, verifying size (and sha256 when given), then prepare with --data-dir DEST/<file>.",
].join("\n");

const PREPARE_FLAGS: Record<string, string> = {
  "data-dir": "DATA_DIR",
  seed: "SEED",
  "train-per-class": "TRAIN_PER_CLASS",
  "validation-per-class": "VALIDATION_PER_CLASS",
  "test-per-class": "TEST_PER_CLASS",
  "synthetic-per-class": "SYNTHETIC_PER_CLASS",
  "prepared-dir": "PREPARED_DIR",
  profile: "PROFILE",
};

async function prepare(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args);
  rejectUnknownFlags(flags, Object.keys(PREPARE_FLAGS));
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const env: Env = { ...process.env };
  for (const [flag, value] of flags) env[PREPARE_FLAGS[flag]] = value;
  const params = resolveParams(env);
  const { prepareDataset } = await import("../data/prepare");
  const { countsTableText } = await import("../report/dataset");
  let lastShown = 0;
  const started = performance.now();
  try {
    const { manifest, manifestPath, written } = await prepareDataset(params, {
      onMessage: (message) => console.error(message),
      onProgress: (done, total) => {
        if (done === total || performance.now() - lastShown > 2000) {
          lastShown = performance.now();
          console.error(`validated ${done}/${total} images`);
        }
      },
    });
    console.log(`source: ${manifest.source.description}`);
    console.log(countsTableText(manifest));
    for (const file of manifest.rejected) console.log(`rejected: ${file.path}: ${file.reason}`);
    for (const warning of manifest.warnings ?? []) console.log(`warning: ${warning}`);
    console.log(`manifest ${written ? "written" : "kept (unchanged)"}: ${manifestPath} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  } catch (error) {
    if ((error as Error).name === "LayoutError") {
      console.error(`showcase data prepare: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

async function download(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args);
  rejectUnknownFlags(flags, ["dest", "url", "sha256", "bytes"]);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const { DEFAULT_PETIMAGES, downloadDataset, DownloadError } = await import("../data/download");
  const { rawDirFor } = await import("../data/manifest");
  const url = flags.get("url") ?? DEFAULT_PETIMAGES.url;
  const custom = flags.has("url");
  const sha256 = flags.get("sha256") ?? (custom ? undefined : DEFAULT_PETIMAGES.sha256);
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(sha256)) throw new UsageError("--sha256 needs 64 hex digits");
  const bytes = flags.has("bytes") ? parseInteger("--bytes", flags.get("bytes")!) : custom ? undefined : DEFAULT_PETIMAGES.bytes;
  const dest = path.resolve(flags.get("dest") ?? rawDirFor(resolveParams(process.env)));
  const fileName = custom ? decodeURIComponent(path.basename(new URL(url).pathname)) || "download.zip" : DEFAULT_PETIMAGES.fileName;
  const file = path.join(dest, fileName);
  let lastShown = 0;
  console.error(`downloading ${url}\n  to ${file}${sha256 ? "" : " (size check only: no sha256 given)"}`);
  try {
    const result = await downloadDataset({
      url,
      file,
      bytes,
      sha256,
      onProgress: (received, total) => {
        if (performance.now() - lastShown < 1000 && received !== total) return;
        lastShown = performance.now();
        const mb = (n: number) => (n / 1e6).toFixed(1);
        console.error(total ? `  ${mb(received)} / ${mb(total)} MB (${((100 * received) / total).toFixed(0)} %)` : `  ${mb(received)} MB`);
      },
    });
    console.log(`${result.alreadyPresent ? "already present" : "downloaded"}: ${result.file} (${result.bytes} bytes, sha256 ${result.sha256}${result.resumedFrom ? `, resumed at ${result.resumedFrom}` : ""})`);
    console.log(`next: npx showcase data prepare --data-dir ${result.file}`);
    return 0;
  } catch (error) {
    if (error instanceof DownloadError) {
      console.error(`showcase data download: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export const command: Command = {
  name: "data",
  summary: "prepare the dataset (notebook 01's work) or download the Microsoft PetImages archive",
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "prepare") return prepare(rest);
    if (sub === "download") return download(rest);
    throw new UsageError(`expected "prepare" or "download"${sub ? `, got "${sub}"` : ""}`);
  },
};
