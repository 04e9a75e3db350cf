"""Keras 1 argument names accepted by Keras 2 layers, converted as Keras 2.3.1 ``keras/legacy/interfaces.py`` does.

Keras 2 decorates its layer constructors with ``generate_legacy_interface``: a table of renames
(``nb_filter`` -> ``filters``), a table of value renames (``dim_ordering='tf'`` -> ``'channels_last'``), an
optional preprocessor for arguments that change shape (``nb_row``/``nb_col`` -> ``kernel_size``) and a limit
on positional arguments. Whatever it converts, it reports in one warning that spells the Keras 2 call:

    Update your `Conv1D` call to the Keras 2 API: `Conv1D(filters=4, kernel_size=3, padding="same")`

Here each interface is one ``LegacyInterface`` (its tables, as data) and ``convert`` applies it to the
arguments of a constructor before the constructor sees them. ``args`` never includes ``self``.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class LegacyInterface:
    """One Keras 2.3.1 ``generate_legacy_interface(...)``: what it renames, and how."""

    allowed_positional: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]  # (Keras 1 name, Keras 2 name), applied in this order
    value_renames: dict = dataclasses.field(default_factory=dict)  # {Keras 1 name: {old value: new value}}
    # (args, kwargs) -> (args, kwargs, [(new name, old name), ...]) for conversions a rename cannot express
    preprocessor: Callable | None = None


def convert(interface: LegacyInterface, object_name: str, args: tuple, kwargs: dict,
            stacklevel: int = 3) -> tuple[tuple, dict]:
    """``(args, kwargs)`` with Keras 1 names replaced by Keras 2 ones, warning once if anything changed
    (Keras 2.3.1 ``legacy_support.wrapper``: preprocessor, positional check, value renames, renames, warning)."""
    kwargs = dict(kwargs)
    converted = []
    if interface.preprocessor is not None:
        args, kwargs, converted = interface.preprocessor(tuple(args), kwargs)
    if len(args) > len(interface.allowed_positional):
        raise TypeError(f"`{object_name}` can accept only {len(interface.allowed_positional)} positional arguments "
                        f"{interface.allowed_positional}, but you passed the following positional arguments: "
                        f"{list(args)}")
    for name, table in interface.value_renames.items():
        if name in kwargs and _hashable(kwargs[name]) and kwargs[name] in table:
            kwargs[name] = table[kwargs[name]]
    for old_name, new_name in interface.renames:
        if old_name in kwargs:
            value = kwargs.pop(old_name)
            if new_name in kwargs:
                raise TypeError(f"For the `{new_name}` argument, the layer received both the legacy keyword argument "
                                f"`{old_name}` and the Keras 2 keyword argument `{new_name}`. Stick to the latter!")
            kwargs[new_name] = value
            converted.append((new_name, old_name))
    if converted:
        warnings.warn(f"Update your `{object_name}` call to the Keras 2 API: "
                      f"{keras2_signature(object_name, args, kwargs)}", stacklevel=stacklevel)
    return tuple(args), kwargs


def keras2_signature(object_name: str, args: tuple, kwargs: dict) -> str:
    """The call as Keras 2.3.1's warning writes it: strings quoted, arrays as ``array``, other values cut to 10
    characters."""
    parts = [_short(value) for value in args] + [f"{name}={_short(value)}" for name, value in kwargs.items()]
    return f"`{object_name}({', '.join(parts)})`"


def _short(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    text = "array" if isinstance(value, np.ndarray) else str(value)
    return text[:10] + "..." if len(text) > 10 else text


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- preprocessors
def _conv1d_input_dim(args, kwargs):
    """Keras 1 ``input_dim`` (+ ``input_length``) -> ``input_shape=(input_length, input_dim)``."""
    converted = []
    if "input_dim" in kwargs:
        length = kwargs.pop("input_length", None)
        kwargs["input_shape"] = (length, kwargs.pop("input_dim"))
        converted.append(("input_shape", "input_dim"))
    return args, kwargs, converted


def _conv2d_kernel_size(args, kwargs):
    """Keras 1 ``nb_row``, ``nb_col`` (positional or keywords) -> ``kernel_size=(nb_row, nb_col)``."""
    converted = [("kernel_size", "nb_row/nb_col")]
    if len(args) > 3:
        raise TypeError("Layer can receive at most 3 positional arguments.")
    if len(args) == 3:
        if not (isinstance(args[1], int) and isinstance(args[2], int)):
            return args, kwargs, []
        if any(name in kwargs for name in ("padding", "strides", "data_format")):
            raise ValueError("It seems that you are using the Keras 2 and you are passing both `kernel_size` and "
                             "`strides` as integer positional arguments. For safety reasons, this is disallowed. "
                             "Pass `strides` as a keyword argument instead.")
        return (args[0], (args[1], args[2])), kwargs, converted
    if len(args) == 2 and isinstance(args[1], int) and "nb_col" in kwargs:
        return (args[0], (args[1], kwargs.pop("nb_col"))), kwargs, converted
    if len(args) < 2 and "nb_row" in kwargs and "nb_col" in kwargs:
        kernel_size = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
        if len(args) == 1:
            return (args[0], kernel_size), kwargs, converted
        kwargs["kernel_size"] = kernel_size
        return args, kwargs, converted
    return args, kwargs, []


_WEIGHT_RENAMES = (("init", "kernel_initializer"), ("W_regularizer", "kernel_regularizer"),
                   ("b_regularizer", "bias_regularizer"), ("W_constraint", "kernel_constraint"),
                   ("b_constraint", "bias_constraint"), ("bias", "use_bias"))

# Keras 2.3.1 legacy_conv1d_support
CONV1D = LegacyInterface(
    allowed_positional=("filters", "kernel_size"),
    renames=(("nb_filter", "filters"), ("filter_length", "kernel_size"), ("subsample_length", "strides"),
             ("border_mode", "padding")) + _WEIGHT_RENAMES,
    preprocessor=_conv1d_input_dim)

# Keras 2.3.1 legacy_conv2d_support
CONV2D = LegacyInterface(
    allowed_positional=("filters", "kernel_size"),
    renames=(("nb_filter", "filters"), ("subsample", "strides"), ("border_mode", "padding"),
             ("dim_ordering", "data_format")) + _WEIGHT_RENAMES,
    value_renames={"dim_ordering": {"tf": "channels_last", "th": "channels_first", "default": None}},
    preprocessor=_conv2d_kernel_size)
