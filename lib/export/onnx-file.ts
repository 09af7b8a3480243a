// The files `showcase export` writes beside a run's saved model: <arch>/model.onnx and its record
// <arch>/model.onnx.json (opset, input/output names and layout, preprocessing, the check against tfjs).
import * as path from "node:path";
import { fileExists, readJson, writeFileAtomic, writeJsonAtomic } from "../io/atomic";

export const ONNX_EXPORT_SCHEMA = "showcase.onnx-export/1";

export interface OnnxExportRecord {
  schema: typeof ONNX_EXPORT_SCHEMA;
  arch: string;
  runId: string;
  createdAt: string;
  /** model.onnx, relative to the record. */
  file: string;
  bytes: number;
  opset: number;
  inputName: string;
  /** ["batch", height, width, 3]: NHWC float32, already preprocessed (`preprocess`). */
  inputShape: Array<number | string>;
  inputLayout: "NHWC";
  preprocess: string;
  outputNames: string[];
  /** ONNX Runtime's output against tfjs's on the same images: max absolute difference of the softmax. */
  check?: { images: number; maxAbsDiff: number; sameClass: boolean; onnxruntime: string };
}

export function onnxPaths(archDir: string): { model: string; record: string } {
  return { model: path.join(archDir, "model.onnx"), record: path.join(archDir, "model.onnx.json") };
}

/** Model first, record last: a record on disk means its model.onnx is complete. */
export async function writeOnnxExport(archDir: string, bytes: Uint8Array, record: OnnxExportRecord): Promise<{ model: string; record: string }> {
  const paths = onnxPaths(archDir);
  await writeFileAtomic(paths.model, bytes, "ONNX export");
  await writeJsonAtomic(paths.record, record, "ONNX export");
  return paths;
}

export async function readOnnxExport(archDir: string): Promise<OnnxExportRecord | undefined> {
  const paths = onnxPaths(archDir);
  if (!(await fileExists(paths.record)) || !(await fileExists(paths.model))) return undefined;
  const record = await readJson<OnnxExportRecord>(paths.record);
  if (record.schema !== ONNX_EXPORT_SCHEMA) throw new Error(`${paths.record}: schema ${JSON.stringify(record.schema)}, expected ${ONNX_EXPORT_SCHEMA} — export again with \`npx showcase export\``);
  return record;
}
