"""Keras 2.3.1's ``keras.utils.conv_utils``: the shape arithmetic of convolutions and the argument checks of
convolutional layers.

The layers own the implementations they use (``layers/convolutional.py``: output lengths of convolutions and
transposed convolutions; ``layers/base.py``: ``normalize_tuple``) and this module re-exports them at Keras's path,
so there is one copy of each rule. What only Keras users call lives here: ``conv_input_length``,
``normalize_padding`` and ``convert_kernel``. ``normalize_data_format`` (in conv_utils up to Keras 2.2, in the
backend since) is the backend's, for older scripts.
"""
from __future__ import annotations

import numpy as np

from kerasish.backend.config import normalize_data_format  # noqa: F401 - Keras 2.2's conv_utils had it
from kerasish.layers.base import normalize_tuple  # noqa: F401 - the layers' copy, at Keras's path
from kerasish.layers.convolutional import conv_output_length, deconv_length  # noqa: F401 - at Keras's path

__all__ = ["normalize_tuple", "normalize_padding", "normalize_data_format", "convert_kernel", "conv_output_length",
           "conv_input_length", "deconv_length"]


def normalize_padding(value) -> str:
    """``'SAME'`` -> ``'same'``; anything but 'valid', 'same' or 'causal' is refused (Keras 2.3.1, whose
    Theano backend also took 'full')."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same", "causal"):
        raise ValueError('The `padding` argument must be one of "valid", "same" (or "causal" for Conv1D). '
                         f"Received: {value}")
    return padding


def conv_input_length(output_length: int | None, filter_size: int, padding: str, stride: int) -> int | None:
    """The input length a convolution maps to ``output_length`` (Keras 2.3.1): ``(out - 1) * stride - 2 * pad
    + filter_size`` with ``pad`` = ``filter_size // 2`` ('same'), 0 ('valid') or ``filter_size - 1`` ('full')."""
    if output_length is None:
        return None
    pads = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}
    if padding not in pads:
        raise ValueError(f"conv_input_length: padding must be 'valid', 'same' or 'full'; received {padding!r}.")
    return (output_length - 1) * stride - 2 * pads[padding] + filter_size


def convert_kernel(kernel) -> np.ndarray:
    """A 3D-5D Keras-layout kernel with its spatial axes reversed (all axes but the last two): Theano's true
    convolution <-> TensorFlow's (and torch's) cross-correlation. Its own inverse; returns a copy."""
    kernel = np.asarray(kernel)
    if not 3 <= kernel.ndim <= 5:
        raise ValueError(f"Invalid kernel shape: {kernel.shape}; convert_kernel takes a 3D, 4D or 5D Keras-layout "
                         "kernel (spatial axes, then input and output channels).")
    spatial = tuple(range(kernel.ndim - 2))
    return np.flip(kernel, axis=spatial).copy()
