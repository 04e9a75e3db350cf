"""The ONLY place that looks at what kind of data came in and picks an adapter.

Every adapter has ``num_batches`` (None when unknown), ``pass_batches(i)`` yielding ``(x, y, sample_weight)``
batches already on the device, and ``close()``.
"""
from __future__ import annotations

import inspect

import torch

from kerasish import distributed
from kerasish.training.data_adapters.arrays import ArrayDataAdapter
from kerasish.training.data_adapters.generators import GeneratorDataAdapter
from kerasish.training.data_adapters.lazy_arrays import LazyArrayDataAdapter, LazyRows
from kerasish.training.data_adapters.sequences import SequenceDataAdapter
from kerasish.utils.sequence import is_sequence


def is_stream(x) -> bool:
    """A generator, an iterator, a ``Sequence`` (duck-typed, as Keras 2.3.1) or one of our image iterators."""
    if x is None or isinstance(x, (torch.Tensor, list, tuple, dict)) or hasattr(x, "__array__"):
        return False
    return is_sequence(x) or hasattr(x, "batch_tensors") or inspect.isgenerator(x) or hasattr(x, "__next__")


def stream_length(x) -> int | None:
    """Batches per epoch of a Sequence or one of our iterators; None for a plain generator."""
    return len(x) if (is_sequence(x) or hasattr(x, "batch_tensors")) else None


def get_data_adapter(tensors: list, *, batch_size: int, shuffle, seed: int, device: torch.device):
    """Standardised host tensors ``[x, y, sample_weight]`` (y and sample_weight may be None; x may be LazyRows,
    data left on disk)."""
    tensors = list(tensors) + [None] * (3 - len(tensors))
    if distributed.is_distributed():
        distributed.explain_global_batch(batch_size)  # once, on rank 0
    if any(isinstance(t, LazyRows) for t in tensors):
        return LazyArrayDataAdapter(tensors, batch_size=batch_size, shuffle=shuffle, seed=seed, device=device)
    return ArrayDataAdapter(tensors, batch_size=batch_size, shuffle=shuffle, seed=seed, device=device)


def get_stream_adapter(source, *, prepare, device: torch.device, shuffle: bool, seed: int, workers: int,
                       use_multiprocessing: bool, max_queue_size: int, first_batch=None):
    """A generator/Sequence/image iterator; ``prepare`` turns each raw batch into device tensors."""
    if is_sequence(source) or hasattr(source, "batch_tensors"):
        if distributed.is_distributed():
            distributed.explain_sequence_sharding()  # once, on rank 0
        return SequenceDataAdapter(source, prepare, device, shuffle=shuffle, seed=seed, workers=workers,
                                   use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
    if distributed.is_distributed():
        distributed.warn_unsharded_generator()  # cannot be split: every rank reads its own
    return GeneratorDataAdapter(source, prepare, workers=workers, use_multiprocessing=use_multiprocessing,
                                max_queue_size=max_queue_size, first_batch=first_batch)
