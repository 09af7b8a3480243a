// The kernel's Interrupt button as an AbortSignal. Jupyter interrupts a kernel with SIGINT (our
// kernelspec's interrupt_mode "signal", sent to the kernel's whole process group); tslab answers it by
// ending the cell at once while the awaited work goes on in the background, still training and still
// writing to the run folder. While `interruptible` runs, the first SIGINT aborts the work's signal
// instead (training stops at the next batch, worker processes with it) and the cell ends when the work
// has stopped; a second SIGINT goes to tslab as before and returns the prompt at once.
export class InterruptError extends Error {
  constructor(message = "stopped by the kernel's interrupt (what finished is kept); run the cell again to resume") {
    super(message);
    this.name = "Interrupted";
    this.stack = `${this.name}: ${this.message}`; // tslab prints the stack: one line, no frames
  }
}

/** The error a stopped cell ends with: "Interrupted: <what>; run the cell again to resume". */
export function interrupted(what: string): InterruptError {
  return new InterruptError(`${what}; run the cell again to resume`);
}

/**
 * Runs `work` with a signal the kernel's interrupt aborts. If the work rejects after the interrupt, the
 * cell ends with a one-line InterruptError; a work that returns normally (runTraining reports
 * `aborted`) is the caller's to turn into `interrupted(...)`.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, opts: { log?: (line: string) => void } = {}): Promise<T> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const controller = new AbortController();
  // tslab runs a cell's synchronous part under vm's breakOnSigint, which takes the SIGINT listeners
  // off meanwhile and puts them back after; a listener swapped in before that ends leaves SIGINT
  // with its default action (the kernel dies). So swap once the cell's synchronous part is over.
  await new Promise((resolve) => setImmediate(resolve));
  const previous = process.listeners("SIGINT");
  const onInterrupt = () => {
    if (!controller.signal.aborted) {
      log("interrupt: stopping at the next batch (interrupt again to get the prompt back now; the work still stops)");
      controller.abort(new InterruptError());
      return;
    }
    if (previous.length > 0) for (const listener of previous) listener.call(process, "SIGINT");
    else {
      // Outside a kernel nobody else handles it: the second interrupt ends the process, as usual.
      process.off("SIGINT", onInterrupt);
      process.kill(process.pid, "SIGINT");
    }
  };
  process.removeAllListeners("SIGINT");
  process.on("SIGINT", onInterrupt);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (!controller.signal.aborted || error instanceof InterruptError) throw error;
    throw interrupted(error instanceof Error ? error.message : String(error));
  } finally {
    process.off("SIGINT", onInterrupt);
    for (const listener of previous) if (!process.listeners("SIGINT").includes(listener)) process.on("SIGINT", listener);
  }
}
