// Keras imagenet_utils.preprocess_input, from 0–255 RGB (channels last) to what each network expects.
import * as tf from "@tensorflow/tfjs";

/** caffe: RGB→BGR minus the ImageNet BGR means; torch: /255 then ImageNet mean/std; tf: to [-1, 1]. */
export type PreprocessMode = "caffe" | "torch" | "tf";

export const PREPROCESS_MODES: readonly PreprocessMode[] = ["caffe", "torch", "tf"];

const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68];
const TORCH_RGB_MEAN = [0.485, 0.456, 0.406];
const TORCH_RGB_STD = [0.229, 0.224, 0.225];

export function preprocessInput(x: tf.Tensor, mode: PreprocessMode): tf.Tensor {
  return tf.tidy(() => {
    const input = x.toFloat();
    switch (mode) {
      case "tf":
        return input.div(127.5).sub(1);
      case "torch":
        return input.div(255).sub(TORCH_RGB_MEAN).div(TORCH_RGB_STD);
      case "caffe":
        return tf.reverse(input, -1).sub(CAFFE_BGR_MEAN);
      default:
        throw new Error(`unknown preprocess mode "${String(mode)}": allowed ${PREPROCESS_MODES.join(", ")}`);
    }
  });
}
