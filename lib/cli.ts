// `npx showcase <command>`: the headless face of the project. Commands load lazily so that
// `--help` and usage errors answer at once, without importing TensorFlow.js.
import { ParameterError } from "./config";
import { type Command, UsageError } from "./cli/command";
import { FileWriteError } from "./io/file-error";

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  report: { summary: "run notebooks 01 → 02 → 03 headless; write reports/executed/, index.html and the workbook", load: async () => (await import("./cli/report")).command },
  data: { summary: "prepare the dataset (01), or download the Microsoft PetImages archive", load: async () => (await import("./cli/data")).command },
  models: { summary: "table of the eight architectures (--json for machines)", load: async () => (await import("./cli/models")).command },
  weights: { summary: "download or list Keras ImageNet weight files", load: async () => (await import("./cli/weights")).command },
  train: { summary: "train the configured architectures (same run directory as notebook 02)", load: async () => (await import("./cli/train")).command },
  evaluate: { summary: "evaluate a run: predictions, latency, tables, workbook (notebook 03)", load: async () => (await import("./cli/evaluate")).command },
  export: { summary: "write a run's models as ONNX (model.onnx beside each saved model), checked against tfjs", load: async () => (await import("./cli/export")).command },
  bench: { summary: "benchmarks printed as tables (data, latency, training, features)", load: async () => (await import("./cli/bench")).command },
  env: { summary: "the engine that would run, and this machine's inventory", load: async () => (await import("./cli/env")).command },
  kernel: { summary: "kernel install: register the tslab kernel for JupyterLab", load: async () => (await import("./cli/kernel")).command },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "usage: showcase <command> [options]   (showcase <command> --help for details)",
    "",
    ...Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
    "",
    "Parameters come from the environment: PROFILE=quick|full ARCHS EPOCHS DATA_DIR SEED RUN_ID ENGINE WEIGHTS …",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`showcase: unknown command "${name}": allowed ${Object.keys(COMMANDS).join(", ")}`);
    return 2;
  }
  try {
    const command = await entry.load();
    if (args.includes("--help") || args.includes("-h")) {
      console.log(`usage: ${command.usage}\n\n${command.summary}`);
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ParameterError) {
      console.error(`showcase ${name}: ${error.message}`);
      return 2;
    }
    if (error instanceof FileWriteError) {
      console.error(`showcase ${name}: ${error.message}`); // a full disk needs the path, not a stack trace
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
