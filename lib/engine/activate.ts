// Switching the TensorFlow.js backend and checking that the switch really happened.
// tf.setBackend() returns false (or throws) when a backend fails to start, and tfjs then keeps
// running on whatever it had — usually the pure-JS `cpu` backend, 15–40× slower. Always compare
// tf.getBackend() with what was asked for.
import * as tf from "@tensorflow/tfjs";
import { quietCpuBackend } from "./capabilities";

export interface Activation {
  ok: boolean;
  /** tf.getBackend() after the attempt. */
  backend: string;
  /** Why it failed: the thrown error or the warning tfjs printed, in one line. */
  error?: string;
}

function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? text;
}

/**
 * Runs `work` with console.warn/console.error captured (tfjs reports backend start failures there),
 * returning the captured lines instead of printing them.
 */
export async function captureConsole<T>(work: () => Promise<T>): Promise<{ value: T; messages: string[] }> {
  const messages: string[] = [];
  const { warn, error } = console;
  const record = (...args: unknown[]) => {
    messages.push(args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(" "));
  };
  console.warn = record;
  console.error = record;
  try {
    return { value: await work(), messages };
  } finally {
    console.warn = warn;
    console.error = error;
  }
}

interface EngineInternals {
  backendName: string | null;
  backendInstance: unknown;
  registry: Record<string, unknown>;
}

/** True when tfjs really runs on `name`: its name is set AND an initialised instance is in use. */
export function isBackendActive(name: string): boolean {
  const engine = tf.engine() as unknown as EngineInternals;
  return engine.backendName === name && Boolean(engine.backendInstance) && engine.backendInstance === engine.registry[name];
}

/**
 * After a failed tf.setBackend(name), tfjs still reports `name` from tf.getBackend() until the next
 * operation quietly initialises the best remaining backend. Resolve that now, so the answer is true.
 */
async function settleAfterFailure(failed: string): Promise<string> {
  await captureConsole(async () => {
    try {
      tf.backend();
    } catch {
      // The best remaining backend needs async initialisation; fall through to cpu below.
    }
    if (!isBackendActive(tf.getBackend())) await tf.setBackend("cpu");
  });
  const now = tf.getBackend();
  return now === failed && !isBackendActive(failed) ? "none" : now;
}

export async function activateBackend(name: string): Promise<Activation> {
  const activation = await switchBackend(name);
  quietCpuBackend(); // cpu, chosen or fallen back to
  return activation;
}

async function switchBackend(name: string): Promise<Activation> {
  if (!tf.findBackendFactory(name)) {
    return { ok: false, backend: tf.getBackend() ?? "none", error: `backend "${name}" is not registered` };
  }
  let accepted = false;
  let thrown: unknown;
  const { messages } = await captureConsole(async () => {
    try {
      accepted = await tf.setBackend(name);
      if (accepted) await tf.ready();
    } catch (error) {
      thrown = error;
    }
  });
  if (accepted && thrown === undefined && isBackendActive(name)) return { ok: true, backend: name };
  const failure = messages.find((line) => !/^Initialization of backend .* failed$/.test(line.trim()));
  const reason =
    thrown !== undefined
      ? firstLine(thrown)
      : failure !== undefined
        ? firstLine(failure)
        : accepted
          ? "tfjs accepted the backend but is not running on it"
          : "tf.setBackend returned false";
  return { ok: false, backend: await settleAfterFailure(name), error: reason };
}
