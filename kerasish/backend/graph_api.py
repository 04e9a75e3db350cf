"""``K.placeholder`` and ``K.function``: the backend's doors to symbolic tensors and graphs.

Symbolic tensors and graphs are built by the layers and models, which import the backend; so the backend does
not import them: ``kerasish.models`` installs its implementations here when it is imported (it always is,
by ``import kerasish``).
"""
from __future__ import annotations

_implementations: dict = {}


def install(**implementations) -> None:
    """Called once by kerasish.models: ``install(placeholder=..., function=...)``."""
    _implementations.update(implementations)


def _get(name: str):
    if name not in _implementations:
        raise RuntimeError(f"K.{name} needs kerasish.models; `import kerasish` (or kerasish.models) first.")
    return _implementations[name]


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """Keras 2.3.1 ``K.placeholder``: a symbolic input of ``shape`` (``None`` for unknown dimensions) or of
    ``ndim`` unknown dimensions, as ``Input(batch_shape=...)`` makes."""
    return _get("placeholder")(shape=shape, ndim=ndim, dtype=dtype, sparse=sparse, name=name)


def is_placeholder(x) -> bool:
    """Whether ``x`` is a symbolic input (made by ``K.placeholder`` or ``Input``)."""
    return _get("is_placeholder")(x)


def function(inputs, outputs, updates=None, **kwargs):
    """Keras 2.3.1 ``K.function(inputs, outputs)``: a callable that takes a list of arrays (one per input, in
    order) and returns the list of output arrays, computed on the training device without gradients. An
    entry of ``inputs`` that is ``K.learning_phase()`` takes 0 (inference) or 1 (training) for the call."""
    return _get("function")(inputs, outputs, updates=updates, **kwargs)
