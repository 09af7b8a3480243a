// tfjs has no global seed: an initialiser without a seed of its own draws one from Math.random
// (tfjs-core rand_util). Building a network while Math.random is a stream seeded from SEED makes its
// random initialisation a function of SEED (as Keras' tf.random.set_seed does), so two runs with
// the same seed start from the same weights, in any process.
import { createRng, deriveSeed } from "../data/prng";

/** Runs a synchronous `build` with Math.random seeded from `seed`; Math.random is restored after. */
export function withSeededInitialisation<T>(seed: number, build: () => T): T {
  const original = Math.random;
  Math.random = createRng(deriveSeed(seed, 0x696e6974)).next; // "init": a stream of its own
  try {
    const built = build();
    if (built instanceof Promise) throw new Error("withSeededInitialisation needs a synchronous build: Math.random would be restored while it runs");
    return built;
  } finally {
    Math.random = original;
  }
}
