"""Reductions, elementwise maths, comparisons and products (Keras 2.3.1 ``tensorflow_backend.py``).

Conventions kept from Keras: ``axis`` is an int, a list/tuple of ints or ``None`` (every axis) and
``keepdims`` defaults to False; ``argmax``/``argmin`` default to the last axis, ``cumsum``/``cumprod`` to the
first; ``mean`` of a bool tensor is taken in floatx, of an integer tensor in integers (truncating, as
``tf.reduce_mean`` does); ``var``/``std`` are population statistics; ``sqrt`` clips negative inputs to 0;
``clip`` with ``max_value < min_value`` clips everything to ``min_value``.
"""
from __future__ import annotations

import builtins
import math

import torch

from kerasish.backend.config import torch_floatx
from kerasish.backend.variables import int_shape, operands, to_tensor


def _dims(x: torch.Tensor, axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.dim()))
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return (int(axis),)


def _reduce(fn, x, axis, keepdims: bool):
    dims = _dims(x, axis)
    if not dims:  # a 0-d tensor: some torch reductions read an empty dim tuple as "no reduction"
        return fn(x)
    return fn(x, dim=dims, keepdim=keepdims)


def _bool_to_floatx(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch_floatx()) if x.dtype == torch.bool else x


# ---------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    return _reduce(torch.sum, to_tensor(x), axis, keepdims)


def prod(x, axis=None, keepdims=False):
    x = to_tensor(x)
    if x.dim() == 0:
        return x.clone()
    # torch.prod reduces one dim at a time: from the last, so earlier indices stay valid without keepdims.
    for dim in sorted({d % x.dim() for d in _dims(x, axis)}, reverse=True):
        x = torch.prod(x, dim=dim, keepdim=keepdims)
    return x


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.amax, to_tensor(x), axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.amin, to_tensor(x), axis, keepdims)


def mean(x, axis=None, keepdims=False):
    x = _bool_to_floatx(to_tensor(x))
    if x.is_floating_point() or x.is_complex():
        return _reduce(torch.mean, x, axis, keepdims)
    # tf.reduce_mean of integers divides in integers, truncating toward zero
    count = math.prod(x.shape[d] for d in _dims(x, axis))
    return torch.div(_reduce(torch.sum, x, axis, keepdims), count, rounding_mode="trunc").to(x.dtype)


def var(x, axis=None, keepdims=False):
    """Population variance, ``mean(square(x - mean(x)))``; integers are taken in floatx."""
    x = to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch_floatx())
    dims = _dims(x, axis)
    if not dims:
        return torch.zeros_like(x)
    return torch.var(x, dim=dims, correction=0, keepdim=keepdims)


def std(x, axis=None, keepdims=False):
    return torch.sqrt(var(x, axis=axis, keepdims=keepdims))


def any(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.any, to_tensor(x).bool(), axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce(torch.all, to_tensor(x).bool(), axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return _reduce(torch.logsumexp, to_tensor(x), axis, keepdims)


def argmax(x, axis=-1):
    return torch.argmax(to_tensor(x), dim=axis)


def argmin(x, axis=-1):
    return torch.argmin(to_tensor(x), dim=axis)


def cumsum(x, axis=0):
    return torch.cumsum(to_tensor(x), dim=axis)


def cumprod(x, axis=0):
    return torch.cumprod(to_tensor(x), dim=axis)


# ---------------------------------------------------------------- elementwise
def square(x):
    return torch.square(to_tensor(x))


def abs(x):  # noqa: A001
    return torch.abs(to_tensor(x))


def sqrt(x):
    return torch.sqrt(torch.clamp(to_tensor(x), min=0))


def exp(x):
    return torch.exp(to_tensor(x))


def log(x):
    return torch.log(to_tensor(x))


def round(x):  # noqa: A001 - half to even, as tf.round
    return torch.round(to_tensor(x))


def sign(x):
    return torch.sign(to_tensor(x))


def pow(x, a):  # noqa: A001
    return torch.pow(to_tensor(x), a)


def sin(x):
    return torch.sin(to_tensor(x))


def cos(x):
    return torch.cos(to_tensor(x))


def clip(x, min_value, max_value):
    """Values clipped to ``[min_value, max_value]``; ``None`` leaves that side open."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    x = to_tensor(x)
    if min_value is None and max_value is None:
        return x.clone()
    return torch.clamp(x, min=min_value, max=max_value)


def maximum(x, y):
    return torch.maximum(*operands(x, y))


def minimum(x, y):
    return torch.minimum(*operands(x, y))


def equal(x, y):
    return torch.eq(*operands(x, y))


def not_equal(x, y):
    return torch.ne(*operands(x, y))


def greater(x, y):
    return torch.gt(*operands(x, y))


def greater_equal(x, y):
    return torch.ge(*operands(x, y))


def less(x, y):
    return torch.lt(*operands(x, y))


def less_equal(x, y):
    return torch.le(*operands(x, y))


# ---------------------------------------------------------------- products
def dot(x, y):
    """Keras's ``dot``: a matrix product for 2-D operands; for higher ranks the last axis of ``x`` against the
    second-to-last of ``y``, giving ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]`` (Theano's ``dot``)."""
    x, y = operands(x, y)
    if x.dim() > 2 or y.dim() > 2:
        return torch.tensordot(x, y, dims=([x.dim() - 1], [builtins.max(y.dim() - 2, 0)]))
    if x.layout != torch.strided:
        return torch.sparse.mm(x, y)
    return torch.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Keras 2.3.1's ``batch_dot``: for each sample, the dot product of ``x[i]`` and ``y[i]`` over
    ``axes = (axis of x, axis of y)``. The result holds the batch, then ``x``'s other axes, then ``y``'s; two
    2-D inputs give ``(batch, 1)``. ``axes=None`` pairs the last axis of ``x`` with the last axis of a 2-D
    ``y``, else with ``y``'s second-to-last; an int ``a`` means ``(a, a)``."""
    x, y = operands(x, y)
    x_shape, y_shape = int_shape(x), int_shape(y)
    x_ndim, y_ndim = len(x_shape), len(y_shape)
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Can not do batch_dot on inputs with rank < 2. Received inputs with shapes {x_shape} "
                         f"and {y_shape}.")
    if x_shape[0] is not None and y_shape[0] is not None and x_shape[0] != y_shape[0]:
        raise ValueError(f"Can not do batch_dot on inputs with different batch sizes. Received inputs with shapes "
                         f"{x_shape} and {y_shape}.")
    if isinstance(axes, int):
        axes = [axes, axes]
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 1] if y_ndim == 2 else [x_ndim - 1, y_ndim - 2]
    if builtins.any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError(f"Multiple target dimensions are not supported. Expected: None, int, (int, int), "
                         f"Provided: {axes}")
    a0, a1 = (a + n if a < 0 else a for a, n in zip(axes, (x_ndim, y_ndim)))
    if 0 in (a0, a1):
        raise ValueError("Can not perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
                         "dimension to your inputs using K.expand_dims(x, 0)")
    d1, d2 = x_shape[a0], y_shape[a1]
    if d1 is not None and d2 is not None and d1 != d2:
        raise ValueError(f"Can not do batch_dot on inputs with shapes {x_shape} and {y_shape} with axes="
                         f"{[a0, a1]}. x.shape[{a0}] != y.shape[{a1}] ({d1} != {d2}).")
    # einsum subscripts from the ranks alone: 'a' the batch, 'z' the summed axis, then x's and y's other axes
    x_rest, y_rest = iter("bcdefghijkl"), iter("mnopqrstuvw")
    x_sub = "".join("a" if i == 0 else "z" if i == a0 else next(x_rest) for i in range(x_ndim))
    y_sub = "".join("a" if i == 0 else "z" if i == a1 else next(y_rest) for i in range(y_ndim))
    out_sub = "a" + x_sub[1:].replace("z", "") + y_sub[1:].replace("z", "")
    result = torch.einsum(f"{x_sub},{y_sub}->{out_sub}", x, y)
    return result.unsqueeze(-1) if x_ndim == 2 and y_ndim == 2 else result
