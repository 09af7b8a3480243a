// Child process of test/train-resume.test.ts: trains with the parameters in its environment and
// prints every progress event as a JSON line. With HOLD_AT_EPOCH=<arch>:<n> it blocks inside the
// first batch of that epoch (a synchronous sleep), so the parent's kill -9 lands mid-epoch.
import { resolveParams } from "../lib/config";
import { selectEngine } from "../lib/engine";
import { runTraining } from "../lib/train";

async function main(): Promise<void> {
  const engine = await selectEngine({ engine: "wasm", quiet: true });
  const [holdArch, holdEpoch] = (process.env.HOLD_AT_EPOCH ?? ":").split(":");
  await runTraining(resolveParams(process.env), {
    engine,
    onProgress: (progress) => {
      process.stdout.write(`${JSON.stringify(progress)}\n`);
      if (progress.phase === "train" && progress.arch === holdArch && progress.epoch === Number(holdEpoch)) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000); // wait for the kill
      }
    },
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
