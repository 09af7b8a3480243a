// `npx showcase env [--json]`: the engine that would run (chosen exactly as training chooses it, and
// why), its warnings, and this machine's inventory.
import { resolveParams } from "../config";
import { describeEngine, disposeWebGpu, EngineUnavailableError, gpuPackageStatus, type GpuPackageStatus, selectEngine, type EngineDescription } from "../engine/index";
import { collectInventory, machineSlug, type MachineInventory } from "../system";
import { type Command, parseFlags, rejectUnknownFlags } from "./command";

const GiB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

function formatText(engine: EngineDescription, gpuPackage: GpuPackageStatus, inventory: MachineInventory): string {
  const lines = [`Engine     ${engine.engine} on ${engine.device} (tfjs backend "${engine.backend}", ${engine.threads} thread${engine.threads === 1 ? "" : "s"})`];
  lines.push(`Why        ${engine.reason.split("; passed over")[0]}`);
  for (const skipped of engine.skipped ?? []) lines.push(`  skipped  ${skipped.engine}: ${skipped.reason}`);
  for (const warning of engine.warnings) lines.push(`Warning    ${warning}`);
  if (engine.adapter) {
    const a = engine.adapter;
    lines.push(`Adapter    ${a.vendor} / ${a.architecture} / ${a.description}${a.isFallbackAdapter ? " (fallback: software)" : ""}`);
    const binding = a.limits.maxStorageBufferBindingSize;
    if (binding) lines.push(`           maxStorageBufferBindingSize ${Math.round(binding / 2 ** 20)} MiB, maxBufferSize ${Math.round((a.limits.maxBufferSize ?? 0) / 2 ** 20)} MiB`);
  }
  if (gpuPackage.installed) {
    lines.push(`tfjs-node-gpu ${gpuPackage.version}: ${gpuPackage.foundGpu ? "found a CUDA GPU" : `NO GPU — ${gpuPackage.note}`}`);
  }
  const versions = Object.entries(engine.versions)
    .filter(([name]) => !name.startsWith("tf.version."))
    .map(([name, version]) => `${name.replace("@tensorflow/", "")} ${version}`);
  lines.push(`Versions   ${versions.join(", ")}`);
  lines.push("");
  lines.push(`Machine    ${inventory.hostname} (${machineSlug(inventory)})`);
  lines.push(`CPU        ${inventory.cpu.model}, ${inventory.cpu.logicalCores} logical cores`);
  lines.push(`Memory     ${gib(inventory.memory.totalBytes)} (${gib(inventory.memory.freeBytes)} free)`);
  lines.push(`Disk       ${"error" in inventory.disk ? `unknown (${inventory.disk.error})` : `${gib(inventory.disk.freeBytes)} free of ${gib(inventory.disk.totalBytes)}`} at ${inventory.disk.path}`);
  lines.push(`OS         ${inventory.os.distribution ?? inventory.os.platform} (${inventory.os.platform} ${inventory.os.release}, ${inventory.os.arch}), Node ${inventory.node}`);
  if (inventory.gpus.length === 0) lines.push(`GPUs       none (${inventory.gpuNote ?? "nvidia-smi lists none"})`);
  for (const gpu of inventory.gpus) lines.push(`GPU        ${gpu.name}, ${gpu.memoryMiB} MiB, driver ${gpu.driverVersion}`);
  return lines.join("\n");
}

export const command: Command = {
  name: "env",
  summary: "the engine that would run (and why, with warnings) and this machine's inventory; ENGINE=… forces an engine",
  usage: "showcase env [--json]",
  async run(args) {
    const { flags, positional } = parseFlags(args, ["json"]);
    rejectUnknownFlags(flags, ["json"]);
    if (positional.length > 0) throw new (await import("./command")).UsageError(`unexpected argument "${positional[0]}": showcase env takes only --json`);
    const params = resolveParams(process.env);
    let engine: EngineDescription;
    try {
      engine = await selectEngine({ engine: params.engine, quiet: true });
    } catch (error) {
      if (error instanceof EngineUnavailableError) {
        console.error(`showcase env: ${error.message}`);
        return 1;
      }
      throw error;
    }
    try {
      const [gpuPackage, inventory] = await Promise.all([gpuPackageStatus(engine), collectInventory({ engine })]);
      const current = describeEngine();
      if (flags.has("json")) console.log(JSON.stringify({ schema: "showcase-env/1", engine: current, tfjsNodeGpu: gpuPackage, inventory }, null, 2));
      else console.log(formatText(current, gpuPackage, inventory));
      return 0;
    } finally {
      disposeWebGpu();
    }
  },
};
