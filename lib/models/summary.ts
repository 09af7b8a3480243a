// One row per architecture for `showcase models` and the notebooks: measured on freshly built models.
import * as tf from "@tensorflow/tfjs";
import { ARCH_IDS, type ArchId } from "../ids";
import { ARCHITECTURES, buildArchitecture } from "./registry";
import { applyTransferMode, buildTransferModel, disposeTransferModel } from "./transfer";

export interface ArchSummaryRow {
  id: ArchId;
  displayName: string;
  /** Parameters of the Keras model with its 1000-class top (counted on the built model). */
  params: number;
  /** Trainable parameters of the study's transfer model (frozen base, 2 classes). */
  transferTrainableParams: number;
  /** Layers of the model with top (tfjs counts the input layer, as Keras does). */
  layers: number;
  defaultInputSize: number;
  minInputSize: number;
  preprocess: string;
  featureSize: number;
  referenceParams: number;
  buildSeconds: number;
}

/** Builds each architecture (with top, and as a 2-class transfer model) at its default input size. */
export async function summarizeArchitectures(opts: { ids?: readonly ArchId[]; onStart?: (id: ArchId, index: number, count: number) => void; onRow?: (row: ArchSummaryRow) => void } = {}): Promise<ArchSummaryRow[]> {
  const rows: ArchSummaryRow[] = [];
  const ids = opts.ids ?? ARCH_IDS;
  for (const [index, id] of ids.entries()) {
    opts.onStart?.(id, index, ids.length);
    await tf.nextFrame(); // let the progress line out before the long build
    const spec = ARCHITECTURES[id];
    const started = performance.now();
    const model = buildArchitecture(id, { includeTop: true });
    const params = model.countParams();
    const layers = model.layers.length;
    model.dispose();
    const transfer = await buildTransferModel(id, { inputSize: spec.defaultInputSize, classes: 2, weights: "none", weightsDir: "" });
    const { trainableParams } = applyTransferMode(transfer, { kind: "frozen" });
    const featureSize = transfer.featureSize;
    disposeTransferModel(transfer);
    const row: ArchSummaryRow = {
      id,
      displayName: spec.displayName,
      params,
      transferTrainableParams: trainableParams,
      layers,
      defaultInputSize: spec.defaultInputSize,
      minInputSize: spec.minInputSize,
      preprocess: spec.preprocess,
      featureSize,
      referenceParams: spec.reference.paramsTop,
      buildSeconds: (performance.now() - started) / 1000,
    };
    rows.push(row);
    opts.onRow?.(row);
    await tf.nextFrame(); // let progress output flush between the long builds
  }
  return rows;
}
