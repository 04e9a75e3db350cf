"""``get_data_adapter``: the ONLY place that looks at what kind of data came in and picks an adapter."""
from __future__ import annotations

import torch

from kerasish.training.data_adapters.arrays import ArrayDataAdapter


def get_data_adapter(tensors: list, *, batch_size: int, shuffle, seed: int, device: torch.device):
    """Standardised host tensors ``[x, y, sample_weight]`` (y and sample_weight may be None) -> an adapter
    whose ``pass_batches(i)`` yields ``(x, y, sample_weight)`` batches on ``device``."""
    tensors = list(tensors) + [None] * (3 - len(tensors))
    return ArrayDataAdapter(tensors, batch_size=batch_size, shuffle=shuffle, seed=seed, device=device)
