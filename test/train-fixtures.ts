// The tiny training configuration the train tests share: synthetic images, 32 px, 8 + 8 training and
// 4 + 4 validation images, batch 8, wasm, everything under a temporary folder. One architecture at a
// time in the test's own process (WORKERS=1): the tests inspect models and tensors in-process;
// test/train-workers.test.ts sets WORKERS itself.
import * as path from "node:path";

export function tinyEnv(dir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ARCHS: "mobilenet_v2,mobilenet",
    EPOCHS: "2",
    IMAGE_SIZE: "32",
    BATCH_SIZE: "8",
    STEPS_PER_EPOCH: "all",
    TRAIN_PER_CLASS: "8",
    VALIDATION_PER_CLASS: "4",
    SYNTHETIC_PER_CLASS: "12",
    ENGINE: "wasm",
    WORKERS: "1",
    RUN_ID: "tiny",
    PREPARED_DIR: path.join(dir, "prepared"),
    RUNS_DIR: path.join(dir, "runs"),
    ...overrides,
  };
}
