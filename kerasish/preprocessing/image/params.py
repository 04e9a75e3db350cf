"""Drawing random transform parameters for a whole batch, with keras-preprocessing 1.1.2's distributions.

``draw_transform_params`` returns one value per image for each key of Keras's parameter dict
(``ImageDataGenerator.get_random_transform``, KP112 ``image_data_generator.py:745``):

=========================  =======================================================================
theta                      rotation, degrees: U(-rotation_range, rotation_range)
tx                         shift along **rows** (from ``height_shift_range``), pixels
ty                         shift along **columns** (from ``width_shift_range``), pixels
shear                      shear angle, degrees: U(-shear_range, shear_range)
zx, zy                     zoom along rows and along columns, drawn independently from U(lo, hi)
flip_horizontal            p = 0.5 when ``horizontal_flip`` (bool)
flip_vertical              p = 0.5 when ``vertical_flip`` (bool)
channel_shift_intensity    U(-channel_shift_range, channel_shift_range), or ``None`` when disabled
brightness                 U(*brightness_range), or ``None`` when disabled
=========================  =======================================================================

All values are ``(N,)`` float64 tensors (flips: bool) on the CPU, drawn from one ``torch.Generator``: the same
generator state gives the same batch on every machine, whichever device then applies it. Every image of the
batch has its own values. Each key always reads the same column of one uniform draw, so enabling one option
never changes the values another option gets. NumPy's global random state is never used.
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from kerasish.training.data_adapters.order import _mix

PARAM_KEYS = ("theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
              "channel_shift_intensity", "brightness")

# Columns of the one (N, 12) uniform draw a batch uses.
_THETA, _TX, _TX_SIGN, _TY, _TY_SIGN, _SHEAR, _ZX, _ZY, _FLIP_H, _FLIP_V, _CHANNEL, _BRIGHTNESS = range(12)
_NUM_COLUMNS = 12


@dataclass(frozen=True)
class ShiftRange:
    """``width_shift_range``/``height_shift_range`` as Keras reads them (KP112 ``get_random_transform``).

    - ``kind='uniform'``: a float ``r``: U(-r, r);
    - ``kind='choice'``: an int ``r`` (values ``0 .. r-1``) or a 1-D list of values: one value times a random sign;
    - ``kind='none'``: 0 (the range is falsy).

    ``relative``: the drawn value is a fraction of the image size, which Keras decides by ``max(range) < 1``.
    """

    kind: str
    values: tuple = ()
    relative: bool = False

    @classmethod
    def parse(cls, value, name: str) -> "ShiftRange":
        if isinstance(value, (np.ndarray, list, tuple)):
            values = np.asarray(value, dtype=np.float64)
            if values.size == 0:
                return cls("none")
            if values.ndim != 1:
                raise ValueError(f"{name}: expected a float, an int or a 1-D list of values; received an array of "
                                 f"shape {values.shape}.")
            return cls("choice", tuple(float(v) for v in values), bool(values.max() < 1))
        if not isinstance(value, numbers.Real):
            raise ValueError(f"{name}: expected a float, an int or a 1-D list of values; received {value!r}.")
        if not value:
            return cls("none")
        # np.random.choice(int r) picks from range(r); KP112 falls back to uniform when choice raises, which it
        # does for floats and for ints below 1.
        if isinstance(value, (numbers.Integral, np.bool_)) and int(value) >= 1:
            return cls("choice", tuple(float(v) for v in range(int(value))), False)
        return cls("uniform", (float(value),), bool(value < 1))


def parse_zoom_range(zoom_range) -> tuple[float, float]:
    """``zoom_range`` as Keras stores it: a number ``z`` means ``[1 - z, 1 + z]``."""
    if isinstance(zoom_range, numbers.Real) and not isinstance(zoom_range, bool):
        return 1.0 - float(zoom_range), 1.0 + float(zoom_range)
    if (isinstance(zoom_range, (list, tuple, np.ndarray)) and len(zoom_range) == 2
            and all(isinstance(v, numbers.Real) for v in zoom_range)):
        return float(zoom_range[0]), float(zoom_range[1])
    raise ValueError("`zoom_range` should be a float or a tuple or list of two floats. "
                     f"Received: {zoom_range!r}")


@dataclass(frozen=True)
class TransformRanges:
    """The random-transform arguments of an ``ImageDataGenerator``, already parsed."""

    rotation_range: float = 0.0
    height_shift: ShiftRange = ShiftRange("none")
    width_shift: ShiftRange = ShiftRange("none")
    shear_range: float = 0.0
    zoom_range: tuple[float, float] = (1.0, 1.0)
    horizontal_flip: bool = False
    vertical_flip: bool = False
    channel_shift_range: float = 0.0
    brightness_range: tuple[float, float] | None = None

    @property
    def has_affine(self) -> bool:
        """Whether any image may need resampling (flips excluded)."""
        return bool(self.rotation_range or self.shear_range or self.height_shift.kind != "none"
                    or self.width_shift.kind != "none" or self.zoom_range != (1.0, 1.0))


def draw_transform_params(ranges: TransformRanges, n: int, height: int, width: int,
                          generator: torch.Generator) -> dict:
    """One set of Keras transform parameters per image: a dict of ``(n,)`` CPU tensors (see module docstring).

    ``height``/``width`` scale the fractional shift ranges, as Keras multiplies by the image's rows/cols.
    """
    u = torch.rand((n, _NUM_COLUMNS), dtype=torch.float64, generator=generator).numpy()

    theta = (_uniform(u[:, _THETA], -ranges.rotation_range, ranges.rotation_range) if ranges.rotation_range
             else np.zeros(n))
    tx = _shift(ranges.height_shift, u[:, _TX], u[:, _TX_SIGN], height)
    ty = _shift(ranges.width_shift, u[:, _TY], u[:, _TY_SIGN], width)
    shear = _uniform(u[:, _SHEAR], -ranges.shear_range, ranges.shear_range) if ranges.shear_range else np.zeros(n)
    lo, hi = ranges.zoom_range
    if lo == 1 and hi == 1:
        zx, zy = np.ones(n), np.ones(n)
    else:
        zx, zy = _uniform(u[:, _ZX], lo, hi), _uniform(u[:, _ZY], lo, hi)
    # KP112 draws both flips for every image and multiplies by the flag.
    flip_h = (u[:, _FLIP_H] < 0.5) & bool(ranges.horizontal_flip)
    flip_v = (u[:, _FLIP_V] < 0.5) & bool(ranges.vertical_flip)
    channel = None
    if ranges.channel_shift_range != 0:
        channel = _uniform(u[:, _CHANNEL], -ranges.channel_shift_range, ranges.channel_shift_range)
    brightness = None
    if ranges.brightness_range is not None:
        brightness = _uniform(u[:, _BRIGHTNESS], *ranges.brightness_range)

    values = dict(theta=theta, tx=tx, ty=ty, shear=shear, zx=zx, zy=zy, flip_horizontal=flip_h,
                  flip_vertical=flip_v, channel_shift_intensity=channel, brightness=brightness)
    return {key: None if v is None else torch.from_numpy(v) for key, v in values.items()}


def _uniform(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    # np.random.uniform(lo, hi) = lo + (hi - lo) * U[0, 1)
    return lo + (hi - lo) * u


def _shift(spec: ShiftRange, u_value: np.ndarray, u_sign: np.ndarray, size: int) -> np.ndarray:
    if spec.kind == "none":
        return np.zeros(len(u_value))
    if spec.kind == "uniform":
        r = spec.values[0]
        shift = _uniform(u_value, -r, r)
    else:
        choices = np.asarray(spec.values)
        picked = choices[np.minimum((u_value * len(choices)).astype(np.int64), len(choices) - 1)]
        shift = picked * np.where(u_sign < 0.5, -1.0, 1.0)
    return shift * size if spec.relative else shift


def batch_seed(seed: int, epoch: int, index: int) -> int:
    """The generator seed for item ``index`` (a batch, or a block of batches) of epoch ``epoch`` of a stream
    seeded with ``seed``: a pure function, so any thread, process or device drawing it draws the same values.
    (The sample order of the epoch uses ``_mix(seed, epoch)`` itself, in ``order.epoch_order``.)"""
    return _mix(_mix(seed, epoch), index)


# ---------------------------------------------------------------------------- one image <-> a batch of one
def params_from_keras_dict(transform_parameters: dict, n: int = 1) -> dict:
    """A Keras per-image parameter dict (missing keys take Keras's defaults) -> ``(n,)`` tensors, the same
    values for every image."""
    defaults = dict(theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0, flip_horizontal=False,
                    flip_vertical=False, channel_shift_intensity=None, brightness=None)
    unknown = set(transform_parameters) - set(defaults)
    if unknown:  # Keras ignores them silently; a typo deserves a word
        warnings.warn(f"apply_transform: ignoring unknown transform parameter(s) {sorted(unknown)}; Keras's keys "
                      f"are {list(PARAM_KEYS)}.", stacklevel=3)
    batch = {}
    for key, default in defaults.items():
        value = transform_parameters.get(key, default)
        if value is None:
            batch[key] = None
        elif key.startswith("flip"):
            batch[key] = torch.full((n,), bool(value))
        else:
            batch[key] = torch.full((n,), float(value), dtype=torch.float64)
    return batch


def params_to_keras_dicts(params: dict) -> list[dict]:
    """``(n,)`` tensors -> one Keras parameter dict of Python numbers per image (as ``get_random_transform``)."""
    n = len(params["theta"])
    images = []
    for i in range(n):
        image = {}
        for key in PARAM_KEYS:
            value = params.get(key)
            if value is None:
                image[key] = None
            elif key.startswith("flip"):
                image[key] = bool(value[i])
            else:
                image[key] = float(value[i])
        images.append(image)
    return images
