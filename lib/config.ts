// Parameters of a run: profiles plus environment overrides, validated with messages that name the
// parameter and the allowed values. Notebooks, the CLI and `npm run report` all go through here.
import * as path from "node:path";
import { ARCH_IDS, type ArchId, isArchId } from "./ids";
import { allowedAlphas, formatAlpha } from "./models/width";
import { projectPath } from "./paths";

export class ParameterError extends Error {
  constructor(
    readonly parameter: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`invalid ${parameter}=${JSON.stringify(value)}: allowed ${allowed}`);
    this.name = "ParameterError";
  }
}

export const PROFILES = ["quick", "lite", "full"] as const;
export type ProfileName = (typeof PROFILES)[number];
export const ENGINES = ["auto", "tfjs-node-gpu", "webgpu", "tfjs-node", "wasm", "cpu"] as const;
export type EngineChoice = (typeof ENGINES)[number];
export const WEIGHT_CHOICES = ["imagenet", "none"] as const;
export type WeightsChoice = (typeof WEIGHT_CHOICES)[number];
export const OPTIMIZERS = ["adam", "sgd", "rmsprop"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
/** Training processes at once: "auto" (lib/train decides from the engine and the cores) or a count. */
export type WorkersChoice = "auto" | number;

/** `frozen` trains the head only, `finetune` trains everything, `top:<n>` the last n blocks. */
export type TransferMode = { kind: "frozen" } | { kind: "finetune" } | { kind: "top"; blocks: number };

export interface RunParams {
  profile: ProfileName;
  archs: ArchId[];
  /**
   * Width multiplier (ALPHA) of the MobileNets in ARCHS; the other architectures have none and
   * ignore it. undefined = Keras' default width 1.0 (and no "α=" in labels).
   */
  alpha?: number;
  epochs: number;
  /** Folder or archive with the user's images; undefined means the embedded synthetic set. */
  dataDir?: string;
  seed: number;
  runId: string;
  engine: EngineChoice;
  weights: WeightsChoice;
  weightsDir: string;
  transfer: TransferMode;
  imageSize: number;
  batchSize: number;
  /** Batches per epoch; undefined = one pass over the training split. */
  stepsPerEpoch?: number;
  optimizer: OptimizerName;
  learningRate: number;
  /** Early-stopping patience in epochs; undefined = off (as in the study). */
  patience?: number;
  trainPerClass: number;
  validationPerClass: number;
  testPerClass: number;
  /** Images per class generated for the embedded synthetic set. */
  syntheticPerClass: number;
  preparedDir: string;
  runsDir: string;
  /** Architectures trained at the same time, each in its own process (lib/train/worker-count.ts). */
  workers: WorkersChoice;
}

// PROFILE=lite's training choices, measured on the 2,800 shared photos (docs/models.md, "PROFILE=lite"):
// the last 4 of MobileNet's 14 blocks learn as well as all of them (92.5 vs 92.7 % after 2 epochs) at
// 40 % of the CPU; Adam at 3e-4 passes 93 % in 2 epochs where 1e-4 had not after 3; after epoch 3
// (94.0 %) validation got worse (93.0, 89.7 %), so the profile stops there.
const LITE_EPOCHS = 3;
const LITE_TRANSFER: TransferMode = { kind: "top", blocks: 4 };
const LITE_BATCH_SIZE = 16;
const LITE_LEARNING_RATE = 3e-4;

type ProfileDefaults = Omit<RunParams, "profile" | "dataDir" | "runId" | "weightsDir" | "preparedDir" | "runsDir" | "workers">;

// quick: small enough for a 2-core laptop CPU on the embedded synthetic set, all eight networks.
// lite: the study's protocol scaled to a CPU — the user's photos (DATA_DIR required), genuine
//   ImageNet weights, MobileNet α=0.25 fine-tuned at 224 px on every photo of the study's split.
// full: the study's protocol — 224 px, 10 epochs, fine-tuning from ImageNet weights, 1000+1000 / 400+400.
export const PROFILE_DEFAULTS: Record<ProfileName, ProfileDefaults> = {
  quick: {
    archs: [...ARCH_IDS],
    epochs: 3,
    seed: 42,
    engine: "auto",
    weights: "none",
    transfer: { kind: "frozen" },
    // 80 px and 10 of the 15 batches per epoch (the study's steps_per_epoch subset): all eight
    // networks train in about 3 CPU-minutes on wasm (measured, docs/training.md).
    imageSize: 80,
    batchSize: 16,
    stepsPerEpoch: 10,
    optimizer: "adam",
    learningRate: 1e-3,
    patience: undefined,
    trainPerClass: 120,
    validationPerClass: 40,
    testPerClass: 0,
    syntheticPerClass: 160,
  },
  lite: {
    archs: ["mobilenet"],
    alpha: 0.25,
    epochs: LITE_EPOCHS,
    seed: 42,
    engine: "auto",
    weights: "imagenet",
    transfer: LITE_TRANSFER,
    imageSize: 224,
    batchSize: LITE_BATCH_SIZE,
    stepsPerEpoch: undefined,
    optimizer: "adam",
    learningRate: LITE_LEARNING_RATE,
    patience: undefined,
    trainPerClass: 1000,
    validationPerClass: 400,
    testPerClass: 0,
    syntheticPerClass: 1400,
  },
  full: {
    archs: [...ARCH_IDS],
    epochs: 10,
    seed: 42,
    engine: "auto",
    weights: "imagenet",
    transfer: { kind: "finetune" },
    imageSize: 224,
    batchSize: 16,
    stepsPerEpoch: undefined,
    optimizer: "sgd",
    learningRate: 1e-3,
    patience: undefined,
    trainPerClass: 1000,
    validationPerClass: 400,
    testPerClass: 0,
    syntheticPerClass: 1400,
  },
};

/** Profiles that train on the user's photos only: DATA_DIR is required and a synthetic set refused. */
export function requiresPhotos(profile: ProfileName): boolean {
  return profile === "lite";
}

export type Env = Record<string, string | undefined>;

function oneOf<T extends string>(parameter: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ParameterError(parameter, value, `one of ${allowed.join(", ")}`);
}

export function parseInteger(parameter: string, value: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const trimmed = value.trim();
  const number = Number(trimmed);
  if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new ParameterError(parameter, value, `a whole number from ${min} to ${max}`);
  }
  return number;
}

export function parsePositiveNumber(parameter: string, value: string): number {
  const number = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0) {
    throw new ParameterError(parameter, value, "a positive number such as 0.001");
  }
  return number;
}

export function parseArchs(value: string): ArchId[] {
  const names = value.split(/[\s,]+/).filter(Boolean);
  if (names.length === 0 || (names.length === 1 && names[0] === "all")) return [...ARCH_IDS];
  const unknown = names.filter((name) => !isArchId(name));
  if (unknown.length > 0) {
    throw new ParameterError("ARCHS", unknown.join(","), `a comma-separated list of ${ARCH_IDS.join(", ")} (or "all")`);
  }
  return [...new Set(names as ArchId[])];
}

/** ALPHA: a width Keras publishes weights for, valid for every MobileNet in `archs`. */
export function parseAlpha(value: string, archs: readonly string[]): number {
  const alpha = Number(value.trim());
  const allowed = allowedAlphas(archs);
  if (value.trim() === "" || !allowed.values.includes(alpha)) throw new ParameterError("ALPHA", value, `one of ${allowed.text}`);
  return alpha;
}

export function parseTransfer(value: string): TransferMode {
  if (value === "frozen" || value === "finetune") return { kind: value };
  const match = /^top:(\d+)$/.exec(value);
  if (match && Number(match[1]) >= 1) return { kind: "top", blocks: Number(match[1]) };
  throw new ParameterError("TRANSFER", value, 'frozen, finetune or top:<n> with n ≥ 1 (e.g. "top:2")');
}

export function formatTransfer(mode: TransferMode): string {
  return mode.kind === "top" ? `top:${mode.blocks}` : mode.kind;
}

export function parseWorkers(value: string): WorkersChoice {
  if (value === "auto") return "auto";
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value))) return Number(value);
  throw new ParameterError("WORKERS", value, '"auto" (one per core on the single-threaded CPU engines, else 1) or a whole number ≥ 1');
}

export function parseRunId(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
    throw new ParameterError("RUN_ID", value, "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return value;
}

/**
 * Reads the run parameters from an environment (process.env by default). Unset or empty variables
 * take the profile's default; anything malformed throws a ParameterError.
 */
export function resolveParams(env: Env = process.env): RunParams {
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const profile = oneOf("PROFILE", get("PROFILE") ?? "quick", PROFILES);
  const base = PROFILE_DEFAULTS[profile];
  const int = (name: string, fallback: number, min = 1) => {
    const raw = get(name);
    return raw === undefined ? fallback : parseInteger(name, raw, { min });
  };
  const optionalInt = (name: string, fallback: number | undefined) => {
    const raw = get(name);
    return raw === undefined ? fallback : parseInteger(name, raw, { min: 1 });
  };
  const dataDir = get("DATA_DIR");
  if (!dataDir && requiresPhotos(profile)) {
    throw new ParameterError("DATA_DIR", "", `a folder or archive of your photos: PROFILE=${profile} trains on real photos only (e.g. DATA_DIR=../shared/data/cats-dogs); PROFILE=quick uses the embedded synthetic set`);
  }
  const archs = get("ARCHS") ? parseArchs(get("ARCHS")!) : base.archs;
  const params: RunParams = {
    profile,
    archs,
    alpha: get("ALPHA") ? parseAlpha(get("ALPHA")!, archs) : defaultAlpha(base.alpha, archs),
    epochs: int("EPOCHS", base.epochs),
    dataDir: dataDir ? path.resolve(dataDir) : undefined,
    seed: int("SEED", base.seed, 0),
    runId: parseRunId(get("RUN_ID") ?? `${profile}-default`),
    engine: oneOf("ENGINE", get("ENGINE") ?? base.engine, ENGINES),
    weights: oneOf("WEIGHTS", get("WEIGHTS") ?? base.weights, WEIGHT_CHOICES),
    weightsDir: path.resolve(get("WEIGHTS_DIR") ?? projectPath("data", "weights")),
    transfer: get("TRANSFER") ? parseTransfer(get("TRANSFER")!) : base.transfer,
    imageSize: int("IMAGE_SIZE", base.imageSize, 32),
    batchSize: int("BATCH_SIZE", base.batchSize),
    // "all" = one pass over the training split (the quick profile otherwise uses a subset).
    stepsPerEpoch: get("STEPS_PER_EPOCH") === "all" ? undefined : optionalInt("STEPS_PER_EPOCH", base.stepsPerEpoch),
    optimizer: oneOf("OPTIMIZER", get("OPTIMIZER") ?? base.optimizer, OPTIMIZERS),
    learningRate: get("LEARNING_RATE") ? parsePositiveNumber("LEARNING_RATE", get("LEARNING_RATE")!) : base.learningRate,
    patience: optionalInt("PATIENCE", base.patience),
    trainPerClass: int("TRAIN_PER_CLASS", base.trainPerClass),
    validationPerClass: int("VALIDATION_PER_CLASS", base.validationPerClass),
    testPerClass: int("TEST_PER_CLASS", base.testPerClass, 0),
    syntheticPerClass: int("SYNTHETIC_PER_CLASS", base.syntheticPerClass),
    preparedDir: path.resolve(get("PREPARED_DIR") ?? projectPath("data", "prepared")),
    runsDir: path.resolve(get("RUNS_DIR") ?? projectPath("reports", "runs")),
    workers: parseWorkers(get("WORKERS") ?? "auto"),
  };
  return params;
}

/** A profile's ALPHA where it fits the MobileNets in ARCHS; otherwise their Keras default (1.0). */
function defaultAlpha(alpha: number | undefined, archs: readonly string[]): number | undefined {
  return alpha !== undefined && allowedAlphas(archs).values.includes(alpha) ? alpha : undefined;
}

/** The environment variables `resolveParams` reads, for --help texts and the report runner. */
export const PARAMETER_NAMES = [
  "PROFILE", "ARCHS", "ALPHA", "EPOCHS", "DATA_DIR", "SEED", "RUN_ID", "ENGINE", "WEIGHTS", "WEIGHTS_DIR",
  "TRANSFER", "IMAGE_SIZE", "BATCH_SIZE", "STEPS_PER_EPOCH", "OPTIMIZER", "LEARNING_RATE", "PATIENCE",
  "TRAIN_PER_CLASS", "VALIDATION_PER_CLASS", "TEST_PER_CLASS", "SYNTHETIC_PER_CLASS", "PREPARED_DIR", "RUNS_DIR", "WORKERS",
] as const;
