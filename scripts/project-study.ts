// The study's full protocol projected from a run's histories (e.g. the GPU workflow's, returned under
// $OUT/workflow/runs/gpu-workflow):
//   npx tsx scripts/project-study.ts <run dir> [epochs, default 10]
import { loadRun } from "../lib/train/runner";
import { projectStudy } from "../lib/train/projection";

async function main(): Promise<void> {
  const [runDir, epochsArg = "10"] = process.argv.slice(2);
  const epochs = Number(epochsArg);
  if (!runDir || !Number.isInteger(epochs) || epochs < 1) throw new Error("usage: npx tsx scripts/project-study.ts <run dir> [epochs ≥ 1, default 10]");
  const { manifest, histories } = await loadRun(runDir);
  const { networks, totalSeconds } = projectStudy(histories, epochs);
  const rows = [["network", "epochs measured", "s/epoch", "img/s", `projected s (${epochs} epochs)`], ...networks.map((n) => [n.displayName, String(n.measuredEpochs), n.meanEpochSeconds.toFixed(1), n.meanImagesPerSecond.toFixed(1), n.projectedSeconds.toFixed(0)])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`Projected duration of the study's protocol (${epochs} epochs per network) from ${runDir} (${manifest.engine.engine} on ${manifest.engine.device}):`);
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
  console.log(`projected total: ${(totalSeconds / 60).toFixed(1)} min for ${networks.length} networks (the study: 75 min for 8 on a Quadro P5000)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
