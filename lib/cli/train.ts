// `showcase train`: notebook 02's training, headless, with the same parameters (environment, or the
// flags below) and the same run directory, so notebook and CLI continue each other's runs.
// `--shard i/n` (or SHARD_COUNT with a scheduler index) hands over to lib/scale.
import { type Env, PARAMETER_NAMES, resolveParams } from "../config";
import { type Command, parameterFlags, parseFlags, rejectUnknownFlags, UsageError } from "./command";

/** --archs → ARCHS, --run-id → RUN_ID, … for every parameter resolveParams reads. */
const PARAMETER_FLAGS = parameterFlags(PARAMETER_NAMES);
const SWITCHES = ["quiet"] as const;

const USAGE = [
  "showcase train [--archs a,b] [--epochs N] [--run-id ID] [--engine E] [--transfer frozen|finetune|top:n] [--workers auto|N] [--quiet] [other parameters as --flags]",
  "       showcase train --shard i/n | --plan | --retry-failed | --merge   (sharded runs: see docs/scale.md)",
  "",
  "Trains every architecture of ARCHS into RUNS_DIR/RUN_ID (reports/runs/<run-id>/), as notebook 02 does.",
  "Run it again with the same RUN_ID to resume: finished architectures are skipped, an interrupted one",
  "continues after its last completed epoch; a different configuration under that RUN_ID is refused.",
  "--workers N trains N architectures at the same time, each in its own process; auto (default) = one per",
  "core on the single-threaded wasm and cpu engines, 1 on GPU and tfjs-node engines.",
  `Parameter flags: ${[...PARAMETER_FLAGS.keys()].map((flag) => `--${flag}`).join(" ")}`,
  "Environment variables of the same names (PROFILE, ARCHS, EPOCHS, …) work too; flags win.",
].join("\n");

/** Moves parameter flags (--archs x, --epochs=3) into an environment; the other arguments stay. */
export function splitParameterFlags(args: readonly string[], env: Env): { env: Env; rest: string[] } {
  const merged: Env = { ...env };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(args[i]);
    const name = match ? PARAMETER_FLAGS.get(match[1]) : undefined;
    if (!match || !name) {
      rest.push(args[i]);
      continue;
    }
    const value = match[2] ?? (i + 1 < args.length && !args[i + 1].startsWith("--") ? args[++i] : undefined);
    if (value === undefined) throw new UsageError(`--${match[1]} needs a value`);
    merged[name] = value;
  }
  return { env: merged, rest };
}

export function paramsFromArgs(args: string[], env: Env = process.env) {
  const { flags, positional } = parseFlags(args, SWITCHES);
  rejectUnknownFlags(flags, [...PARAMETER_FLAGS.keys(), ...SWITCHES]);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}": parameters are flags, e.g. --archs mobilenet,resnet50`);
  const merged: Env = { ...env };
  for (const [flag, value] of flags) if (PARAMETER_FLAGS.has(flag)) merged[PARAMETER_FLAGS.get(flag)!] = value;
  return { params: resolveParams(merged), quiet: flags.has("quiet") };
}

export const command: Command = {
  name: "train",
  summary: "train the configured architectures (same run directory as notebook 02)",
  usage: USAGE,
  async run(args) {
    const { wantsSharding, runShardFromCli } = await import("./shard");
    if (wantsSharding(args)) {
      const { env, rest } = splitParameterFlags(args, process.env);
      return runShardFromCli({ args: rest, env });
    }
    const { params, quiet } = paramsFromArgs(args);

    const { selectEngine } = await import("../engine/index");
    const { runTraining, stoppedText, RunConfigMismatchError, RunLockedError } = await import("../train/index");
    const { createCliProgress } = await import("../train/progress");
    const { runSummaryText } = await import("../report/training");
    const engine = await selectEngine({ engine: params.engine, quiet });
    const progress = quiet ? undefined : createCliProgress();
    const controller = new AbortController();
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130); // second Ctrl-C: leave at once
      console.error("\nstopping after the current batch (Ctrl-C again to quit now); the run resumes from its last completed epoch");
      controller.abort();
    };
    process.on("SIGINT", onSignal);
    try {
      const summary = await runTraining(params, {
        engine,
        onProgress: progress,
        signal: controller.signal,
        onMessage: quiet ? undefined : (message) => console.error(message),
      });
      console.log(runSummaryText(summary.histories));
      console.log(
        `run ${summary.runDir}: ${summary.histories.length - summary.skipped.length} trained` +
          (summary.skipped.length ? `, ${summary.skipped.length} finished earlier (skipped)` : "") +
          (summary.resumed.length ? `, resumed ${summary.resumed.join(", ")}` : "") +
          ` in ${summary.totalSeconds.toFixed(1)} s on ${engine.engine}` +
          (summary.workers > 1 ? `, ${summary.workers} architectures at a time (WORKERS), each in its own process` : ""),
      );
      if (summary.aborted) console.error(`${stoppedText(summary)}; run the same command again to resume`);
      return summary.aborted ? 130 : 0;
    } catch (error) {
      if (error instanceof RunConfigMismatchError || error instanceof RunLockedError) throw new UsageError(error.message);
      throw error;
    } finally {
      process.off("SIGINT", onSignal);
    }
  },
};
