// `showcase weights list|download`: the Keras ImageNet weight files and the local cache.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { parseArchs, parsePositiveNumber, resolveParams } from "../config";
import { type Command, parseFlags, rejectUnknownFlags, UsageError } from "./command";

const USAGE = [
  "showcase weights list [--dest DIR]",
  "       showcase weights download <id|all> [--top] [--alpha A] [--dest DIR]",
  "",
  "list: every architecture's Keras weight files (no top / with top), their hash, and whether they are in the cache.",
  "download: fetch the no-top file (with --top: the 1000-class file) into the cache (WEIGHTS_DIR, default data/weights;",
  "  --dest overrides), resuming a .part file and checking the published md5/sha256. Offline, it says which file to put where.",
].join("\n");

export const command: Command = {
  name: "weights",
  summary: "download or list Keras ImageNet weight files",
  usage: USAGE,
  async run(args) {
    const [action, ...rest] = args;
    const { flags, positional } = parseFlags(rest, ["top"]);
    const params = resolveParams({ ...process.env, ...(flags.has("dest") ? { WEIGHTS_DIR: flags.get("dest") } : {}) });
    const weightsDir = params.weightsDir;
    const models = await import("../models/index");

    if (action === "list") {
      rejectUnknownFlags(flags, ["dest"]);
      if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
      console.log(`weights cache: ${weightsDir}`);
      for (const id of models.ARCH_IDS) {
        for (const includeTop of [false, true]) {
          const file = models.weightsFileFor(id, { includeTop });
          const present = await fs.stat(path.join(weightsDir, file.file)).then((stat) => `present (${(stat.size / 1e6).toFixed(1)} MB)`, () => "missing");
          const hash = file.hash ? `${file.hash.algorithm} ${file.hash.value}` : "no published hash";
          console.log(`${id.padEnd(20)} ${(includeTop ? "top" : "no top").padEnd(7)} ${present.padEnd(20)} ${file.file}  [${hash}]`);
        }
      }
      return 0;
    }

    if (action === "download") {
      rejectUnknownFlags(flags, ["top", "dest", "alpha"]);
      if (positional.length !== 1) throw new UsageError("download needs one architecture id (or all)");
      const ids = parseArchs(positional[0]);
      const alpha = flags.has("alpha") ? parsePositiveNumber("--alpha", flags.get("alpha") as string) : undefined;
      const includeTop = flags.has("top");
      let failed = 0;
      for (const id of ids) {
        const file = models.weightsFileFor(id, { includeTop, alpha });
        let lastShown = 0;
        try {
          const result = await models.downloadWeights(id, {
            weightsDir,
            includeTop,
            alpha,
            onProgress: (bytes, total) => {
              if (performance.now() - lastShown < 1000 && bytes !== total) return;
              lastShown = performance.now();
              console.error(`${file.file}: ${(bytes / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ""} MB`);
            },
          });
          console.log(`${id}: ${result.alreadyPresent ? "already present" : "downloaded"} ${result.path} (${(result.bytes / 1e6).toFixed(1)} MB${file.hash ? `, ${file.hash.algorithm} ok` : ", no published hash to check"})`);
        } catch (error) {
          failed++;
          console.error(`${id}: ${(error as Error).message}`);
        }
      }
      return failed ? 1 : 0;
    }
    throw new UsageError(action ? `unknown action "${action}": allowed list, download` : "say list or download");
  },
};
