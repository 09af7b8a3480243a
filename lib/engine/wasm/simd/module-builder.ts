// A minimal WebAssembly binary writer: enough to express small SIMD loops over a memory imported
// from tfjs-backend-wasm (no compiler toolchain is needed at install or run time). Only the
// instructions the kernels use are here; the opcodes are those of the core and SIMD specifications.

export type ValueType = "i32" | "f32" | "v128";

const VALUE_TYPE: Record<ValueType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

/** Scalar opcodes (one byte, no immediates). */
const OPS = {
  "i32.eqz": 0x45,
  "i32.lt_u": 0x49,
  "i32.ge_u": 0x4f,
  "i32.add": 0x6a,
  "i32.sub": 0x6b,
  "i32.mul": 0x6c,
  "i32.shl": 0x74,
} as const;

/** SIMD opcodes (0xfd prefix, LEB128 opcode, no immediates). */
const SIMD_OPS = {
  "f32x4.splat": 0x13,
  "f32x4.gt": 0x44,
  "f32x4.le": 0x45,
  "f32x4.ge": 0x46,
  "v128.and": 0x4e,
  "f32x4.add": 0xe4,
  "f32x4.sub": 0xe5,
  "f32x4.mul": 0xe6,
} as const;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const text = (s: string) => [...uleb(s.length), ...Buffer.from(s, "utf8")];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Emits one function body; locals are addressed by name. */
export class CodeBuilder {
  readonly bytes: number[] = [];
  constructor(private readonly index: ReadonlyMap<string, number>) {}

  private local(name: string): number[] {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`wasm builder: unknown local ${name}`);
    return uleb(i);
  }
  get(name: string): this {
    this.bytes.push(0x20, ...this.local(name));
    return this;
  }
  set(name: string): this {
    this.bytes.push(0x21, ...this.local(name));
    return this;
  }
  i32(value: number): this {
    this.bytes.push(0x41, ...sleb(value));
    return this;
  }
  op(name: keyof typeof OPS): this {
    this.bytes.push(OPS[name]);
    return this;
  }
  simd(name: keyof typeof SIMD_OPS): this {
    this.bytes.push(0xfd, ...uleb(SIMD_OPS[name]));
    return this;
  }
  /** v128.load at [address on the stack] + offset bytes (alignment hint 4 bytes: tensors are float32-aligned). */
  load(offset = 0): this {
    this.bytes.push(0xfd, 0x00, 2, ...uleb(offset));
    return this;
  }
  /** v128.store of [address, value] from the stack. */
  store(offset = 0): this {
    this.bytes.push(0xfd, 0x0b, 2, ...uleb(offset));
    return this;
  }
  /** local += step (i32). */
  advance(name: string, step: number | string): this {
    this.get(name);
    if (typeof step === "number") this.i32(step);
    else this.get(step);
    return this.op("i32.add").set(name);
  }
  /** `while (counter < end) { body }`: the body must advance the counter. */
  whileBelow(counter: string, end: string, body: () => void): this {
    this.bytes.push(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(counter).get(end).op("i32.ge_u");
    this.bytes.push(0x0d, 1); // br_if to the block's end
    body();
    this.bytes.push(0x0c, 0, 0x0b, 0x0b); // br to the loop's start, end loop, end block
    return this;
  }
}

export interface FunctionSpec {
  name: string;
  params: Array<[string, ValueType]>;
  locals?: Array<[string, ValueType]>;
  body: (code: CodeBuilder) => void;
}

/** A module importing `env.memory` and exporting the given functions (no results; they write memory). */
export function buildModule(functions: FunctionSpec[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map(([, t]) => [VALUE_TYPE[t]])), 0]);
  const memoryImport = [...text("env"), ...text("memory"), 0x02, 0x00, 1]; // memory, min 1 page, no max
  const bodies = functions.map((f) => {
    const names = [...f.params, ...(f.locals ?? [])].map(([name]) => name);
    const code = new CodeBuilder(new Map(names.map((name, i) => [name, i])));
    f.body(code);
    const locals = vector((f.locals ?? []).map(([, t]) => [1, VALUE_TYPE[t]]));
    const body = [...locals, ...code.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...text(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
