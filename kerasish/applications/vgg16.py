"""VGG16 (Simonyan & Zisserman, ICLR 2015): Keras 2.3.1's ``keras/applications/vgg16.py``, which builds
keras-applications 1.0.8's ``vgg16.VGG16``; the same layer names, so Keras's weight files load."""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared
from kerasish.applications.imagenet_utils import decode_predictions, preprocess_input

__all__ = ["VGG16", "preprocess_input", "decode_predictions", "WEIGHTS_PATH", "WEIGHTS_PATH_NO_TOP"]

WEIGHTS_PATH = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.1/"
                "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.1/"
                       "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASH = "64373286793e3c8b2b4e3219cbf3544b"
WEIGHTS_HASH_NO_TOP = "6d6bbae143d832006294945121d1f1fc"

# (filters, convolutions) per block
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def vgg_features(x, blocks):
    """The convolution blocks: 3x3 same-padded ReLU convolutions, then a 2x2 max pooling, named as Keras's."""
    for block, (filters, convolutions) in enumerate(blocks, start=1):
        for conv in range(1, convolutions + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    return x


def vgg_top(x, classes):
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    return layers.Dense(classes, activation="softmax", name="predictions")(x)


def build_vgg(name, blocks, files, include_top, weights, input_tensor, input_shape, pooling, classes, kwargs):
    """VGG16 and VGG19 differ only in their blocks, name and weight files."""
    return _shared.build_model(name, lambda img_input: vgg_features(img_input, blocks), vgg_top, files,
                               default_size=224, min_size=32, include_top=include_top, weights=weights,
                               input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                               classes=classes, kwargs=kwargs)


@_shared.documented(top="the 3 fully-connected layers", default_size=224, min_size=32)
def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
          classes=1000, **kwargs):
    files = {True: ("vgg16_weights_tf_dim_ordering_tf_kernels.h5", WEIGHTS_PATH, {"file_hash": WEIGHTS_HASH}),
             False: ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", WEIGHTS_PATH_NO_TOP,
                     {"file_hash": WEIGHTS_HASH_NO_TOP})}
    return build_vgg("vgg16", VGG16_BLOCKS, files, include_top, weights, input_tensor, input_shape, pooling,
                     classes, kwargs)
