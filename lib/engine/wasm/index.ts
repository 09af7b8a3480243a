// Gradient kernels the wasm backend lacks (placeholder until the kernels land).
export function registerWasmTrainingKernels(): string[] {
  return [];
}
