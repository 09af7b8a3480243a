// The closed set of architectures this project compares (the study's eight Keras Applications).
// Imports nothing: config, models and every stage name architectures through this module.
export const ARCH_IDS = [
  "densenet121",
  "densenet169",
  "densenet201",
  "resnet50",
  "inception_v3",
  "inception_resnet_v2",
  "mobilenet",
  "mobilenet_v2",
] as const;

export type ArchId = (typeof ARCH_IDS)[number];

export function isArchId(value: string): value is ArchId {
  return (ARCH_IDS as readonly string[]).includes(value);
}
