"""The order in which samples are visited: the one place that decides it.

Epoch ``e`` of a model visits its samples in an order that depends only on ``(seed, e)``, so a run resumed
at ``initial_epoch=e`` sees the same batches as an uninterrupted one, and every process of a distributed
job can compute the same permutation without talking to the others.
"""
from __future__ import annotations

import torch


def epoch_order(num_samples: int, epoch: int, seed: int, shuffle, batch_size: int) -> torch.Tensor | None:
    """Indices for one pass over the data, or ``None`` for the natural order (cheaper: batches are slices).

    ``shuffle=True`` permutes samples; ``'batch'`` permutes whole batch-sized chunks and keeps the remainder
    last (Keras 2.3.1 ``training_utils.batch_shuffle``); ``False`` keeps the order.
    """
    if not shuffle:
        return None
    generator = torch.Generator().manual_seed(_mix(seed, epoch))
    if shuffle == "batch":
        full_batches = num_samples // batch_size
        chunk_order = torch.randperm(full_batches, generator=generator)
        index = (chunk_order[:, None] * batch_size + torch.arange(batch_size)).reshape(-1)
        return torch.cat([index, torch.arange(full_batches * batch_size, num_samples)])
    return torch.randperm(num_samples, generator=generator)


def _mix(seed: int, epoch: int) -> int:
    # A different, well-spread stream per epoch from one model seed (splitmix64 finaliser).
    z = (seed * 0x9E3779B97F4A7C15 + epoch + 1) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


def new_seed() -> int:
    """A seed drawn from torch's global generator, so ``torch.manual_seed`` makes shuffling reproducible."""
    return int(torch.randint(0, 2**62, (1,)).item())
