// Writes Keras 2 HDF5 weight files the way Keras saves them (layer_names, per-layer weight_names,
// nested datasets), for the loader's tests.
import { loadH5wasm } from "../lib/models/keras-h5";

export interface FileWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Writes a Keras 2 weights file: layer_names (optionally split), weight_names, nested datasets. */
export async function writeKerasH5(file: string, layers: Array<{ name: string; weights: FileWeight[] }>, opts: { split?: boolean; modelWeights?: boolean } = {}): Promise<void> {
  const h5wasm = await loadH5wasm();
  const h5 = new h5wasm.File(file, "w");
  const root = opts.modelWeights ? h5.create_group("model_weights") : h5;
  const names = layers.map((layer) => layer.name);
  if (opts.split) {
    const half = Math.ceil(names.length / 2);
    root.create_attribute("layer_names0", names.slice(0, half));
    root.create_attribute("layer_names1", names.slice(half));
  } else {
    root.create_attribute("layer_names", names);
  }
  for (const layer of layers) {
    const group = root.create_group(layer.name);
    // Fixed-length strings as wide as the longest name, as h5py stores Keras' weight_names.
    const width = Math.max(1, ...layer.weights.map((w) => w.name.length));
    group.create_attribute("weight_names", layer.weights.map((w) => w.name), [layer.weights.length], `S${width}`);
    if (layer.weights.length === 0) continue;
    const inner = group.create_group(layer.name);
    for (const weight of layer.weights) inner.create_dataset({ name: weight.name.split("/").pop() as string, data: weight.values, shape: weight.shape, dtype: "<f" });
  }
  h5.close();
}

