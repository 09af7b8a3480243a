// One writer per run folder: <run folder>/writer.lock names the process that writes there (pid,
// host, start time, command). It is taken before the first write and released when the writer
// ends; a second writer (another terminal, a notebook and the CLI, a cell re-run while the
// interrupted one still winds down) is refused with the holder's name. A lock left by a process that
// is gone on this host (SIGKILL, power loss) is taken over, and the caller is told so.
import { readFileSync, rmSync } from "node:fs";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { writeFileAtomic } from "../io/atomic";

export const RUN_LOCK_FILE = "writer.lock";
export const RUN_LOCK_SCHEMA = "showcase.run-lock/1";

export interface RunLockHolder {
  schema: typeof RUN_LOCK_SCHEMA;
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** What the holder runs, as a person would type it (e.g. "npx showcase train --archs resnet50"). */
  command: string;
  /** Linux: the process's start time in clock ticks since boot, so a reused pid is not mistaken for the holder. */
  processStart?: string;
  /** Tells this lock apart from a later one of the same process. */
  token: string;
}

export class RunLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: RunLockHolder,
    readonly label: string,
  ) {
    const since = formatSince(new Date(holder.startedAt));
    const elsewhere = holder.host !== os.hostname();
    super(
      `run ${label} is being written by pid ${holder.pid}${holder.pid === process.pid && !elsewhere ? " (this process)" : ""} on host ${holder.host} since ${since} (${holder.command}); wait, or stop it` +
        (elsewhere ? ` (if it is no longer running there, delete ${lockFile})` : ""),
    );
    this.name = "RunLockedError";
    this.stack = `${this.name}: ${this.message}`; // a refusal, not a bug: one line in a notebook too
  }
}

export interface RunLock {
  file: string;
  holder: RunLockHolder;
  /** The stale lock this one replaced (its process was gone), if any. */
  tookOverFrom?: RunLockHolder;
  release(): Promise<void>;
}

/** HH:MM today, else the date too. */
function formatSince(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return date.toDateString() === new Date().toDateString() ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

/** Start time of a process (Linux /proc, field 22 of stat); undefined where there is no /proc. */
function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** This process as the user started it: "npx showcase train …", a Jupyter kernel, or node's argv. */
export function describeThisProcess(argv: readonly string[] = process.argv): string {
  const script = argv[1] ?? "";
  if (/[/\\](lib[/\\]cli\.[tj]s|showcase(\.js)?)$/.test(script)) return ["npx showcase", ...argv.slice(2)].join(" ");
  if (/tslab/.test(script) && argv.includes("kernel")) return "a notebook's Jupyter kernel (tslab)";
  return argv.slice(1).map((arg) => path.basename(arg)).join(" ").slice(0, 120) || "node";
}

/** Whether the holder's process still runs; unknowable for another host (treated as running). */
function holderIsAlive(holder: RunLockHolder): boolean {
  if (holder.host !== os.hostname()) return true;
  // This process: held while it has not released it (a release on a disk turned read-only leaves the file).
  if (holder.pid === process.pid) return [...heldLocks.values()].includes(holder.token);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const start = processStartOf(holder.pid);
  return !(holder.processStart && start && start !== holder.processStart); // the pid now belongs to another process
}

async function readHolder(file: string): Promise<RunLockHolder | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as RunLockHolder;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`${file} is not a readable lock (${(error as Error).message}): delete it if no one is writing this run`);
  }
}

// Locks still held when the process exits (process.exit after a second Ctrl-C) are removed with it.
const heldLocks = new Map<string, string>();
let exitHookInstalled = false;
function removeHeldLocksOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const [file, token] of heldLocks) {
      try {
        if ((JSON.parse(readFileSync(file, "utf8")) as RunLockHolder).token === token) rmSync(file, { force: true });
      } catch {
        // Gone already, or not ours.
      }
    }
  });
}

/**
 * Takes the run folder's lock (creating the folder), or throws RunLockedError naming the holder.
 * `label` names the run in messages (its RUN_ID or key).
 */
export async function acquireRunLock(opts: { dir: string; label?: string; command?: string }): Promise<RunLock> {
  const file = path.join(opts.dir, RUN_LOCK_FILE);
  const label = opts.label ?? path.basename(opts.dir);
  const processStart = processStartOf(process.pid);
  const holder: RunLockHolder = {
    schema: RUN_LOCK_SCHEMA,
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    command: opts.command ?? describeThisProcess(),
    ...(processStart ? { processStart } : {}),
    token: randomUUID(),
  };
  await fs.mkdir(opts.dir, { recursive: true });
  // Written in full under a temporary name, then hard-linked: link() fails if a lock exists, so
  // exactly one writer wins and nobody ever reads half a lock.
  const temp = `${file}.${process.pid}.${holder.token}.tmp`;
  await writeFileAtomic(temp, `${JSON.stringify(holder, null, 2)}\n`, "run lock");
  let tookOverFrom: RunLockHolder | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.link(temp, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const current = await readHolder(file);
      if (!current) continue; // released just now: try again
      if (holderIsAlive(current) || attempt >= 3) throw new RunLockedError(file, current, label);
      // Stale: remove it only if it is still the same lock (another starter may have taken over).
      const again = await readHolder(file);
      if (again?.token !== current.token) continue;
      await fs.rm(file, { force: true });
      tookOverFrom = current;
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
  heldLocks.set(file, holder.token);
  removeHeldLocksOnExit();
  return {
    file,
    holder,
    tookOverFrom,
    async release() {
      if (heldLocks.get(file) !== holder.token) return;
      heldLocks.delete(file);
      const current = await readHolder(file).catch(() => undefined);
      // Best effort: release runs in `finally` blocks, and a disk turned read-only must not replace the
      // error that stopped the run by its own EROFS; a lock left behind is taken over (its holder is gone).
      if (current?.token === holder.token) await fs.rm(file, { force: true }).catch(() => undefined);
    },
  };
}

/** The message for a taken-over stale lock. */
export function takeOverMessage(lock: RunLock): string | undefined {
  const stale = lock.tookOverFrom;
  if (!stale) return undefined;
  return `took over ${lock.file}: its holder, pid ${stale.pid} on ${stale.host} (${stale.command}, since ${formatSince(new Date(stale.startedAt))}), is no longer running`;
}
