// `npx showcase evaluate [--run-id ID] [--latency-only] [--force]`: notebook 03's work, headless.
import { parseRunId, resolveParams } from "../config";
import { type Command, parseFlags, rejectUnknownFlags, UsageError } from "./command";

export const command: Command = {
  name: "evaluate",
  summary:
    "evaluate a run: predictions on the validation split, classification time on this machine/engine, " +
    "tables, summary and reports/Deeplearning-showcase_Tables.xlsx. --latency-only measures a machine that did not train " +
    "(the run's models when present, else untrained ones of the same architectures); --force re-measures. " +
    "Classification time is measured on tfjs and on ONNX Runtime (the same models exported; CPU, one thread by default), " +
    "whose predictions are compared with tfjs's on every validation image; --no-onnx skips it.",
  usage: "showcase evaluate [--run-id ID] [--latency-only] [--force] [--no-onnx] [--onnx-threads N] [--workbook PATH]   (parameters from the environment: RUN_ID, ENGINE, ARCHS, …)",
  async run(args) {
    const { flags, positional } = parseFlags(args, ["latency-only", "force", "no-onnx"]);
    rejectUnknownFlags(flags, ["run-id", "latency-only", "force", "no-onnx", "onnx-threads", "workbook"]);
    const onnxThreads = flags.has("onnx-threads") ? Number(flags.get("onnx-threads")) : 1;
    if (!Number.isInteger(onnxThreads) || onnxThreads < 1) throw new UsageError(`--onnx-threads must be a whole number ≥ 1, got "${flags.get("onnx-threads")}"`);
    if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    const env = { ...process.env };
    if (flags.has("run-id")) env.RUN_ID = parseRunId(flags.get("run-id")!);
    const params = resolveParams(env);
    const latencyOnly = flags.has("latency-only");

    const { selectEngine } = await import("../engine/index");
    const { evaluateRun, RunNotFoundError } = await import("../evaluate/pipeline");
    const { writeReport, buildReport, frameText, classificationTimeTable, tableToFrame } = await import("../report/index");
    const { mergeLatency } = await import("../evaluate/latency-file");
    const { RunLockedError } = await import("../train/run-lock");

    const engine = await selectEngine({ engine: params.engine });
    let outcome: Awaited<ReturnType<typeof evaluateRun>>;
    try {
      outcome = await evaluateRun(params, { engine, latencyOnly, force: flags.has("force"), onnx: !flags.has("no-onnx"), onnxThreads });
    } catch (error) {
      if (error instanceof RunLockedError) throw new UsageError(error.message);
      if (!(error instanceof RunNotFoundError)) throw error;
      console.error(`showcase evaluate: ${error.message}`);
      return 1;
    }
    console.log(`latency (${outcome.models} models): ${outcome.latencyPath}`);
    for (const o of outcome.onnx) console.log(`latency on ONNX Runtime: ${o.latencyPath}`);
    if (outcome.models === "untrained") console.log("note: no trained model of some architectures here — timed untrained models of the same graph (the cost of a forward pass does not depend on the weights)");
    if (latencyOnly && outcome.evaluations.length === 0) {
      console.log(`\n${frameText(tableToFrame(classificationTimeTable(mergeLatency([outcome.latency, ...outcome.onnx.map((o) => o.latency)]))))}`);
      return 0;
    }
    const report = latencyOnly ? await buildReport({ runDir: outcome.runDir }) : await writeReport({ runDir: outcome.runDir, workbookPath: flags.get("workbook") });
    for (const frame of report.frames) console.log(`\n${frame.title}\n${frameText(frame)}`);
    console.log(`\n${report.markdown}`);
    if (report.workbookPath) console.log(`workbook: ${report.workbookPath}`);
    // Missing and failed runs are listed above; they are the trainer's outcome, not an evaluation failure.
    return 0;
  },
};
