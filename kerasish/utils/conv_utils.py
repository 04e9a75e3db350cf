"""Keras 2.3.1's ``keras.utils.conv_utils``: the shape arithmetic of convolutions and the argument checks of
convolutional layers.

The layers own the rules they use (the output lengths of convolutions and transposed convolutions, which
``kerasish.layers.convolutional`` gives; ``normalize_tuple`` of ``layers/base.py``) and this module serves them at
Keras's path, so there is one copy of each rule. Keras's functions also take Theano's ``'full'`` padding (the
window slides ``dilated_kernel - 1`` cells past each edge), which no layer here has: it is reduced to the layers'
``'valid'`` rule on the padded length, and a padding Keras does not know is refused rather than guessed. What
only Keras users call lives here: ``conv_input_length``, ``normalize_padding`` and ``convert_kernel``.
``normalize_data_format`` (in conv_utils up to Keras 2.2, in the backend since) is the backend's, for older
scripts.
"""
from __future__ import annotations

import numpy as np

from kerasish.backend.config import normalize_data_format
from kerasish.layers import convolutional as _layer_shapes
from kerasish.layers.base import normalize_tuple

__all__ = ["normalize_tuple", "normalize_padding", "normalize_data_format", "convert_kernel", "conv_output_length",
           "conv_input_length", "deconv_length"]


def _check_padding(padding, allowed: tuple, caller: str) -> None:
    if padding not in allowed:
        raise ValueError(f"{caller}: padding must be one of {', '.join(repr(p) for p in allowed)}; "
                         f"received {padding!r}.")


def _dilated(filter_size: int, dilation: int) -> int:
    return (filter_size - 1) * dilation + 1


def conv_output_length(input_length: int | None, filter_size: int, padding: str, stride: int,
                       dilation: int = 1) -> int | None:
    """The output length of a convolution (Keras 2.3.1): ``ceil(covered / stride)`` where ``covered`` is
    ``length - dilated_kernel + 1`` ('valid'), ``length`` ('same', 'causal') or ``length + dilated_kernel - 1``
    ('full')."""
    _check_padding(padding, ("same", "valid", "full", "causal"), "conv_output_length")
    if padding == "full" and input_length is not None:
        input_length, padding = input_length + 2 * (_dilated(filter_size, dilation) - 1), "valid"
    return _layer_shapes.conv_output_length(input_length, filter_size, padding, stride, dilation)


def deconv_length(dim_size: int | None, stride_size: int, kernel_size: int, padding: str, output_padding,
                  dilation: int = 1) -> int | None:
    """The output length of a transposed convolution (Keras 2.3.1). ``output_padding=None`` infers it: the
    longest output for 'valid', ``stride * length`` for 'same'; 'full' crops ``dilated_kernel - 1`` cells off
    each end of the 'valid' output without inferred padding."""
    _check_padding(padding, ("same", "valid", "full"), "deconv_length")
    if padding == "full" and dim_size is not None:
        uncropped = _layer_shapes.deconv_length(dim_size, stride_size, kernel_size, "valid", output_padding or 0,
                                                dilation)
        return uncropped - 2 * (_dilated(kernel_size, dilation) - 1)
    return _layer_shapes.deconv_length(dim_size, stride_size, kernel_size, padding, output_padding, dilation)


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
    _check_padding(padding, ("same", "valid", "full"), "conv_input_length")
    if output_length is None:
        return None
    pads = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}
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
