"""Random tensors (Keras 2.3.1 ``random_normal``, ``random_uniform``, ``random_binomial``, ``truncated_normal``
and the ``random_*_variable`` pair).

``seed``: the same seed gives the same values (on the same device), drawn from a fresh ``torch.Generator``
seeded with it, so the global torch RNG is neither read nor reseeded. Without a seed the global RNG draws,
as Keras draws a fresh seed from NumPy's.
"""
from __future__ import annotations

import torch

from kerasish.backend.config import get_device
from kerasish.backend.variables import as_variable, as_torch_dtype, size_tuple


def generator(seed, device: torch.device) -> torch.Generator | None:
    if seed is None or device.type == "meta":
        return None
    return torch.Generator(device=device).manual_seed(int(seed))


def _draw_dtype(dtype: torch.dtype) -> torch.dtype:
    # The truncated-normal and uniform kernels lack some half-precision CPU paths: draw in float32, then cast.
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> torch.Tensor:
    """Normal values with ``mean`` and ``stddev`` (numbers or tensors)."""
    dtype, device = as_torch_dtype(dtype), get_device()
    draw = torch.randn(size_tuple(shape), generator=generator(seed, device), dtype=_draw_dtype(dtype), device=device)
    return (draw * stddev + mean).to(dtype)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> torch.Tensor:
    """Uniform values in ``[minval, maxval)``; for an integer ``dtype``, integers in that range
    (``tf.random.uniform``)."""
    dtype, device = as_torch_dtype(dtype), get_device()
    shape, g = size_tuple(shape), generator(seed, device)
    if not (dtype.is_floating_point or dtype.is_complex):
        return torch.randint(int(minval), int(maxval), shape, generator=g, dtype=dtype, device=device)
    draw = torch.rand(shape, generator=g, dtype=_draw_dtype(dtype), device=device)
    return (draw * (maxval - minval) + minval).to(dtype)


def random_binomial(shape, p=0.0, dtype=None, seed=None) -> torch.Tensor:
    """1 with probability ``p``, else 0: tf.keras draws ``uniform <= p``."""
    dtype, device = as_torch_dtype(dtype), get_device()
    draw = torch.rand(size_tuple(shape), generator=generator(seed, device), dtype=torch.float32, device=device)
    return (draw <= p).to(dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> torch.Tensor:
    """Normal values redrawn until within two standard deviations of the mean (``tf.random.truncated_normal``)."""
    dtype, device = as_torch_dtype(dtype), get_device()
    draw = torch.empty(size_tuple(shape), dtype=_draw_dtype(dtype), device=device)
    torch.nn.init.trunc_normal_(draw, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=generator(seed, device))
    return (draw * stddev + mean).to(dtype)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A variable holding ``random_normal(shape, mean, scale)``."""
    return as_variable(random_normal(shape, mean, scale, dtype=dtype, seed=seed))


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A variable holding ``random_uniform(shape, low, high)``."""
    return as_variable(random_uniform(shape, low, high, dtype=dtype, seed=seed))
