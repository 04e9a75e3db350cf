"""VGG19: Keras 2.3.1's ``keras/applications/vgg19.py`` (keras-applications 1.0.8 ``vgg19.VGG19``): VGG16 with
a fourth convolution in blocks 3 to 5 (``block3_conv4`` ...)."""
from __future__ import annotations

from kerasish.applications.imagenet_utils import decode_predictions, preprocess_input
from kerasish.applications.vgg16 import build_vgg

__all__ = ["VGG19", "preprocess_input", "decode_predictions", "WEIGHTS_PATH", "WEIGHTS_PATH_NO_TOP"]

WEIGHTS_PATH = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.1/"
                "vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://github.com/fchollet/deep-learning-models/releases/download/v0.1/"
                       "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASH = "cbe5617147190e668d6c5d5026f83318"
WEIGHTS_HASH_NO_TOP = "253f8cb515780f3b799900260a226db6"

VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
          classes=1000, **kwargs):
    """Instantiates the VGG19 architecture (Keras 2.3.1 signature; arguments as ``VGG16``'s).

    Returns:
        A functional ``Model`` named ``'vgg19'``.
    """
    files = {True: ("vgg19_weights_tf_dim_ordering_tf_kernels.h5", WEIGHTS_PATH, {"file_hash": WEIGHTS_HASH}),
             False: ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", WEIGHTS_PATH_NO_TOP,
                     {"file_hash": WEIGHTS_HASH_NO_TOP})}
    return build_vgg("vgg19", VGG19_BLOCKS, files, include_top, weights, input_tensor, input_shape, pooling,
                     classes, kwargs)
