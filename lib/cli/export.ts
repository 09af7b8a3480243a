// `npx showcase export --run <id> [--archs a,b]`: ONNX files of a finished run, each checked against tfjs.
import * as path from "node:path";
import { parseRunId, resolveParams } from "../config";
import { type Command, parseFlags, rejectUnknownFlags, UsageError } from "./command";

export const command: Command = {
  name: "export",
  summary:
    "write the ONNX model of every finished architecture of a run (<run>/<arch>/model.onnx + model.onnx.json: opset, " +
    "input/output names, NHWC preprocessed input) and check it: ONNX Runtime loads it and agrees with tfjs on a few validation photos",
  usage: "showcase export --run <id> [--archs a,b]   (--run-id works too; RUNS_DIR from the environment)",
  async run(args) {
    const { flags, positional } = parseFlags(args);
    rejectUnknownFlags(flags, ["run", "run-id", "archs"]);
    if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    const runId = flags.get("run") ?? flags.get("run-id") ?? process.env.RUN_ID;
    if (!runId) throw new UsageError("--run <id> is required: the run under reports/runs/ whose models to export");
    const params = resolveParams({ ...process.env, RUN_ID: parseRunId(runId) });
    const { ARCH_IDS, isArchId } = await import("../ids");
    const archs = flags.get("archs")?.split(",").map((a) => a.trim()).filter(Boolean);
    for (const a of archs ?? []) if (!isArchId(a)) throw new UsageError(`--archs: unknown architecture "${a}": allowed ${ARCH_IDS.join(", ")}`);
    const { exportRun, formatExportLine } = await import("../export/export-run");
    const { ONNX_AGREEMENT_TOLERANCE } = await import("../export/compare");
    const { selectEngine } = await import("../engine/index");
    await selectEngine({ engine: params.engine, quiet: true }); // tfjs side of the check
    let exported: Awaited<ReturnType<typeof exportRun>>;
    try {
      exported = await exportRun({ runDir: path.join(params.runsDir, params.runId), archs, log: (line) => console.error(line) });
    } catch (error) {
      console.error(`showcase export: ${(error as Error).message}`);
      return 1;
    }
    for (const e of exported) console.log(formatExportLine(e));
    return exported.every((e) => e.record.check && e.agreement.sameClass && e.agreement.maxAbsDiff <= ONNX_AGREEMENT_TOLERANCE) ? 0 : 1;
  },
};
