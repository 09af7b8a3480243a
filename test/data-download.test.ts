import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { downloadDataset, DownloadError } from "../lib/data/download";
import { tempDir } from "./data-helpers";

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 8)) % 256));
const sha256 = createHash("sha256").update(payload).digest("hex");
const requests: { url: string; range?: string }[] = [];
let cutNextTransfer = false;
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    if (req.url === "/moved") {
      res.writeHead(302, { location: "/file.zip" });
      return res.end();
    }
    if (req.url === "/missing") {
      res.writeHead(404);
      return res.end();
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = range && req.url !== "/norange" ? Number(range[1]) : 0;
    const body = payload.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, { "content-length": body.length, ...(start > 0 ? { "content-range": `bytes ${start}-${payload.length - 1}/${payload.length}` } : {}) });
    if (cutNextTransfer) {
      cutNextTransfer = false;
      // send a third, then drop the connection: an interrupted transfer
      res.write(body.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("an interrupted transfer leaves a .part that the next call resumes with a Range request", async () => {
  const dir = await tempDir();
  const file = path.join(dir, "archive.zip");
  cutNextTransfer = true;
  await assert.rejects(downloadDataset({ url: `${base}/file.zip`, file, bytes: payload.length, sha256 }), (error: Error) => error instanceof DownloadError && /interrupted.*resume/.test(error.message));
  const partial = (await fs.stat(`${file}.part`)).size;
  assert.ok(partial > 0 && partial < payload.length, `partial ${partial}`);
  await assert.rejects(fs.access(file), "no final file before verification");
  requests.length = 0;
  const progress: number[] = [];
  const result = await downloadDataset({ url: `${base}/moved`, file, bytes: payload.length, sha256, onProgress: (received) => progress.push(received) });
  assert.equal(result.resumedFrom, partial);
  assert.equal(result.sha256, sha256);
  assert.deepEqual(requests.map((r) => r.range), [`bytes=${partial}-`, `bytes=${partial}-`], "redirect followed with the Range header");
  assert.ok(progress.at(-1) === payload.length);
  assert.deepEqual(await fs.readFile(file), payload);
  await assert.rejects(fs.access(`${file}.part`), "the .part was renamed");
  const again = await downloadDataset({ url: `${base}/file.zip`, file, bytes: payload.length, sha256 });
  assert.equal(again.alreadyPresent, true);
});

test("a server that ignores Range restarts the file; a wrong hash or size is rejected and removed", async () => {
  const dir = await tempDir();
  const file = path.join(dir, "archive.zip");
  await fs.writeFile(`${file}.part`, payload.subarray(0, 1000));
  const restarted = await downloadDataset({ url: `${base}/norange`, file, sha256 });
  assert.equal(restarted.bytes, payload.length);
  assert.deepEqual(await fs.readFile(file), payload);

  const bad = path.join(dir, "bad.zip");
  await assert.rejects(downloadDataset({ url: `${base}/file.zip`, file: bad, sha256: "0".repeat(64) }), /sha256 .* expected 0{64}: removed/);
  await assert.rejects(fs.access(bad));
  await assert.rejects(fs.access(`${bad}.part`), "the corrupt .part is gone, so a retry starts clean");
  await assert.rejects(downloadDataset({ url: `${base}/file.zip`, file: bad, bytes: payload.length + 1 }), /expected 300001/);
  await assert.rejects(downloadDataset({ url: `${base}/missing`, file: bad }), /HTTP 404/);
});

test("offline: fails fast and says where to put a manually downloaded file", async () => {
  const dir = await tempDir();
  const file = path.join(dir, "kagglecatsanddogs_5340.zip");
  // a port nobody listens on: connection refused at once
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(downloadDataset({ url: `http://127.0.0.1:${port}/kagglecatsanddogs_5340.zip`, file, connectTimeoutMs: 2000 }), (error: Error) => {
    assert.ok(error instanceof DownloadError);
    // Fast means on the refusal itself, not after waiting out the connect timeout.
    assert.match(error.message, /cannot reach 127\.0\.0\.1[^)]*ECONNREFUSED/);
    assert.ok(error.message.includes(`put it at ${file}`), error.message);
    assert.match(error.message, /showcase data prepare --data-dir/);
    return true;
  });
});
