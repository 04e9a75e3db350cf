"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., ECCV 2016, pre-activation): Keras 2.3.1's
``keras/applications/resnet_v2.py``, which builds keras-applications 1.0.8's ``resnet_common`` models (see
``_resnet_common``). ``preprocess_input`` uses mode ``'tf'`` ([-1, 1])."""
from __future__ import annotations

from kerasish.applications import _resnet_common, _shared, imagenet_utils
from kerasish.applications.imagenet_utils import decode_predictions

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input", "decode_predictions"]

_TOP = "the fully-connected layer (``probs``)"  # what include_top adds


def preprocess_input(x, **kwargs):
    """Scales RGB values in [0, 255] to [-1, 1] (imagenet_utils mode ``'tf'``)."""
    return imagenet_utils.preprocess_input(x, mode="tf", **kwargs)


@_shared.documented(_TOP, default_size=224, min_size=32)
def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
               pooling=None, classes=1000, **kwargs):
    return _resnet_common.build(50, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


@_shared.documented(_TOP, default_size=224, min_size=32)
def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    return _resnet_common.build(101, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


@_shared.documented(_TOP, default_size=224, min_size=32)
def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    return _resnet_common.build(152, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)
