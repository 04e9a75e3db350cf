"""Reshaping, joining, padding, repeating and indexing tensors (Keras 2.3.1 ``tensorflow_backend.py``).

Sizes come from torch ops on the input (``flatten(x, 1)``, ``repeat_interleave``...) rather than from
``x.shape`` in Python, so these functions also work on tensors whose sizes are only known when they run.
``data_format=None`` means ``image_data_format()``.
"""
from __future__ import annotations

import builtins

import torch
import torch.nn.functional as F

from kerasish.backend.config import get_device, normalize_data_format
from kerasish.backend.variables import as_torch_dtype, int_shape, to_dense, to_tensor
from kerasish.backend.window_ops import upsample_linear


def _sizes(shape) -> tuple:
    # sizes may be ints or 0-d integer tensors (entries of K.shape(x)); torch accepts both
    return (shape,) if isinstance(shape, int) else tuple(shape)


def concatenate(tensors, axis=-1):
    tensors = [to_tensor(t) for t in tensors]
    if not builtins.all(t.layout != torch.strided for t in tensors):
        tensors = [to_dense(t) for t in tensors]
    return torch.cat(tensors, dim=axis)


def stack(x, axis=0):
    return torch.stack([to_tensor(t) for t in x], dim=axis)


def reshape(x, shape):
    return torch.reshape(to_tensor(x), _sizes(shape))


def permute_dimensions(x, pattern):
    return to_tensor(x).permute(*pattern)


def transpose(x):
    """All axes reversed (``tf.transpose``): the matrix transpose for 2-D ``x``."""
    x = to_tensor(x)
    return x.permute(*range(x.dim() - 1, -1, -1))


def flatten(x):
    return torch.flatten(to_tensor(x))


def batch_flatten(x):
    """``(batch, ...)`` -> ``(batch, prod(...))``; a 1-D ``x`` becomes ``(batch, 1)``."""
    x = to_tensor(x)
    return torch.flatten(x, 1) if x.dim() > 1 else x.unsqueeze(-1)


def expand_dims(x, axis=-1):
    return torch.unsqueeze(to_tensor(x), axis)


def squeeze(x, axis):
    """Removes ``axis``, which must have size 1 (``tf.squeeze`` raises otherwise; torch would do nothing)."""
    x = to_tensor(x)
    length = int_shape(x)[axis]
    if length not in (1, None):
        raise ValueError(f"squeeze: axis {axis} of a tensor of shape {int_shape(x)} has size {length}; only an "
                         "axis of size 1 can be squeezed.")
    return torch.squeeze(x, axis)


def repeat_elements(x, rep, axis):
    """Each slice along ``axis`` repeated ``rep`` times in place: ``[a, b]`` -> ``[a, a, b, b]`` (np.repeat)."""
    return torch.repeat_interleave(to_tensor(x), rep, dim=axis)


def repeat(x, n):
    """``(batch, dim)`` -> ``(batch, n, dim)``: the vector repeated ``n`` times (RepeatVector)."""
    x = to_tensor(x)
    if x.dim() != 2:
        raise ValueError(f"repeat: expected a 2-D tensor (batch, dim); received shape {int_shape(x)}.")
    return x.unsqueeze(1).repeat(1, n, 1)


def tile(x, n):
    """``x`` repeated ``n[i]`` times along axis ``i``; a shorter ``n`` applies to the last axes."""
    x = to_tensor(x)
    if isinstance(n, int):
        n = (n,)
    elif isinstance(n, torch.Tensor):
        n = tuple(n.reshape(-1).tolist())
    n = tuple(n)
    if len(n) < x.dim():
        n = (1,) * (x.dim() - len(n)) + n
    elif len(n) != x.dim():
        raise NotImplementedError(f"tile: n has {len(n)} entries for a tensor of rank {x.dim()}; pass at most "
                                  "one per axis.")
    return x.repeat(*n)


def arange(start, stop=None, step=1, dtype="int32"):
    """``range`` as a tensor (int32 by default); ``arange(n)`` with a negative ``n`` is empty."""
    if stop is None and start < 0:
        start = 0
    torch_dtype = as_torch_dtype(dtype)
    if stop is None:
        return torch.arange(start, dtype=torch_dtype, device=get_device())
    return torch.arange(start, stop, step, dtype=torch_dtype, device=get_device())


def reverse(x, axes):
    return torch.flip(to_tensor(x), dims=[axes] if isinstance(axes, int) else list(axes))


def slice(x, start, size):  # noqa: A001 - Keras's name
    """``x[start[i] : start[i] + size[i]]`` along every axis; a size of -1 takes the rest of that axis."""
    x = to_tensor(x)
    start = [int(s) for s in start]
    size = [int(s) for s in size]
    if not x.dim() == len(start) == len(size):
        raise ValueError("The dimension and the size of indices should match.")
    return x[tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))]


def gather(reference, indices):
    """Rows of ``reference`` (its first axis) at ``indices`` (any shape): ``tf.nn.embedding_lookup``."""
    reference = to_tensor(reference)
    return reference[to_tensor(indices, device=reference.device).long()]


def one_hot(indices, num_classes):
    """``(...)`` integer indices -> ``(..., num_classes)`` float32 (``tf.one_hot``: an index outside
    ``[0, num_classes)`` gives a row of zeros)."""
    indices = to_tensor(indices).long()
    classes = torch.arange(num_classes, device=indices.device)
    return (indices.unsqueeze(-1) == classes).to(torch.float32)


# ---------------------------------------------------------------- padding and resizing
def _check_pairs(padding, count: int, caller: str) -> list[tuple[int, int]]:
    if len(padding) != count or builtins.any(len(pair) != 2 for pair in padding):
        raise ValueError(f"{caller}: padding should hold {count} pairs (before, after); received {padding!r}.")
    return [(int(before), int(after)) for before, after in padding]


def _pad(x, pairs: list[tuple[int, int]], data_format: str):
    """Zero padding of the spatial axes of a ``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)``
    tensor; ``F.pad`` takes pairs from the last axis backwards."""
    pad = [v for before, after in reversed(pairs) for v in (before, after)]
    if data_format == "channels_last":
        pad = [0, 0] + pad
    return F.pad(x, pad)


def temporal_padding(x, padding=(1, 1)):
    """Zeros before and after the time axis of ``(batch, time, features)``."""
    if len(padding) != 2:
        raise ValueError(f"temporal_padding: padding should be (before, after); received {padding!r}.")
    return _pad(to_tensor(x), [tuple(padding)], "channels_last")


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zeros around the rows and columns: ``padding = ((top, bottom), (left, right))``."""
    pairs = _check_pairs(padding, 2, "spatial_2d_padding")
    return _pad(to_tensor(x), pairs, normalize_data_format(data_format))


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    pairs = _check_pairs(padding, 3, "spatial_3d_padding")
    return _pad(to_tensor(x), pairs, normalize_data_format(data_format))


def _spatial_axes(x, count: int, data_format: str) -> range:
    return range(1, 1 + count) if data_format == "channels_last" else range(2, 2 + count)


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Rows and columns scaled by integer factors: 'nearest' repeats them, 'bilinear' interpolates as TF1's
    ``resize_bilinear`` (see ``UpSampling2D``)."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError('interpolation should be one of "nearest" or "bilinear".')
    x = to_tensor(x)
    rows, cols = _spatial_axes(x, 2, normalize_data_format(data_format))
    if interpolation == "nearest":
        return torch.repeat_interleave(torch.repeat_interleave(x, height_factor, dim=rows), width_factor, dim=cols)
    return upsample_linear(upsample_linear(x, rows, height_factor), cols, width_factor)


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Each of the three spatial axes repeated by its factor (nearest neighbour)."""
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    x = to_tensor(x)
    for axis, factor in zip(_spatial_axes(x, 3, data_format), (depth_factor, height_factor, width_factor)):
        x = torch.repeat_interleave(x, factor, dim=axis)
    return x
