// What the rest of lib/ may ask the engine, without knowing which backend runs (the one door:
// nothing outside lib/engine imports a backend's folder or compares backend names).
import * as tf from "@tensorflow/tfjs";

/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on its first
 * tensor. This project chooses and reports its engine itself (selectEngine), so that advice is noise
 * in notebook outputs and the report: the cpu backend's instance, once created, is marked as used.
 */
export function quietCpuBackend(): void {
  const registry = (tf.engine() as unknown as { registry: Record<string, { firstUse?: boolean } | undefined> }).registry;
  const cpu = registry.cpu;
  if (cpu && "firstUse" in cpu) cpu.firstUse = false;
}

/** tfjs's default backend started now, as the first tensor would start it, but without the advice. */
export async function readyQuietly(): Promise<void> {
  await tf.ready();
  quietCpuBackend();
}
