// Statistics on cases checked by hand (arithmetic in the comments, not by calling the code under test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { binomialHalfCdf, compareClassifiers, mcnemarExact, wilsonInterval } from "../lib/evaluate/stats";

const close = (actual: number, expected: number, tolerance = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

test("Wilson interval for 90/100", () => {
  // p = 0.9, z² = 3.841459, z²/n = 0.03841459, denominator d = 1.03841459
  // centre = (0.9 + 0.0192073) / d = 0.885203
  // half = z/d · sqrt(0.9·0.1/100 + 3.841459/40000) = 1.887453 · sqrt(0.000996036) = 0.0595683
  // → [0.825634, 0.944771] (the textbook Wilson interval for 90/100)
  const { low, high } = wilsonInterval({ successes: 90, trials: 100 });
  close(low, 0.825634);
  close(high, 0.944771);
});

test("Wilson interval at the edges stays inside [0, 1]", () => {
  // 0/10: low = 0, high = z²/(n + z²) = 3.841459/13.841459 = 0.277533
  const zero = wilsonInterval({ successes: 0, trials: 10 });
  close(zero.low, 0);
  close(zero.high, 0.277533);
  // 10/10 mirrors it: [1 − 0.277533, 1]
  const all = wilsonInterval({ successes: 10, trials: 10 });
  close(all.low, 0.722467);
  close(all.high, 1);
  assert.deepEqual(wilsonInterval({ successes: 0, trials: 0 }), { low: 0, high: 1 });
  assert.throws(() => wilsonInterval({ successes: 11, trials: 10 }), /successes must be/);
});

test("exact McNemar, b = 10, c = 2", () => {
  // X ~ Bin(12, 1/2); P(X ≤ 2) = (C(12,0) + C(12,1) + C(12,2)) / 2¹² = (1 + 12 + 66) / 4096 = 79/4096
  // two-sided p = 2 · 79/4096 = 158/4096 = 0.03857421875
  const result = mcnemarExact({ onlyA: 10, onlyB: 2 });
  close(result.pValue, 158 / 4096, 1e-12);
  assert.equal(mcnemarExact({ onlyA: 2, onlyB: 10 }).pValue, result.pValue, "symmetric");
});

test("exact McNemar: no discordant pairs or a tie gives p = 1; larger n stays accurate", () => {
  assert.equal(mcnemarExact({ onlyA: 0, onlyB: 0 }).pValue, 1);
  assert.equal(mcnemarExact({ onlyA: 7, onlyB: 7 }).pValue, 1);
  // b = 20, c = 10: 2 · Σ_{i≤10} C(30,i) / 2³⁰ = 2 · 53009102 / 1073741824 = 0.0987371467
  close(mcnemarExact({ onlyA: 20, onlyB: 10 }).pValue, (2 * 53009102) / 1073741824, 1e-10);
  // the cdf of Bin(800, 1/2) at its mean is just over one half: 1/2 + C(800,400)/2⁸⁰¹, C(800,400)/2⁸⁰⁰ = 0.0282007 (Stirling: 1/sqrt(400π))
  close(binomialHalfCdf(400, 800), 0.5 + 0.0282007 / 2, 1e-6);
});

test("compareClassifiers pairs images by key", () => {
  const a = new Map([["x", true], ["y", true], ["z", false], ["w", true]]);
  const b = new Map([["y", false], ["x", true], ["z", true], ["w", false]]);
  const result = compareClassifiers({ a, b });
  assert.equal(result.onlyA, 2);
  assert.equal(result.onlyB, 1);
  assert.throws(() => compareClassifiers({ a, b: new Map([["x", true]]) }), /same images/);
});
