"""Keras initializers by name (Keras 2.3.1 ``keras/initializers.py``).

An initializer is called with a **Keras-layout** shape (Dense kernel ``(in, out)``, Conv kernel
``(*k, in, out)``) and a dtype (default ``backend.floatx()``, as Keras 2.3.1's ``K.constant``/``K.random_*``)
and returns a CPU tensor of that shape and dtype; layers convert it to their torch layout with
``weight_layouts``. Fans are computed as Keras computes them, so variance scaling matches Keras.
Random draws use torch's global generator (``torch.manual_seed`` makes them reproducible); they are made in
float64 for float64 weights and in float32 otherwise (half precision is rounded from float32 draws), so a
float32 model draws the same values whatever its seed history of floatx.
"""
from __future__ import annotations

import math

import inspect

import numpy as np
import torch

from kerasish import backend
from kerasish.utils.generic_utils import get_custom_objects, serialize_keras_object
from kerasish.utils.validation import did_you_mean


def compute_fans(shape: tuple) -> tuple[float, float]:
    """Keras ``_compute_fans``: 2D ``(in, out)``; conv ``(*k, in, out)`` scaled by the receptive field."""
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        receptive_field = float(np.prod(shape[:-2]))
        return shape[-2] * receptive_field, shape[-1] * receptive_field
    root = math.sqrt(float(np.prod(shape)))
    return root, root


class Initializer:
    def __call__(self, shape, dtype=None) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return torch.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return torch.ones(tuple(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return torch.full(tuple(shape), float(self.value), dtype=_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return torch.normal(self.mean, self.stddev, size=tuple(shape), generator=_generator(self.seed),
                            dtype=_draw_dtype(dtype)).to(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        u = torch.rand(tuple(shape), generator=_generator(self.seed), dtype=_draw_dtype(dtype))
        return (self.minval + (self.maxval - self.minval) * u).to(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal re-drawn beyond two standard deviations (Keras/TF ``truncated_normal``)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return _truncated_normal(tuple(shape), self.mean, self.stddev, _generator(self.seed), dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: `scale` must be a positive float; received {scale!r}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg'; received {mode!r}.")
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("VarianceScaling: distribution must be 'normal', 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal'; received {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        draw = _draw_dtype(dtype)
        fan_in, fan_out = compute_fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, fan)
        generator = _generator(self.seed)
        if self.distribution in ("normal", "truncated_normal"):
            # 0.879... is the stddev of a standard normal truncated to (-2, 2) (Keras 2.3.1)
            stddev = math.sqrt(variance) / 0.87962566103423978
            return _truncated_normal(tuple(shape), 0.0, stddev, generator, dtype)
        if self.distribution == "untruncated_normal":
            return (torch.randn(tuple(shape), generator=generator, dtype=draw) * math.sqrt(variance)).to(dtype)
        limit = math.sqrt(3.0 * variance)
        return ((torch.rand(tuple(shape), generator=generator, dtype=draw) * 2 - 1) * limit).to(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = int(shape[-1])
        flat = torch.randn((max(rows, cols), min(rows, cols)), generator=_generator(self.seed),
                           dtype=_draw_dtype(dtype))  # QR has no half-precision kernel: float32 for those
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.t()
        return (self.gain * q[:rows, :cols]).reshape(tuple(shape)).to(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices; received shape {shape}.")
        return (self.gain * torch.eye(shape[0], shape[1], dtype=_draw_dtype(_dtype(dtype)))).to(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


def glorot_uniform(seed=None):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "normal", seed)


# Keras 2.3.1's lowercase aliases of the classes
zero = zeros = Zeros
one = ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
identity = Identity
orthogonal = Orthogonal

# Keras names (and their CamelCase class names) -> a factory taking no arguments.
_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal, "identity": Identity,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal, "he_uniform": he_uniform,
    "he_normal": he_normal, "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
}
_CLASSES = {cls.__name__: cls for cls in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
                                           VarianceScaling, Orthogonal, Identity)}


def get(identifier) -> Initializer:
    """A Keras name (``'glorot_uniform'``), class name (``'GlorotUniform'`` style too), instance or callable."""
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else _camel_to_snake(identifier)
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown initializer: {identifier!r}.{did_you_mean(identifier, [*_BY_NAME, *_CLASSES])} "
                         f"Known initializers: {sorted(_BY_NAME)}.")
    if isinstance(identifier, dict) and "class_name" in identifier:
        # Keras 2.3.1 deserialize calls the class or function with the config (glorot_uniform(seed=...))
        name = identifier["class_name"]
        factory = _CLASSES.get(name) or _BY_NAME.get(name) or _BY_NAME.get(_camel_to_snake(name))
        if factory is None:
            raise ValueError(f"Unknown initializer: {name!r}.{did_you_mean(name, [*_CLASSES, *_BY_NAME])} Known "
                             f"initializers: {sorted(_BY_NAME)}.")
        return factory(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"initializer: expected a name such as 'glorot_uniform', an Initializer or a callable; "
                    f"received {identifier!r}.")


def _camel_to_snake(name: str) -> str:
    from kerasish.utils.generic_utils import to_snake_case
    return to_snake_case(name)


def _generator(seed):
    if seed is None:
        return None
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def _truncated_normal(shape, mean, stddev, generator, dtype: torch.dtype):
    out = torch.empty(shape, dtype=_draw_dtype(dtype))
    torch.nn.init.trunc_normal_(out, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=generator)
    return (out * stddev + mean).to(dtype)


def _dtype(dtype) -> torch.dtype:
    """The dtype asked for (a Keras name, a torch or NumPy dtype), ``floatx()`` when None (Keras 2.3.1)."""
    return backend.torch_floatx() if dtype is None else backend.torch_dtype(dtype)


def _draw_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def initial_value(initializer, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
    """``initializer(shape, dtype=dtype)`` as a tensor of ``dtype``, as Keras 2.3.1 ``Layer.add_weight`` calls it.

    A callable of the user's that takes no ``dtype`` (``lambda shape: ...``) is called with the shape alone;
    what it returns (a tensor or a NumPy array) is converted to ``dtype``."""
    if _accepts_dtype(initializer):
        value = initializer(tuple(shape), dtype=dtype)
    else:
        value = initializer(tuple(shape))
    return torch.as_tensor(value).to(dtype)


def _accepts_dtype(fn) -> bool:
    if isinstance(fn, Initializer):
        return True
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return any(p.name == "dtype" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def serialize(initializer) -> dict:
    """Keras 2.3.1 ``initializers.serialize``: ``{'class_name': ..., 'config': ...}``."""
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None) -> Initializer:
    """Keras 2.3.1 ``initializers.deserialize``: the initializer a ``{'class_name': ..., 'config': ...}`` dict (or a
    name) stands for; ``custom_objects`` and the registered custom objects first, then kerasish's initializers."""
    custom = {**get_custom_objects(), **dict(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else config
    if isinstance(name, str) and name in custom:
        return custom[name](**dict(config.get("config") or {})) if isinstance(config, dict) else custom[name]()
    return get(config)
