// Machine inventory and GPU telemetry, recorded with every run.
export { collectInventory, machineSlug, type MachineInventory } from "./inventory";
export { startGpuSampler, parseSampleLine, type GpuSampler, type GpuSampleSummary } from "./gpu-sampler";
export { queryGpus, parseGpuList, findExecutable, type GpuInfo } from "./nvidia-smi";
