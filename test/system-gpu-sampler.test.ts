// The GPU sampler with a fake nvidia-smi placed first on PATH: parsing, summary, reliable stop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseSampleLine, startGpuSampler } from "../lib/system";

function fakeNvidiaSmi(dir: string): string {
  const script = path.join(dir, "nvidia-smi");
  // Answers `--query-gpu=utilization.gpu,memory.used … -lms N` with alternating samples, forever.
  writeFileSync(
    script,
    `#!/bin/sh
echo $$ > "${dir}/pid"
echo "$*" > "${dir}/args"
ms=1000
while [ $# -gt 0 ]; do [ "$1" = "-lms" ] && ms=$2; shift; done
i=0
while true; do
  if [ $((i % 2)) -eq 0 ]; then echo "90, 1000"; else echo "100, 3000"; fi
  [ $i -eq 1 ] && echo "[N/A], [N/A]"
  i=$((i + 1))
  echo $i > "${dir}/printed"
  sleep $(awk "BEGIN { print $ms / 1000 }")
done
`,
  );
  chmodSync(script, 0o755);
  return script;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("samples utilisation and memory through one nvidia-smi loop, and stops it", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fake-smi-"));
  try {
    fakeNvidiaSmi(dir);
    const sampler = startGpuSampler({ intervalMs: 50, env: { PATH: `${dir}${path.delimiter}${process.env.PATH}` } });
    assert.equal(sampler.active, true);
    // Wait for the fake's 4th sample (however slow the machine is), then one turn of the event loop
    // so that the sampler reads what is already in its pipe.
    const printed = () => (existsSync(path.join(dir, "printed")) ? Number(readFileSync(path.join(dir, "printed"), "utf8")) : 0);
    while (printed() < 4) await sleep(20);
    await sleep(20);
    const summary = sampler.stop();
    assert.ok(summary, "samples were read");
    assert.ok(summary.samples >= 4, `only ${summary.samples} samples`);
    assert.ok(summary.meanUtilizationPercent >= 90 && summary.meanUtilizationPercent <= 100);
    assert.equal(summary.maxMemoryUsedMiB, 3000);
    assert.equal(summary.intervalMs, 50);
    assert.match(readFileSync(path.join(dir, "args"), "utf8"), /--query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 50/);
    const pid = Number(readFileSync(path.join(dir, "pid"), "utf8"));
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(25);
    assert.equal(alive(pid), false, "nvidia-smi loop still running after stop()");
    assert.deepEqual(sampler.stop(), summary, "stop() twice is harmless");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without nvidia-smi the sampler is a no-op", () => {
  const sampler = startGpuSampler({ intervalMs: 100, env: { PATH: "/nonexistent" } });
  assert.equal(sampler.active, false);
  assert.equal(sampler.stop(), undefined);
});

test("sample lines: numbers parsed, [N/A] ignored", () => {
  assert.deepEqual(parseSampleLine("97, 40213"), { utilizationPercent: 97, memoryUsedMiB: 40213 });
  assert.equal(parseSampleLine("[N/A], [N/A]"), undefined);
  assert.equal(parseSampleLine(""), undefined);
});
