// SIMD (f32x4) loops for the training kernels that tfjs-backend-wasm lacks, compiled once from
// lib/engine/wasm/simd/module-builder and instantiated on the backend's own memory, so they read
// and write tensors in place. They cover the channel-innermost loops with C % 4 == 0 (every layer
// of the eight networks); the callers keep their plain-JS loops for other shapes. Partial sums are
// float32 inside a call and flushed into float64 by the callers every few hundred rows.
import { buildModule, type CodeBuilder, type FunctionSpec } from "./module-builder";

/** Byte addresses in the wasm memory; counts in elements or rows. */
export interface SimdKernels {
  /** out = dy where lo < x ≤ hi (open) or lo ≤ x ≤ hi (closed), else 0; n % 4 == 0. */
  maskedOpen(x: number, dy: number, out: number, n: number, lo: number, hi: number): void;
  maskedClosed(x: number, dy: number, out: number, n: number, lo: number, hi: number): void;
  /** acc[c] += Σ_rows x[r, c] for x of [rows, C] (float32 acc of C values). */
  columnSum(x: number, rows: number, channels: number, acc: number): void;
  /** dx = dy·gain[c]; sumDy[c] += dy; sumDyXm[c] += dy·(x − mean[c]). */
  batchNormGrad(x: number, dy: number, dx: number, rows: number, channels: number, gain: number, mean: number, sumDy: number, sumDyXm: number): void;
  /** y = x·gain[c] + shift[c] for x, y of [rows, C]: batch norm with its statistics folded in. */
  scaleShift(x: number, y: number, rows: number, channels: number, gain: number, shift: number): void;
  /**
   * out[i·outStep + c] += a[i·aStep + c]·b[i·bStep + c] for i < count, c < C (steps in bytes; a step
   * of 0 reuses the same row: a per-channel accumulator or weight).
   */
  multiplyAddRows(out: number, outStep: number, a: number, aStep: number, b: number, bStep: number, count: number, channels: number): void;
}

const I32 = "i32" as const;
const F32 = "f32" as const;
const V128 = "v128" as const;

function masked(name: string, lowerBound: "f32x4.gt" | "f32x4.ge"): FunctionSpec {
  return {
    name,
    params: [["x", I32], ["dy", I32], ["out", I32], ["n", I32], ["lo", F32], ["hi", F32]],
    locals: [["end", I32], ["vlo", V128], ["vhi", V128], ["v", V128]],
    body: (c) => {
      c.get("x").get("n").i32(2).op("i32.shl").op("i32.add").set("end");
      c.get("lo").simd("f32x4.splat").set("vlo");
      c.get("hi").simd("f32x4.splat").set("vhi");
      c.whileBelow("x", "end", () => {
        c.get("x").load().set("v");
        c.get("out").get("dy").load();
        c.get("v").get("vlo").simd(lowerBound).get("v").get("vhi").simd("f32x4.le").simd("v128.and");
        c.simd("v128.and").store();
        c.advance("x", 16).advance("dy", 16).advance("out", 16);
      });
    },
  };
}

/** end = base + rows · C · 4 and rowBytes = C · 4. */
function rowGeometry(c: CodeBuilder, base: string): void {
  c.get("channels").i32(2).op("i32.shl").set("rowBytes");
  c.get(base).get("rows").get("rowBytes").op("i32.mul").op("i32.add").set("end");
}

const columnSum: FunctionSpec = {
  name: "columnSum",
  params: [["x", I32], ["rows", I32], ["channels", I32], ["acc", I32]],
  locals: [["rowBytes", I32], ["end", I32], ["rowEnd", I32], ["a", I32]],
  body: (c) => {
    rowGeometry(c, "x");
    c.whileBelow("x", "end", () => {
      c.get("x").get("rowBytes").op("i32.add").set("rowEnd");
      c.get("acc").set("a");
      c.whileBelow("x", "rowEnd", () => {
        c.get("a").get("a").load().get("x").load().simd("f32x4.add").store();
        c.advance("x", 16).advance("a", 16);
      });
    });
  },
};

const batchNormGrad: FunctionSpec = {
  name: "batchNormGrad",
  params: [["x", I32], ["dy", I32], ["dx", I32], ["rows", I32], ["channels", I32], ["gain", I32], ["mean", I32], ["sumDy", I32], ["sumDyXm", I32]],
  locals: [["rowBytes", I32], ["end", I32], ["rowEnd", I32], ["c", I32], ["g", V128]],
  body: (c) => {
    rowGeometry(c, "x");
    const at = (base: string) => c.get(base).get("c").op("i32.add");
    c.whileBelow("x", "end", () => {
      c.get("x").get("rowBytes").op("i32.add").set("rowEnd");
      c.i32(0).set("c");
      c.whileBelow("x", "rowEnd", () => {
        c.get("dy").load().set("g");
        c.get("dx").get("g");
        at("gain").load().simd("f32x4.mul").store();
        at("sumDy");
        at("sumDy").load().get("g").simd("f32x4.add").store();
        at("sumDyXm");
        at("sumDyXm").load().get("g").get("x").load();
        at("mean").load().simd("f32x4.sub").simd("f32x4.mul").simd("f32x4.add").store();
        c.advance("x", 16).advance("dy", 16).advance("dx", 16).advance("c", 16);
      });
    });
  },
};

const scaleShift: FunctionSpec = {
  name: "scaleShift",
  params: [["x", I32], ["y", I32], ["rows", I32], ["channels", I32], ["gain", I32], ["shift", I32]],
  locals: [["rowBytes", I32], ["end", I32], ["rowEnd", I32], ["c", I32]],
  body: (c) => {
    rowGeometry(c, "x");
    c.whileBelow("x", "end", () => {
      c.get("x").get("rowBytes").op("i32.add").set("rowEnd");
      c.i32(0).set("c");
      c.whileBelow("x", "rowEnd", () => {
        c.get("y").get("x").load().get("gain").get("c").op("i32.add").load().simd("f32x4.mul");
        c.get("shift").get("c").op("i32.add").load().simd("f32x4.add").store();
        c.advance("x", 16).advance("y", 16).advance("c", 16);
      });
    });
  },
};

const multiplyAddRows: FunctionSpec = {
  name: "multiplyAddRows",
  params: [["out", I32], ["outStep", I32], ["a", I32], ["aStep", I32], ["b", I32], ["bStep", I32], ["count", I32], ["channels", I32]],
  locals: [["rowBytes", I32], ["i", I32], ["o", I32], ["p", I32], ["q", I32], ["qEnd", I32]],
  body: (c) => {
    c.get("channels").i32(2).op("i32.shl").set("rowBytes");
    c.whileBelow("i", "count", () => {
      c.get("out").set("o").get("a").set("p");
      c.get("b").set("q").get("b").get("rowBytes").op("i32.add").set("qEnd");
      c.whileBelow("q", "qEnd", () => {
        c.get("o").get("o").load().get("p").load().get("q").load().simd("f32x4.mul").simd("f32x4.add").store();
        c.advance("o", 16).advance("p", 16).advance("q", 16);
      });
      c.advance("out", "outStep").advance("a", "aStep").advance("b", "bStep").advance("i", 1);
    });
  },
};

export const SIMD_MODULE_BYTES = buildModule([masked("maskedOpen", "f32x4.gt"), masked("maskedClosed", "f32x4.ge"), columnSum, batchNormGrad, scaleShift, multiplyAddRows]);

// The WebAssembly API through a typed handle: tslab compiles each notebook's imports with lib
// "es2022" only, where the WebAssembly namespace has no members (the whole-project check includes
// type packages that declare them, so it cannot see this).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => object;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;
const instances = new WeakMap<object, SimdKernels>();

/** The backend's WebAssembly.Memory (tfjs-backend-wasm keeps its Emscripten module in `.wasm`). */
function memoryOf(backend: unknown): object | undefined {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } })?.wasm?.asm?.memory;
  return memory instanceof wasmApi.Memory ? memory : undefined;
}

/** The SIMD kernels bound to this backend's memory; undefined where the memory is not reachable. */
export function simdKernelsFor(backend: unknown): SimdKernels | undefined {
  const memory = memoryOf(backend);
  if (!memory) return undefined;
  let kernels = instances.get(memory);
  if (!kernels) {
    compiled ??= new wasmApi.Module(SIMD_MODULE_BYTES);
    kernels = new wasmApi.Instance(compiled, { env: { memory } }).exports as SimdKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/** Rows per SIMD call for the sums: float32 partial sums over at most this many rows, then added in float64. */
export const ROWS_PER_FLUSH = 256;

/** The byte address of element `index` of a heap view. */
export const addressOf = (view: Float32Array, index = 0) => view.byteOffset + 4 * index;
