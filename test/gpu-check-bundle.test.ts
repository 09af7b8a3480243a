// The bundle scripts/gpu-check.sh carries to a lent GPU machine (no Node modules, no network there):
// it must build from this checkout and run the CLI's webgpu training path, with this project's
// kernels, on its own. It broke once unnoticed (a dependency dropped from package.json was still
// required by a bundled module), which cost a GPU session; this builds it (seconds) and runs it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findLavapipe } from "../lib/engine/lavapipe";
import { skipWithout, tool } from "./tools";

const ROOT = path.resolve(__dirname, "..");

test("the GPU machine's bundle builds and trains MobileNet on webgpu (software Vulkan) with this project's kernels", { skip: skipWithout("lavapipe"), timeout: 240_000 }, () => {
  tool("lavapipe");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-bundle-"));
  try {
    const build = spawnSync("bash", [path.join(ROOT, "scripts/gpu-check.sh"), "bundle", dir], { encoding: "utf8" });
    assert.equal(build.status, 0, `bundle failed: ${build.stdout}${build.stderr}`);
    const lavapipe = findLavapipe();
    assert.ok(lavapipe.found); // found by tool() above: this only narrows the type
    // Outside the checkout, so nothing resolves from its node_modules.
    const json = path.join(dir, "bench.json");
    const bench = spawnSync(process.execPath, [path.join(dir, "lib/cli.cjs"), "bench", "train", "--engine", "webgpu", "--archs", "mobilenet", "--sizes", "32", "--batch", "2", "--steps", "1", "--compare", "--json", json, "--quiet"], {
      cwd: os.tmpdir(),
      env: { ...process.env, ...lavapipe.env, NODE_PATH: "" },
      encoding: "utf8",
      timeout: 220_000,
    });
    assert.equal(bench.status, 0, `bundled bench failed: ${bench.stderr.slice(-3000)}`);
    const rows = (JSON.parse(fs.readFileSync(json, "utf8")) as { rows?: Array<Record<string, unknown>> }).rows ?? [];
    const ours = rows.find((r) => String(r.variant).startsWith("showcase kernels"));
    const tfjs = rows.find((r) => String(r.variant).startsWith("tfjs"));
    assert.ok(ours && tfjs, `rows: ${JSON.stringify(rows).slice(0, 500)}`);
    assert.ok(Number(ours.imagesPerSecond) > 0, JSON.stringify(ours));
    // This project's kernels are in the bundle: at least 3× fewer dispatches than tfjs's own.
    assert.ok(Number(ours.kernelsPerStep) * 3 <= Number(tfjs.kernelsPerStep), `kernels per step: ours ${ours.kernelsPerStep}, tfjs ${tfjs.kernelsPerStep}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
