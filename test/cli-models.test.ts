// `showcase models` builds sixteen models (seconds each): it says which one it is building, on
// stderr, so that stdout stays the table.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { projectPath } from "../lib/paths";

test("showcase models reports progress on stderr before each build, the table on stdout", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", projectPath("lib", "cli.ts"), "models", "--archs", "mobilenet,mobilenet_v2"], {
    cwd: projectPath(),
    encoding: "utf8",
    env: { ...process.env, ENGINE: "wasm" },
    timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stderr.split("\n").filter((line) => line.startsWith("building")), ["building mobilenet (1/2) …", "building mobilenet_v2 (2/2) …"]);
  const rows = result.stdout.trim().split("\n");
  assert.match(rows[0], /^id\s+display name/);
  assert.match(rows[1], /^mobilenet\s+MobileNet\s+4,253,864\s/);
  assert.match(rows[2], /^mobilenet_v2\s+MobileNetV2\s+3,538,984\s/);
});
