// A minimal Jupyter-protocol client for the tslab kernel: start the process with a fresh connection
// file, speak the wire protocol over zeromq (HMAC-SHA256 signed), run code, shut down.
// It knows tslab's start-up quirk (slow joiner: the first kernel_info requests and iopub messages
// are lost) and that a request is finished only when both its reply and its iopub `idle` arrived,
// in either order. Everything about cells and outputs lives in runner.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { promises as fs, rmSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zmq from "zeromq";
import { writeJsonAtomic } from "../io/atomic";
import { projectPath } from "../paths";

const DELIMITER = Buffer.from("<IDS|MSG>");
const PROTOCOL_VERSION = "5.3";

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface KernelMessage {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

/** The iopub messages and the shell reply that belong to one request. */
export interface RequestOutcome {
  reply: KernelMessage;
  iopub: KernelMessage[];
}

export interface KernelStartOptions {
  /** Working directory of the kernel (notebooks import `./lib/...` relative to it). */
  cwd: string;
  /** Environment of the kernel process; notebooks read their parameters from it. */
  env: Record<string, string | undefined>;
  /** How long start-up (process + first kernel_info round trip) may take. */
  startTimeoutMs?: number;
}

/** Thrown when the kernel process exits while a request is waiting for it. */
export class KernelDiedError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly kernelLog: string,
  ) {
    super(`kernel process exited (${signal ? `signal ${signal}` : `code ${exitCode}`})${kernelLog ? `: ${lastLines(kernelLog, 5)}` : ""}`);
    this.name = "KernelDiedError";
  }
}

export class RequestTimeoutError extends Error {
  constructor(
    readonly msgType: string,
    readonly timeoutMs: number,
  ) {
    super(`${msgType} got no complete answer within ${formatSeconds(timeoutMs)}`);
    this.name = "RequestTimeoutError";
  }
}

/** The tslab executable as node + its CLI script, so neither PATH nor a shebang matters. */
export function tslabCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [require.resolve("tslab/bin/tslab", { paths: [projectPath()] })] };
}

// Kernels still running when this process exits (Ctrl-C, an uncaught error) are killed with it,
// so no orphan keeps its ports bound.
const liveKernels = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function trackKernel(child: ChildProcess, tempDir: string): void {
  liveKernels.set(child, tempDir);
  child.once("exit", () => liveKernels.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const [kernel, dir] of liveKernels) {
      kernel.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

interface Pending {
  msgType: string;
  reply?: KernelMessage;
  idle: boolean;
  iopub: KernelMessage[];
  onIopub?: (message: KernelMessage) => void;
  resolve: (outcome: RequestOutcome) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

export class KernelClient {
  private readonly session = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private exited?: KernelDiedError;
  /** Content of the first kernel_info_reply (language_info for the executed notebook). */
  kernelInfo: Record<string, unknown> = {};
  private kernelLog = "";
  private closed = false;

  private constructor(
    private readonly process: ChildProcess,
    private readonly key: string,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    private readonly tempDir: string,
  ) {}

  /** Starts tslab and returns once it answers on shell AND its iopub messages reach us. */
  static async start(options: KernelStartOptions): Promise<KernelClient> {
    const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-kernel-"));
    const key = randomBytes(32).toString("hex");
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await freePorts(5);
    const connection = {
      transport: "tcp",
      ip: "127.0.0.1",
      shell_port: shellPort,
      iopub_port: iopubPort,
      stdin_port: stdinPort,
      control_port: controlPort,
      hb_port: hbPort,
      signature_scheme: "hmac-sha256",
      key,
      kernel_name: "tslab",
    };
    const connectionFile = path.join(tempDir, "kernel.json");
    await writeJsonAtomic(connectionFile, connection, "kernel connection file");

    const { command, args } = tslabCommand();
    const child = spawn(command, [...args, "kernel", "--config-path", connectionFile], {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, as Jupyter starts kernels: interrupt() signals the kernel and the
      // worker processes it started, and a Ctrl-C meant for us does not reach it unasked.
      detached: true,
    });
    const shell = new zmq.Dealer({ linger: 0 });
    const control = new zmq.Dealer({ linger: 0 });
    const iopub = new zmq.Subscriber({ linger: 0 });
    trackKernel(child, tempDir);
    const client = new KernelClient(child, key, shell, control, iopub, tempDir);
    client.watchProcess();
    iopub.subscribe();
    shell.connect(`tcp://127.0.0.1:${shellPort}`);
    control.connect(`tcp://127.0.0.1:${controlPort}`);
    iopub.connect(`tcp://127.0.0.1:${iopubPort}`);
    client.receiveLoop(shell);
    client.receiveLoop(control);
    client.receiveLoop(iopub);
    try {
      await client.handshake(options.startTimeoutMs ?? 60_000);
    } catch (error) {
      await client.shutdown();
      throw error;
    }
    return client;
  }

  /** The kernel's own stdout/stderr outside cells (start-up errors, crashes), last few KB. */
  get log(): string {
    return this.kernelLog;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /**
   * Sends an execute_request; resolves when both execute_reply and iopub idle arrived.
   * `onIopub` sees each iopub message of this request as it comes (live outputs).
   */
  execute(code: string, options: { timeoutMs: number; onIopub?: (message: KernelMessage) => void }): Promise<RequestOutcome> {
    return this.request(
      this.shell,
      "execute_request",
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      options,
    );
  }

  /** Jupyter's interrupt for interrupt_mode "signal": SIGINT to the kernel's process group. */
  interrupt(): void {
    if (this.exited || this.process.pid === undefined) return;
    process.kill(-this.process.pid, "SIGINT");
  }

  /** Graceful shutdown_request, then SIGKILL if the process lingers; removes the connection file. */
  async shutdown({ graceMs = 1500 }: { graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    if (!this.exited) {
      try {
        await this.request(this.control, "shutdown_request", { restart: false }, { timeoutMs: graceMs });
      } catch {
        // A kernel that does not answer is killed below.
      }
      await this.waitForExit(graceMs);
    }
    if (!this.exited) this.process.kill("SIGKILL");
    this.closed = true;
    for (const socket of [this.shell, this.control, this.iopub]) socket.close();
    this.failPending(new Error("kernel client closed"));
    await fs.rm(this.tempDir, { recursive: true, force: true });
  }

  private async handshake(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const sent = new Set<string>();
    let replied = false;
    let statusSeen = false;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (replied && statusSeen) finish();
      };
      const onMessage = (message: KernelMessage, channel: "shell" | "iopub") => {
        if (!sent.has(message.parent_header.msg_id ?? "")) return;
        if (channel === "shell" && message.header.msg_type === "kernel_info_reply") {
          replied = true;
          this.kernelInfo = message.content;
        }
        if (channel === "iopub" && message.header.msg_type === "status") statusSeen = true;
        check();
      };
      const tick = () => {
        if (this.exited) return finish(this.exited);
        if (Date.now() > deadline) {
          return finish(new Error(`tslab kernel did not answer within ${formatSeconds(timeoutMs)}${this.kernelLog ? `; its output: ${lastLines(this.kernelLog, 5)}` : ""}`));
        }
        // tslab drops the first requests while it binds; keep asking until both channels answer.
        const message = this.message("kernel_info_request", {});
        sent.add(message.header.msg_id);
        void this.send(this.shell, message).catch(() => undefined);
      };
      const interval = setInterval(tick, 250);
      interval.unref();
      const finish = (error?: Error) => {
        clearInterval(interval);
        this.handshakeListener = undefined;
        if (error) reject(error);
        else resolve();
      };
      this.handshakeListener = onMessage;
      tick();
    });
  }

  private handshakeListener?: (message: KernelMessage, channel: "shell" | "iopub") => void;

  private request(
    socket: zmq.Dealer,
    msgType: string,
    content: Record<string, unknown>,
    options: { timeoutMs: number; onIopub?: (message: KernelMessage) => void },
  ): Promise<RequestOutcome> {
    if (this.exited) return Promise.reject(this.exited);
    const message = this.message(msgType, content);
    return new Promise<RequestOutcome>((resolve, reject) => {
      const entry: Pending = { msgType, idle: false, iopub: [], onIopub: options.onIopub, resolve, reject };
      entry.timer = setTimeout(() => {
        this.pending.delete(message.header.msg_id);
        reject(new RequestTimeoutError(msgType, options.timeoutMs));
      }, options.timeoutMs);
      entry.timer.unref();
      this.pending.set(message.header.msg_id, entry);
      this.send(socket, message).catch((error: unknown) => {
        this.settle(message.header.msg_id, error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  private settle(msgId: string, error?: Error): void {
    const entry = this.pending.get(msgId);
    if (!entry) return;
    this.pending.delete(msgId);
    clearTimeout(entry.timer);
    if (error) entry.reject(error);
    else entry.resolve({ reply: entry.reply!, iopub: entry.iopub });
  }

  private dispatch(message: KernelMessage, channel: "shell" | "iopub"): void {
    this.handshakeListener?.(message, channel);
    const msgId = message.parent_header.msg_id;
    const entry = msgId ? this.pending.get(msgId) : undefined;
    if (!entry) return;
    if (channel === "shell") {
      entry.reply = message;
    } else if (message.header.msg_type === "status") {
      if (message.content.execution_state === "idle") entry.idle = true;
    } else {
      entry.iopub.push(message);
      entry.onIopub?.(message);
    }
    // Reply and idle come in either order; only both together finish a request.
    if (entry.reply && entry.idle) this.settle(msgId!);
  }

  private async receiveLoop(socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    const channel = socket === this.iopub ? "iopub" : "shell";
    try {
      for await (const frames of socket) {
        const message = this.parse(frames);
        if (message) this.dispatch(message, channel);
      }
    } catch {
      // The socket was closed: nothing more to receive.
    }
  }

  private watchProcess(): void {
    const keep = (chunk: Buffer) => {
      this.kernelLog = (this.kernelLog + chunk.toString("utf8")).slice(-8192);
    };
    this.process.stdout?.on("data", keep);
    this.process.stderr?.on("data", keep);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      this.exited ??= new KernelDiedError(code, signal, this.kernelLog.trim());
      this.failPending(this.exited);
    };
    this.process.on("exit", onExit);
    this.process.on("error", (error) => {
      this.exited ??= new KernelDiedError(null, null, `could not start tslab: ${error.message}`);
      this.failPending(this.exited);
    });
  }

  private failPending(error: Error): void {
    for (const msgId of [...this.pending.keys()]) this.settle(msgId, error);
  }

  private waitForExit(timeoutMs: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.process.once("exit", () => {
        clearTimeout(timer);
        // Let watchProcess's own exit listener record the exit first.
        setImmediate(resolve);
      });
    });
  }

  private message(msgType: string, content: Record<string, unknown>): KernelMessage {
    return {
      header: { msg_id: randomUUID(), msg_type: msgType, session: this.session, username: "showcase", date: new Date().toISOString(), version: PROTOCOL_VERSION },
      parent_header: {},
      metadata: {},
      content,
    };
  }

  private sign(parts: string[]): string {
    const hmac = createHmac("sha256", this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest("hex");
  }

  private async send(socket: zmq.Dealer, message: KernelMessage): Promise<void> {
    const parts = [message.header, message.parent_header, message.metadata, message.content].map((part) => JSON.stringify(part));
    await socket.send([DELIMITER, this.sign(parts), ...parts]);
  }

  /** Parses a wire message; drops it when the signature does not match. */
  private parse(frames: Buffer[]): KernelMessage | undefined {
    const at = frames.findIndex((frame) => frame.equals(DELIMITER));
    if (at < 0 || frames.length < at + 6) return undefined;
    const parts = frames.slice(at + 2, at + 6).map((frame) => frame.toString("utf8"));
    if (frames[at + 1].toString("utf8") !== this.sign(parts)) return undefined;
    const [header, parentHeader, metadata, content] = parts.map((part) => JSON.parse(part) as Record<string, unknown>);
    return {
      header: header as unknown as MessageHeader,
      parent_header: parentHeader as Partial<MessageHeader>,
      metadata,
      content,
    };
  }
}

/** Ports the OS says are free right now (bound to port 0 then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join(" | ");
}

export function formatSeconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}
