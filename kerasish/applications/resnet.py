"""ResNet50, ResNet101 and ResNet152 (He et al., CVPR 2016): Keras 2.3.1's ``keras/applications/resnet.py``,
which builds keras-applications 1.0.8's ``resnet_common`` models (see ``_resnet_common``). This ``ResNet50`` is
that module's, with ``conv{stage}_block{i}_*`` layer names and the keras-applications release's weight file
``resnet50_weights_tf_dim_ordering_tf_kernels.h5``, not ``keras.applications.resnet50.ResNet50``
(``res2a_branch2a`` names, fchollet's file of the same name, another URL). ``preprocess_input`` uses mode ``'caffe'``."""
from __future__ import annotations

from kerasish.applications import _resnet_common, _shared, imagenet_utils
from kerasish.applications.imagenet_utils import decode_predictions

__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input", "decode_predictions"]

_TOP = "the fully-connected layer (``probs``)"  # what include_top adds


def preprocess_input(x, **kwargs):
    """Converts RGB values in [0, 255] to BGR minus the ImageNet means (imagenet_utils mode ``'caffe'``)."""
    return imagenet_utils.preprocess_input(x, mode="caffe", **kwargs)


@_shared.documented(_TOP, default_size=224, min_size=32)
def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
             classes=1000, **kwargs):
    return _resnet_common.build(50, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


@_shared.documented(_TOP, default_size=224, min_size=32)
def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
              classes=1000, **kwargs):
    return _resnet_common.build(101, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


@_shared.documented(_TOP, default_size=224, min_size=32)
def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
              classes=1000, **kwargs):
    return _resnet_common.build(152, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)
