"""``compile(..., jit_compile=True)``: the forward pass through ``torch.compile``, with a clear fallback.

Keras 3's name for the option. ``True`` compiles with torch's defaults; a dict is passed to ``torch.compile``
as keyword arguments (e.g. ``{'mode': 'max-autotune'}``); ``'auto'`` compiles on CUDA only. If compiling
fails (no compiler toolchain, an unsupported op, a compiler bug), training goes on eagerly after one warning.
An error of the model itself (a shape mismatch, a Lambda that raises) is raised as it is, as without
compilation.
"""
from __future__ import annotations

import contextlib
import functools
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


@functools.cache
def compile_errors() -> tuple[type[BaseException], ...]:
    """What torch.compile raises when it cannot compile: the backend compiler failed (inductor without a C++
    compiler or Triton, a lowering bug), dynamo cannot capture the code (under ``fullgraph=True``) or failed
    internally, or an op rejected its inputs while dynamo traced the model on fake tensors (usually the model's
    own error, such as a shape mismatch). Looked up by name: torch versions differ in which they have."""
    from torch._dynamo import exc as dynamo_exc
    from torch._inductor import exc as inductor_exc
    names = {dynamo_exc: ("BackendCompilerFailed", "Unsupported", "InternalTorchDynamoError", "TorchRuntimeError"),
             inductor_exc: ("CppCompileError", "InvalidCxxCompiler", "CUDACompileError", "TritonMissing",
                            "GPUTooOldForTriton")}
    return tuple(getattr(module, name) for module, module_names in names.items() for name in module_names
                 if isinstance(getattr(module, name, None), type))


def backward_compiled_with_forward():
    """AOTAutograd compiles a graph's backward lazily, at the first ``backward()``: outside this module, where
    a compiler failure (e.g. no C++ compiler for inductor's CPU kernels) would stop training instead of falling
    back. Where torch has the switch, the backward is compiled with the forward instead."""
    from torch._functorch import config
    if hasattr(config, "force_non_lazy_backward_lowering"):
        return config.patch(force_non_lazy_backward_lowering=True)
    return contextlib.nullcontext()


class CompiledFunction:
    """Calls ``torch.compile(fn)``; when compiling fails, warns once and calls ``fn`` eagerly from then on.
    Errors of ``fn`` itself propagate as they are, also one that dynamo met while tracing ``fn``."""

    def __init__(self, fn, options: dict):
        self.eager = fn
        self.compiled = torch.compile(fn, **options)
        self.compiling_backward_too = backward_compiled_with_forward()  # about 10 us a call on the CPU
        self.failed = False

    def __call__(self, *args, **kwargs):
        if self.failed:
            return self.eager(*args, **kwargs)
        try:
            with self.compiling_backward_too:
                return self.compiled(*args, **kwargs)  # compile-time failures surface at the first call
        except compile_errors() as err:
            failure = err
        # Outside the except clause, so that an error of the eager run is not chained to the compiler's: a
        # model error that dynamo met while tracing is raised here as the model's own, and nothing is warned.
        result = self.eager(*args, **kwargs)
        self._give_up(failure)
        return result

    def _give_up(self, err: BaseException) -> None:
        self.failed = True
        cause = getattr(err, "inner_exception", None) or err  # BackendCompilerFailed wraps the compiler's error
        first_line = str(cause).splitlines()[0] if str(cause) else ""
        warnings.warn(f"jit_compile=True: torch.compile could not compile this model "
                      f"({type(cause).__name__}: {first_line}); training continues without compilation.",
                      RuntimeWarning, stacklevel=3)
