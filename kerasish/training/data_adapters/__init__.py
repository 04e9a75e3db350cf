"""The ONLY place that looks at what kind of data came in and picks an adapter.

Every adapter has ``num_batches`` (None when unknown), ``pass_batches(i)`` yielding ``(x, y, sample_weight)``
batches already on the device, and ``close()``.
"""
from __future__ import annotations

import inspect

import torch
from torch.utils.data import DataLoader, RandomSampler

from kerasish import distributed
from kerasish.training import arguments as args
from kerasish.training.data_adapters.arrays import ArrayDataAdapter
from kerasish.training.data_adapters.generators import GeneratorDataAdapter
from kerasish.training.data_adapters.lazy_arrays import LazyArrayDataAdapter, LazyRows
from kerasish.training.data_adapters.sequences import SequenceDataAdapter
from kerasish.training.data_adapters.torch_data import TorchSource, is_torch_data, torch_adapter
from kerasish.utils.sequence import SequenceDataset, is_sequence


def is_stream(x) -> bool:
    """A generator, an iterator, a ``Sequence`` (duck-typed, as Keras 2.3.1) or one of our image iterators."""
    if isinstance(x, TorchSource) or is_torch_data(x):
        return True
    if x is None or isinstance(x, (torch.Tensor, list, tuple, dict)) or hasattr(x, "__array__"):
        return False
    return is_sequence(x) or hasattr(x, "batch_tensors") or inspect.isgenerator(x) or hasattr(x, "__next__")


def stream_length(x) -> int | None:
    """Batches per epoch of a Sequence, one of our iterators or torch data (None when it has no length); None
    for a plain generator."""
    if isinstance(x, TorchSource):
        return x.num_batches
    return len(x) if (is_sequence(x) or hasattr(x, "batch_tensors")) else None


# ---------------------------------------------------------------------------- torch data (torch_data.py)
def torch_source(x, caller: str, *, batch_size=None, shuffle=None, y=None, sample_weight=None,
                 validation_split=None):
    """fit/evaluate/predict: ``(source, batch_size)``, torch data ``x`` becoming a ``TorchSource`` that carries
    the ``batch_size`` (and ``shuffle``) a Dataset is loaded with, so the ``*_generator`` path that takes it from
    there needs no ``batch_size`` (returned None). Anything else comes back unchanged; a Sequence's
    ``as_torch_dataset()`` comes back as the Sequence (its items are batches already)."""
    if isinstance(x, SequenceDataset):
        return x.sequence, batch_size
    if not is_torch_data(x):
        return x, batch_size
    kind = "torch DataLoader" if isinstance(x, DataLoader) else "torch Dataset"
    # Keras 3 data_adapters.raise_unsupported_arg wording
    for name, description, value in (("y", "the targets", y), ("sample_weight", "the sample weights", sample_weight)):
        if value is not None:
            raise ValueError(f"{caller}: When providing `x` as a {kind}, `{name}` should not be passed. Instead, "
                             f"{description} should be included as part of the {kind}.")
    if validation_split:
        raise ValueError(f"{caller}: `validation_split` is only supported for arrays; received a {kind}. Pass "
                         f"the validation data as `validation_data` (another {kind} or arrays).")
    if isinstance(x, DataLoader):
        if batch_size is not None:
            # Keras 3 fit docs: "Do not specify the batch_size if your input data x is a DataLoader"
            raise ValueError(f"{caller}: Do not specify the `batch_size` if your input data `x` is a torch "
                             f"DataLoader, since it generates batches (batch_size={x.batch_size} here); received "
                             f"batch_size={batch_size!r}. Set the batch size on the DataLoader, or pass its "
                             f"Dataset to let kerasish batch it.")
        if shuffle == "batch":
            raise ValueError(f"{caller}: shuffle='batch' cannot reorder a torch DataLoader's batches: its sampler "
                             "decides the order (DataLoader(..., shuffle=True)); pass the Dataset itself to let "
                             "kerasish shuffle it.")
        if shuffle is False and isinstance(x.sampler, RandomSampler):
            raise ValueError(f"{caller}: shuffle=False cannot stop a torch DataLoader built with shuffle=True from "
                             "shuffling: its sampler decides the order. Build it with shuffle=False, or leave "
                             "shuffle out of this call.")
        return TorchSource(x), None
    return TorchSource(x, batch_size, None if shuffle is None else args.check_shuffle(shuffle, caller)), None


def validation_source(validation_data, batch_size):
    """fit's ``validation_data`` as torch data: a Dataset batched by fit's ``batch_size``, a DataLoader as given
    (fit's ``batch_size`` is then the training data's)."""
    if isinstance(validation_data, SequenceDataset):
        return validation_data.sequence
    return TorchSource(validation_data, batch_size) if is_torch_data(validation_data) else validation_data


def stream_source(source, steps):
    """A ``*_generator`` method's source, torch data wrapped (Keras's default batch size for a Dataset);
    ``steps`` given: a source without length is one continuing stream, as a generator."""
    if isinstance(source, SequenceDataset):
        return source.sequence
    if is_torch_data(source):
        source = TorchSource(source)
    if isinstance(source, TorchSource):
        source.one_stream = steps is not None
    return source


def runs_until_exhausted(source) -> bool:
    """Whether an epoch without ``steps`` may end when the data does (torch data without a length)."""
    return isinstance(source, TorchSource) and source.runs_until_exhausted


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
    """A generator/Sequence/image iterator/torch data; ``prepare`` turns each raw batch into device tensors."""
    if isinstance(source, TorchSource):
        return torch_adapter(source, prepare, device=device, shuffle=shuffle, seed=seed, workers=workers,
                             use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
    if is_sequence(source) or hasattr(source, "batch_tensors"):
        if distributed.is_distributed():
            distributed.explain_sequence_sharding()  # once, on rank 0
        return SequenceDataAdapter(source, prepare, device, shuffle=shuffle, seed=seed, workers=workers,
                                   use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
    if distributed.is_distributed():
        distributed.warn_unsharded_generator()  # cannot be split: every rank reads its own
    return GeneratorDataAdapter(source, prepare, workers=workers, use_multiprocessing=use_multiprocessing,
                                max_queue_size=max_queue_size, first_batch=first_batch)
