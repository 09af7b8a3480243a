// Custom layers a saved model may contain; register them before tf.loadLayersModel.
import { CustomScaleLayer, registerInceptionResNetLayers } from "./inception_resnet_v2";

/** Class names of our own layers (serialized as "class_name" in model.json). */
export const CUSTOM_LAYER_CLASS_NAMES: readonly string[] = [CustomScaleLayer.className];

/** Idempotent: registering a class again replaces the same entry. */
export function registerCustomLayers(): void {
  registerInceptionResNetLayers();
}
