// Finds the software Vulkan driver that scripts/fetch-lavapipe.sh unpacks (Mesa lavapipe), and the
// environment a child process needs to use it. The Vulkan loader reads these variables when it is
// loaded, so they must be set before the process starts: run WebGPU work in a child with them.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { projectPath } from "../paths";

export type LavapipeLookup = { found: true; dir: string; mesaVersion: string; env: Record<string, string> } | { found: false; reason: string };

export function findLavapipe(opts: { dir?: string } = {}): LavapipeLookup {
  const dir = opts.dir ?? process.env.LAVAPIPE_DIR ?? projectPath(".cache", "lavapipe");
  const icd = path.join(dir, "lvp_icd.json");
  if (!existsSync(icd)) {
    return { found: false, reason: `no software Vulkan driver in ${dir}: run scripts/fetch-lavapipe.sh (Debian 12 with apt access to bookworm-backports)` };
  }
  const libDir = path.join(dir, "root", "usr", "lib", "x86_64-linux-gnu");
  const mesaVersion = existsSync(path.join(dir, "mesa-version")) ? readFileSync(path.join(dir, "mesa-version"), "utf8").trim() : "unknown";
  return {
    found: true,
    dir,
    mesaVersion,
    env: {
      VK_ICD_FILENAMES: icd,
      VK_DRIVER_FILES: icd,
      LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter),
      XDG_RUNTIME_DIR: path.join(dir, "xdg"),
    },
  };
}
