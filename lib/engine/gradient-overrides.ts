// Gradient overrides shared by the engines that replace tfjs-core's gradients (wasm, webgpu). tfjs's
// gradient registry is global, so each engine wraps the gradient registered before it and falls back
// to that one on other backends; the wrapped original is kept to put back.
import * as tf from "@tensorflow/tfjs";

/** A registered gradient's function (tfjs's GradConfig["gradFunc"], typed for the overrides). */
export type GradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Record<string, () => tf.Tensor>;

export type MaskBounds = (attrs: tf.NamedAttrMap) => { lo: number; hi: number; loExclusive: boolean };

/** Where tfjs-core's ReLU, ReLU6 and clip gradients pass dy: x > 0; 0 < x ≤ 6 (step(x)·(x ≤ 6)); min ≤ x ≤ max. */
export const MASKED_GRADIENT_BOUNDS: ReadonlyArray<[string, MaskBounds]> = [
  ["Relu", () => ({ lo: 0, hi: Infinity, loExclusive: true })],
  ["Relu6", () => ({ lo: 0, hi: 6, loExclusive: true })],
  ["ClipByValue", (a) => ({ lo: Number(a.clipValueMin), hi: Number(a.clipValueMax), loExclusive: false })],
];

/** Wraps each named gradient once (idempotent through `replaced`, which keeps the originals). */
export function overrideGradients(overrides: ReadonlyArray<[string, (original: GradFunc) => GradFunc]>, replaced: Map<string, tf.GradConfig>): void {
  for (const [kernelName, wrap] of overrides) {
    if (replaced.has(kernelName)) continue;
    const original = tf.getGradient(kernelName);
    if (!original) continue;
    replaced.set(kernelName, original);
    tf.registerGradient({ ...original, gradFunc: wrap(original.gradFunc as unknown as GradFunc) as unknown as tf.GradConfig["gradFunc"] });
  }
}
