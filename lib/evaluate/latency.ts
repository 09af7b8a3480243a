// Classification time: how long one prediction takes, measured so that the numbers mean something.
// The first call (graph set-up, kernel compilation, weight upload) is reported apart, a few warm-up
// calls are dropped, then calls repeat until both a minimum count and a minimum time are reached.
import * as tf from "@tensorflow/tfjs";

/** Milliseconds from an arbitrary origin; injectable so that tests run on a fake clock. */
export type Clock = () => number;
export const realClock: Clock = () => performance.now();

export interface LatencyBudget {
  /** Calls after the first that are run and discarded (caches, allocator, JIT). */
  warmupRuns: number;
  /** Stop only after at least this many measured calls … */
  minRuns: number;
  /** … and at least this much measured time. */
  minTotalMs: number;
  /** Hard caps, whichever comes first once the minimums are met or not. */
  maxRuns: number;
  maxTotalMs: number;
}

// Sized so that eight networks stay within minutes on a laptop CPU while p99 still rests on ≥ 20 calls.
export const DEFAULT_BUDGET: LatencyBudget = { warmupRuns: 3, minRuns: 20, minTotalMs: 1000, maxRuns: 500, maxTotalMs: 8000 };
/** For batched throughput, where one call is already many images. */
export const BATCH_BUDGET: LatencyBudget = { warmupRuns: 1, minRuns: 3, minTotalMs: 500, maxRuns: 100, maxTotalMs: 6000 };

export interface LatencyStats {
  firstCallMs: number;
  warmupRuns: number;
  runs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}

/**
 * Nearest-rank percentile: the smallest sample such that at least p % of the samples are ≤ it,
 * i.e. sorted[ceil(p/100 · n) − 1]. It always returns an observed value (no interpolation), so a p99
 * over fewer than 100 samples is simply the maximum — honest about what was measured.
 */
export function percentileNearestRank(samples: readonly number[], percent: number): number {
  if (samples.length === 0) throw new RangeError("percentile of no samples");
  if (!(percent > 0 && percent <= 100)) throw new RangeError(`percent must be in (0, 100], got ${percent}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1];
}

export function summarizeSamples(samples: readonly number[], extra: { firstCallMs: number; warmupRuns: number }): LatencyStats {
  const meanMs = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  return {
    firstCallMs: extra.firstCallMs,
    warmupRuns: extra.warmupRuns,
    runs: samples.length,
    meanMs,
    p50Ms: percentileNearestRank(samples, 50),
    p90Ms: percentileNearestRank(samples, 90),
    p99Ms: percentileNearestRank(samples, 99),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
  };
}

/** Times `call` (awaited) under the budget; the call must finish its work (e.g. await tensor.data()). */
export async function measureLatency(opts: { call: () => unknown; budget?: Partial<LatencyBudget>; clock?: Clock; signal?: AbortSignal }): Promise<LatencyStats> {
  const budget = { ...DEFAULT_BUDGET, ...opts.budget };
  const clock = opts.clock ?? realClock;
  if (budget.minRuns < 1) throw new RangeError("minRuns must be at least 1");
  const timeOne = async () => {
    opts.signal?.throwIfAborted(); // an interrupt stops the benchmark at the next call
    const start = clock();
    await opts.call();
    return clock() - start;
  };
  const firstCallMs = await timeOne();
  for (let i = 0; i < budget.warmupRuns; i++) await timeOne();
  const samples: number[] = [];
  let totalMs = 0;
  for (;;) {
    const enough = samples.length >= budget.minRuns && totalMs >= budget.minTotalMs;
    const capped = samples.length >= budget.maxRuns || (samples.length >= 1 && totalMs >= budget.maxTotalMs);
    if (enough || capped) break;
    const ms = await timeOne();
    samples.push(ms);
    totalMs += ms;
  }
  return summarizeSamples(samples, { firstCallMs, warmupRuns: budget.warmupRuns });
}

export interface ThroughputResult {
  batchSize: number;
  imagesPerSecond: number;
  /** Per batch, over the measured calls. */
  meanBatchMs: number;
  p50BatchMs: number;
  runs: number;
}

export interface ArchLatency {
  arch: string;
  displayName: string;
  inputSize: number;
  /** predict() on an already preprocessed 1×s×s×3 tensor, until its values are read back. */
  modelOnly: LatencyStats;
  /** JPEG path → decode + resize → tensor → preprocess → predict → values read back. */
  endToEnd: LatencyStats;
  throughput: ThroughputResult[];
  /** ONNX Runtime only: its predictions against tfjs's on every validation image of the run. */
  agreement?: PredictionAgreement;
}

export interface PredictionAgreement {
  images: number;
  /** Validation images whose predicted class differs between the two runtimes. */
  disagreements: string[];
  /** Largest difference of a softmax probability. */
  maxAbsDiff: number;
}

/** Runs one preprocessed NHWC batch through the network and waits until its output is read back. */
export type Predictor = (input: tf.Tensor4D) => Promise<void>;

export interface ModelLatencyOptions {
  arch: string;
  displayName: string;
  /** The network: a tfjs model, or any runtime's predictor (ONNX Runtime). */
  model: tf.LayersModel | Predictor;
  inputSize: number;
  /** Keras preprocess_input for this architecture (0–255 RGB in). */
  preprocess: (x: tf.Tensor4D) => tf.Tensor;
  /** Decodes and resizes one image file to RGB HWC uint8 of inputSize². */
  decode: (imagePath: string, size: number) => Promise<Uint8Array>;
  imagePath: string;
  batchSizes?: number[];
  budget?: Partial<LatencyBudget>;
  batchBudget?: Partial<LatencyBudget>;
  clock?: Clock;
  signal?: AbortSignal;
}

async function predictAndRead(model: tf.LayersModel | Predictor, input: tf.Tensor4D): Promise<void> {
  if (typeof model === "function") return model(input);
  const output = model.predict(input) as tf.Tensor;
  try {
    await output.data();
  } finally {
    output.dispose();
  }
}

/** Single-image model-only and end-to-end latency plus batched throughput for one model. */
export async function measureModelLatency(opts: ModelLatencyOptions): Promise<ArchLatency> {
  const { model, inputSize: size, preprocess, clock, signal } = opts;
  const batchSizes = opts.batchSizes ?? [1, 8, 32];
  // A real image, so that model-only and end-to-end see the same pixels.
  const pixels = await opts.decode(opts.imagePath, size);
  const single = tf.tidy(() => preprocess(tf.tensor4d(Float32Array.from(pixels), [1, size, size, 3])) as tf.Tensor4D);
  let modelOnly: LatencyStats;
  try {
    modelOnly = await measureLatency({ call: () => predictAndRead(model, single), budget: opts.budget, clock, signal });
  } finally {
    single.dispose();
  }
  const endToEnd = await measureLatency({
    call: async () => {
      const decoded = await opts.decode(opts.imagePath, size);
      const input = tf.tidy(() => preprocess(tf.tensor4d(Float32Array.from(decoded), [1, size, size, 3])) as tf.Tensor4D);
      try {
        await predictAndRead(model, input);
      } finally {
        input.dispose();
      }
    },
    budget: opts.budget,
    clock,
    signal,
  });
  const throughput: ThroughputResult[] = [];
  for (const batchSize of batchSizes) {
    const batch = tf.tidy(() => {
      const one = preprocess(tf.tensor4d(Float32Array.from(pixels), [1, size, size, 3]));
      return tf.tile(one, [batchSize, 1, 1, 1]) as tf.Tensor4D;
    });
    try {
      const stats = await measureLatency({ call: () => predictAndRead(model, batch), budget: { ...BATCH_BUDGET, ...opts.batchBudget }, clock, signal });
      throughput.push({ batchSize, imagesPerSecond: (batchSize * 1000) / stats.meanMs, meanBatchMs: stats.meanMs, p50BatchMs: stats.p50Ms, runs: stats.runs });
    } finally {
      batch.dispose();
    }
  }
  return { arch: opts.arch, displayName: opts.displayName, inputSize: size, modelOnly, endToEnd, throughput };
}
