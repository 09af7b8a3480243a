// Reads our TensorBoard event files back with a parser written here from the format description
// (bitwise CRC32C, generic protobuf wire decoding), independent of lib/train/tensorboard.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeEventFile, writeScalarEvents, type ScalarEvent } from "../lib/train/tensorboard";

function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;

function readRecords(buffer: Buffer): Uint8Array[] {
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const lengthBytes = buffer.subarray(offset, offset + 8);
    const length = Number(buffer.readBigUInt64LE(offset));
    assert.equal(buffer.readUInt32LE(offset + 8), mask(crc32cBitwise(lengthBytes)), `length CRC at ${offset}`);
    const data = buffer.subarray(offset + 12, offset + 12 + length);
    assert.equal(buffer.readUInt32LE(offset + 12 + length), mask(crc32cBitwise(data)), `data CRC at ${offset}`);
    records.push(data);
    offset += 12 + length + 4;
  }
  assert.equal(offset, buffer.length, "no trailing bytes");
  return records;
}

type Field = { number: number; wire: number; value: bigint | Buffer };
function decodeProto(bytes: Uint8Array): Field[] {
  const buffer = Buffer.from(bytes);
  const fields: Field[] = [];
  let i = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[i++];
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (i < buffer.length) {
    const key = Number(varint());
    const wire = key & 7;
    const number = key >> 3;
    if (wire === 0) fields.push({ number, wire, value: varint() });
    else if (wire === 1) fields.push({ number, wire, value: buffer.subarray(i, (i += 8)) });
    else if (wire === 5) fields.push({ number, wire, value: buffer.subarray(i, (i += 4)) });
    else if (wire === 2) {
      const length = Number(varint());
      fields.push({ number, wire, value: buffer.subarray(i, (i += length)) });
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}
const field = (fields: Field[], n: number) => fields.find((f) => f.number === n);

interface ParsedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Array<{ tag: string; value: number; plugin?: string }>;
}
function parseEvent(record: Uint8Array): ParsedEvent {
  const fields = decodeProto(record);
  const wall = field(fields, 1)!.value as Buffer;
  const step = field(fields, 2);
  const version = field(fields, 3);
  const summary = field(fields, 5);
  const scalars = summary
    ? decodeProto(summary.value as Buffer)
        .filter((f) => f.number === 1)
        .map((valueField) => {
          const value = decodeProto(valueField.value as Buffer);
          const metadata = field(value, 9);
          const plugin = metadata ? field(decodeProto(field(decodeProto(metadata.value as Buffer), 1)!.value as Buffer), 1) : undefined;
          return {
            tag: (field(value, 1)!.value as Buffer).toString("utf8"),
            value: (field(value, 2)!.value as Buffer).readFloatLE(0),
            plugin: plugin ? (plugin.value as Buffer).toString("utf8") : undefined,
          };
        })
    : [];
  return {
    wallTime: wall.readDoubleLE(0),
    step: step ? Number(step.value as bigint) : 0,
    fileVersion: version ? (version.value as Buffer).toString("utf8") : undefined,
    scalars,
  };
}

const events: ScalarEvent[] = [
  { tag: "epoch_loss", step: 1, value: 0.6931, wallTime: 1_700_000_010.25 },
  { tag: "epoch_accuracy", step: 1, value: 0.5, wallTime: 1_700_000_010.25 },
  { tag: "epoch_loss", step: 2, value: 0.4121, wallTime: 1_700_000_020.5 },
  { tag: "epoch_accuracy", step: 2, value: 0.8125, wallTime: 1_700_000_020.5 },
  { tag: "epoch_seconds", step: 300, value: 12.75, wallTime: 1_700_000_020.5 },
];

test("event files frame every record with valid masked CRC32C and decode to the scalars written", () => {
  const bytes = encodeEventFile({ createdWallTime: 1_700_000_000.5, events });
  const parsed = readRecords(Buffer.from(bytes)).map(parseEvent);
  assert.equal(parsed.length, events.length + 1);
  assert.equal(parsed[0].fileVersion, "brain.Event:2");
  assert.equal(parsed[0].wallTime, 1_700_000_000.5);
  parsed.slice(1).forEach((event, i) => {
    assert.equal(event.step, events[i].step);
    assert.equal(event.wallTime, events[i].wallTime);
    assert.equal(event.scalars.length, 1);
    assert.equal(event.scalars[0].tag, events[i].tag);
    assert.equal(event.scalars[0].value, Math.fround(events[i].value));
    assert.equal(event.scalars[0].plugin, "scalars");
  });
});

test("a known CRC32C vector matches (RFC 3720: 32 bytes of zeros → 0x8A9136AA)", () => {
  assert.equal(crc32cBitwise(new Uint8Array(32)), 0x8a9136aa);
  // and our file's first length CRC agrees with the bitwise one (checked inside readRecords)
  readRecords(Buffer.from(encodeEventFile({ createdWallTime: 1, events: [] })));
});

test("writeScalarEvents writes one TensorBoard-named file per log dir and rewrites it whole", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "showcase-tb-"));
  try {
    const logDir = path.join(dir, "mobilenet", "train");
    await writeScalarEvents({ logDir, createdWallTime: 1_700_000_000, events: events.slice(0, 2), newStep: 1 });
    const result = await writeScalarEvents({ logDir, createdWallTime: 1_700_000_000, events: events.slice(0, 4), newStep: 2 });
    const files = await fs.readdir(logDir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^events\.out\.tfevents\.1700000000\./);
    assert.equal(result.file, path.join(logDir, files[0]));
    const parsed = readRecords(await fs.readFile(path.join(logDir, files[0]))).map(parseEvent);
    assert.deepEqual(parsed.slice(1).map((e) => [e.step, e.scalars[0].tag]), events.slice(0, 4).map((e) => [e.step, e.tag]));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
