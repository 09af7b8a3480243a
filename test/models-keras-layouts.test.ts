// Every built network against Keras itself: test/fixtures/keras-layouts/<arch>.layout.json lists
// the weighted layers of the Keras Applications network without its top — names and weight shapes —
// derived from keras/src/applications/*.py by scripts/keras-layouts.py (not from our builders; their
// parameter totals are Keras' published no-top counts). Our builder must have exactly those layers,
// each with the same weights in the same order and shape: what the .h5 loader pairs and checks.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ARCH_IDS, buildArchitecture, getArchSpec } from "../lib/models";
import { projectPath } from "../lib/paths";

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
