// `showcase export`: the ONNX file of every finished architecture of a run, written beside its saved
// model, and checked — ONNX Runtime loads it and agrees with tfjs on a few validation photos.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { decodeOne, loadManifest } from "../data/index";
import { fileExists } from "../io/atomic";
import { getArchSpec, preprocessInput } from "../models/index";
import { archPaths, loadTrainedModel } from "../train/index";
import { loadRunResults } from "../evaluate/run";
import { type Agreement, agreeWithTfjs, ONNX_AGREEMENT_TOLERANCE } from "./compare";
import { ONNX_EXPORT_SCHEMA, type OnnxExportRecord, writeOnnxExport } from "./onnx-file";
import { createOnnxSession } from "./onnx-runtime";
import { exportToOnnx } from "./to-onnx";

export interface ExportedModel {
  arch: string;
  path: string;
  bytes: number;
  record: OnnxExportRecord;
  agreement: Agreement;
}

const CHECK_IMAGES = 4;

/** A few validation photos of the run's dataset, or a fixed pattern when the dataset is not here. */
async function checkPixels(datasetManifest: string | undefined, size: number): Promise<{ pixels: Float32Array; images: number; what: string }> {
  if (datasetManifest && (await fileExists(datasetManifest))) {
    const manifest = await loadManifest(datasetManifest);
    const records = [...manifest.splits.validation, ...manifest.splits.train].slice(0, CHECK_IMAGES);
    if (records.length > 0) {
      const decoded = await Promise.all(records.map((r) => decodeOne(r.path, size)));
      const pixels = new Float32Array(records.length * size * size * 3);
      decoded.forEach((d, i) => pixels.set(d, i * size * size * 3));
      return { pixels, images: records.length, what: `${records.length} validation photos` };
    }
  }
  const pixels = Float32Array.from({ length: CHECK_IMAGES * size * size * 3 }, (_, i) => (i * 37) % 256);
  return { pixels, images: CHECK_IMAGES, what: `${CHECK_IMAGES} patterned images (dataset not on this machine)` };
}

export async function exportRun(opts: { runDir: string; archs?: string[]; log?: (line: string) => void }): Promise<ExportedModel[]> {
  const log = opts.log ?? (() => {});
  const results = await loadRunResults(opts.runDir);
  const finished = results.histories.map((h) => h.arch);
  const archs = opts.archs ?? finished;
  const notTrained = archs.filter((a) => !(finished as string[]).includes(a));
  if (notTrained.length) {
    throw new Error(`no finished model of ${notTrained.join(", ")} in ${opts.runDir} (finished: ${finished.join(", ") || "none"}): train first, or choose --archs among the finished ones`);
  }
  const exported: ExportedModel[] = [];
  for (const arch of archs) {
    const history = results.histories.find((h) => h.arch === arch)!;
    const spec = getArchSpec(arch);
    const model = await loadTrainedModel(opts.runDir, arch);
    try {
      const onnxModel = exportToOnnx(model, { metadata: { arch, preprocess: spec.preprocess, runId: results.runId } });
      const session = await createOnnxSession(onnxModel.bytes);
      const size = history.inputSize;
      const { pixels, images, what } = await checkPixels(results.manifest?.dataset?.manifestPath, size);
      const input = tf.tidy(() => preprocessInput(tf.tensor4d(pixels, [images, size, size, 3]), spec.preprocess) as tf.Tensor4D);
      let agreement: Agreement;
      try {
        agreement = await agreeWithTfjs(model, session, input);
      } finally {
        input.dispose();
        await session.session.release();
      }
      const archDir = archPaths(opts.runDir, arch).archDir;
      const record: OnnxExportRecord = {
        schema: ONNX_EXPORT_SCHEMA,
        arch,
        runId: results.runId,
        createdAt: new Date().toISOString(),
        file: "model.onnx",
        bytes: onnxModel.bytes.byteLength,
        opset: onnxModel.opset,
        inputName: onnxModel.inputName,
        inputShape: onnxModel.inputShape,
        inputLayout: "NHWC",
        preprocess: spec.preprocess,
        outputNames: onnxModel.outputNames,
        check: { images, maxAbsDiff: agreement.maxAbsDiff, sameClass: agreement.sameClass, onnxruntime: session.version },
      };
      const paths = await writeOnnxExport(archDir, onnxModel.bytes, record);
      log(`${arch}: checked on ${what}`);
      if (agreement.maxAbsDiff > ONNX_AGREEMENT_TOLERANCE) log(`${arch}: WARNING ONNX Runtime differs from tfjs by ${agreement.maxAbsDiff.toExponential(2)} (> ${ONNX_AGREEMENT_TOLERANCE})`);
      exported.push({ arch, path: paths.model, bytes: (await fs.stat(paths.model)).size, record, agreement });
    } finally {
      model.dispose();
    }
  }
  return exported;
}

/** One line per file: where, how big, and the check. */
export function formatExportLine(e: ExportedModel, cwd = process.cwd()): string {
  const relative = path.relative(cwd, e.path);
  const where = relative.startsWith("..") ? e.path : relative;
  const verdict = e.agreement.maxAbsDiff <= ONNX_AGREEMENT_TOLERANCE && e.agreement.sameClass ? "agrees with tfjs" : "DIFFERS from tfjs";
  return `${e.arch}: ${where}  ${(e.bytes / 1024 ** 2).toFixed(1)} MiB  opset ${e.record.opset}  ONNX Runtime ${verdict} (max |Δ| ${e.agreement.maxAbsDiff.toExponential(1)} on ${e.agreement.images} images${e.agreement.sameClass ? ", same class" : `, class differs on ${e.agreement.disagreements.length}`})`;
}
