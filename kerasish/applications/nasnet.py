"""NASNet-A (Zoph et al., CVPR 2018): Keras 2.3.1's ``keras/applications/nasnet.py``, which builds
keras-applications 1.0.8's ``nasnet.NASNet``: a strided 3x3 stem (``stem_conv1``, ``stem_bn1``), two stem
reduction cells (``*_stem_1``, ``*_stem_2``), then three stacks of ``num_blocks`` normal cells separated by
reduction cells (``reduce_{n}``, ``reduce_{2n}``), a ReLU and the ``predictions`` Dense layer, so Keras's weight
files load. Each cell first adjusts the previous cell's output ``p`` to the current input's size and width
(``adjust_*``), then adds pairs of branches (separable convolution blocks ``separable_conv_{1,2}_*``, poolings,
identities) and concatenates the sums. BatchNormalization uses momentum 0.9997 and epsilon 1e-3 as Keras's
does; ``preprocess_input`` uses mode ``'tf'`` ([-1, 1]).

Layers keras-applications leaves unnamed (the ReLUs before each convolution, the shift of the adjust path's
second branch, some adds and concatenations) are created in Keras's order, so they get Keras's automatic names
too. NASNet exists only in ``'channels_last'``: with ``'channels_first'`` configured it warns and builds
channels-last, as Keras does (the configured format is restored afterwards, even when building fails)."""
from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import _obtain_input_shape, decode_predictions
from kerasish.applications.mobilenet_v2 import correct_pad
from kerasish.backend import config, int_shape

__all__ = ["NASNet", "NASNetMobile", "NASNetLarge", "preprocess_input", "decode_predictions",
           "BASE_WEIGHTS_PATH", "NASNET_MOBILE_WEIGHT_PATH", "NASNET_MOBILE_WEIGHT_PATH_NO_TOP",
           "NASNET_LARGE_WEIGHT_PATH", "NASNET_LARGE_WEIGHT_PATH_NO_TOP"]

BASE_WEIGHTS_PATH = "https://github.com/titu1994/Keras-NASNet/releases/download/v1.2/"
NASNET_MOBILE_WEIGHT_PATH = BASE_WEIGHTS_PATH + "NASNet-mobile.h5"
NASNET_MOBILE_WEIGHT_PATH_NO_TOP = BASE_WEIGHTS_PATH + "NASNet-mobile-no-top.h5"
NASNET_LARGE_WEIGHT_PATH = BASE_WEIGHTS_PATH + "NASNet-large.h5"
NASNET_LARGE_WEIGHT_PATH_NO_TOP = BASE_WEIGHTS_PATH + "NASNet-large-no-top.h5"

# default_size -> include_top -> (file name in the cache, URL, get_file hash keyword): the cached names differ
# from the URLs' as in keras-applications, which passes the hashes as file_hash.
WEIGHT_FILES = {
    224: {True: ("nasnet_mobile.h5", NASNET_MOBILE_WEIGHT_PATH,
                 {"file_hash": "020fb642bf7360b370c678b08e0adf61"}),
          False: ("nasnet_mobile_no_top.h5", NASNET_MOBILE_WEIGHT_PATH_NO_TOP,
                  {"file_hash": "1ed92395b5b598bdda52abe5c0dbfd63"})},
    331: {True: ("nasnet_large.h5", NASNET_LARGE_WEIGHT_PATH,
                 {"file_hash": "11577c9a518f0070763c2b964a382f17"}),
          False: ("nasnet_large_no_top.h5", NASNET_LARGE_WEIGHT_PATH_NO_TOP,
                  {"file_hash": "d81d89dc07e6e56530c4e77faddd61b5"})},
}


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


def _channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _batch_norm(name):
    return layers.BatchNormalization(axis=_channel_axis(), momentum=0.9997, epsilon=1e-3, name=name)


def _conv1x1(filters, name, strides=(1, 1)):
    return layers.Conv2D(filters, (1, 1), strides=strides, padding="same", use_bias=False, name=name,
                         kernel_initializer="he_normal")


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """Twice ReLU - separable convolution - BN; a strided first convolution is padded as TF's 'same'."""
    x = layers.Activation("relu")(ip)
    padding = "same"
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size[0]),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
        padding = "valid"
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}",
                               padding=padding, use_bias=False, kernel_initializer="he_normal")(x)
    x = _batch_norm(f"separable_conv_1_bn_{block_id}")(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same",
                               use_bias=False, kernel_initializer="he_normal")(x)
    return _batch_norm(f"separable_conv_2_bn_{block_id}")(x)


def _halve_previous(p, filters, block_id):
    """``p`` is twice the current size: two 1x1 convolutions of ``filters // 2`` over its even and (shifted by
    one pixel) odd positions, concatenated."""
    p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
    p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
    p1 = _conv1x1(filters // 2, f"adjust_conv_1_{block_id}")(p1)
    p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
    p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
    p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
    p2 = _conv1x1(filters // 2, f"adjust_conv_2_{block_id}")(p2)
    p = layers.concatenate([p1, p2], axis=_channel_axis())
    return _batch_norm(f"adjust_bn_{block_id}")(p)


def _adjust_block(p, ip, filters, block_id=None):
    """The previous cell's output ``p`` (or ``ip`` when there is none) matched to ``ip``'s width (keras-
    applications compares the width axis) and to ``filters`` channels."""
    if p is None:
        return ip
    width_axis = 2 if config.image_data_format() == "channels_first" else -2
    if int_shape(p)[width_axis] != int_shape(ip)[width_axis]:
        return _halve_previous(p, filters, block_id)
    if int_shape(p)[_channel_axis()] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(filters, f"adjust_conv_projection_{block_id}")(p)
        return _batch_norm(f"adjust_bn_{block_id}")(p)
    return p


def _squeeze_input(ip, filters, kind, block_id):
    """ReLU - 1x1 convolution to ``filters`` - BN of the cell's input (``{kind}_conv_1_*``, ``{kind}_bn_1_*``)."""
    h = layers.Activation("relu")(ip)
    h = _conv1x1(filters, f"{kind}_conv_1_{block_id}")(h)
    return _batch_norm(f"{kind}_bn_1_{block_id}")(h)


def _pool3(name, strides=(1, 1), max_pool=False):
    padding = "same" if strides == (1, 1) else "valid"
    pool = layers.MaxPooling2D if max_pool else layers.AveragePooling2D
    return pool((3, 3), strides=strides, padding=padding, name=name)


def _normal_a_cell(ip, p, filters, block_id=None):
    """NASNet-A's normal cell (figure 4 of the paper): five sums of two branches, concatenated with ``p``.
    Returns the cell's output and its input (the next cell's ``p``)."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _squeeze_input(ip, filters, "normal", block_id)
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{block_id}"),
                     _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")],
                    name=f"normal_add_1_{block_id}")
    x2 = layers.add([_separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
                     _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")],
                    name=f"normal_add_2_{block_id}")
    x3 = layers.add([_pool3(f"normal_left3_{block_id}")(h), p], name=f"normal_add_3_{block_id}")
    x4 = layers.add([_pool3(f"normal_left4_{block_id}")(p), _pool3(f"normal_right4_{block_id}")(p)],
                    name=f"normal_add_4_{block_id}")
    x5 = layers.add([_separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}"), h],
                    name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=_channel_axis(), name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    """NASNet-A's reduction cell (figure 4 of the paper): halves the size; four sums concatenated. Returns the
    cell's output and its input."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _squeeze_input(ip, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(padding=correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), (2, 2), f"reduction_left1_{block_id}"),
                     _separable_conv_block(p, filters, (7, 7), (2, 2), f"reduction_right1_{block_id}")],
                    name=f"reduction_add_1_{block_id}")
    x2 = layers.add([_pool3(f"reduction_left2_{block_id}", (2, 2), max_pool=True)(h3),
                     _separable_conv_block(p, filters, (7, 7), (2, 2), f"reduction_right2_{block_id}")],
                    name=f"reduction_add_2_{block_id}")
    x3 = layers.add([_pool3(f"reduction_left3_{block_id}", (2, 2))(h3),
                     _separable_conv_block(p, filters, (5, 5), (2, 2), f"reduction_right3_{block_id}")],
                    name=f"reduction_add3_{block_id}")
    x4 = layers.add([x2, _pool3(f"reduction_left4_{block_id}")(x1)])
    # keras-applications reuses the "reduction_left4" label for this block's separable convolutions
    x5 = layers.add([_separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}"),
                     _pool3(f"reduction_right5_{block_id}", (2, 2), max_pool=True)(h3)],
                    name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=_channel_axis(), name=f"reduction_concat_{block_id}")
    return x, ip


def _features(img_input, penultimate_filters, num_blocks, stem_block_filters, skip_reduction, filter_multiplier):
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                      name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _batch_norm("stem_bn1")(x)
    x, p = _reduction_a_cell(x, None, filters // (filter_multiplier ** 2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        if stack:
            # after a reduction, the next cell's p is the reduction's input, or with skip_reduction the p
            # that reduction was given
            x, p_reduced = _reduction_a_cell(x, p, filters * filter_multiplier ** stack,
                                             block_id=f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p_reduced
        for i in range(num_blocks):
            # Keras numbers the normal cells 0..n-1, n+1..2n, 2n+1..3n (n and 2n are the reductions)
            x, p = _normal_a_cell(x, p, filters * filter_multiplier ** stack,
                                  block_id=str(stack * num_blocks + i + (1 if stack else 0)))
    return layers.Activation("relu")(x)


def _check_nasnet_arguments(input_shape, weights, default_size, penultimate_filters, filter_multiplier):
    """keras-applications' NASNet checks, in its wording; the last two it makes after building."""
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
                         "input_shape argument must be static (no None entries). Got: `input_shape="
                         + str(input_shape) + "`.")
    if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
                         "(`filter_multiplier` ** 2). Current value: %d" % penultimate_filters)
    if weights == "imagenet" and default_size not in WEIGHT_FILES:
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")


def NASNet(input_shape=None, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,  # noqa: N802
           skip_reduction=True, filter_multiplier=2, include_top=True, weights=None, input_tensor=None,
           pooling=None, classes=1000, default_size=None, **kwargs):
    """Instantiates a NASNet-A model (keras-applications 1.0.8 signature; Keras's notation NASNet (N @ P) is
    ``num_blocks`` @ ``penultimate_filters``).

    Arguments:
        input_shape: optional; ``(default_size, default_size, 3)`` by default. The input size rules are those
            of a model with its top even with ``include_top=False`` (as in Keras): any static shape of 3
            channels and at least 32x32, except the default one with ImageNet weights.
        penultimate_filters: filters of the penultimate layer; a multiple of ``24 * filter_multiplier ** 2``.
        num_blocks: normal cells in each of the three stacks.
        stem_block_filters: filters of the stem convolution.
        skip_reduction: whether the cell after a reduction cell takes the reduction's own previous input as
            ``p`` (``True``) or the reduction's input (``False``).
        filter_multiplier: width growth from one stack to the next.
        include_top: whether to include the fully-connected layer (``predictions``) at the top.
        weights: ``None`` (random initialization), ``'imagenet'`` (Keras's file for ``default_size`` 224 or
            331, fetched with ``get_file`` into ``~/.keras/models``), or the path to a Keras weights file.
        input_tensor: optional Keras tensor (e.g. another model's output) to use as image input.
        pooling: with ``include_top=False``: ``None`` (4D output), ``'avg'`` or ``'max'`` (global pooling).
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        default_size: the default input size (331 when ``None``); 224 and 331 select the ImageNet files.

    Returns:
        A functional ``Model`` named ``'NASNet'``.
    """
    _shared.check_arguments(weights, include_top, classes, kwargs)
    default_size = 331 if default_size is None else default_size
    _check_nasnet_arguments(input_shape, weights, default_size, penultimate_filters, filter_multiplier)
    # keras-applications applies the size rules of a model with its top whatever include_top is
    input_shape = _obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                      data_format=config.image_data_format(), require_flatten=True,
                                      weights=weights)
    if weights == "imagenet":  # fetched before building, so that offline it fails at once
        weights = _shared.imagenet_file(include_top, WEIGHT_FILES[default_size])
    old_data_format = _switch_to_channels_last()
    try:
        img_input = _shared.image_input(input_tensor, input_shape)
        x = _features(img_input, penultimate_filters, num_blocks, stem_block_filters, skip_reduction,
                      filter_multiplier)
        if include_top:
            x = layers.GlobalAveragePooling2D()(x)
            x = layers.Dense(classes, activation="softmax", name="predictions")(x)
        else:
            x = _shared.pooling_head(x, pooling)
        model = _shared.finish_model(img_input, input_tensor, x, "NASNet")
        _shared.load_weights(model, weights, include_top, None)
    finally:
        config.set_image_data_format(old_data_format)
    return model


def _switch_to_channels_last() -> str:
    """Keras's warning when ``'channels_first'`` is configured; returns the format to restore."""
    old_data_format = config.image_data_format()
    if old_data_format != "channels_last":
        warnings.warn('The NASNet family of models is only available for the input data format "channels_last" '
                      '(width, height, channels). However your settings specify the default data format '
                      '"channels_first" (channels, width, height). You should set '
                      '`image_data_format="channels_last"` in your Keras config located at ~/.keras/keras.json. '
                      'The model being returned right now will expect inputs to follow the "channels_last" '
                      'data format.', stacklevel=3)
        config.set_image_data_format("channels_last")
    return old_data_format


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None,  # noqa: N802
                classes=1000, **kwargs):
    """NASNet-A (6 @ 4032), 331x331 by default (see ``NASNet`` for the arguments)."""
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=331, **kwargs)


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None,  # noqa: N802
                 classes=1000, **kwargs):
    """NASNet-A (4 @ 1056), 224x224 by default (see ``NASNet`` for the arguments)."""
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=224, **kwargs)
