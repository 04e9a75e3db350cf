"""``keras.preprocessing.image``: ImageDataGenerator, its iterators and the image helpers of Keras 2.3.1.

Layout: ``params.py`` draws random transform parameters for a batch; ``kernels.py`` holds the batched torch
kernels (matrices, the one resample per batch, channel shift, brightness, standardisation); ``generator.py``
is ``ImageDataGenerator``; ``iterators.py`` the ``Sequence`` iterators that feed it; ``utils.py`` image files
and the single-image NumPy functions.
"""
from kerasish.preprocessing.image.generator import ImageDataGenerator
from kerasish.preprocessing.image.iterators import (DataFrameIterator, DirectoryIterator, Iterator,
                                                    NumpyArrayIterator)
from kerasish.preprocessing.image.utils import (apply_affine_transform, apply_brightness_shift, apply_channel_shift,
                                                array_to_img, img_to_array, load_img, random_brightness,
                                                random_channel_shift, random_rotation, random_shear, random_shift,
                                                random_zoom, save_img)

__all__ = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator", "DataFrameIterator",
           "load_img", "img_to_array", "array_to_img", "save_img", "apply_affine_transform", "random_rotation",
           "random_shift", "random_shear", "random_zoom", "apply_channel_shift", "random_channel_shift",
           "apply_brightness_shift", "random_brightness"]
