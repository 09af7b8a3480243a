// The typed registry of the eight architectures: one spec per id, checked for duplicates and
// completeness, no side effects at import. Facts from ../shared/notes/keras-reference.md.
import type * as tf from "@tensorflow/tfjs";
import { patchScaleFreeBatchNormTraining } from "./batchnorm-scale-fix";
import type { BuildOptions } from "./common";
import { buildDenseNet, denseNetBlockPrefixes, type DenseNetVariant } from "./densenet";
import { ARCH_IDS, type ArchId, isArchId } from "../ids";
import { buildInceptionResNetV2, inceptionResNetV2BlockPrefixes } from "./inception_resnet_v2";
import { buildInceptionV3, inceptionV3BlockEnds } from "./inception_v3";
import { buildMobileNet, MOBILENET_ALPHAS, mobileNetBlockPrefixes } from "./mobilenet";
import { buildMobileNetV2, MOBILENET_V2_ALPHAS, mobileNetV2BlockPrefixes } from "./mobilenet_v2";
import type { PreprocessMode } from "./preprocess";
import { buildResNet50, resNet50BlockPrefixes } from "./resnet50";

export const KERAS_WEIGHTS_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/";

export interface WeightsHash {
  algorithm: "md5" | "sha256";
  value: string;
}

export interface WeightsFile {
  /** File name in the weights cache directory (the Keras name). */
  file: string;
  url: string;
  /** Published hash; undefined where Keras publishes none (MobileNet 1.0, MobileNetV2). */
  hash?: WeightsHash;
}

export interface ArchSpec {
  id: ArchId;
  displayName: string;
  /** One line: the paper and the Keras file the port follows. */
  reference: { paramsTop: number; paramsNoTop: number; source: string };
  paper: string;
  defaultInputSize: number;
  minInputSize: number;
  preprocess: PreprocessMode;
  /** ImageNet weights for the default input size (and alpha 1.0 for the MobileNets). */
  weights: { top: WeightsFile; noTop: WeightsFile };
  /** Width multipliers with published weights (MobileNets only). */
  alphas?: readonly number[];
  /** Weights for another alpha / input size (MobileNets only). */
  weightsFor?: (opts: { alpha: number; inputSize: number }) => { top: WeightsFile; noTop: WeightsFile };
  /**
   * Freezing units for TRANSFER=top:n, in model order. Each entry names the layers that END a block:
   * an entry ending in "_" is a name prefix (its last matching layer ends the block), otherwise an
   * exact layer name. A block is everything after the previous block's end up to its own end; layers
   * after the last end (final BN/conv) belong to the last block, the stem to the first.
   */
  blocks: readonly string[];
  build: (opts?: BuildOptions) => tf.LayersModel;
}

const REFERENCE_SOURCE = "Keras Applications documentation table / keras.io (../shared/notes/keras-reference.md)";

function kerasWeights(path: string, md5Top: string, md5NoTop: string): { top: WeightsFile; noTop: WeightsFile } {
  const noTopPath = path.replace(/\.h5$/, "_notop.h5");
  const file = (p: string, md5: string): WeightsFile => ({ file: p.split("/").pop() as string, url: KERAS_WEIGHTS_BASE_URL + p, hash: { algorithm: "md5", value: md5 } });
  return { top: file(path, md5Top), noTop: file(noTopPath, md5NoTop) };
}

// SHA-256 of the MobileNet v1 files, keyed "<alpha_text>_<rows>" as [top, no top] (see shared weights README).
const MOBILENET_SHA256: Record<string, [string, string]> = {
  "2_5_128": ["fe295db7f78635f1403127e3ba8cdc6237f83262bdb745063a67c1d81190c7f8", "7d8b7f3c9555cb4579f9659ee233a540e66fd7ad514c0a8b14493b667447c5d6"],
  "2_5_160": ["74b32700eb3f6fb8d0b3f416c3fb52ab5eca35dc82393341eb7bb52676b6b003", "c2f18432229c945b816f8b9f9cfa40d2964454b033efea804f6cd03942865bd4"],
  "2_5_192": ["22a302e8a39e545c7372ca96fe8698e3cbbc7d3906f60316e0617c15616f8894", "4b7370b9880577f12f31942049d19610a4559c8af38f39dc67d1f90ec9663aa1"],
  "2_5_224": ["98d047950e59f478af63681720906940efc8ce8cecb95bce5c7b47394f8bd63d", "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf"],
  "5_0_224": ["b4b134ed41de14fd8d6717ab4e88b53e3113194acae392bc41c012ba463906bb", "df860c59562f4c4af7a2fb2ae90731caef39fd5d03e5fcd6ca46988965f0a4b7"],
};

/** Keras file names: mobilenet_<alpha text>_<rows>_tf[_no_top].h5, alpha text 2_5 / 5_0 / 7_5 / 1_0. */
export function mobileNetWeights(opts: { alpha: number; inputSize: number }): { top: WeightsFile; noTop: WeightsFile } {
  const alphaText = { 0.25: "2_5", 0.5: "5_0", 0.75: "7_5", 1: "1_0" }[opts.alpha];
  if (!alphaText || ![128, 160, 192, 224].includes(opts.inputSize)) {
    throw new Error(`mobilenet: Keras publishes weights for alpha ${MOBILENET_ALPHAS.join("/")} at 128/160/192/224 px, not alpha ${opts.alpha} at ${opts.inputSize} px`);
  }
  const key = `${alphaText}_${opts.inputSize}`;
  const hashes = MOBILENET_SHA256[key];
  const file = (name: string, sha256?: string): WeightsFile => ({
    file: name,
    url: `${KERAS_WEIGHTS_BASE_URL}mobilenet/${name}`,
    hash: sha256 ? { algorithm: "sha256", value: sha256 } : undefined,
  });
  return { top: file(`mobilenet_${key}_tf.h5`, hashes?.[0]), noTop: file(`mobilenet_${key}_tf_no_top.h5`, hashes?.[1]) };
}

/** Keras file names: mobilenet_v2_weights_tf_dim_ordering_tf_kernels_<alpha>_<rows>[_no_top].h5. */
export function mobileNetV2Weights(opts: { alpha: number; inputSize: number }): { top: WeightsFile; noTop: WeightsFile } {
  if (!(MOBILENET_V2_ALPHAS as readonly number[]).includes(opts.alpha) || ![96, 128, 160, 192, 224].includes(opts.inputSize)) {
    throw new Error(`mobilenet_v2: Keras publishes weights for alpha ${MOBILENET_V2_ALPHAS.join("/")} at 96/128/160/192/224 px, not alpha ${opts.alpha} at ${opts.inputSize} px`);
  }
  const alphaText = opts.alpha === 1 ? "1.0" : String(opts.alpha);
  const base = `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alphaText}_${opts.inputSize}`;
  const file = (name: string): WeightsFile => ({ file: name, url: `${KERAS_WEIGHTS_BASE_URL}mobilenet_v2/${name}` });
  return { top: file(`${base}.h5`), noTop: file(`${base}_no_top.h5`) };
}

/** The three DenseNets differ only in their block table, parameter counts and weight files. */
function denseNetSpec(id: DenseNetVariant, params: { paramsTop: number; paramsNoTop: number }, md5: [top: string, noTop: string]): ArchSpec {
  return {
    id,
    displayName: id.replace("densenet", "DenseNet"),
    paper: "Huang et al. 2017, Densely Connected Convolutional Networks; keras/src/applications/densenet.py",
    reference: { ...params, source: REFERENCE_SOURCE },
    defaultInputSize: 224,
    minInputSize: 32,
    preprocess: "torch",
    weights: kerasWeights(`densenet/${id}_weights_tf_dim_ordering_tf_kernels.h5`, md5[0], md5[1]),
    blocks: denseNetBlockPrefixes(id),
    build: (opts) => buildDenseNet(id, opts),
  };
}

const SPECS: ArchSpec[] = [
  denseNetSpec("densenet121", { paramsTop: 8_062_504, paramsNoTop: 7_037_504 }, ["9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"]),
  denseNetSpec("densenet169", { paramsTop: 14_307_880, paramsNoTop: 12_642_880 }, ["d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"]),
  denseNetSpec("densenet201", { paramsTop: 20_242_984, paramsNoTop: 18_321_984 }, ["1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"]),
  {
    id: "resnet50",
    displayName: "ResNet50",
    paper: "He et al. 2015, Deep Residual Learning for Image Recognition; keras/src/applications/resnet.py",
    reference: { paramsTop: 25_636_712, paramsNoTop: 23_587_712, source: REFERENCE_SOURCE },
    defaultInputSize: 224,
    minInputSize: 32,
    preprocess: "caffe",
    weights: kerasWeights("resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5", "2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    blocks: resNet50BlockPrefixes(),
    build: (opts) => buildResNet50(opts),
  },
  {
    id: "inception_v3",
    displayName: "InceptionV3",
    paper: "Szegedy et al. 2015, Rethinking the Inception Architecture; keras/src/applications/inception_v3.py",
    reference: { paramsTop: 23_851_784, paramsNoTop: 21_802_784, source: REFERENCE_SOURCE },
    defaultInputSize: 299,
    minInputSize: 75,
    preprocess: "tf",
    weights: kerasWeights("inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63"),
    blocks: inceptionV3BlockEnds(),
    build: (opts) => buildInceptionV3(opts),
  },
  {
    id: "inception_resnet_v2",
    displayName: "InceptionResNetV2",
    paper: "Szegedy et al. 2016, Inception-v4, Inception-ResNet; keras/src/applications/inception_resnet_v2.py",
    reference: { paramsTop: 55_873_736, paramsNoTop: 54_336_736, source: REFERENCE_SOURCE },
    defaultInputSize: 299,
    minInputSize: 75,
    preprocess: "tf",
    weights: kerasWeights(
      "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
      "e693bd0210a403b3192acc6073ad2e96",
      "d19885ff4a710c122648d3b5c3b684e4",
    ),
    blocks: inceptionResNetV2BlockPrefixes(),
    build: (opts) => buildInceptionResNetV2(opts),
  },
  {
    id: "mobilenet",
    displayName: "MobileNet",
    paper: "Howard et al. 2017, MobileNets; keras/src/applications/mobilenet.py",
    reference: { paramsTop: 4_253_864, paramsNoTop: 3_228_864, source: REFERENCE_SOURCE },
    defaultInputSize: 224,
    minInputSize: 32,
    preprocess: "tf",
    weights: mobileNetWeights({ alpha: 1, inputSize: 224 }),
    alphas: MOBILENET_ALPHAS,
    weightsFor: mobileNetWeights,
    blocks: mobileNetBlockPrefixes(),
    build: (opts) => buildMobileNet(opts),
  },
  {
    id: "mobilenet_v2",
    displayName: "MobileNetV2",
    paper: "Sandler et al. 2018, MobileNetV2; keras/src/applications/mobilenet_v2.py",
    reference: { paramsTop: 3_538_984, paramsNoTop: 2_257_984, source: REFERENCE_SOURCE },
    defaultInputSize: 224,
    minInputSize: 32,
    preprocess: "tf",
    weights: mobileNetV2Weights({ alpha: 1, inputSize: 224 }),
    alphas: MOBILENET_V2_ALPHAS,
    weightsFor: mobileNetV2Weights,
    blocks: mobileNetV2BlockPrefixes(),
    build: (opts) => buildMobileNetV2(opts),
  },
];

/** Indexes specs by id; rejects duplicates, unknown ids and missing architectures. */
export function defineRegistry(specs: readonly ArchSpec[], ids: readonly string[] = ARCH_IDS): Record<ArchId, ArchSpec> {
  const registry: Record<string, ArchSpec> = {};
  for (const spec of specs) {
    if (registry[spec.id]) throw new Error(`architecture registry: duplicate id "${spec.id}"`);
    if (!ids.includes(spec.id)) throw new Error(`architecture registry: id "${spec.id}" is not one of ${ids.join(", ")} (add it to lib/ids.ts)`);
    registry[spec.id] = spec;
  }
  const missing = ids.filter((id) => !registry[id]);
  if (missing.length > 0) throw new Error(`architecture registry: no spec for ${missing.join(", ")}`);
  return registry as Record<ArchId, ArchSpec>;
}

export const ARCHITECTURES: Record<ArchId, ArchSpec> = defineRegistry(SPECS);

export function getArchSpec(id: string): ArchSpec {
  if (!isArchId(id)) throw new Error(`unknown architecture "${id}": known ids are ${ARCH_IDS.join(", ")}`);
  return ARCHITECTURES[id];
}

/**
 * The input size an architecture runs at: IMAGE_SIZE, raised to its minimum (Inception: 75). The one
 * rule for training, evaluation and latency, so that every path times the size that was trained.
 */
export function inputSizeFor(arch: string, imageSize: number): number {
  return Math.max(imageSize, getArchSpec(arch).minInputSize);
}

export function buildArchitecture(id: string, opts: BuildOptions = {}): tf.LayersModel {
  const spec = getArchSpec(id);
  if (opts.alpha !== undefined && !spec.alphas) throw new Error(`${id}: alpha applies to mobilenet and mobilenet_v2 only`);
  // Every network: the scale-free fix, and on webgpu the fused batch-norm training path for all layers.
  patchScaleFreeBatchNormTraining();
  return spec.build(opts);
}
