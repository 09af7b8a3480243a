// The model zoo: the eight Keras Applications architectures, their registry, Keras .h5 weights,
// preprocessing and the transfer-learning head.
export { ARCH_IDS, type ArchId, isArchId } from "../ids";
export { alphaFor, alphaNote, allowedAlphas, archsWithWidth, formatAlpha, hasWidthMultiplier, WIDTH_MULTIPLIERS, widthLabel } from "./width";
export type { BuildOptions, Pooling } from "./common";
export { ARCHITECTURES, type ArchSpec, buildArchitecture, defineRegistry, getArchSpec, inputSizeFor, KERAS_WEIGHTS_BASE_URL, type WeightsFile, type WeightsHash } from "./registry";
export { PREPROCESS_MODES, type PreprocessMode, preprocessInput } from "./preprocess";
export { loadKerasWeights, readFileLayers } from "./keras-h5";
export { checkWeightsFile, downloadWeights, ensureWeights, type LoadedWeights, WeightsHashMismatchError, type WeightsLocation, WeightsMissingError, weightsFileFor, weightsFilePath } from "./weights";
export { applyTransferMode, buildTransferModel, disposeTransferModel, type TransferModeResult, type TransferModel, type TransferOptions } from "./transfer";
export { foldBatchNormForInference, type FoldResult } from "./fold-bn";
export { CustomScaleLayer } from "./inception_resnet_v2";
export { CUSTOM_LAYER_CLASS_NAMES, registerCustomLayers } from "./custom-layers";
