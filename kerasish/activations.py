"""Keras activations by name -> torch functions (Keras 2.3.1 ``keras/activations.py``).

Every function acts elementwise except ``softmax``, which normalises over ``axis`` (Keras: the last axis).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.utils.generic_utils import get_custom_objects
from kerasish.utils.validation import did_you_mean


def linear(x):
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    # Keras 2.3.1 tensorflow_backend.relu: x * (x > threshold), clipped to [0, max_value], minus
    # alpha * relu(threshold - x); so x == threshold gives 0, and max_value also clips at 0 from below.
    # Without a threshold it is relu, or relu6 (one kernel: MobileNetV2's ReLU(6.)), then the clip.
    if threshold == 0.0 and max_value == 6.0:
        out = F.relu6(x)
    elif threshold == 0.0:
        out = torch.relu(x) if max_value is None else torch.relu(x).clamp_max(max_value)
    else:
        out = torch.where(x > threshold, x, torch.zeros_like(x))
        if max_value is not None:
            out = out.clamp(0.0, max_value)
    if alpha:
        out = out - alpha * torch.relu(threshold - x)
    return out


def relu_in_place(x, alpha=0.0, max_value=None, threshold=0.0):
    """``relu`` written over ``x`` (returned), by the same kernels as ``relu`` so the values are bit-identical;
    None for the forms ``relu`` computes with several ops (``alpha``, ``threshold``). Only for a ``x`` no one
    else reads (models/graph.py decides when)."""
    if alpha != 0.0 or threshold != 0.0:
        return None
    if max_value is None:
        return torch.relu_(x)
    if max_value == 6.0:
        return F.relu6(x, inplace=True)
    return torch.relu_(x).clamp_max_(max_value)


def sigmoid(x):
    return torch.sigmoid(x)


def hard_sigmoid(x):
    # Keras 2: clip(0.2 * x + 0.5, 0, 1)
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


def tanh(x):
    return torch.tanh(x)


def softmax(x, axis=-1):
    if x.dim() < 2:
        raise ValueError(f"softmax: cannot apply softmax to a tensor that is 1D; received shape {tuple(x.shape)}.")
    return torch.softmax(x, dim=axis)


def elu(x, alpha=1.0):
    return F.elu(x, alpha=alpha)


def selu(x):
    return F.selu(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def exponential(x):
    return torch.exp(x)


def swish(x):
    return F.silu(x)


_ACTIVATIONS = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh,
    "softmax": softmax, "elu": elu, "selu": selu, "softplus": softplus, "softsign": softsign,
    "exponential": exponential, "swish": swish,
}


def get(identifier):
    """A name, ``None`` (linear) or a callable -> the activation function."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _ACTIVATIONS[identifier]
        except KeyError:
            raise ValueError(f"Unknown activation function: {identifier!r}.{did_you_mean(identifier, _ACTIVATIONS)} "
                             f"Known activations: {sorted(_ACTIVATIONS)}.") from None
    if callable(identifier):
        return identifier
    raise TypeError(f"activation: expected a name such as 'relu', a callable or None; "
                    f"received {identifier!r} of type {type(identifier).__name__}.")


def serialize(fn) -> str:
    for name, candidate in _ACTIVATIONS.items():
        if candidate is fn:
            return name
    return getattr(fn, "__name__", repr(fn))


def deserialize(name, custom_objects=None):
    """Keras 2.3.1 ``activations.deserialize``: the activation a name stands for, looked up in ``custom_objects``,
    then the registered custom objects, then Keras's activations."""
    custom = {**get_custom_objects(), **dict(custom_objects or {})}
    if isinstance(name, str) and name in custom:
        return custom[name]
    return get(name)
