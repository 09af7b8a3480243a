// Per-epoch history: accumulation of batch metrics into an EpochLog, the best epoch, the onset of
// overfitting, and the early-stopping rule. Pure functions over numbers, so they are testable alone.
import type { EpochLog } from "../schemas/history";

/** Running, image-weighted means of the batch losses/accuracies of one epoch (as Keras reports them). */
export class EpochAccumulator {
  private lossSum = 0;
  private correct = 0;
  private images = 0;

  add(batch: { loss: number; accuracy: number; images: number }): void {
    this.lossSum += batch.loss * batch.images;
    this.correct += batch.accuracy * batch.images;
    this.images += batch.images;
  }
  get imageCount(): number {
    return this.images;
  }
  get loss(): number {
    return this.images === 0 ? Number.NaN : this.lossSum / this.images;
  }
  get accuracy(): number {
    return this.images === 0 ? Number.NaN : this.correct / this.images;
  }
}

/** The epoch (1-based) with the lowest validation loss; the earliest on ties; null when none is finite. */
export function bestEpoch(epochs: readonly EpochLog[]): number | null {
  let best: EpochLog | undefined;
  for (const log of epochs) {
    if (!Number.isFinite(log.validationLoss)) continue;
    if (!best || log.validationLoss < best.validationLoss) best = log;
  }
  return best ? best.epoch : null;
}

/**
 * Onset of overfitting: the first epoch e ≥ 2 whose validation loss is higher than at epoch e−1
 * while its training loss is lower than at e−1 (the model improves on what it sees and gets worse
 * on what it does not). null when that never happens.
 */
export function overfittingEpoch(epochs: readonly EpochLog[]): number | null {
  for (let i = 1; i < epochs.length; i++) {
    const previous = epochs[i - 1];
    const current = epochs[i];
    if (current.validationLoss > previous.validationLoss && current.trainLoss < previous.trainLoss) return current.epoch;
  }
  return null;
}

/**
 * Early stopping as Keras' EarlyStopping(monitor="val_loss", patience): stop once `patience`
 * epochs in a row have not improved on the best validation loss. Off when patience is undefined.
 */
export function shouldStopEarly(epochs: readonly EpochLog[], patience: number | undefined): boolean {
  if (patience === undefined || epochs.length === 0) return false;
  const best = bestEpoch(epochs);
  if (best === null) return false;
  return epochs[epochs.length - 1].epoch - best >= patience;
}

/** Epochs must be 1, 2, …, n without gaps or repeats (what resume guarantees). */
export function isContinuous(epochs: readonly EpochLog[]): boolean {
  return epochs.every((log, i) => log.epoch === i + 1);
}
