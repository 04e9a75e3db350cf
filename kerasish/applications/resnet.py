"""ResNet50, ResNet101 and ResNet152 (He et al., CVPR 2016): Keras 2.3.1's ``keras/applications/resnet.py``,
which builds keras-applications 1.0.8's ``resnet_common`` models (see ``_resnet_common``). This ``ResNet50`` is
that module's, with ``conv{stage}_block{i}_*`` layer names and the keras-applications release's weight file
``resnet50_weights_tf_dim_ordering_tf_kernels.h5``, not ``keras.applications.resnet50.ResNet50``
(``res2a_branch2a`` names, fchollet's file of the same name, another URL). ``preprocess_input`` uses mode ``'caffe'``."""
from __future__ import annotations

from kerasish.applications import _resnet_common, imagenet_utils
from kerasish.applications.imagenet_utils import decode_predictions

__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input", "decode_predictions"]

_ARGUMENTS_DOC = """

    Arguments:
        include_top: whether to include the fully-connected layer (``probs``) at the top.
        weights: ``None`` (random initialization), ``'imagenet'`` (Keras's pre-trained file, fetched with
            ``get_file`` into ``~/.keras/models``), or the path to a Keras weights file to load.
        input_tensor: optional Keras tensor (e.g. another model's output) to use as image input.
        input_shape: only with ``include_top=False`` (else ``(224, 224, 3)``); 3 channels, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (4D output), ``'avg'`` or ``'max'`` (global pooling).
        classes: number of classes, only with ``include_top=True`` and no ``weights``.

    Returns:
        A functional ``Model`` named after the architecture (``'resnet101'`` ...).
    """


def preprocess_input(x, **kwargs):
    """Converts RGB values in [0, 255] to BGR minus the ImageNet means (imagenet_utils mode ``'caffe'``)."""
    return imagenet_utils.preprocess_input(x, mode="caffe", **kwargs)


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
             classes=1000, **kwargs):
    return _resnet_common.build(50, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
              classes=1000, **kwargs):
    return _resnet_common.build(101, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
              classes=1000, **kwargs):
    return _resnet_common.build(152, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                                kwargs)


ResNet50.__doc__ = "Instantiates the ResNet50 architecture (Keras 2.3.1 signature)." + _ARGUMENTS_DOC
ResNet101.__doc__ = "Instantiates the ResNet101 architecture (Keras 2.3.1 signature)." + _ARGUMENTS_DOC
ResNet152.__doc__ = "Instantiates the ResNet152 architecture (Keras 2.3.1 signature)." + _ARGUMENTS_DOC
