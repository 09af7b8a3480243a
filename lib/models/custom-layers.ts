// Custom layers a saved model may contain; register them before tf.loadLayersModel.
import { registerInceptionResNetLayers } from "./inception_resnet_v2";

/** Idempotent: registering a class again replaces the same entry. */
export function registerCustomLayers(): void {
  registerInceptionResNetLayers();
}
