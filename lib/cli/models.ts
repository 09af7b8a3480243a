// `showcase models [--json] [--archs a,b]`: the architectures as built here, next to Keras' numbers.
import { parseArchs, resolveParams } from "../config";
import { type Command, parseFlags, rejectUnknownFlags, UsageError } from "./command";

const USAGE = [
  "showcase models [--json] [--archs ID,ID…]",
  "",
  "Builds every architecture at its default input size (takes a minute: 16 models) and prints id, display name,",
  "parameters with the 1000-class top, trainable parameters of the transfer model (frozen base, 2 classes), layers,",
  "default input and preprocessing mode. --json prints the rows as JSON.",
].join("\n");

export const command: Command = {
  name: "models",
  summary: "table of the eight architectures (--json for machines)",
  usage: USAGE,
  async run(args) {
    const { flags, positional } = parseFlags(args, ["json"]);
    rejectUnknownFlags(flags, ["json", "archs"]);
    if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const json = flags.has("json");
    const ids = parseArchs(flags.get("archs") ?? process.env.ARCHS ?? "all");
    const { summarizeArchitectures } = await import("../models/summary");
    const { selectEngine } = await import("../engine/index");
    await selectEngine({ engine: resolveParams(process.env).engine, quiet: true }); // ENGINE, as for every command

    const header = ["id", "display name", "params (top)", "trainable (transfer, frozen)", "layers", "input", "preprocess"];
    const widths = [20, 18, 14, 28, 7, 6, 10];
    const line = (cells: string[]) => cells.map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ");
    if (!json) console.log(line(header));
    const rows = await summarizeArchitectures({
      ids,
      // Progress on stderr: each build takes seconds, and stdout stays the table (or the JSON).
      onStart: (id, index, count) => process.stderr.write(`building ${id} (${index + 1}/${count}) …\n`),
      onRow: (row) => {
        if (json) return;
        const cells = [row.id, row.displayName, row.params.toLocaleString("en"), row.transferTrainableParams.toLocaleString("en"), String(row.layers), String(row.defaultInputSize), row.preprocess];
        console.log(line(cells));
      },
    });
    if (json) console.log(JSON.stringify(rows, null, 2));
    const mismatched = rows.filter((row) => row.params !== row.referenceParams);
    for (const row of mismatched) console.error(`${row.id}: ${row.params} parameters, Keras has ${row.referenceParams}`);
    return mismatched.length ? 1 : 0;
  },
};
