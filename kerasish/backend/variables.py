"""Tensors the backend creates and reads: variables, constants, filled tensors, dtypes and shapes.

Keras 2.3.1 ``keras/backend/tensorflow_backend.py`` is the contract: argument names, ``dtype=None`` meaning
``floatx()`` (also for ``zeros_like``/``ones_like``, which therefore do not keep an integer input's dtype), and
which functions return variables (``variable``, ``zeros``, ``ones``, ``random_*_variable``) rather than plain
tensors (``constant``, ``eye``, ``*_like``).

What "variable" means here: a ``torch.nn.Parameter`` on the training device (``config.get_device()``),
tracking gradients when its dtype is floating; ``update*``, ``set_value`` and ``moving_average_update`` write
it in place outside autograd, as TensorFlow's ``assign`` ops do.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from kerasish.backend.config import (floatx, get_device, get_value, set_value, standardize_dtype, torch_dtype,
                                     torch_floatx)


# ---------------------------------------------------------------- conversions shared by the backend modules
def as_torch_dtype(dtype) -> torch.dtype:
    """A Keras dtype (``'float32'``, ``'int64'``, ``'bool'``, a NumPy or torch dtype; ``None``: floatx)."""
    return torch_floatx() if dtype is None else torch_dtype(dtype)


def to_tensor(x, dtype=None, device=None) -> torch.Tensor:
    """``x`` as a torch tensor. Tensors pass through (cast when ``dtype`` is given). NumPy arrays keep their
    dtype; Python floats and lists of them become floatx, as TensorFlow makes them float32 by default.
    New tensors go to ``device`` (default: the training device)."""
    if isinstance(x, torch.Tensor):
        return x if dtype is None else x.to(as_torch_dtype(dtype))
    device = get_device() if device is None else device
    numpy_input = isinstance(x, (np.ndarray, np.generic))
    t = torch.as_tensor(x, device=device)
    if dtype is not None:
        return t.to(as_torch_dtype(dtype))
    if t.is_floating_point() and not numpy_input:
        return t.to(torch_floatx())
    return t


def operands(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    """Two operands of a binary op as tensors; a non-tensor joins the tensor's device. A converted Python
    number is a 0-d tensor, which torch's type promotion treats like a scalar (the tensor's dtype wins)."""
    if isinstance(x, torch.Tensor):
        return x, to_tensor(y, device=x.device)
    if isinstance(y, torch.Tensor):
        return to_tensor(x, device=y.device), y
    return to_tensor(x), to_tensor(y)


def size_tuple(shape) -> tuple[int, ...]:
    """A Keras ``shape`` argument (an int, a tuple/list possibly holding 0-d tensors from ``K.shape``, a 1-D
    tensor) -> a tuple of ints."""
    if isinstance(shape, torch.Tensor):
        return tuple(int(d) for d in shape.reshape(-1).tolist())
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def as_variable(t: torch.Tensor, constraint=None) -> nn.Parameter:
    """A freshly made tensor -> a Keras variable, without copying it."""
    v = nn.Parameter(t, requires_grad=t.is_floating_point() or t.is_complex())
    v.constraint = constraint  # tf.Variable.constraint, read by custom optimizers
    return v


# ---------------------------------------------------------------- variables and constants
def variable(value, dtype=None, name=None, constraint=None) -> nn.Parameter:
    """``K.variable``: a copy of ``value`` (array, tensor, number, SciPy sparse matrix) in ``dtype``
    (default floatx) on the training device. ``name`` is accepted for compatibility; torch tensors have none."""
    torch_dtype = as_torch_dtype(dtype)
    if hasattr(value, "tocoo"):  # a SciPy sparse matrix, as Keras accepts
        coo = value.tocoo()
        indices = torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.int64)
        t = torch.sparse_coo_tensor(indices, torch.as_tensor(coo.data), coo.shape, dtype=torch_dtype,
                                    device=get_device(), check_invariants=True).coalesce()
    else:
        source = value.detach() if isinstance(value, torch.Tensor) else np.asarray(value)
        t = torch.as_tensor(source).to(device=get_device(), dtype=torch_dtype, copy=True)
    return as_variable(t, constraint)


def is_variable(x) -> bool:
    return isinstance(x, nn.Parameter)


def constant(value, dtype=None, shape=None, name=None) -> torch.Tensor:
    """``K.constant``: ``value`` in ``dtype`` (default floatx); with ``shape``, a scalar fills it and a value
    with as many elements is reshaped to it (``tf.constant``)."""
    torch_dtype = as_torch_dtype(dtype)
    source = value.detach() if isinstance(value, torch.Tensor) else np.asarray(value)
    t = torch.as_tensor(source).to(device=get_device(), dtype=torch_dtype, copy=True)
    if shape is None:
        return t
    shape = size_tuple(shape)
    if t.numel() == 1:
        return t.reshape(()).expand(shape).clone()
    if t.numel() == int(np.prod(shape)):
        return t.reshape(shape)
    raise ValueError(f"constant: value has {t.numel()} elements, which cannot fill shape {shape}; pass a scalar "
                     f"or a value with {int(np.prod(shape))} elements.")


def is_sparse(tensor) -> bool:
    return isinstance(tensor, torch.Tensor) and tensor.layout != torch.strided


def to_dense(tensor):
    return tensor.to_dense() if is_sparse(tensor) else tensor


def is_tensor(x) -> bool:
    return isinstance(x, torch.Tensor)


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic Keras tensor (made by ``Input`` or a layer called on one). A plain torch
    tensor or variable is not; anything that is not a tensor raises, with Keras 2.3.1's message."""
    if not is_tensor(x):
        raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. Expected a symbolic tensor instance.")
    return hasattr(x, "_keras_history")


def zeros(shape, dtype=None, name=None) -> nn.Parameter:
    """``K.zeros``: a variable of zeros (default floatx)."""
    return as_variable(torch.zeros(size_tuple(shape), dtype=as_torch_dtype(dtype), device=get_device()))


def ones(shape, dtype=None, name=None) -> nn.Parameter:
    """``K.ones``: a variable of ones (default floatx)."""
    return as_variable(torch.ones(size_tuple(shape), dtype=as_torch_dtype(dtype), device=get_device()))


def eye(size, dtype=None, name=None) -> torch.Tensor:
    """``K.eye(n)`` or ``K.eye((n, m))``: an identity matrix (a tensor, as Keras 2.3.1's ``tf.eye``)."""
    n, m = (size, size) if isinstance(size, (int, np.integer)) else size
    return torch.eye(int(n), int(m), dtype=as_torch_dtype(dtype), device=get_device())


def zeros_like(x, dtype=None, name=None) -> torch.Tensor:
    """Zeros of ``x``'s shape in ``dtype``, which defaults to floatx (not to ``x``'s dtype) in Keras 2.3.1."""
    return torch.zeros_like(to_tensor(x), dtype=as_torch_dtype(dtype))


def ones_like(x, dtype=None, name=None) -> torch.Tensor:
    """Ones of ``x``'s shape in ``dtype`` (default floatx, as ``zeros_like``)."""
    return torch.ones_like(to_tensor(x), dtype=as_torch_dtype(dtype))


def identity(x, name=None) -> torch.Tensor:
    """A new tensor with ``x``'s value: for a variable, its value now (later updates do not show through)."""
    return torch.clone(to_tensor(x))


# ---------------------------------------------------------------- dtypes and shapes
def cast(x, dtype) -> torch.Tensor:
    return to_tensor(x).to(as_torch_dtype(dtype))


def cast_to_floatx(x):
    """``K.cast_to_floatx``: a NumPy array in floatx (float32 for a bfloat16 floatx, which NumPy lacks); a
    tensor is cast in torch."""
    if isinstance(x, torch.Tensor):
        return x.to(torch_floatx())
    return np.asarray(x, dtype="float32" if floatx() == "bfloat16" else floatx())


def dtype(x) -> str:
    """The dtype's name: ``'float32'``, ``'int64'``..."""
    if isinstance(x, torch.Tensor):
        return standardize_dtype(x.dtype)
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name
    raise TypeError(f"dtype: expected a tensor, variable or NumPy array; received {type(x).__name__}.")


def shape(x) -> torch.Size:
    """``K.shape``: the sizes of ``x`` (a ``torch.Size``; index it, or pass it to ``reshape``/``zeros``)."""
    if isinstance(x, torch.Tensor):
        return x.shape
    return torch.Size(np.shape(x))


def int_shape(x) -> tuple:
    """The shape as a tuple of ints (``None`` for sizes a symbolic tensor does not know)."""
    try:
        return tuple(x.shape)
    except AttributeError:
        raise TypeError(f"int_shape: expected a tensor, variable or array; received {type(x).__name__}.") from None


def get_variable_shape(x) -> tuple:
    return int_shape(x)


def ndim(x) -> int:
    if isinstance(x, torch.Tensor):
        return x.dim()
    return int(np.ndim(x))


def size(x, name=None) -> torch.Tensor:
    """The number of elements, as an int32 scalar tensor (``tf.size``)."""
    x = to_tensor(x)
    return torch.as_tensor(torch.numel(x), dtype=torch.int32, device=x.device)


# ---------------------------------------------------------------- reading and writing values
def batch_get_value(ops) -> list:
    return [get_value(x) for x in ops]


def batch_set_value(tuples) -> None:
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    """``x = new_x`` in place (``tf.assign``); returns ``x``."""
    with torch.no_grad():
        return x.copy_(to_tensor(new_x, device=x.device))


def update_add(x, increment):
    with torch.no_grad():
        return x.add_(to_tensor(increment, device=x.device))


def update_sub(x, decrement):
    with torch.no_grad():
        return x.sub_(to_tensor(decrement, device=x.device))


def moving_average_update(x, value, momentum):
    """``x = x * momentum + value * (1 - momentum)``, written as Keras does: ``x -= (x - value) * (1 - momentum)``."""
    with torch.no_grad():
        return x.sub_((x - to_tensor(value, device=x.device).to(x.dtype)) * (1.0 - momentum))


def print_tensor(x, message=""):
    """Prints ``message`` and the value of ``x`` (a host read) and returns ``x``."""
    print(message, x)
    return x
