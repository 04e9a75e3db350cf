"""The frame keras-applications 1.0.8's Xception, InceptionV3 and InceptionResNetV2 share around their
feature extractors: argument checks, ``_obtain_input_shape`` (299x299 by default), the input, the classifier
(``avg_pool`` + softmax ``predictions``) or the ``pooling`` head, the ``Model`` and its weights."""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared
from kerasish.applications.imagenet_utils import _obtain_input_shape
from kerasish.backend import config


def build(features, name, min_size, weight_files, include_top, weights, input_tensor, input_shape, pooling,
          classes, kwargs):
    """``features(img_input)`` -> the last feature map; ``weight_files`` as ``_shared.load_weights`` takes it."""
    _shared.check_arguments(weights, include_top, classes, kwargs)
    input_shape = _obtain_input_shape(input_shape, default_size=299, min_size=min_size,
                                      data_format=config.image_data_format(), require_flatten=include_top,
                                      weights=weights)
    img_input = _shared.image_input(input_tensor, input_shape)
    x = features(img_input)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    else:
        x = _shared.pooling_head(x, pooling)
    model = _shared.finish_model(img_input, input_tensor, x, name)
    _shared.load_weights(model, weights, include_top, weight_files)
    return model
