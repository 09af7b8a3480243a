// The study's protocol (10 epochs per network) projected from a shorter run, e.g. the one-epoch GPU
// workflow (scripts/gpu-check.sh): per network its build and save time plus `epochs` times its mean
// measured epoch (training and validation). Epoch 1 carries one-off costs (shader compilation,
// warm-up), so a projection from one epoch is an upper estimate. Always shown labelled "projected".
import type { ArchHistory } from "../schemas/history";

export interface ProjectedNetwork {
  arch: string;
  displayName: string;
  measuredEpochs: number;
  meanEpochSeconds: number;
  meanImagesPerSecond: number;
  projectedSeconds: number;
}

export function projectStudy(histories: readonly ArchHistory[], epochs = 10): { networks: ProjectedNetwork[]; totalSeconds: number } {
  const networks = histories
    .filter((h) => h.epochs.length > 0)
    .map((h) => {
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      const meanEpochSeconds = mean(h.epochs.map((e) => e.epochSeconds));
      return {
        arch: h.arch,
        displayName: h.displayName,
        measuredEpochs: h.epochs.length,
        meanEpochSeconds,
        meanImagesPerSecond: mean(h.epochs.map((e) => e.imagesPerSecond)),
        projectedSeconds: h.buildSeconds + epochs * meanEpochSeconds + h.saveSeconds,
      };
    });
  return { networks, totalSeconds: networks.reduce((sum, n) => sum + n.projectedSeconds, 0) };
}
