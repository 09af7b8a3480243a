// An independent reader of TensorBoard event files for the train tests, written from the format
// description (bitwise CRC32C, generic protobuf wire decoding), sharing no code with
// lib/train/tensorboard.ts.
import assert from "node:assert/strict";

export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;

export function readRecords(buffer: Buffer): Uint8Array[] {
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

export interface ParsedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Array<{ tag: string; value: number; plugin?: string }>;
}
export function parseEvent(record: Uint8Array): ParsedEvent {
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

/** Every record of an event file, CRC-checked and decoded. */
export function readEventFile(buffer: Buffer): ParsedEvent[] {
  return readRecords(buffer).map(parseEvent);
}
