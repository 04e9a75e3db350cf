"""The order in which samples are visited: the one place that decides it.

Epoch ``e`` of a model visits its samples in an order that depends only on ``(seed, e)``, so a run resumed
at ``initial_epoch=e`` sees the same batches as an uninterrupted one, and every process of a distributed
job can compute the same permutation without talking to the others (the model's seed is rank 0's).

Under torchrun each replica then takes its share of every step (``Shard``):

* arrays: the global batch of ``batch_size`` rows is cut into ``W`` contiguous slices whose sizes differ
  by at most one (``replica_rows``); a replica whose slice of a short last batch is empty gets 0 rows;
* Sequences: the items of a pass go round-robin, replica ``r`` takes items ``r, r+W, ...``
  (``replica_items``); at the last step of a pass that does not divide evenly some replicas have none.

Either way every replica runs the same number of steps (a step with no data runs an empty batch), so no
collective waits for a replica that has stopped, and step ``s``'s data read rank by rank is the data of
one process's step ``s`` in its order (``distributed.gather_in_order`` relies on that).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from kerasish import distributed


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


# ---------------------------------------------------------------------------- replicas (torchrun)
class Shard(NamedTuple):
    """Which replica this process is (``rank``) out of how many (``world``); ``Shard(0, 1)`` alone."""
    rank: int = 0
    world: int = 1


def current_shard() -> Shard:
    return Shard(distributed.rank(), distributed.world_size()) if distributed.is_distributed() else Shard()


def replica_rows(start: int, stop: int, shard: Shard) -> tuple[int, int]:
    """This replica's contiguous part ``[first, last)`` of the global batch ``[start, stop)``: the first
    ``rows % W`` replicas take one row more than the others (like ``numpy.array_split``)."""
    base, extra = divmod(stop - start, shard.world)
    first = start + shard.rank * base + min(shard.rank, extra)
    return first, first + base + (1 if shard.rank < extra else 0)


def replica_batches(num_samples: int, batch_size: int, shard: Shard):
    """``(start, stop)`` of this replica's part of each global batch of a pass, in step order (positions in
    the pass's order; the whole batch in a single process)."""
    for start in range(0, num_samples, batch_size):
        yield replica_rows(start, min(start + batch_size, num_samples), shard)


def global_batch_rows(num_samples: int, batch_size: int, step: int) -> int:
    """Rows of batch ``step`` of a pass over all replicas (what batch logs report as ``size``)."""
    return min(batch_size, num_samples - step * batch_size)


def replica_items(num_items: int, shard: Shard) -> range:
    """The positions of a pass's items this replica loads: ``rank, rank + W, ...``."""
    return range(shard.rank, num_items, shard.world)


def replica_steps(num_items: int, shard: Shard) -> int:
    """Steps every replica runs for ``num_items`` round-robin items (the longest share)."""
    return math.ceil(num_items / shard.world)
