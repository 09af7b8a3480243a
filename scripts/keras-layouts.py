#!/usr/bin/env python3
"""Derives the layer names and weight shapes of each Keras Applications network without its top
(include_top=False, the "_notop" weight files) from the Keras sources themselves, so the tests can
check our TypeScript builders against Keras rather than against our own code.

The application modules of a Keras checkout (keras/src/applications/*.py, read at a given commit)
run unchanged against a stand-in `keras.src` whose layers only track shapes and record weights;
automatic names come from Keras' own keras/src/utils/naming.py. No TensorFlow, NumPy or Keras
install is needed.

    python3 scripts/keras-layouts.py /path/to/keras-checkout [commit] > /dev/null
        writes test/fixtures/keras-layouts/<arch>.layout.json
"""
import json
import math
import os
import subprocess
import sys
import types

KERAS, COMMIT = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "HEAD")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "keras-layouts")


def source(path):
    return subprocess.run(["git", "-C", KERAS, "show", f"{COMMIT}:{path}"], check=True, capture_output=True, text=True).stdout


def module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


# --- stand-in keras.src: what the application modules import --------------------------------
STATE = {}
module("keras")
module("keras.src")
module("keras.src.api_export", keras_export=lambda *a, **k: (lambda f: f))
module("keras.src.backend.common")
module("keras.src.backend.common.global_state",
       get_global_attribute=lambda name, default=None, set_to_default=False: STATE.setdefault(name, default) if set_to_default else STATE.get(name, default),
       set_global_attribute=lambda name, value: STATE.__setitem__(name, value))
naming = module("keras.src.utils.naming")
exec(compile(source("keras/src/utils/naming.py"), "naming.py", "exec"), naming.__dict__)


class Tensor:
    def __init__(self, shape):
        self.shape = (None, *shape)  # (batch, height, width, channels)


RECORD = []  # (layer name, [(weight name, shape)]) in call order


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def spatial(size, kernel, stride, padding):
    return math.ceil(size / stride) if padding == "same" else (size - kernel) // stride + 1


class Layer:
    def __init__(self, name=None, **kwargs):
        self.name = name or naming.auto_name(type(self).__name__)

    def __call__(self, inputs, *args, **kwargs):
        shape, weights = self.compute(inputs)
        RECORD.append((self.name, [(f"{self.name}/{w}:0", list(s)) for w, s in weights]))
        return Tensor(shape)

    def compute(self, inputs):  # weightless, shape-preserving (Activation, ReLU, custom layers)
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return first.shape[1:], []


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", use_bias=True, name=None, **kwargs):
        super().__init__(name)
        self.filters, self.kernel, self.strides, self.padding, self.use_bias = filters, pair(kernel_size), pair(strides), padding, use_bias

    def compute(self, x):
        h, w, c = x.shape[1:]
        shape = (spatial(h, self.kernel[0], self.strides[0], self.padding), spatial(w, self.kernel[1], self.strides[1], self.padding), self.filters)
        return shape, [("kernel", (*self.kernel, c, self.filters))] + ([("bias", (self.filters,))] if self.use_bias else [])


class DepthwiseConv2D(Layer):
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, use_bias=True, name=None, **kwargs):
        super().__init__(name)
        self.kernel, self.strides, self.padding, self.multiplier, self.use_bias = pair(kernel_size), pair(strides), padding, depth_multiplier, use_bias

    def compute(self, x):
        h, w, c = x.shape[1:]
        out = c * self.multiplier
        shape = (spatial(h, self.kernel[0], self.strides[0], self.padding), spatial(w, self.kernel[1], self.strides[1], self.padding), out)
        return shape, [("depthwise_kernel", (*self.kernel, c, self.multiplier))] + ([("bias", (out,))] if self.use_bias else [])


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, name=None, **kwargs):
        super().__init__(name)
        self.center, self.scale = center, scale

    def compute(self, x):
        c = x.shape[-1]
        names = (["gamma"] if self.scale else []) + (["beta"] if self.center else []) + ["moving_mean", "moving_variance"]
        return x.shape[1:], [(n, (c,)) for n in names]


class Dense(Layer):
    def __init__(self, units, activation=None, use_bias=True, name=None, **kwargs):
        super().__init__(name)
        self.units, self.use_bias = units, use_bias

    def compute(self, x):
        return (*x.shape[1:-1], self.units), [("kernel", (x.shape[-1], self.units))] + ([("bias", (self.units,))] if self.use_bias else [])


class ZeroPadding2D(Layer):
    def __init__(self, padding=(1, 1), name=None, **kwargs):
        super().__init__(name)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif isinstance(padding[0], int):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        self.padding = padding

    def compute(self, x):
        h, w, c = x.shape[1:]
        return (h + sum(self.padding[0]), w + sum(self.padding[1]), c), []


class Pooling2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", name=None, **kwargs):
        super().__init__(name)
        self.pool, self.strides, self.padding = pair(pool_size), pair(strides if strides is not None else pool_size), padding

    def compute(self, x):
        h, w, c = x.shape[1:]
        return (spatial(h, self.pool[0], self.strides[0], self.padding), spatial(w, self.pool[1], self.strides[1], self.padding), c), []


class MaxPooling2D(Pooling2D):
    pass


class AveragePooling2D(Pooling2D):
    pass


class GlobalPooling2D(Layer):
    def __init__(self, keepdims=False, name=None, **kwargs):
        super().__init__(name)
        self.keepdims = keepdims

    def compute(self, x):
        return ((1, 1, x.shape[-1]) if self.keepdims else (x.shape[-1],)), []


class GlobalAveragePooling2D(GlobalPooling2D):
    pass


class GlobalMaxPooling2D(GlobalPooling2D):
    pass


class Concatenate(Layer):
    def __init__(self, axis=-1, name=None, **kwargs):
        super().__init__(name)

    def compute(self, inputs):
        return (*inputs[0].shape[1:-1], sum(t.shape[-1] for t in inputs)), []


class Activation(Layer):
    def __init__(self, activation=None, name=None, **kwargs):
        super().__init__(name)


class ReLU(Layer):
    def __init__(self, max_value=None, name=None, **kwargs):
        super().__init__(name)


class Add(Layer):
    pass


class Dropout(Layer):
    def __init__(self, rate=0.0, name=None, **kwargs):
        super().__init__(name)


class Reshape(Layer):
    def __init__(self, target_shape, name=None, **kwargs):
        super().__init__(name)
        self.target = tuple(target_shape)

    def compute(self, x):
        return self.target, []


def Input(shape=None, tensor=None, name=None, **kwargs):
    return tensor if tensor is not None else Tensor(shape)


layers = module("keras.src.layers", Layer=Layer, Conv2D=Conv2D, DepthwiseConv2D=DepthwiseConv2D, BatchNormalization=BatchNormalization,
                Dense=Dense, ZeroPadding2D=ZeroPadding2D, MaxPooling2D=MaxPooling2D, AveragePooling2D=AveragePooling2D,
                GlobalAveragePooling2D=GlobalAveragePooling2D, GlobalMaxPooling2D=GlobalMaxPooling2D, Concatenate=Concatenate,
                concatenate=lambda inputs, axis=-1, name=None: Concatenate(axis=axis, name=name)(inputs),
                Activation=Activation, ReLU=ReLU, Add=Add, Dropout=Dropout, Reshape=Reshape, Input=Input)
module("keras.src.layers.layer", Layer=Layer)
module("keras.src.backend", image_data_format=lambda: "channels_last", is_keras_tensor=lambda x: isinstance(x, Tensor))
module("keras.src.models", Functional=lambda inputs, outputs, name=None: types.SimpleNamespace(name=name))
module("keras.src.ops")
module("keras.src.ops.operation_utils", get_source_inputs=lambda tensor: tensor)
module("keras.src.utils")
module("keras.src.utils.file_utils", exists=lambda path: True, get_file=lambda *a, **k: None)
module("keras.src.applications")


def correct_pad(inputs, kernel_size):  # keras/src/applications/imagenet_utils.py, channels_last
    input_size = inputs.shape[1:3]
    kernel_size = pair(kernel_size)
    adjust = (1, 1) if input_size[0] is None else (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


module("keras.src.applications.imagenet_utils", correct_pad=correct_pad,
       obtain_input_shape=lambda input_shape, **kwargs: input_shape,
       validate_activation=lambda *a, **k: None, preprocess_input=None, decode_predictions=None,
       PREPROCESS_INPUT_DOC="{mode}{ret}{error}", PREPROCESS_INPUT_ERROR_DOC="", PREPROCESS_INPUT_RET_DOC_CAFFE="",
       PREPROCESS_INPUT_RET_DOC_TF="", PREPROCESS_INPUT_RET_DOC_TORCH="")

# --- the eight networks: (our id, Keras file, builder, default input) ------------------------
NETWORKS = [
    ("densenet121", "densenet", "DenseNet121", 224),
    ("densenet169", "densenet", "DenseNet169", 224),
    ("densenet201", "densenet", "DenseNet201", 224),
    ("resnet50", "resnet", "ResNet50", 224),
    ("inception_v3", "inception_v3", "InceptionV3", 299),
    ("inception_resnet_v2", "inception_resnet_v2", "InceptionResNetV2", 299),
    ("mobilenet", "mobilenet", "MobileNet", 224),
    ("mobilenet_v2", "mobilenet_v2", "MobileNetV2", 224),
]
commit = subprocess.run(["git", "-C", KERAS, "rev-parse", COMMIT], check=True, capture_output=True, text=True).stdout.strip()
os.makedirs(OUT, exist_ok=True)
for arch, file, builder, size in NETWORKS:
    path = f"keras/src/applications/{file}.py"
    app = types.ModuleType(f"keras.src.applications.{file}")
    exec(compile(source(path), path, "exec"), app.__dict__)
    STATE.clear()  # a fresh Keras session: automatic names start again at conv2d, conv2d_1, …
    RECORD.clear()
    getattr(app, builder)(include_top=False, weights=None, input_shape=(size, size, 3))
    weighted = [(name, weights) for name, weights in RECORD if weights]
    layout = {
        "source": f"keras-team/keras {commit} {path} {builder}(include_top=False, weights=None, input_shape=({size}, {size}, 3))",
        "derivedBy": "scripts/keras-layouts.py",
        "layers": [{"name": name, "weights": [[w, shape] for w, shape in weights]} for name, weights in weighted],
    }
    with open(os.path.join(OUT, f"{arch}.layout.json"), "w") as out:
        out.write(json.dumps(layout, separators=(",", ":")).replace('{"name"', '\n{"name"') + "\n")
    print(arch, len(weighted), "weighted layers", sum(math.prod(s) for _, ws in weighted for _, s in ws), "parameters")
