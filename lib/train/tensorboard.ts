// TensorBoard event files without TensorFlow: TFRecord framing (length, masked CRC32C, data, masked
// CRC32C) around hand-encoded Event/Summary protobufs holding scalar summaries. The files are
// regenerated from the history after every epoch and written atomically, so a resumed run never
// holds duplicate or half-written records. With the native tfjs-node backend active,
// tf.node.summaryFileWriter is used instead (same format, TensorFlow's own writer).
import * as os from "node:os";
import * as path from "node:path";
import { nativeSummaryWriterFactory } from "../engine/capabilities";
import { writeFileAtomic } from "../io/atomic";

export interface ScalarEvent {
  tag: string;
  step: number;
  value: number;
  /** Seconds since the Unix epoch. */
  wallTime: number;
}

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord requires.
let crcTable: Uint32Array | undefined;
function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

export function crc32c(bytes: Uint8Array): number {
  const t = table();
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits and add a constant (mod 2^32). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

// --- a minimal protobuf writer: only the wire types Event and Summary need ---
class ProtoWriter {
  private readonly bytes: number[] = [];
  varint(value: number | bigint): this {
    let v = BigInt(value);
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }
  key(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }
  double(field: number, value: number): this {
    const buffer = new DataView(new ArrayBuffer(8));
    buffer.setFloat64(0, value, true);
    this.key(field, 1).bytes.push(...new Uint8Array(buffer.buffer));
    return this;
  }
  float(field: number, value: number): this {
    const buffer = new DataView(new ArrayBuffer(4));
    buffer.setFloat32(0, value, true);
    this.key(field, 5).bytes.push(...new Uint8Array(buffer.buffer));
    return this;
  }
  int64(field: number, value: number): this {
    return this.key(field, 0).varint(value);
  }
  bytesField(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length).bytes.push(...data);
    return this;
  }
  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

// tensorflow/core/util/event.proto: Event { double wall_time = 1; int64 step = 2;
//   oneof what { string file_version = 3; Summary summary = 5; } }
// tensorflow/core/framework/summary.proto: Summary { repeated Value value = 1; }
//   Value { string tag = 1; float simple_value = 2; SummaryMetadata metadata = 9; }
//   SummaryMetadata { PluginData plugin_data = 1; }  PluginData { string plugin_name = 1; }
export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).int64(2, 0).string(3, "brain.Event:2").finish();
}

export function encodeScalarEvent(event: ScalarEvent): Uint8Array {
  const pluginData = new ProtoWriter().string(1, "scalars").finish();
  const metadata = new ProtoWriter().bytesField(1, pluginData).finish();
  const value = new ProtoWriter().string(1, event.tag).float(2, event.value).bytesField(9, metadata).finish();
  const summary = new ProtoWriter().bytesField(1, value).finish();
  return new ProtoWriter().double(1, event.wallTime).int64(2, event.step).bytesField(5, summary).finish();
}

/** The bytes of a complete event file: a version record, then one record per scalar. */
export function encodeEventFile(opts: { createdWallTime: number; events: ScalarEvent[] }): Uint8Array {
  const records = [encodeFileVersionEvent(opts.createdWallTime), ...opts.events.map(encodeScalarEvent)].map(frameRecord);
  const out = new Uint8Array(records.reduce((sum, record) => sum + record.length, 0));
  let offset = 0;
  for (const record of records) {
    out.set(record, offset);
    offset += record.length;
  }
  return out;
}

/** TensorBoard's naming convention; a fixed creation time keeps the name stable across resumes. */
export function eventFileName(createdWallTime: number, host = os.hostname()): string {
  return `events.out.tfevents.${Math.floor(createdWallTime)}.${host.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}


/**
 * Writes the scalar events of one log directory (e.g. tensorboard/<arch>/train). The own writer
 * rewrites the whole file from `events`; the native writer appends only the events of `newStep`
 * (the epoch just finished), since TensorFlow's writer can only append.
 */
export async function writeScalarEvents(opts: {
  logDir: string;
  createdWallTime: number;
  events: ScalarEvent[];
  newStep: number;
}): Promise<{ writer: "tfjs-node" | "showcase"; file?: string }> {
  const native = nativeSummaryWriterFactory();
  if (native) {
    const writer = native(opts.logDir);
    for (const event of opts.events) if (event.step === opts.newStep) writer.scalar(event.tag, event.value, event.step);
    writer.flush();
    return { writer: "tfjs-node" };
  }
  const file = path.join(opts.logDir, eventFileName(opts.createdWallTime));
  await writeFileAtomic(file, encodeEventFile({ createdWallTime: opts.createdWallTime, events: opts.events }), "TensorBoard events");
  return { writer: "showcase", file };
}
