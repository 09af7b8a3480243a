// Keras 2 HDF5 weight files (save_weights, or model.save under a model_weights group) into a
// tfjs LayersModel, by Keras' own rule: pair the layers that have weights in topological order,
// check every shape, and assign only after everything has been read and validated.
import * as tf from "@tensorflow/tfjs";
import type * as H5 from "h5wasm";

type H5Module = typeof H5;
type H5Group = H5.Group;

let h5Module: Promise<H5Module> | undefined;

// A native import() that no transpiler rewrites into require(): h5wasm is ESM-only, and tslab
// compiles notebooks as ESNext while tsc/tsx here compile to CommonJS.
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

/** h5wasm is an ES module with a wasm core; its node build reads files straight from disk. */
export async function loadH5wasm(): Promise<H5Module> {
  h5Module ??= (async () => {
    const imported = (await importEsm("h5wasm/node")) as H5Module & { default?: H5Module };
    const h5wasm = imported.default ?? imported;
    await h5wasm.ready;
    return h5wasm;
  })();
  return h5Module;
}

export interface FileLayer {
  name: string;
  weightNames: string[];
}

function stringList(value: unknown): string[] {
  if (value == null) return [];
  const list = Array.isArray(value) || ArrayBuffer.isView(value) ? Array.from(value as ArrayLike<unknown>) : [value];
  return list.map((item) => (item instanceof Uint8Array ? new TextDecoder().decode(item) : String(item)).replace(/\0+$/, ""));
}

/** Keras splits attributes over 64 KB into name0, name1 …; this reads either form. */
function readStringAttribute(group: H5Group, name: string): string[] | undefined {
  const attrs = group.attrs;
  if (name in attrs) return stringList(attrs[name].value);
  if (!(`${name}0` in attrs)) return undefined;
  const parts: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) parts.push(...stringList(attrs[`${name}${i}`].value));
  return parts;
}

function weightsRoot(file: H5.File, h5wasm: H5Module): H5Group {
  if (readStringAttribute(file, "layer_names")) return file;
  const modelWeights = file.get("model_weights");
  if (modelWeights instanceof h5wasm.Group && readStringAttribute(modelWeights, "layer_names")) return modelWeights;
  throw new Error("not a Keras weights file: no layer_names attribute at the root or in /model_weights");
}

/** The file's layers in Keras model order, with their weight names in Keras weight order. */
export function readFileLayers(root: H5Group): FileLayer[] {
  const names = readStringAttribute(root, "layer_names") ?? [];
  return names.map((name) => {
    const group = root.get(name) as H5Group | null;
    if (!group) throw new Error(`layer "${name}" is listed in layer_names but has no group in the file`);
    return { name, weightNames: readStringAttribute(group, "weight_names") ?? [] };
  });
}

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((value, i) => value === b[i]);

interface Pair {
  layer: tf.layers.Layer;
  fileLayer: FileLayer;
}

/**
 * Keras pairs weighted layers by position. tfjs may order same-depth siblings differently from Keras
 * (e.g. a shortcut conv and the first conv of a ResNet block), so when the two lists hold exactly the
 * same names in a different order, pairing by name is the same pairing Keras made.
 */
function pairLayers(modelLayers: tf.layers.Layer[], fileLayers: FileLayer[]): Pair[] {
  const fileByName = new Map(fileLayers.map((fileLayer) => [fileLayer.name, fileLayer]));
  const sameNames = modelLayers.length === fileLayers.length && modelLayers.every((layer) => fileByName.has(layer.name));
  if (sameNames) return modelLayers.map((layer) => ({ layer, fileLayer: fileByName.get(layer.name) as FileLayer }));
  if (modelLayers.length !== fileLayers.length) {
    const index = modelLayers.findIndex((layer, i) => fileLayers[i]?.name !== layer.name);
    const at = index >= 0 ? index : Math.min(modelLayers.length, fileLayers.length);
    const modelName = modelLayers[at]?.name ?? "(none)";
    const fileName = fileLayers[at]?.name ?? "(none)";
    throw new Error(
      `weights file does not fit the model: the model has ${modelLayers.length} layers with weights, the file ${fileLayers.length}; ` +
        `first mismatch at weighted layer #${at + 1}: model layer "${modelName}", file layer "${fileName}"` +
        (fileByName.has(modelName) ? "" : ` (the file has no layer "${modelName}")`),
    );
  }
  return modelLayers.map((layer, i) => ({ layer, fileLayer: fileLayers[i] }));
}

/**
 * Loads a Keras 2 .h5 weights file into `model`. Throws (and assigns nothing) when the layer count or
 * any weight shape differs, naming the first mismatching layer and both shapes.
 */
export async function loadKerasWeights(model: tf.LayersModel, h5Path: string): Promise<{ layersLoaded: number }> {
  const h5wasm = await loadH5wasm();
  const file = new h5wasm.File(h5Path, "r");
  let pending: Array<{ layer: tf.layers.Layer; values: tf.Tensor[] }> = [];
  try {
    const root = weightsRoot(file, h5wasm);
    const fileLayers = readFileLayers(root).filter((fileLayer) => fileLayer.weightNames.length > 0);
    const modelLayers = model.layers.filter((layer) => layer.weights.length > 0);
    const pairs = pairLayers(modelLayers, fileLayers);

    // Validate everything before touching the model: a failed load leaves it as it was.
    const arrays: Array<{ layer: tf.layers.Layer; data: Array<{ shape: number[]; values: Float32Array }> }> = [];
    for (const { layer, fileLayer } of pairs) {
      const symbolic = layer.weights;
      const label = layer.name === fileLayer.name ? `layer "${layer.name}"` : `layer "${layer.name}" (file layer "${fileLayer.name}")`;
      if (symbolic.length !== fileLayer.weightNames.length) {
        throw new Error(`weights file does not fit the model: ${label} has ${symbolic.length} weights in the model, ${fileLayer.weightNames.length} in the file (${fileLayer.weightNames.join(", ")})`);
      }
      const group = root.get(fileLayer.name) as H5Group;
      const data = fileLayer.weightNames.map((weightName, i) => {
        const dataset = group.get(weightName);
        if (!(dataset instanceof h5wasm.Dataset)) throw new Error(`weights file is incomplete: ${label} lists "${weightName}" but has no such dataset`);
        const fileShape = (dataset.shape ?? []) as number[];
        const modelShape = symbolic[i].shape as number[];
        if (!sameShape(fileShape, modelShape)) {
          throw new Error(
            `weights file does not fit the model: ${label} weight "${weightName}" has shape ${shapeText(fileShape)} in the file, ` +
              `the model expects ${shapeText(modelShape)}`,
          );
        }
        const raw = dataset.value as unknown;
        const values = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>);
        return { shape: fileShape, values };
      });
      arrays.push({ layer, data });
    }
    pending = arrays.map(({ layer, data }) => ({ layer, values: data.map(({ shape, values }) => tf.tensor(values, shape, "float32")) }));
    for (const { layer, values } of pending) layer.setWeights(values);
    return { layersLoaded: pending.length };
  } finally {
    for (const { values } of pending) tf.dispose(values);
    file.close();
  }
}
