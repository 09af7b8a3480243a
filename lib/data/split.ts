// The seeded, class-balanced split. Per class: a split the source has a folder for (Keras layout)
// draws from that folder; the rest are shuffled with the seed and dealt out train → validation → test.
import { createRng, deriveSeed, shuffled } from "./prng";
import type { SplitName } from "./types";
import type { ValidImage } from "./validate";

export const SPLIT_NAMES: readonly SplitName[] = ["train", "validation", "test"];

export interface SplitSizes {
  trainPerClass: number;
  validationPerClass: number;
  testPerClass: number;
}

export interface SplitResult {
  splits: Record<SplitName, ValidImage[]>;
  /** One line per class and split that got fewer images than asked. */
  warnings: string[];
}

const byPath = (a: ValidImage, b: ValidImage) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export function splitBalanced(opts: { images: readonly ValidImage[]; classes: readonly string[]; seed: number } & SplitSizes): SplitResult {
  const requested: Record<SplitName, number> = { train: opts.trainPerClass, validation: opts.validationPerClass, test: opts.testPerClass };
  const splits: Record<SplitName, ValidImage[]> = { train: [], validation: [], test: [] };
  const warnings: string[] = [];
  opts.classes.forEach((label, classIndex) => {
    const ofClass = opts.images.filter((image) => image.label === label).sort(byPath);
    // sort first, then shuffle: the result depends on the seed and the file set, not on listing order
    const pool = (split: SplitName | undefined, stream: number) =>
      shuffled(ofClass.filter((image) => image.split === split), createRng(deriveSeed(opts.seed, classIndex, stream)));
    let spare = pool(undefined, 99);
    SPLIT_NAMES.forEach((split, splitIndex) => {
      const own = pool(split, splitIndex);
      let taken: ValidImage[];
      if (own.length > 0) {
        // a split the source has a folder for is taken from that folder only (never topped up)
        taken = own.slice(0, requested[split]);
        // unused images of a folder (e.g. train/ beyond 1000) can serve a split without a folder
        spare.push(...own.slice(requested[split]));
      } else {
        taken = spare.slice(0, requested[split]);
        spare = spare.slice(requested[split]);
      }
      if (taken.length < requested[split]) warnings.push(`${split}: only ${taken.length} ${label} images (asked for ${requested[split]})`);
      splits[split].push(...taken.sort(byPath));
    });
  });
  return { splits, warnings };
}
