"""ResNet50 (He et al., CVPR 2016): Keras 2.3.1's ``keras/applications/resnet50.py``, which builds
keras-applications 1.0.8's ``resnet50.ResNet50``: bottleneck blocks named ``res{stage}{block}_branch2a`` ...
with their BatchNormalization ``bn{stage}{block}_branch2a`` ..., ``conv1``/``bn_conv1`` at the stem and
``fc1000`` at the top, so Keras's weight files load. BatchNormalization normalises the channel axis of
``K.image_data_format()``."""
from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _shared
from kerasish.applications.imagenet_utils import _obtain_input_shape, decode_predictions, preprocess_input
from kerasish.backend import config

__all__ = ["ResNet50", "identity_block", "conv_block", "preprocess_input", "decode_predictions",
           "WEIGHTS_PATH", "WEIGHTS_PATH_NO_TOP"]

WEIGHTS_PATH = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.2/"
                "resnet50_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.2/"
                       "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
# keras-applications passes these to get_file as md5_hash.
WEIGHTS_HASH = "a7b3fe01876f51b976af0dea6bc144eb"
WEIGHTS_HASH_NO_TOP = "a268eb855778b3df3c7506639542a6af"

# (stage, filters of the three convolutions, blocks, strides of the first block)
RESNET50_STAGES = ((2, (64, 64, 256), "abc", (1, 1)),
                   (3, (128, 128, 512), "abcd", (2, 2)),
                   (4, (256, 256, 1024), "abcdef", (2, 2)),
                   (5, (512, 512, 2048), "abc", (2, 2)))


def _main_path(input_tensor, kernel_size, filters, stage, block, strides):
    """1x1 -> kernel_size x kernel_size -> 1x1 convolutions, each with its BatchNormalization."""
    filters1, filters2, filters3 = filters
    conv_name, bn_name = f"res{stage}{block}_branch", f"bn{stage}{block}_branch"
    x = layers.Conv2D(filters1, (1, 1), strides=strides, kernel_initializer="he_normal",
                      name=conv_name + "2a")(input_tensor)
    x = layers.BatchNormalization(axis=_shared.bn_axis(), name=bn_name + "2a")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters2, kernel_size, padding="same", kernel_initializer="he_normal",
                      name=conv_name + "2b")(x)
    x = layers.BatchNormalization(axis=_shared.bn_axis(), name=bn_name + "2b")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters3, (1, 1), kernel_initializer="he_normal", name=conv_name + "2c")(x)
    return layers.BatchNormalization(axis=_shared.bn_axis(), name=bn_name + "2c")(x)


def identity_block(input_tensor, kernel_size, filters, stage, block):
    """The block whose shortcut is the input itself (keras-applications' ``identity_block``)."""
    x = _main_path(input_tensor, kernel_size, filters, stage, block, strides=(1, 1))
    x = layers.add([x, input_tensor])
    return layers.Activation("relu")(x)


def conv_block(input_tensor, kernel_size, filters, stage, block, strides=(2, 2)):
    """The block whose shortcut is a strided 1x1 convolution (``res{stage}{block}_branch1``)."""
    x = _main_path(input_tensor, kernel_size, filters, stage, block, strides=strides)
    shortcut = layers.Conv2D(filters[2], (1, 1), strides=strides, kernel_initializer="he_normal",
                             name=f"res{stage}{block}_branch1")(input_tensor)
    shortcut = layers.BatchNormalization(axis=_shared.bn_axis(), name=f"bn{stage}{block}_branch1")(shortcut)
    x = layers.add([x, shortcut])
    return layers.Activation("relu")(x)


def _stem(img_input):
    x = layers.ZeroPadding2D(padding=(3, 3), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), padding="valid", kernel_initializer="he_normal",
                      name="conv1")(x)
    x = layers.BatchNormalization(axis=_shared.bn_axis(), name="bn_conv1")(x)
    x = layers.Activation("relu")(x)
    x = layers.ZeroPadding2D(padding=(1, 1), name="pool1_pad")(x)
    return layers.MaxPooling2D((3, 3), strides=(2, 2))(x)


def _head(x, include_top, pooling, classes):
    if include_top:
        return _shared.average_pool_top(x, classes, "fc1000")
    if pooling not in ("avg", "max"):
        warnings.warn("The output shape of `ResNet50(include_top=False)` has been changed since Keras 2.2.0.")
    return _shared.pooling_head(x, pooling)


@_shared.documented(top="the fully-connected layer (``fc1000``)", default_size=224, min_size=32)
def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
             classes=1000, **kwargs):
    _shared.check_arguments(weights, include_top, classes, kwargs)
    input_shape = _obtain_input_shape(input_shape, default_size=224, min_size=32,
                                      data_format=config.image_data_format(), require_flatten=include_top,
                                      weights=weights)
    img_input = _shared.image_input(input_tensor, input_shape)
    x = _stem(img_input)
    for stage, filters, blocks, strides in RESNET50_STAGES:
        x = conv_block(x, 3, filters, stage=stage, block=blocks[0], strides=strides)
        for block in blocks[1:]:
            x = identity_block(x, 3, filters, stage=stage, block=block)
    x = _head(x, include_top, pooling, classes)
    model = _shared.finish_model(img_input, input_tensor, x, "resnet50")
    files = {True: ("resnet50_weights_tf_dim_ordering_tf_kernels.h5", WEIGHTS_PATH,
                    {"md5_hash": WEIGHTS_HASH}),
             False: ("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", WEIGHTS_PATH_NO_TOP,
                     {"md5_hash": WEIGHTS_HASH_NO_TOP})}
    _shared.load_weights(model, weights, include_top, files)
    return model
