"""InceptionV3 (Szegedy et al., CVPR 2016): Keras 2.3.1's ``keras/applications/inception_v3.py``, which builds
keras-applications 1.0.8's ``inception_v3.InceptionV3``: a stem of five convolutions and two max poolings, then
the Inception modules ``mixed0`` ... ``mixed10`` (35x35 modules 0-2, grid reduction 3, 17x17 factorised-7x7
modules 4-7, grid reduction 8, 8x8 modules 9-10 with the split 1x3/3x1 branches ``mixed9_0``/``mixed9_1``).
Every convolution is ``conv2d_bn``: a bias-free convolution, BatchNormalization without scale (``scale=False``),
relu. keras-applications names only the ``mixed*`` concatenations and the top, so the other layers carry
Keras's automatic names (``conv2d_1`` ... ``conv2d_94``); layers are created in its order so those names and
Keras's weight files (loaded by layer order) match. ``preprocess_input`` uses mode ``'tf'``."""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import decode_predictions

__all__ = ["InceptionV3", "conv2d_bn", "preprocess_input", "decode_predictions", "WEIGHTS_PATH",
           "WEIGHTS_PATH_NO_TOP"]

WEIGHTS_PATH = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.5/"
                "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.5/"
                       "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHT_FILES = {True: ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5", WEIGHTS_PATH,
                       {"file_hash": "9a0d58056eeedaa3f26cb7ebd46da564"}),
                False: ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", WEIGHTS_PATH_NO_TOP,
                        {"file_hash": "bcbd6486424b2319ff4ef7d526e38f63"})}


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Convolution (no bias) -> BatchNormalization (no scale) -> relu; with ``name``, the layers are
    ``{name}_conv``, ``{name}_bn`` and ``{name}``."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=None if name is None else name + "_conv")(x)
    x = layers.BatchNormalization(axis=_shared.bn_axis(), scale=False,
                                  name=None if name is None else name + "_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _concat(branches, name=None):
    return layers.concatenate(branches, axis=_shared.bn_axis(), name=name)


def _average_pool_branch(x, filters):
    branch_pool = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch_pool, filters, 1, 1)


def _module_35(x, pool_filters, name):
    """1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | average pool -> 1x1 (``pool_filters``)."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    branch3x3dbl = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    return _concat([branch1x1, branch5x5, branch3x3dbl, _average_pool_branch(x, pool_filters)], name)


def _reduction_35_to_17(x):
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return _concat([branch3x3, branch3x3dbl, branch_pool], "mixed3")


def _module_17(x, width, name):
    """1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | average pool -> 1x1; inner width
    ``width``, every branch ends with 192 channels."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, width, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, width, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, width, 1, 1)
    for filters, rows, cols in ((width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)):
        branch7x7dbl = conv2d_bn(branch7x7dbl, filters, rows, cols)
    return _concat([branch1x1, branch7x7, branch7x7dbl, _average_pool_branch(x, 192)], name)


def _reduction_17_to_8(x):
    branch3x3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return _concat([branch3x3, branch7x7x3, branch_pool], "mixed8")


def _module_8(x, i):
    """1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | average pool -> 1x1; the inner pairs are
    concatenated (``mixed9_{i}``, and an unnamed one)."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = _concat([conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)], f"mixed9_{i}")
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    branch3x3dbl = _concat([conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)])
    return _concat([branch1x1, branch3x3, branch3x3dbl, _average_pool_branch(x, 192)], f"mixed{9 + i}")


def _features(img_input):
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _module_35(x, pool_filters, f"mixed{i}")
    x = _reduction_35_to_17(x)
    for i, width in enumerate((128, 160, 160, 192), start=4):
        x = _module_17(x, width, f"mixed{i}")
    x = _reduction_17_to_8(x)
    for i in range(2):
        x = _module_8(x, i)
    return x


@_shared.documented(top="the fully-connected layer (``predictions``)", default_size=299, min_size=75,
                  model_name="inception_v3")
def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    return _shared.build_model("inception_v3", _features, _shared.average_pool_top, WEIGHT_FILES, default_size=299,
                               min_size=75, include_top=include_top, weights=weights, input_tensor=input_tensor,
                               input_shape=input_shape, pooling=pooling, classes=classes, kwargs=kwargs)
