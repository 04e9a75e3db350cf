"""MobileNet (Howard et al., 2017): Keras 2.3.1's ``keras/applications/mobilenet.py``, which builds
keras-applications 1.0.8's ``mobilenet.MobileNet``: a strided 3x3 stem (``conv1``, ``conv1_bn``,
``conv1_relu``), then 13 depthwise-separable blocks named ``conv_dw_{i}`` / ``conv_pw_{i}`` with their
``_bn`` and ``_relu`` (ReLU capped at 6) layers, and a 1x1-convolution classifier (``conv_preds``), so Keras's
weight files (one per ``alpha`` and input size) load. ``preprocess_input`` uses mode ``'tf'`` ([-1, 1])."""
from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import _obtain_input_shape, decode_predictions
from kerasish.backend import config

__all__ = ["MobileNet", "preprocess_input", "decode_predictions", "BASE_WEIGHT_PATH"]

BASE_WEIGHT_PATH = "https://github.com/fchollet/deep-learning-models/releases/download/v0.6/"

# Input sizes and widths Keras publishes ImageNet weights for, and the width's text in the file name.
IMAGENET_ROWS = (128, 160, 192, 224)
ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}

# (pointwise filters, strides) of blocks 1..13
MOBILENET_BLOCKS = ((64, (1, 1)), (128, (2, 2)), (128, (1, 1)), (256, (2, 2)), (256, (1, 1)),
                    (512, (2, 2)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)),
                    (1024, (2, 2)), (1024, (1, 1)))


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


def channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The stem: bottom/right zero padding, a bias-free strided convolution, BatchNormalization, ReLU6."""
    x = layers.ZeroPadding2D(padding=((0, 1), (0, 1)), name="conv1_pad")(inputs)
    x = layers.Conv2D(int(filters * alpha), kernel, padding="valid", use_bias=False, strides=strides,
                      name="conv1")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1, strides=(1, 1),
                          block_id=1):
    """Depthwise 3x3 (strided ones pad bottom/right then use 'valid', as Keras does for TF-equal outputs),
    BatchNormalization, ReLU6, then pointwise 1x1, BatchNormalization, ReLU6."""
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False,
                      strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def default_size_for(input_shape) -> int:
    """Keras takes the given size as the default when it is square and one of the published sizes."""
    if input_shape is None:
        return 224
    rows, cols = (input_shape[1], input_shape[2]) if config.image_data_format() == "channels_first" \
        else (input_shape[0], input_shape[1])
    return rows if rows == cols and rows in IMAGENET_ROWS else 224


def imagenet_rows(weights, alpha, depth_multiplier, rows, cols):
    """keras-applications' checks of ``weights='imagenet'`` (its wording), and the size of the file to load."""
    if weights != "imagenet":
        return rows
    if depth_multiplier != 1:
        raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1")
    if alpha not in [0.25, 0.50, 0.75, 1.0]:
        raise ValueError("If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or "
                         "`1.0` only.")
    if rows != cols or rows not in IMAGENET_ROWS:
        warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, 224]. "
                      "Weights for input shape (224, 224) will be loaded as the default.")
        return 224
    return rows


def _head(x, include_top, pooling, classes, alpha, dropout):
    """The classifier as a 1x1 convolution over the pooled features (Keras's ``reshape_1`` .. ``act_softmax``)."""
    if not include_top:
        return _shared.pooling_head(x, pooling)
    width = int(1024 * alpha)
    shape = (width, 1, 1) if config.image_data_format() == "channels_first" else (1, 1, width)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Reshape(shape, name="reshape_1")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
    x = layers.Reshape((classes,), name="reshape_2")(x)
    return layers.Activation("softmax", name="act_softmax")(x)


def weight_files(alpha, rows):
    """Keras's file per ``include_top``, width and size (keras-applications gives get_file no hash)."""
    top = f"mobilenet_{ALPHA_TEXT.get(alpha, '2_5')}_{rows}_tf.h5"
    no_top = f"mobilenet_{ALPHA_TEXT.get(alpha, '2_5')}_{rows}_tf_no_top.h5"
    return {True: (top, BASE_WEIGHT_PATH + top, {}), False: (no_top, BASE_WEIGHT_PATH + no_top, {})}


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,  # noqa: N802
              weights="imagenet", input_tensor=None, pooling=None, classes=1000, **kwargs):
    """Instantiates the MobileNet architecture (Keras 2.3.1 signature).

    Arguments:
        input_shape: only with ``include_top=False`` (else ``(224, 224, 3)``, or a square size in
            128/160/192/224); 3 channels, at least 32x32.
        alpha: width multiplier: each layer's filters times ``alpha`` (ImageNet weights: 0.25, 0.5, 0.75, 1.0).
        depth_multiplier: outputs per input channel of the depthwise convolutions (ImageNet weights: 1).
        dropout: rate of the Dropout before the classifier.
        include_top: whether to include the classifier (``conv_preds``) at the top.
        weights: ``None``, ``'imagenet'`` (Keras's file for ``alpha`` and the input size, fetched with
            ``get_file`` into ``~/.keras/models``), or the path to a Keras weights file to load.
        input_tensor: optional Keras tensor (e.g. another model's output) to use as image input.
        pooling: with ``include_top=False``: ``None`` (4D output), ``'avg'`` or ``'max'``.
        classes: number of classes, only with ``include_top=True`` and no ``weights``.

    Returns:
        A functional ``Model`` named ``'mobilenet_{alpha:.2f}_{rows}'``.
    """
    _shared.check_arguments(weights, include_top, classes, kwargs)
    input_shape = _obtain_input_shape(input_shape, default_size=default_size_for(input_shape), min_size=32,
                                      data_format=config.image_data_format(), require_flatten=include_top,
                                      weights=weights)
    row_axis = 1 if config.image_data_format() == "channels_first" else 0
    rows = imagenet_rows(weights, alpha, depth_multiplier, input_shape[row_axis], input_shape[row_axis + 1])
    img_input = _shared.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, strides) in enumerate(MOBILENET_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=strides, block_id=block_id)
    x = _head(x, include_top, pooling, classes, alpha, dropout)
    model = _shared.finish_model(img_input, input_tensor, x, "mobilenet_%0.2f_%s" % (alpha, rows))
    _shared.load_weights(model, weights, include_top, weight_files(alpha, rows))
    return model
