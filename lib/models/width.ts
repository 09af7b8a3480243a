// Width multipliers (ALPHA): which architectures have one, the values Keras publishes ImageNet
// weights for, and how a width shows in labels. No tfjs import, so lib/config can validate with it.
import type { ArchId } from "../ids";

/** Values Keras publishes weights for, per architecture that has a width multiplier. */
export const WIDTH_MULTIPLIERS: Readonly<Partial<Record<ArchId, readonly number[]>>> = {
  mobilenet: [0.25, 0.5, 0.75, 1.0],
  mobilenet_v2: [0.35, 0.5, 0.75, 1.0, 1.3, 1.4],
};

export function hasWidthMultiplier(arch: string): boolean {
  return WIDTH_MULTIPLIERS[arch as ArchId] !== undefined;
}

/** ALPHA as Keras writes it: 1 → "1.0", 0.25 → "0.25". */
export function formatAlpha(alpha: number): string {
  return Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha);
}

/** The width an architecture is built with: ALPHA where it has a multiplier, else none. */
export function alphaFor(arch: string, alpha: number | undefined): number | undefined {
  return alpha !== undefined && hasWidthMultiplier(arch) ? alpha : undefined;
}

/** "MobileNet α=0.25" when a width was chosen, else the plain name (Keras' default width 1.0). */
export function widthLabel(displayName: string, alpha: number | undefined): string {
  return alpha === undefined ? displayName : `${displayName} α=${formatAlpha(alpha)}`;
}

/**
 * The ALPHA values that fit every architecture in `archs` that has a width multiplier (all values
 * of any when none has), and a text naming each one's list for error messages.
 */
export function allowedAlphas(archs: readonly string[]): { values: number[]; text: string } {
  const withWidth = archs.filter(hasWidthMultiplier) as ArchId[];
  const lists = (withWidth.length > 0 ? withWidth : (Object.keys(WIDTH_MULTIPLIERS) as ArchId[])).map((arch) => [arch, WIDTH_MULTIPLIERS[arch]!] as const);
  const values =
    withWidth.length > 0
      ? lists[0][1].filter((value) => lists.every(([, list]) => list.includes(value)))
      : [...new Set(lists.flatMap(([, list]) => list))].sort((a, b) => a - b);
  const each = lists.map(([arch, list]) => `${arch}: ${list.map(formatAlpha).join(", ")}`).join("; ");
  const text = values.length > 0 ? `${values.map(formatAlpha).join(", ")} (${each})` : `no common value (${each}): train them in separate runs`;
  return { values, text };
}

/**
 * What ALPHA did in a run with other architectures too: "ALPHA=0.25 applies to MobileNet only;
 * ResNet50 has no width multiplier". undefined when ALPHA is unset or every network has one.
 */
export function alphaNote(alpha: number | undefined, archs: readonly string[]): string | undefined {
  if (alpha === undefined) return undefined;
  const withWidth = archs.filter(hasWidthMultiplier);
  const without = archs.filter((arch) => !hasWidthMultiplier(arch));
  if (without.length === 0) return undefined;
  const list = (items: readonly string[]) => items.join(", ");
  const have = without.length === 1 ? "has" : "have";
  if (withWidth.length === 0) return `ALPHA=${formatAlpha(alpha)} is ignored: ${list(without)} ${have} no width multiplier`;
  return `ALPHA=${formatAlpha(alpha)} applies to ${list(withWidth)} only; ${list(without)} ${have} no width multiplier`;
}

/** The architectures of a run with their widths, and ALPHA's note: "resnet50, mobilenet α=0.25 (ALPHA=0.25 applies to …)". */
export function archsWithWidth(archs: readonly string[], alpha: number | undefined): string {
  const names = archs.map((arch) => widthLabel(arch, alphaFor(arch, alpha))).join(", ");
  const note = alphaNote(alpha, archs);
  return note ? `${names} (${note})` : names;
}
