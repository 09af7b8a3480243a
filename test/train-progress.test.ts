import { test } from "node:test";
import assert from "node:assert/strict";
import { ActiveArchitectures, createCliProgress, formatDuration, formatProgressLine, renderProgressHtml } from "../lib/train/progress";
import type { TrainProgress } from "../lib/train/types";

const base = { arch: "mobilenet", archIndex: 2, archCount: 8, epochs: 3, batch: 0, batches: 15 };
const batch = (n: number): TrainProgress => ({ ...base, phase: "train", epoch: 1, batch: n, loss: 0.6931, accuracy: 0.5, imagesPerSecond: 12.34, etaSeconds: 125 });
const epochEnd: TrainProgress = { ...base, phase: "validate", epoch: 1, batch: 15, loss: 0.69, accuracy: 0.5, validationLoss: 0.7, validationAccuracy: 0.45, imagesPerSecond: 12 };

test("progress lines carry architecture i/N, epoch, batch, loss, accuracy, images/s and ETA", () => {
  assert.equal(formatProgressLine(batch(3)), "[2/8] mobilenet epoch 1/3 batch 3/15 loss 0.693 acc 0.500 12.3 img/s ETA 2:05");
  assert.match(formatProgressLine(epochEnd), /epoch 1\/3: loss 0\.690 acc 0\.500 · val_loss 0\.700 val_acc 0\.450/);
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(undefined), "–");
});

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 120, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

test("without a terminal only epoch lines are printed (no per-batch spam); on a terminal a bar is redrawn in place", () => {
  const pipe = fakeStream(false);
  const onPipe = createCliProgress({ stream: pipe.stream });
  for (let i = 1; i <= 15; i++) onPipe(batch(i));
  onPipe(epochEnd);
  assert.equal(pipe.writes.length, 1);
  assert.ok(pipe.writes[0].endsWith("\n"));

  const tty = fakeStream(true);
  const onTty = createCliProgress({ stream: tty.stream, interactive: true });
  onTty(batch(1));
  onTty(epochEnd);
  assert.match(tty.writes[0], /^\r\x1b\[2K█*░+ \[2\/8\] mobilenet epoch 1\/3 batch 1\/15/);
  assert.equal(tty.writes[1], "\r\x1b[2K");
  assert.match(tty.writes[2], /val_acc 0\.450 · 12\.0 img\/s\n$/);
});

test("the notebook display shows the running batch and a table of finished epochs, HTML-escaped", () => {
  const html = renderProgressHtml({ active: [{ ...batch(5), arch: "a<b" }], finished: [epochEnd] });
  assert.match(html, /<b>a&lt;b<\/b> \(2\/8\) · epoch 1\/3 · batch 5\/15/);
  assert.match(html, /<progress value="0\.1111"/);
  assert.match(html, /<td>mobilenet<\/td><td>1<\/td><td>0\.690<\/td>/);
});

test("the notebook display keeps notices (a damaged checkpoint and what resume did) above the running batch, HTML-escaped", () => {
  const notice: TrainProgress = { ...batch(0), phase: "build", epoch: 0, message: "/r/<x>/epoch-002/weights.bin is missing: resuming from the checkpoint of epoch 1 instead", notice: true };
  const html = renderProgressHtml({ active: [batch(5)], finished: [], notices: [notice] });
  assert.match(html, /⚠ \[2\/8\] mobilenet: \/r\/&lt;x&gt;\/epoch-002\/weights\.bin is missing: resuming from the checkpoint of epoch 1 instead<\/div>/);
  assert.ok(html.indexOf("⚠") < html.indexOf("batch 5/15"));
});

// WORKERS > 1: two architectures report batches alternately.
const other = (n: number): TrainProgress => ({ ...batch(n), arch: "resnet50", archIndex: 1 });

test("two architectures training at once: one bar each on a terminal, the other's bar redrawn after an epoch line", () => {
  const tty = fakeStream(true);
  const onTty = createCliProgress({ stream: tty.stream, interactive: true });
  onTty(batch(1));
  onTty(other(1));
  assert.equal(tty.writes.at(-2), "\r\x1b[2K", "mobilenet's bar is cleared first");
  assert.match(tty.writes.at(-1)!, /\[1\/8\] resnet50 epoch 1\/3 batch 1\/15[^\n]*\n\x1b\[2K[█░]+ \[2\/8\] mobilenet epoch 1\/3 batch 1\/15/, "both bars, in ARCHS order");
  const before = tty.writes.length;
  onTty(epochEnd); // mobilenet finishes epoch 1
  const after = tty.writes.slice(before);
  assert.equal(after[0], "\r\x1b[2K\x1b[1A\x1b[2K", "both bar lines cleared");
  assert.match(after[1], /^\[2\/8\] mobilenet epoch 1\/3: .*\n$/);
  assert.match(after[2], /^\r\x1b\[2K[█░]+ \[1\/8\] resnet50 epoch 1\/3 batch 1\/15/);
  assert.ok(!after[2].includes("mobilenet"), "mobilenet's bar waits for its next batch");
});

test("the notebook display lists every architecture in training, in ARCHS order, and keeps the epoch table in ARCHS order", () => {
  const html = renderProgressHtml({ active: [batch(5), other(3)], finished: [epochEnd, { ...epochEnd, arch: "resnet50", archIndex: 1 }] });
  assert.ok(html.indexOf("<b>resnet50</b> (1/8)") < html.indexOf("<b>mobilenet</b> (2/8)"), html);
  assert.equal(html.match(/<progress /g)?.length, 2);
  assert.ok(html.indexOf("<td>resnet50</td>") < html.indexOf("<td>mobilenet</td>"));
  const active = new ActiveArchitectures();
  for (const p of [batch(1), other(1), { ...other(1), phase: "done" as const }, batch(2)]) active.update(p);
  assert.deepEqual(active.list().map((p) => [p.arch, p.batch]), [["mobilenet", 2]]);
});
