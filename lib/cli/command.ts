// A CLI subcommand: its own argument parsing, help text and exit code (0 ok, 1 failed, 2 usage).
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Splits `--flag value`, `--flag=value` and bare `--switch` arguments; positional ones keep their order. */
export function parseFlags(args: string[], switches: readonly string[] = []): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (inline !== undefined) flags.set(name, inline);
    else if (switches.includes(name)) flags.set(name, "true");
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) flags.set(name, args[++i]);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { flags, positional };
}

export function rejectUnknownFlags(flags: Map<string, string>, allowed: readonly string[]): void {
  for (const name of flags.keys()) {
    if (!allowed.includes(name)) {
      throw new UsageError(`unknown option --${name}: allowed ${allowed.length ? allowed.map((a) => `--${a}`).join(", ") : "none"}`);
    }
  }
}

/** The command-line flag of a parameter: ARCHS → archs, LEARNING_RATE → learning-rate (the one mapping). */
export function flagOf(parameter: string): string {
  return parameter.toLowerCase().replace(/_/g, "-");
}

/** Flag → parameter for the given parameter names (--archs → ARCHS), in their order. */
export function parameterFlags(parameters: readonly string[]): Map<string, string> {
  return new Map(parameters.map((name) => [flagOf(name), name]));
}
