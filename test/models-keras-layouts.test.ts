// Every built network against Keras itself: test/fixtures/keras-layouts/<arch>.layout.json lists
// the weighted layers of the Keras Applications network without its top — names and weight shapes —
// derived from keras/src/applications/*.py by scripts/keras-layouts.py (not from our builders; their
// parameter totals are Keras' published no-top counts). Our builder must have exactly those layers,
// each with the same weights in the same order and shape: what the .h5 loader pairs and checks. For
// the two smallest, a weights file written with Keras' names and layer order (not ours) is loaded and
// every value lands in the weight of that name.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as path from "node:path";
import { ARCH_IDS, buildArchitecture, getArchSpec, loadKerasWeights } from "../lib/models";
import { projectPath } from "../lib/paths";
import { writeKerasH5 } from "./keras-h5-writer";
import { tempDir } from "./temp-dir";

interface Layout {
  source: string;
  layers: Array<{ name: string; weights: Array<[string, number[]]> }>;
}

const layoutOf = (arch: string): Layout => JSON.parse(readFileSync(projectPath("test", "fixtures", "keras-layouts", `${arch}.layout.json`), "utf8")) as Layout;

for (const arch of ARCH_IDS) {
  test(`${arch}: the built network has Keras' layer names and weight shapes (no top)`, () => {
    const layout = layoutOf(arch);
    const spec = getArchSpec(arch);
    const size = spec.minInputSize; // weight shapes do not depend on the input size without the top
    const model = buildArchitecture(arch, { includeTop: false, inputShape: [size, size, 3] });
    try {
      const ours = new Map(
        model.layers
          .filter((layer) => layer.weights.length > 0)
          .map((layer) => [layer.name, layer.weights.map((weight) => [`${layer.name}/${weight.originalName.split("/").pop()}:0`, weight.shape])]),
      );
      const keras = new Map(layout.layers.map((layer) => [layer.name, layer.weights]));
      assert.deepEqual([...ours.keys()].filter((name) => !keras.has(name)), [], `${arch}: layers Keras does not have`);
      assert.deepEqual([...keras.keys()].filter((name) => !ours.has(name)), [], `${arch}: Keras layers we lack`);
      for (const [name, weights] of keras) assert.deepEqual(ours.get(name), weights, `${arch}: layer ${name}`);
      const parameters = layout.layers.reduce((sum, layer) => sum + layer.weights.reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0), 0);
      assert.equal(parameters, spec.reference.paramsNoTop, `${arch}: the layout adds up to Keras' published no-top count`);
    } finally {
      model.dispose();
    }
  });
}

for (const arch of ["mobilenet_v2", "mobilenet"]) {
  test(`${arch}: a weights file with Keras' layer names and order loads, each value into the weight of its name`, async () => {
    const layout = layoutOf(arch);
    let k = 0;
    const layers = layout.layers.map((layer) => ({
      name: layer.name,
      weights: layer.weights.map(([name, shape]) => ({ name, shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((k++ % 1009) - 504) / 1024) })),
    }));
    const file = path.join(await tempDir("keras-layout-h5-"), `${arch}.h5`);
    await writeKerasH5(file, layers);
    const size = getArchSpec(arch).minInputSize;
    const model = buildArchitecture(arch, { includeTop: false, inputShape: [size, size, 3] });
    try {
      const { layersLoaded } = await loadKerasWeights(model, file);
      assert.equal(layersLoaded, layout.layers.length);
      for (const layer of layers) {
        const loaded = model.getLayer(layer.name).getWeights();
        layer.weights.forEach((weight, i) => assert.ok(Buffer.from(loaded[i].dataSync().buffer).equals(Buffer.from(weight.values.buffer)), `${weight.name} loaded from the file`));
      }
    } finally {
      model.dispose();
    }
  });
}
