// `showcase bench [all|latency|train|features|data]`: benchmark tables + reports/bench/bench-<engine>-<date>.json.
import { ENGINES, type EngineChoice, ParameterError, parseAlpha } from "../config";
import { type Command, parseFlags, rejectUnknownFlags, UsageError } from "./command";

const USAGE = [
  "showcase bench [all|latency|train|features|data ...] [--archs a,b|all] [--alpha A] [--engine wasm|cpu|webgpu|auto] [--batch 16]",
  "               [--sizes 96,224] [--steps 2] [--micro-batch auto|N] [--reps 10] [--latency-size 224]",
  "               [--feature-size 224] [--feature-batches 2] [--data-images 512] [--workers 2] [--kernels] [--torch] [--onnx] [--json FILE] [--quiet]",
  "",
  "latency   batch-1 p50/p90 of the ImageNet classifiers (default mobilenet_v2, resnet50, densenet121), as built and BN-folded",
  "train     full training images/s (every layer trainable, Adam), default mobilenet_v2 at 96 and 224 px, batch 16,",
  "          micro-batched with gradient accumulation when the wasm heap needs it",
  "features  frozen-base feature extraction images/s (no top, avg pooling), default mobilenet_v2 at 224 px",
  "data      decode + resize + augmentation images/s (lib/bench/data-pipeline.ts)",
  "transfer  (not in all: minutes) frozen MobileNet α=0.25 features of the shared cats-vs-dogs photos + a logistic",
  "          head, genuine Keras ImageNet weights vs random: validation accuracy of each (--max-per-class N: a subset)",
  "--alpha A the MobileNets' width (ALPHA: mobilenet 0.25/0.5/0.75/1.0, mobilenet_v2 0.35/…/1.4); other networks ignore it",
  "--workers N  also train in N processes at once (both cores without wasm threads)",
  "--kernels after each training row, the self time of every kernel in one step (where the time goes)",
  "--engine webgpu  train rows split host time / device wait, with kernels, upload bytes and createBuffer calls",
  "          per step and the device time per kernel (timestamp queries); --compare adds tfjs's own kernels (before)",
  "--torch   run scripts/torch-bench.py with the system python (needs python3-torch, python3-torchvision) for ratios:",
  "          OpenBLAS on the same threads (OPENBLAS_NUM_THREADS), its BLAS/core recorded; the reference BLAS is refused;",
  "          MobileNet and InceptionResNetV2 (not in torchvision) run as their exported ONNX graph, op by op",
  "--onnx    also time the latency networks on ONNX Runtime (the same model exported, CPU, same thread count)",
  "Defaults take a few minutes on 2 cores; `--archs all --reps 30 --steps 5` is the full run.",
].join("\n");

const FLAGS = ["onnx", "archs", "alpha", "engine", "batch", "sizes", "steps", "micro-batch", "reps", "latency-size", "feature-size", "feature-batches", "data-images", "workers", "kernels", "compare", "torch", "json", "quiet", "help", "max-per-class"];

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer (got "${value}")`);
  return n;
}

export const command: Command = {
  name: "bench",
  summary: "benchmarks printed as tables (data, latency, training, features)",
  usage: USAGE,
  async run(args) {
    const { flags, positional } = parseFlags(args, ["torch", "onnx", "kernels", "compare", "quiet", "help"]);
    if (flags.has("help")) {
      console.log(USAGE);
      return 0;
    }
    rejectUnknownFlags(flags, FLAGS);
    const { BENCH_SECTIONS, runBench } = await import("../bench/index");
    const transfer = positional.includes("transfer");
    const named = positional.filter((s) => s !== "transfer");
    const sections = positional.length === 0 || named.includes("all") ? [...BENCH_SECTIONS] : named;
    for (const s of sections) {
      if (!(BENCH_SECTIONS as readonly string[]).includes(s)) throw new UsageError(`unknown bench section "${s}": allowed all, ${BENCH_SECTIONS.join(", ")}`);
    }
    const engine = (flags.get("engine") ?? process.env.ENGINE ?? "wasm") as EngineChoice;
    if (!(ENGINES as readonly string[]).includes(engine)) throw new ParameterError("ENGINE", engine, ENGINES.join(", "));
    const { ARCH_IDS, isArchId } = await import("../ids");
    let archs: string[] | undefined;
    if (flags.has("archs")) {
      const raw = flags.get("archs")!;
      archs = raw === "all" ? [...ARCH_IDS] : raw.split(",").map((a) => a.trim()).filter(Boolean);
      for (const a of archs) if (!isArchId(a)) throw new UsageError(`unknown architecture "${a}": allowed ${ARCH_IDS.join(", ")}, all`);
    }
    const alpha = flags.has("alpha") ? parseAlpha(flags.get("alpha")!, archs ?? ["mobilenet"]) : undefined;
    const sizes = (flags.get("sizes") ?? "96,224").split(",").map((s) => positiveInt("sizes", s.trim(), 0));
    const micro = flags.get("micro-batch");
    const quiet = flags.has("quiet");
    if (transfer) {
      const { benchFrozenFeatures, formatFeatureBench } = await import("../bench/features");
      const maxPerClass = flags.has("max-per-class") ? positiveInt("max-per-class", flags.get("max-per-class"), 0) : undefined;
      try {
        console.log(formatFeatureBench(await benchFrozenFeatures({ maxPerClass, onProgress: quiet ? undefined : (message) => console.error(message) })));
      } catch (error) {
        console.error(`showcase bench transfer: ${(error as Error).message}`);
        return 1;
      }
      if (sections.length === 0) return 0;
    }
    const report = await runBench({
      sections: sections as Array<(typeof BENCH_SECTIONS)[number]>,
      engine,
      archs,
      alpha,
      latencySize: positiveInt("latency-size", flags.get("latency-size"), 224),
      latencyReps: positiveInt("reps", flags.get("reps"), 10),
      trainSizes: sizes,
      trainSteps: positiveInt("steps", flags.get("steps"), 2),
      batch: positiveInt("batch", flags.get("batch"), 16),
      microBatch: micro === undefined || micro === "auto" ? "auto" : positiveInt("micro-batch", micro, 0),
      featureSize: positiveInt("feature-size", flags.get("feature-size"), 224),
      featureBatches: positiveInt("feature-batches", flags.get("feature-batches"), 2),
      dataImages: positiveInt("data-images", flags.get("data-images"), 512),
      workers: flags.has("workers") ? positiveInt("workers", flags.get("workers"), 2) : 0,
      kernels: flags.has("kernels"),
      compareKernels: flags.has("compare"),
      torch: flags.has("torch"),
      onnx: flags.has("onnx"),
      command: `showcase bench ${args.join(" ")}`.trim(),
      log: quiet ? () => {} : undefined,
    });
    const { writeJsonAtomic } = await import("../io/atomic");
    const { projectPath } = await import("../paths");
    const file = flags.get("json") ?? projectPath("reports", "bench", `bench-${report.engine}-${report.createdAt.slice(0, 19).replace(/:/g, "")}.json`);
    await writeJsonAtomic(file, report, "benchmark report");
    if (!quiet) {
      console.log(`peak RSS ${report.peakRssMiB} MiB${report.peakWasmHeapMiB ? `, wasm heap ${report.peakWasmHeapMiB} MiB` : ""}; ${report.errors.length} error(s)`);
      console.log(`wrote ${file}`);
    }
    return report.errors.filter((e) => e.kind !== "torch").length ? 1 : 0;
  },
};
