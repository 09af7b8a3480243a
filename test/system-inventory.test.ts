// Machine inventory: every field the run manifest records, here and with a fake nvidia-smi.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { collectInventory, machineSlug, parseGpuList, queryGpus } from "../lib/system";

test("inventory has CPU, memory, disk, OS, Node and tfjs versions; no GPU is said so", async () => {
  const inventory = await collectInventory({ env: { PATH: "/nonexistent" } });
  assert.equal(inventory.schema, "machine-inventory/1");
  assert.ok(inventory.cpu.model.length > 0);
  assert.ok(inventory.cpu.logicalCores >= 1);
  assert.ok(inventory.memory.totalBytes > 2 ** 28 && inventory.memory.freeBytes <= inventory.memory.totalBytes);
  assert.ok("totalBytes" in inventory.disk && inventory.disk.totalBytes > 0 && inventory.disk.freeBytes <= inventory.disk.totalBytes);
  assert.equal(inventory.os.platform, process.platform);
  assert.equal(inventory.node, process.versions.node);
  assert.match(inventory.versions["@tensorflow/tfjs"], /^\d+\.\d+\.\d+$/);
  assert.deepEqual(inventory.gpus, []);
  assert.match(inventory.gpuNote!, /nvidia-smi is not on PATH/);
  assert.match(machineSlug(inventory), /^[a-z0-9]+(-[a-z0-9]+)*$/);
});

test("GPUs come from nvidia-smi (a fake one first on PATH)", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fake-smi-"));
  try {
    const script = path.join(dir, "nvidia-smi");
    writeFileSync(script, '#!/bin/sh\necho "NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04"\necho "NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04"\n');
    chmodSync(script, 0o755);
    const env = { PATH: `${dir}${path.delimiter}${process.env.PATH}` };
    const query = await queryGpus({ env });
    assert.deepEqual(query.gpus[0], { name: "NVIDIA H100 80GB HBM3", memoryMiB: 81559, driverVersion: "580.159.04" });
    assert.equal(query.gpus.length, 2);
    const inventory = await collectInventory({ env });
    assert.equal(inventory.gpus.length, 2);
    assert.equal(inventory.gpuNote, undefined);
    assert.match(machineSlug(inventory), /-h100-80gb-hbm3$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("parsing tolerates odd nvidia-smi output; slugs are file-name safe", () => {
  assert.deepEqual(parseGpuList("Tesla T4, [N/A], 470.1\n\n"), [{ name: "Tesla T4", memoryMiB: 0, driverVersion: "470.1" }]);
  assert.equal(
    machineSlug({ hostname: "Lab-PC.local", cpu: { model: "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", logicalCores: 12, availableParallelism: 12, speedMHz: 3700 }, gpus: [] }),
    "lab-pc-intel-i7-8700k",
  );
});
