"""``compile(..., jit_compile=True)``: the forward pass through ``torch.compile``, with a clear fallback.

Keras 3's name for the option. ``True`` compiles with torch's defaults; a dict is passed to ``torch.compile``
as keyword arguments (e.g. ``{'mode': 'max-autotune'}``); ``'auto'`` compiles on CUDA only. If compiling
fails (no compiler toolchain, an unsupported op), training goes on eagerly after one warning.
"""
from __future__ import annotations

import warnings

import torch


def resolve_jit_compile(jit_compile, device: torch.device) -> dict | None:
    """The torch.compile keyword arguments to use, or None for eager execution."""
    if jit_compile in (False, None):
        return None
    if jit_compile == "auto":
        return {} if device.type == "cuda" else None
    if jit_compile is True:
        return {}
    if isinstance(jit_compile, dict):
        return dict(jit_compile)
    raise ValueError(f"compile: jit_compile must be True, False, 'auto' or a dict of torch.compile options; "
                     f"received {jit_compile!r}.")


class CompiledFunction:
    """Calls ``torch.compile(fn)``; on the first failure warns once and calls ``fn`` eagerly from then on."""

    def __init__(self, fn, options: dict):
        self.eager = fn
        self.compiled = torch.compile(fn, **options)
        self.failed = False

    def __call__(self, *args, **kwargs):
        if not self.failed:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as err:  # compile-time failures surface at the first call
                self.failed = True
                warnings.warn(f"jit_compile=True: torch.compile could not compile this model "
                              f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
                              "training continues without compilation.", RuntimeWarning, stacklevel=2)
        return self.eager(*args, **kwargs)
