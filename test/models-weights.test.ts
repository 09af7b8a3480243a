// The weights cache and the resumable, hash-checked download, against a local HTTP server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { downloadFile } from "../lib/io/download";
import { downloadWeights, ensureWeights, WeightsMissingError, weightsFilePath } from "../lib/models";

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
const md5 = createHash("md5").update(payload).digest("hex");
const sha256 = createHash("sha256").update(payload).digest("hex");
const rangeRequests: string[] = [];
let server: Server;
let baseUrl: string;
const workDir = mkdtempSync(path.join(tmpdir(), "models-weights-"));

before(async () => {
  server = createServer((request, response) => {
    if (!request.url?.startsWith("/keras-applications/")) {
      response.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
    if (range) {
      rangeRequests.push(request.headers.range as string);
      const start = Number(range[1]);
      if (start >= payload.length) {
        response.writeHead(416, { "Content-Range": `bytes */${payload.length}` }).end();
        return;
      }
      response.writeHead(206, { "Content-Length": payload.length - start, "Content-Range": `bytes ${start}-${payload.length - 1}/${payload.length}` });
      response.end(payload.subarray(start));
      return;
    }
    response.writeHead(200, { "Content-Length": payload.length }).end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keras-applications/`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(workDir, { recursive: true, force: true });
});

describe("downloadFile", () => {
  test("downloads, reports progress, checks the md5 and renames atomically", async () => {
    const dest = path.join(workDir, "fresh", "w.h5");
    const progress: number[] = [];
    const result = await downloadFile({ url: `${baseUrl}w.h5`, file: dest, md5, onProgress: (bytes) => progress.push(bytes) });
    assert.equal(result.bytes, payload.length);
    assert.equal(result.resumedFrom, 0);
    assert.ok(readFileSync(dest).equals(payload));
    assert.equal(progress.at(-1), payload.length);
    assert.ok(!existsSync(`${dest}.part`));
  });

  test("resumes a partial .part file with an HTTP Range request (sha256 checked)", async () => {
    const dest = path.join(workDir, "resume.h5");
    writeFileSync(`${dest}.part`, payload.subarray(0, 123_456));
    rangeRequests.length = 0;
    const result = await downloadFile({ url: `${baseUrl}resume.h5`, file: dest, sha256 });
    assert.deepEqual(rangeRequests, ["bytes=123456-"]);
    assert.equal(result.resumedFrom, 123_456);
    assert.ok(readFileSync(dest).equals(payload));
  });

  test("a hash mismatch removes the partial file and leaves no destination", async () => {
    const dest = path.join(workDir, "bad.h5");
    await assert.rejects(downloadFile({ url: `${baseUrl}bad.h5`, file: dest, md5: "0".repeat(32) }), /md5 is [0-9a-f]{32}, expected 0{32}: removed it/);
    assert.ok(!existsSync(dest) && !existsSync(`${dest}.part`));
  });

  test("offline (connection refused) fails fast and says where to put the file", async () => {
    const dest = path.join(workDir, "offline.h5");
    await assert.rejects(downloadFile({ url: "http://127.0.0.1:9/w.h5", file: dest }), (error: Error) => {
      assert.match(error.message, /cannot download http:\/\/127\.0\.0\.1:9\/w\.h5 \(.+\)\. Offline\? Put the file at .*offline\.h5 yourself/);
      // Fast means on the refusal itself, not after waiting out a connect timeout.
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });
});

describe("weights cache", () => {
  test("file names follow Keras, including MobileNet alpha and size", () => {
    assert.equal(weightsFilePath("densenet121", { weightsDir: "/w", includeTop: false }), "/w/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5");
    assert.equal(weightsFilePath("mobilenet", { weightsDir: "/w", includeTop: false, alpha: 0.25 }), "/w/mobilenet_2_5_224_tf_no_top.h5");
    assert.equal(weightsFilePath("mobilenet", { weightsDir: "/w", includeTop: true, alpha: 0.5, inputSize: 128 }), "/w/mobilenet_5_0_128_tf.h5");
    assert.equal(weightsFilePath("mobilenet_v2", { weightsDir: "/w", includeTop: false, alpha: 0.35, inputSize: 96 }), "/w/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5");
    assert.equal(weightsFilePath("mobilenet_v2", { weightsDir: "/w", includeTop: true }), "/w/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5");
  });

  test("ensureWeights names the missing file, the folder and the URL", async () => {
    await assert.rejects(ensureWeights("inception_v3", { weightsDir: path.join(workDir, "empty"), includeTop: true }), (error: Error) => {
      assert.ok(error instanceof WeightsMissingError);
      assert.match(error.message, /empty\/inception_v3_weights_tf_dim_ordering_tf_kernels\.h5/);
      assert.match(error.message, /https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/inception_v3\/inception_v3_weights_tf_dim_ordering_tf_kernels\.h5/);
      return true;
    });
  });

  test("downloadWeights fetches into the cache, then finds it there", async () => {
    const weightsDir = path.join(workDir, "cache");
    const first = await downloadWeights("mobilenet_v2", { weightsDir, includeTop: false, baseUrl });
    assert.equal(first.alreadyPresent, false);
    assert.equal(first.path, path.join(weightsDir, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"));
    assert.equal(await ensureWeights("mobilenet_v2", { weightsDir, includeTop: false }), first.path);
    const second = await downloadWeights("mobilenet_v2", { weightsDir, includeTop: false, baseUrl });
    assert.equal(second.alreadyPresent, true);
  });
});
