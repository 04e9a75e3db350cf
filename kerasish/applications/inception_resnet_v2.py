"""InceptionResNetV2 (Szegedy et al., AAAI 2017): Keras 2.3.1's ``keras/applications/inception_resnet_v2.py``,
which builds keras-applications 1.0.8's ``inception_resnet_v2.InceptionResNetV2``: the Inception stem and
``mixed_5b``, 10 ``block35`` residual blocks (scale 0.17), the ``mixed_6a`` reduction, 20 ``block17`` blocks
(scale 0.1), the ``mixed_7a`` reduction, 10 ``block8`` blocks (scale 0.2; the last one 1.0 and without relu),
and ``conv_7b``. Each residual block concatenates its branches (``{block}_mixed``), projects them back with a
biased 1x1 convolution (``{block}_conv``), and adds ``scale`` times that to its input in a ``Lambda`` layer
named ``{block}`` (``arguments={'scale': scale}``, as Keras's config has it), then relu (``{block}_ac``).
Unnamed layers carry Keras's automatic names, created in keras-applications' order so they and Keras's weight
files (loaded by layer order) match. ``preprocess_input`` uses mode ``'tf'``.

kerasish never stores or runs code from a file, so a whole saved model (``model.save``, ``to_json``) is loaded
back with the Lambda function passed in: ``custom_objects={'scaled_residual': scaled_residual}`` (Keras's own
files hold it as bytecode: pass it keyed by each Lambda layer's name instead)."""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import decode_predictions
from kerasish.backend import int_shape

__all__ = ["InceptionResNetV2", "conv2d_bn", "inception_resnet_block", "scaled_residual", "preprocess_input",
           "decode_predictions", "BASE_WEIGHT_URL"]

BASE_WEIGHT_URL = "https://github.com/fchollet/deep-learning-models/releases/download/v0.7/"
_TOP_FILE = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"
_NOTOP_FILE = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHT_FILES = {True: (_TOP_FILE, BASE_WEIGHT_URL + _TOP_FILE, {"file_hash": "e693bd0210a403b3192acc6073ad2e96"}),
                False: (_NOTOP_FILE, BASE_WEIGHT_URL + _NOTOP_FILE,
                        {"file_hash": "d19885ff4a710c122648d3b5c3b684e4"})}

# the branches of each residual block type: one tuple of (filters, kernel_size) convolutions per branch
BLOCK_BRANCHES = {
    "block35": (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3))),
    "block17": (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1)))),
    "block8": (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1)))),
}


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    """Convolution, then (without bias) BatchNormalization without scale, then ``activation``; with ``name``,
    the layers are ``{name}``, ``{name}_bn`` and ``{name}_ac``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=_shared.bn_axis(), scale=False,
                                      name=None if name is None else name + "_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else name + "_ac")(x)
    return x


def scaled_residual(inputs, scale):
    """The residual blocks' Lambda: ``inputs[0] + scale * inputs[1]`` (block input + scaled projection)."""
    return inputs[0] + inputs[1] * scale


def _branch(x, convolutions):
    for filters, kernel_size in convolutions:
        x = conv2d_bn(x, filters, kernel_size)
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """One residual Inception block of type ``'block35'``, ``'block17'`` or ``'block8'`` (keras-applications'
    names and error)."""
    if block_type not in BLOCK_BRANCHES:
        raise ValueError('Unknown Inception-ResNet block type. Expects "block35", "block17" or "block8", '
                         "but got: " + str(block_type))
    branches = [_branch(x, convolutions) for convolutions in BLOCK_BRANCHES[block_type]]
    block_name = f"{block_type}_{block_idx}"
    channel_axis = _shared.bn_axis()
    mixed = layers.Concatenate(axis=channel_axis, name=block_name + "_mixed")(branches)
    up = conv2d_bn(mixed, int_shape(x)[channel_axis], 1, activation=None, use_bias=True, name=block_name + "_conv")
    x = layers.Lambda(scaled_residual, output_shape=int_shape(x)[1:], arguments={"scale": scale},
                      name=block_name)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=block_name + "_ac")(x)
    return x


def _stem(img_input):
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    branches = [_branch(x, ((96, 1),)), _branch(x, ((48, 1), (64, 5))), _branch(x, ((64, 1), (96, 3), (96, 3)))]
    branch_pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    branches.append(conv2d_bn(branch_pool, 64, 1))
    return layers.Concatenate(axis=_shared.bn_axis(), name="mixed_5b")(branches)


def _reduction(x, branch_convolutions, name):
    """Branches each ending in a strided 'valid' 3x3 convolution, and a strided max pooling, concatenated."""
    branches = []
    for convolutions in branch_convolutions:
        y = _branch(x, convolutions[:-1])
        branches.append(conv2d_bn(y, convolutions[-1], 3, strides=2, padding="valid"))
    branches.append(layers.MaxPooling2D(3, strides=2, padding="valid")(x))
    return layers.Concatenate(axis=_shared.bn_axis(), name=name)(branches)


def _features(img_input):
    x = _stem(img_input)
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)
    x = _reduction(x, ((384,), ((256, 1), (256, 3), 384)), "mixed_6a")
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)
    x = _reduction(x, (((256, 1), 384), ((256, 1), 288), ((256, 1), (288, 3), 320)), "mixed_7a")
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)
    return conv2d_bn(x, 1536, 1, name="conv_7b")


@_shared.documented(top="the fully-connected layer (``predictions``)", default_size=299,
                  min_size=75, model_name="inception_resnet_v2")
def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                      pooling=None, classes=1000, **kwargs):
    return _shared.build_model("inception_resnet_v2", _features, _shared.average_pool_top, WEIGHT_FILES, default_size=299,
                               min_size=75, include_top=include_top, weights=weights, input_tensor=input_tensor,
                               input_shape=input_shape, pooling=pooling, classes=classes, kwargs=kwargs)
