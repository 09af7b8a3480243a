// Optional PyTorch reference in the same session: scripts/torch-bench.py, run with the system
// python when it can import torch (Debian python3-torch). Same measurements, same thread count, and
// a recorded, fair BLAS: OpenBLAS limited to the same threads (its pthread build ignores
// torch.set_num_threads) with a core type it does not mis-detect; the reference BLAS is refused.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { onnx } from "onnx-proto";
import { projectPath } from "../paths";
import { fileExists, writeFileAtomic, writeJsonAtomic } from "../io/atomic";
import type { BenchRow } from "./types";

const run = promisify(execFile);
export const TORCH_SCRIPT = projectPath("scripts", "torch-bench.py");

/** What the PyTorch reference ran on, as the script found it in its own process. */
export interface TorchBlas {
  kind: "openblas" | "reference" | "mkl" | "blis" | "unknown";
  libraries: string[];
  core?: string;
  config?: string;
  blasThreads?: number;
  torchThreads: number;
  OPENBLAS_CORETYPE: string | null;
  OPENBLAS_NUM_THREADS: string | null;
}

export class TorchReferenceRefused extends Error {
  constructor(message: string, readonly blas: TorchBlas) {
    super(message);
    this.name = "TorchReferenceRefused";
  }
}

export async function torchAvailable(python = process.env.TORCH_PYTHON ?? "/usr/bin/python3"): Promise<string | undefined> {
  if (!(await fileExists(TORCH_SCRIPT))) return "scripts/torch-bench.py is missing";
  try {
    await run(python, ["-c", "import torch"], { timeout: 60_000 });
    return undefined;
  } catch {
    return `${python} cannot import torch (apt-get install python3-torch python3-torchvision libopenblas0-pthread)`;
  }
}

/**
 * Writes an exported ONNX model as <dir>/<arch>.graph.json + <arch>.weights.bin, the form
 * scripts/torch-bench.py runs op by op (no python onnx package needed).
 */
export async function writeTorchGraph(bytes: Uint8Array, dir: string, arch: string): Promise<string> {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const [inputs, outputs, nodes] = [graph.input ?? [], graph.output ?? [], graph.node ?? []];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializers = (graph.initializer ?? []).map((t) => {
    const dims = (t.dims ?? []).map(Number);
    if (t.dataType === onnx.TensorProto.DataType.INT64) return { name: t.name, dims, dtype: "int64", values: (t.int64Data ?? []).map(Number) };
    const data = t.rawData && t.rawData.length ? t.rawData : new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
    chunks.push(data);
    const entry = { name: t.name, dims, dtype: "float32", offset };
    offset += data.byteLength;
    return entry;
  });
  const attrs = (node: onnx.INodeProto) =>
    Object.fromEntries((node.attribute ?? []).map((a) => {
      const T = onnx.AttributeProto.AttributeType;
      const value = a.type === T.INTS ? (a.ints ?? []).map(Number) : a.type === T.INT ? Number(a.i) : a.type === T.FLOAT ? a.f : a.type === T.FLOATS ? a.floats : a.type === T.STRING ? new TextDecoder().decode(a.s ?? new Uint8Array()) : null;
      return [a.name, value];
    }));
  const weights = `${arch}.weights.bin`;
  const blob = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    blob.set(c, at);
    at += c.byteLength;
  }
  await writeFileAtomic(path.join(dir, weights), blob);
  const file = path.join(dir, `${arch}.graph.json`);
  await writeJsonAtomic(file, {
    input: inputs[0].name,
    outputs: outputs.map((o) => o.name),
    weights,
    initializers,
    nodes: nodes.map((n) => ({ op: n.opType, inputs: n.input, outputs: n.output, attrs: attrs(n) })),
  });
  return file;
}

export async function benchTorch(opts: { archs: string[]; skipLatency?: boolean; threads: number; latencyReps: number; latencySize?: number; trainSizes: number[]; trainSteps: number; batch: number; graphsDir?: string; python?: string; timeoutMs?: number }): Promise<{ rows: BenchRow[]; blas: TorchBlas }> {
  const args = [TORCH_SCRIPT, "--archs", opts.archs.join(","), "--threads", String(opts.threads), "--reps", String(opts.latencyReps),
    "--train-sizes", opts.trainSizes.join(","), "--steps", String(opts.trainSteps), "--batch", String(opts.batch), "--size", String(opts.latencySize ?? 224)];
  if (opts.graphsDir) args.push("--graphs", opts.graphsDir);
  if (opts.skipLatency) args.push("--skip-latency");
  const env = {
    ...process.env,
    // OpenBLAS otherwise picks a slow generic kernel on these virtual CPUs (see shared/notes/engines.md) …
    OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? "SkylakeX",
    // … and its pthread build runs on every core whatever torch.set_num_threads says.
    OPENBLAS_NUM_THREADS: String(opts.threads),
    OMP_NUM_THREADS: String(opts.threads),
  };
  const { stdout } = await run(opts.python ?? process.env.TORCH_PYTHON ?? "/usr/bin/python3", args, { env, timeout: opts.timeoutMs ?? 1_800_000, maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { rows?: BenchRow[]; blas: TorchBlas; refused?: string };
  if (result.refused) throw new TorchReferenceRefused(result.refused, result.blas);
  const blasNote = `BLAS ${result.blas.kind}${result.blas.core ? ` ${result.blas.core}` : ""}, ${result.blas.blasThreads ?? result.blas.OPENBLAS_NUM_THREADS ?? "?"} BLAS thread(s)`;
  return { rows: (result.rows ?? []).map((r) => ({ ...r, note: [r.note, blasNote].filter(Boolean).join("; ") })), blas: result.blas };
}

/** A temporary folder for exported graphs, removed by the caller. */
export async function torchGraphsDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "showcase-torch-graphs-"));
}
