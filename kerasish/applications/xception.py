"""Xception (Chollet, CVPR 2017): Keras 2.3.1's ``keras/applications/xception.py``, which builds
keras-applications 1.0.8's ``xception.Xception``: a strided ``block1`` stem, downsampling blocks 2-4 and 13
(two separable convolutions, a strided 'same' max pooling, and a strided 1x1 convolution shortcut whose layers
keras-applications leaves unnamed), eight residual middle blocks (5-12) of three separable convolutions, and
``block14``; ``avg_pool``/``predictions`` on top. Layers are created in keras-applications' order, so its
automatic names (``conv2d_N``, ``batch_normalization_N``, ``add_N``) and Keras's weight files (loaded by layer
order) match. BatchNormalization keeps Keras's defaults; ``preprocess_input`` uses mode ``'tf'``."""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import decode_predictions
from kerasish.backend import config

__all__ = ["Xception", "preprocess_input", "decode_predictions", "TF_WEIGHTS_PATH", "TF_WEIGHTS_PATH_NO_TOP"]

TF_WEIGHTS_PATH = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.4/"
                   "xception_weights_tf_dim_ordering_tf_kernels.h5")
TF_WEIGHTS_PATH_NO_TOP = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.4/"
                          "xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHT_FILES = {True: ("xception_weights_tf_dim_ordering_tf_kernels.h5", TF_WEIGHTS_PATH,
                       {"file_hash": "0a58e3b7378bc2990ea3b43d5981f1f6"}),
                False: ("xception_weights_tf_dim_ordering_tf_kernels_notop.h5", TF_WEIGHTS_PATH_NO_TOP,
                        {"file_hash": "b0042744bf5b25fce3cb969f33bebb97"})}

# downsampling blocks: (block, filters of sepconv1, filters of sepconv2 and of the shortcut)
DOWNSAMPLING_BLOCKS = ((2, 128, 128), (3, 256, 256), (4, 728, 728))


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


def channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _separable_bn(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=channel_axis(), name=name + "_bn")(x)


def _downsampling_block(x, block, filters1, filters2):
    """relu (not in block 2, which follows block1's relu) -> sepconv1 -> relu -> sepconv2 -> max pool, plus
    the strided 1x1 convolution shortcut (built first, as keras-applications does)."""
    prefix = f"block{block}"
    residual = layers.Conv2D(filters2, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=channel_axis())(residual)
    if block != 2:
        x = layers.Activation("relu", name=prefix + "_sepconv1_act")(x)
    x = _separable_bn(x, filters1, prefix + "_sepconv1")
    x = layers.Activation("relu", name=prefix + "_sepconv2_act")(x)
    x = _separable_bn(x, filters2, prefix + "_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=prefix + "_pool")(x)
    return layers.add([x, residual])


def _middle_block(x, block):
    residual = x
    for i in (1, 2, 3):
        x = layers.Activation("relu", name=f"block{block}_sepconv{i}_act")(x)
        x = _separable_bn(x, 728, f"block{block}_sepconv{i}")
    return layers.add([x, residual])


def _features(img_input):
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=channel_axis(), name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    for block, filters1, filters2 in DOWNSAMPLING_BLOCKS:
        x = _downsampling_block(x, block, filters1, filters2)
    for block in range(5, 13):
        x = _middle_block(x, block)
    x = _downsampling_block(x, 13, 728, 1024)
    x = _separable_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _separable_bn(x, 2048, "block14_sepconv2")
    return layers.Activation("relu", name="block14_sepconv2_act")(x)


@_shared.documented(top="the fully-connected layer (``predictions``)", default_size=299, min_size=71)
def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
             classes=1000, **kwargs):
    return _shared.build_model("xception", _features, _shared.average_pool_top, WEIGHT_FILES, default_size=299,
                               min_size=71, include_top=include_top, weights=weights, input_tensor=input_tensor,
                               input_shape=input_shape, pooling=pooling, classes=classes, kwargs=kwargs)
