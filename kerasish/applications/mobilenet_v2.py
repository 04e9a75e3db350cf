"""MobileNetV2 (Sandler et al., CVPR 2018): Keras 2.3.1's ``keras/applications/mobilenet_v2.py``, which builds
keras-applications 1.0.8's ``mobilenet_v2.MobileNetV2``: a strided stem (``Conv1``, ``bn_Conv1``,
``Conv1_relu``), 17 inverted residual blocks (``expanded_conv_*`` for the first, ``block_{i}_expand`` /
``_depthwise`` / ``_project`` with ``_BN`` and ``_relu`` for the others, ``block_{i}_add`` where the shortcut
fits), ``Conv_1``/``Conv_1_bn``/``out_relu`` and the ``Logits`` Dense layer, so Keras's weight files (one per
``alpha`` and input size) load. BatchNormalization uses epsilon 1e-3 and momentum 0.999 as Keras's does;
``preprocess_input`` uses mode ``'tf'`` ([-1, 1])."""
from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import _obtain_input_shape, decode_predictions
from kerasish.backend import config
from kerasish.backend import int_shape
from kerasish.layers.keras_tensor import is_keras_tensor

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions", "BASE_WEIGHT_PATH"]

BASE_WEIGHT_PATH = "https://github.com/JonathanCMitchell/mobilenet_v2_keras/releases/download/v1.1/"

IMAGENET_ROWS = (96, 128, 160, 192, 224)
IMAGENET_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)

# (filters, stride, expansion) of blocks 0..16
MOBILENET_V2_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
                       (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6),
                       (160, 1, 6), (160, 1, 6), (320, 1, 6))


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


def _make_divisible(v, divisor, min_value=None):
    """The nearest multiple of ``divisor`` (at least ``min_value``), never more than 10% below ``v``."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def correct_pad(inputs, kernel_size):
    """keras-applications' ``correct_pad``: padding before a strided 'valid' convolution that puts TF's
    'same' padding on the bottom/right (one less on top/left for even sizes)."""
    first = 2 if config.image_data_format() == "channels_first" else 1
    size = int_shape(inputs)[first:first + 2]
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = kernel_size // 2
    return (half - adjust[0], half), (half - adjust[1], half)


def batch_norm(name):
    return layers.BatchNormalization(axis=channel_axis(), epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """1x1 expansion (not in block 0), 3x3 depthwise, linear 1x1 projection; the input added back when the
    shapes match."""
    in_channels = int_shape(inputs)[channel_axis()]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                          activation=None, name=prefix + "expand")(x)
        x = batch_norm(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = batch_norm(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=prefix + "project")(x)
    x = batch_norm(prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


def _square_published_size(rows, cols) -> int:
    return rows if rows == cols and rows in IMAGENET_ROWS else 224


def default_size_for(input_shape, input_tensor) -> int:
    """keras-applications' default size: from ``input_shape``, else from ``input_tensor``'s shape, when square
    and one of the published sizes; it first checks that the two agree (its check compares the width axis of
    a channels-last tensor with ``input_shape[1]`` whatever the data format, since it compares the function
    ``image_data_format`` itself with a string)."""
    first = 1 if config.image_data_format() == "channels_first" else 0
    if input_shape is not None and input_tensor is not None:
        if not is_keras_tensor(input_tensor):
            raise ValueError("input_tensor specified: ", input_tensor, "is not a keras tensor")
        if int_shape(input_tensor)[2] != input_shape[1]:
            raise ValueError("input_shape: ", input_shape, "and input_tensor: ", input_tensor,
                             "do not meet the same shape requirements")
    if input_shape is not None:
        return _square_published_size(input_shape[first], input_shape[first + 1])
    if input_tensor is not None and is_keras_tensor(input_tensor):
        shape = int_shape(input_tensor)
        return _square_published_size(shape[first + 1], shape[first + 2])
    return 224


def imagenet_rows(weights, alpha, rows, cols):
    """keras-applications' checks of ``weights='imagenet'`` (its wording), and the size of the file to load."""
    if weights != "imagenet":
        return rows
    if alpha not in IMAGENET_ALPHAS:
        raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.35`, `0.50`, `0.75`, "
                         "`1.0`, `1.3` or `1.4` only.")
    if rows != cols or rows not in IMAGENET_ROWS:
        warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, 192, 224]. "
                      "Weights for input shape (224, 224) will be loaded as the default.")
        return 224
    return rows


def _features(img_input, alpha):
    x = layers.ZeroPadding2D(padding=correct_pad(img_input, 3), name="Conv1_pad")(img_input)
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="valid",
                      use_bias=False, name="Conv1")(x)
    x = batch_norm("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(MOBILENET_V2_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion,
                                block_id=block_id)
    # Keras widens the last convolution only for alpha > 1.
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = batch_norm("Conv_1_bn")(x)
    return layers.ReLU(6.0, name="out_relu")(x)


def weight_files(alpha, rows):
    """Keras's file per ``include_top``, width (``str(alpha)``) and size; keras-applications gives no hash."""
    stem = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}"
    return {True: (stem + ".h5", BASE_WEIGHT_PATH + stem + ".h5", {}),
            False: (stem + "_no_top.h5", BASE_WEIGHT_PATH + stem + "_no_top.h5", {})}


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    """Instantiates the MobileNetV2 architecture (Keras 2.3.1 signature).

    Arguments:
        input_shape: only with ``include_top=False`` (else ``(224, 224, 3)``, or a square size in
            96/128/160/192/224); 3 channels, at least 32x32.
        alpha: width multiplier (ImageNet weights: 0.35, 0.5, 0.75, 1.0, 1.3, 1.4).
        include_top: whether to include the classifier (``Logits``) at the top.
        weights: ``None``, ``'imagenet'`` (Keras's file for ``alpha`` and the input size, fetched with
            ``get_file`` into ``~/.keras/models``), or the path to a Keras weights file to load.
        input_tensor: optional Keras tensor (e.g. another model's output) to use as image input.
        pooling: with ``include_top=False``: ``None`` (4D output), ``'avg'`` or ``'max'``.
        classes: number of classes, only with ``include_top=True`` and no ``weights``.

    Returns:
        A functional ``Model`` named ``'mobilenetv2_{alpha:.2f}_{rows}'``.
    """
    _shared.check_arguments(weights, include_top, classes, kwargs)
    input_shape = _obtain_input_shape(input_shape, default_size=default_size_for(input_shape, input_tensor),
                                      min_size=32, data_format=config.image_data_format(),
                                      require_flatten=include_top, weights=weights)
    row_axis = 1 if config.image_data_format() == "channels_first" else 0
    rows = imagenet_rows(weights, alpha, input_shape[row_axis], input_shape[row_axis + 1])
    img_input = _shared.image_input(input_tensor, input_shape)
    x = _features(img_input, alpha)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation="softmax", use_bias=True, name="Logits")(x)
    else:
        x = _shared.pooling_head(x, pooling)
    model = _shared.finish_model(img_input, input_tensor, x, "mobilenetv2_%0.2f_%s" % (alpha, rows))
    _shared.load_weights(model, weights, include_top, weight_files(alpha, rows))
    return model
