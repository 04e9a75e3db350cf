"""Keras weight regularizers (``l1``, ``l2``, ``l1_l2``): a penalty added to the training loss."""
from __future__ import annotations

import torch

from kerasish.utils.generic_utils import deserialize_keras_object, serialize_keras_object
from kerasish.utils.validation import did_you_mean


class Regularizer:
    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)`` (Keras 2.3.1 ``regularizers.L1L2``)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = weight.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * weight.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * weight.square().sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):
    return L1L2(l1=l)


def l2(l=0.01):
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


_BY_NAME = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown regularizer: {identifier!r}.{did_you_mean(identifier, _BY_NAME)} Known "
                             f"regularizers: {sorted(_BY_NAME)}.")
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"regularizer: expected a name, a Regularizer or a callable; received {identifier!r}.")


def deserialize(config: dict, custom_objects=None):
    """Keras 2.3.1 ``regularizers.deserialize``: the regularizer a ``{'class_name': ..., 'config': {...}}`` dict names."""
    classes = {n: c for n, c in globals().items() if isinstance(c, type) and issubclass(c, Regularizer)}
    return deserialize_keras_object(config, {**classes, **_BY_NAME}, custom_objects, "regularizer")


def serialize(regularizer) -> dict:
    """Keras 2.3.1 ``regularizers.serialize``: ``{'class_name': ..., 'config': ...}``."""
    return serialize_keras_object(regularizer)
