"""Keras weight constraints, applied to the weight after each optimizer step (Keras 2.3.1 ``constraints.py``)."""
from __future__ import annotations

import torch

from kerasish import backend
from kerasish.utils.generic_utils import deserialize_keras_object, serialize_keras_object
from kerasish.utils.validation import did_you_mean


class Constraint:
    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        return {}


def _norms(w, axis):
    return torch.sqrt(torch.sum(w.square(), dim=axis, keepdim=True))


class MaxNorm(Constraint):
    """Norm of each slice along ``axis`` (Keras layout) capped at ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w.clamp(min=0.0)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
maxnorm, nonneg, unitnorm = max_norm, non_neg, unit_norm  # Keras 1 names, kept by Keras 2.3.1
_BY_NAME = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
            "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm}


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown constraint: {identifier!r}.{did_you_mean(identifier, _BY_NAME)} Known "
                             f"constraints: {sorted(_BY_NAME)}.")
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"constraint: expected a name, a Constraint or a callable; received {identifier!r}.")


def deserialize(config: dict, custom_objects=None):
    """Keras 2.3.1 ``constraints.deserialize``: the constraint a ``{'class_name': ..., 'config': {...}}`` dict names."""
    classes = {n: c for n, c in globals().items() if isinstance(c, type) and issubclass(c, Constraint)}
    return deserialize_keras_object(config, {**classes, **_BY_NAME}, custom_objects, "constraint")


def serialize(constraint) -> dict:
    """Keras 2.3.1 ``constraints.serialize``: ``{'class_name': ..., 'config': ...}``."""
    return serialize_keras_object(constraint)
