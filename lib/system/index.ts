// Machine inventory and GPU telemetry, recorded with every run.
export { collectInventory, machineSlug } from "./inventory";
export type { MachineInventory } from "../schemas/inventory";
export { startGpuSampler, parseSampleLine, type GpuSampler, type GpuSampleSummary } from "./gpu-sampler";
export { queryGpus, parseGpuList, findExecutable, type GpuInfo } from "./nvidia-smi";
