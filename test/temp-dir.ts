// Temporary folders that are removed when the test file finishes, passed or failed.
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";

const created: string[] = [];
after(async () => {
  for (const dir of created.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

/** A new folder under the system's temporary folder, removed in the test file's `after` hook. */
export async function tempDir(prefix = "showcase-test-"): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
