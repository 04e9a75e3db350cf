"""Mixed precision the Keras way: ``set_global_policy('mixed_float16' | 'mixed_bfloat16')``.

A policy names the dtype the layers compute in and the dtype the weights are stored in. Under a mixed policy
the forward pass runs in ``torch.autocast``; weights, optimizer state, losses and metrics stay float32, and
``mixed_float16`` scales the loss with a ``GradScaler`` so small float16 gradients do not underflow.
"""
from __future__ import annotations

import contextlib

import torch

from kerasish.utils.validation import did_you_mean

_POLICIES = {"float32": None, "mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16}


class Policy:
    """``Policy('mixed_float16')``: ``compute_dtype`` float16, ``variable_dtype`` float32."""

    def __init__(self, name: str):
        if isinstance(name, Policy):
            name = name.name
        if name not in _POLICIES:
            raise ValueError(f"mixed precision policy: expected one of {sorted(_POLICIES)}; received {name!r}."
                             f"{did_you_mean(name, _POLICIES)}")
        self.name = name

    @property
    def compute_dtype(self) -> str:
        return {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}[self.name]

    @property
    def variable_dtype(self) -> str:
        return "float32"

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return _POLICIES[self.name]

    @property
    def needs_loss_scaling(self) -> bool:
        return self.name == "mixed_float16"

    def autocast(self, device: torch.device):
        """The context the forward pass runs in: ``torch.autocast`` under a mixed policy, else nothing."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.autocast_dtype)

    def grad_scaler(self, device: torch.device):
        """A loss scaler for float16, else None."""
        if not self.needs_loss_scaling:
            return None
        return torch.amp.GradScaler(device.type)

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __repr__(self):
        return f'<Policy "{self.name}">'


_global_policy = Policy("float32")


def set_global_policy(policy) -> None:
    """Policy for models compiled from now on (``'float32'``, ``'mixed_float16'``, ``'mixed_bfloat16'``)."""
    global _global_policy
    _global_policy = Policy(policy if policy is not None else "float32")


def global_policy() -> Policy:
    return _global_policy


def autocast_enabled(device: torch.device) -> bool:
    """Whether the code running now is inside ``torch.autocast`` for ``device``'s type."""
    try:
        return torch.is_autocast_enabled(device.type)
    except TypeError:  # torch < 2.4 takes no device type: CUDA's flag, and a separate one for the CPU
        return torch.is_autocast_cpu_enabled() if device.type == "cpu" else torch.is_autocast_enabled()
    except RuntimeError:  # a device type autocast does not know ('meta'): never under autocast
        return False
