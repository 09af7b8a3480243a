// Reads our TensorBoard event files back with an independent parser (test/train-tfevents.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeEventFile, writeScalarEvents, type ScalarEvent } from "../lib/train/tensorboard";
import { crc32cBitwise, parseEvent, readRecords } from "./train-tfevents";

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
