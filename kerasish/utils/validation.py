"""One way to check a user's value and to say what is wrong with it (issue 15).

Every numeric hyper-parameter (optimizers, callbacks, layers, ``ImageDataGenerator``) goes through
:func:`check_number` at construction, so a bad value fails where it was written, with one wording everywhere::

    SGD: argument `lr` must be a number >= 0; received -0.5.

Every lookup of a name (optimizer, loss, metric, activation, initializer, layer class, monitor) adds
:func:`did_you_mean` to its error, which puts the closest valid names first, before the full list.
:func:`warn_at_user_line` gives a warning the line of the user's script that led to it (the first frame outside
kerasish), whatever depth of kerasish calls sits between, so the user sees their own ``fit(...)`` line.

This module imports nothing from kerasish, so any module may use it.
"""
from __future__ import annotations

import difflib
import math
import numbers
import os
import sys
import warnings
from collections.abc import Iterable

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def describe_range(low=None, high=None, low_inclusive: bool = True, high_inclusive: bool = True) -> str:
    """``'>= 0'``, ``'< 1'``, ``'in [0, 1)'``, or ``''`` for no bound."""
    if low is not None and high is not None:
        return f"in {'[' if low_inclusive else '('}{low}, {high}{']' if high_inclusive else ')'}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {low}"
    if high is not None:
        return f"{'<=' if high_inclusive else '<'} {high}"
    return ""


def check_number(value, name: str, owner: str, *, low=None, high=None, low_inclusive: bool = True,
                 high_inclusive: bool = True, integer: bool = False, allow_none: bool = False,
                 finite: bool = True, label: str | None = None):
    """``value`` as a Python ``float`` (``int`` with ``integer=True``), or an error naming ``owner``'s argument
    ``name``, the allowed range and the value received.

    NumPy scalars and one-element arrays or tensors count as numbers; booleans and strings do not.
    ``finite=False`` lets ``inf`` through (``EarlyStopping(patience=np.inf)`` waits forever); NaN never passes.
    ``label`` replaces the words ``argument `name``` in the message (e.g. ``'the learning rate set by K.set_value'``).

    Raises:
        TypeError: not a number.
        ValueError: a number outside the range, NaN, or (with ``integer``) not a whole number.
    """
    if value is None and allow_none:
        return None
    expected = _expected(integer, allow_none, low, high, low_inclusive, high_inclusive)
    label = label or f"argument `{name}`"
    number = _as_number(value)
    if number is None:
        raise TypeError(f"{owner}: {label} must be {expected}; received {value!r} "
                        f"(of type {type(value).__name__}).")
    if math.isnan(number) or (finite and math.isinf(number)) or (integer and not _is_whole(number)) \
            or not _in_range(number, low, high, low_inclusive, high_inclusive):
        raise ValueError(f"{owner}: {label} must be {expected}; received {value!r}.")
    return int(number) if integer and not math.isinf(number) else number


def check_number_pair(value, name: str, owner: str, **range_kwargs) -> tuple:
    """A tuple or list of two numbers, each checked as :func:`check_number` checks one."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
        raise TypeError(f"{owner}: argument `{name}` must be a tuple or list of two numbers; received {value!r}.")
    return tuple(check_number(v, f"{name}[{i}]", owner, **range_kwargs) for i, v in enumerate(value))


def _expected(integer, allow_none, low, high, low_inclusive, high_inclusive) -> str:
    kind = "an integer" if integer else "a number"
    bounds = describe_range(low, high, low_inclusive, high_inclusive)
    return kind + (f" {bounds}" if bounds else "") + (" or None" if allow_none else "")


def _as_number(value):
    """A float for numbers (NumPy scalars, 0-d and one-element arrays or tensors included), else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "shape") and hasattr(value, "dtype") and getattr(value, "ndim", None) is not None:
        try:
            if int(np.prod(value.shape)) == 1 and "bool" not in str(value.dtype):
                return float(value.reshape(()))
        except (TypeError, ValueError):
            return None
    return None


def _is_whole(number: float) -> bool:
    return math.isinf(number) or float(number).is_integer()


def _in_range(number, low, high, low_inclusive, high_inclusive) -> bool:
    if low is not None and (number < low or (number == low and not low_inclusive)):
        return False
    if high is not None and (number > high or (number == high and not high_inclusive)):
        return False
    return True


def close_matches(name, choices: Iterable, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The valid names closest to ``name`` (case-insensitive), best first: those as close as the best one
    (``difflib``'s similarity within 0.05 of it), so a clear winner is suggested alone."""
    target = str(name).lower()
    scored = []
    for choice in dict.fromkeys(str(c) for c in choices):
        matcher = difflib.SequenceMatcher(None, target, choice.lower())
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            score = matcher.ratio()
            if score >= cutoff:
                scored.append((score, choice))
    if not scored:
        return []
    scored.sort(key=lambda item: -item[0])
    best = scored[0][0]
    return [choice for score, choice in scored if score >= best - 0.05][:n]


def did_you_mean(name, choices: Iterable) -> str:
    """``" Did you mean 'categorical_crossentropy'?"`` (or two or three names), or ``""`` when none is close."""
    found = close_matches(name, choices)
    if not found:
        return ""
    return " Did you mean " + " or ".join(repr(f) for f in found) + "?"


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called by the function that calls this one, report the
    first frame outside kerasish (the user's line)."""
    # Frame 2 is our caller's caller: what stacklevel=2 names when our caller calls warnings.warn.
    frame = sys._getframe(2)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def warn_at_user_line(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the user's line (the first frame outside kerasish)."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
