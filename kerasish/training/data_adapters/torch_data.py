"""torch data -> batches on the device: a ``DataLoader``, a map-style ``Dataset`` or an ``IterableDataset``.

Three sources, three owners of the loading:

* a user's ``DataLoader`` is used as it is: one of its batches per step, its batch size, sampler, workers,
  ``pin_memory`` and ``collate_fn``. Its sampler decides the order (``sampler.set_epoch(epoch)`` is called
  each epoch when the sampler has it, as a ``DistributedSampler`` needs); kerasish cannot reproduce a random
  sampler's order on resume unless the sampler's own ``generator`` is seeded;
* a map-style ``Dataset``: kerasish builds the loading from Keras's arguments. Its rows are visited in
  ``order.epoch_order`` (the model's seed and the epoch), in global batches of ``batch_size`` cut with
  ``order.replica_batches`` under torchrun -- exactly as the array path -- so resume, ``initial_epoch`` and
  BackupAndRestore see the batches an uninterrupted run would, and two processes train like one with the same
  global batch. A whole batch is one ``__getitems__`` call when the dataset has it (torch's fetcher uses it);
* an ``IterableDataset`` yields samples (batched here by ``batch_size``) like a generator: an epoch runs until
  it is exhausted, or is ``steps_per_epoch`` batches of one continuing stream that, once exhausted, stops
  training with the "ran out of data" warning.

A map-style Dataset's ``__getitems__(indices)`` may return a list of samples (stacked by ``default_collate``, as
torch does) or the whole batch itself (a tuple or dict of batch tensors: one gather per batch, as kerasish's
array path does).

Every raw batch goes through ``prepare`` (data_adapters/standardize.py): the same checks, dtypes and
``non_blocking`` device copy as generator and Sequence batches. Batches are pinned by the loader on CUDA, so
the copy of the next batch is queued while the current step still runs (no host sync).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from kerasish import distributed
from kerasish.training.data_adapters.arrays import RowBatchAdapter
from kerasish.training.data_adapters.generators import ThreadProducer
from kerasish.training.data_adapters.order import replica_batches
from kerasish.training.data_adapters.sequences import shutting_down
from kerasish.utils.nest import map_structure

DEFAULT_BATCH_SIZE = 32  # Keras's default batch_size, for a Dataset given to a *_generator method


def is_torch_data(x) -> bool:
    return isinstance(x, (DataLoader, Dataset))


def is_iterable(data) -> bool:
    dataset = data.dataset if isinstance(data, DataLoader) else data
    return isinstance(dataset, IterableDataset)


def loader_length(loader: DataLoader) -> int | None:
    """``len(loader)`` when it has one (an IterableDataset without ``__len__`` has none)."""
    try:
        return len(loader)
    except TypeError:
        return None


class TorchSource:
    """A torch ``DataLoader``/``Dataset`` with what fit/evaluate/predict said about it: the ``batch_size`` and
    ``shuffle`` to load a Dataset with (None: the ``*_generator`` method's), and whether the caller gave
    ``steps`` (an IterableDataset then is one continuing stream, as a generator)."""

    def __init__(self, data, batch_size: int | None = None, shuffle=None):
        self.data = data
        own = data.batch_size if isinstance(data, DataLoader) else None
        self.batch_size = batch_size or own or DEFAULT_BATCH_SIZE
        self.shuffle = shuffle
        self.one_stream = False

    @property
    def is_loader(self) -> bool:
        return isinstance(self.data, DataLoader)

    @property
    def num_batches(self) -> int | None:
        if self.is_loader:
            return loader_length(self.data)
        if is_iterable(self.data):
            return None
        return math.ceil(len(self.data) / self.batch_size)

    @property
    def runs_until_exhausted(self) -> bool:
        """True when an epoch without ``steps`` is one pass that ends when the data does (no length)."""
        return self.num_batches is None

    @property
    def fixed_tensors(self) -> tuple | None:
        """The tensors of a ``TensorDataset`` whose batches are rows of them as they are (the dataset itself, or
        a DataLoader over it with torch's default collate): in-memory data that fit can check for NaN/inf once,
        as it checks arrays, instead of scanning every batch of every epoch. None for anything else (a
        subclass or a collate_fn may change the rows)."""
        data = self.data
        if isinstance(data, DataLoader):
            if data.collate_fn is not torch.utils.data.default_collate:
                return None
            data = data.dataset
        if type(data) is not TensorDataset or not 1 <= len(data.tensors) <= 3:
            return None
        return data.tensors

    @property
    def kind(self) -> str:
        return "torch DataLoader" if self.is_loader else "torch Dataset"

    def peek_batch(self, caller: str):
        """A first raw batch, to build the model from its shapes, loaded without starting workers or drawing
        from a random sampler's generator when the data allows it."""
        try:
            return self._first_batch(caller)
        except TypeError as err:
            if "default_collate" not in str(err):
                raise
            # a torchvision dataset without a transform yields PIL images, which torch cannot stack
            raise TypeError(f"{caller}: the samples of the {self.kind} cannot be batched: {err}. They must be "
                            "tensors, NumPy arrays or numbers; for a torchvision dataset add "
                            "transform=v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]).") from err

    def _first_batch(self, caller: str):
        data = self.data
        if is_iterable(data):
            loader = data if self.is_loader else DataLoader(data, batch_size=self.batch_size)
            first = next(iter(loader), None)
            if first is None:
                raise ValueError(f"{caller}: the {self.kind} yields no batch; it must yield at least one.")
            return as_batch(first)
        dataset = data.dataset if self.is_loader else data
        if len(dataset) == 0:
            raise ValueError(f"{caller}: the {self.kind} is empty (len 0); it must hold at least one sample.")
        # one row is enough for the shapes (an image dataset would decode a whole batch otherwise)
        if not self.is_loader:
            return as_batch(fetch(data, [0], _collate))
        if data.batch_size is not None:
            return as_batch(fetch(dataset, [0], data.collate_fn))
        if data.batch_sampler is not None:  # the user's own batch sampler
            return as_batch(fetch(data.dataset, list(next(iter(data.batch_sampler))), data.collate_fn))
        return as_batch(data.collate_fn(data.dataset[0]))  # no automatic batching: items are batches


def _collate(samples):
    """torch's ``default_collate`` on a list of samples; a ``__getitems__`` that returned a whole batch (a tuple
    or dict of batch tensors, not a list of samples) is used as it is: one gather per batch, nothing to stack."""
    return torch.utils.data.default_collate(samples) if isinstance(samples, list) else samples


def fetch(dataset, indices: list, collate: Callable):
    """The batch of rows ``indices``: one ``__getitems__`` call when the dataset has it (as torch's fetcher)."""
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(indices) if getitems is not None else [dataset[i] for i in indices]
    return collate(samples)


def as_batch(raw):
    """``default_collate`` turns an item's tuple into a list; a batch is ``x``, ``(x, y)`` or ``(x, y, w)``."""
    return tuple(raw) if isinstance(raw, list) else raw


def loading_options(workers: int, use_multiprocessing: bool, max_queue_size: int, device: torch.device) -> dict:
    """Keras's loading arguments as ``DataLoader`` options: ``workers`` processes with ``use_multiprocessing``
    (each at most ``max_queue_size / workers`` batches ahead), else the main process (a thread may run it,
    see ``background``); pinned batches for a CUDA device, so their copies are ``non_blocking``."""
    options = {"pin_memory": device.type == "cuda"}
    if use_multiprocessing and workers > 0:
        options.update(num_workers=workers, prefetch_factor=max(1, math.ceil(max_queue_size / workers)))
    return options


def background(loader_iterator, workers: int, use_multiprocessing: bool, max_queue_size: int):
    """Keras's thread workers (``use_multiprocessing=False``, ``workers`` > 0): one thread runs the main-process
    loading ``max_queue_size`` batches ahead; ``workers=0``: in the main thread, as Keras."""
    if use_multiprocessing or workers <= 0:
        return loader_iterator
    return ThreadProducer(loader_iterator, max_queue_size, close_source=True)


def prepared(raw_batches, prepare: Callable, device: torch.device):
    """The batches through ``prepare``. On an accelerator each one a step early: its ``non_blocking`` copy is
    queued before the step ahead of it runs, and overlaps that step. On the CPU there is no copy to overlap:
    each batch is prepared when its step comes, while it is still in the cache the loader wrote it to."""
    if device.type == "cpu":
        for raw in raw_batches:
            yield prepare(as_batch(raw))
        return
    pending = None
    for raw in raw_batches:
        ready, pending = pending, prepare(as_batch(raw))
        if ready is not None:
            yield ready
    if pending is not None:
        yield pending


def samplers(loader: DataLoader) -> list:
    """The loader's sampler and batch sampler (and the sampler inside that), each once."""
    found = []
    for sampler in (loader.sampler, loader.batch_sampler, getattr(loader.batch_sampler, "sampler", None)):
        if sampler is not None and all(sampler is not other for other in found):
            found.append(sampler)
    return found


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """A ``DistributedSampler`` (or any sampler with ``set_epoch``) reshuffles from the epoch number."""
    for sampler in samplers(loader):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def has_distributed_sampler(loader: DataLoader) -> bool:
    return any(isinstance(s, DistributedSampler) for s in samplers(loader))


# ---------------------------------------------------------------------------- a user's DataLoader
class DataLoaderAdapter:
    """One of the loader's batches per step; a pass is one iteration of the loader."""

    def __init__(self, source: TorchSource, prepare: Callable, device: torch.device):
        self.loader = source.data
        self.prepare = prepare
        self.device = device
        self.one_stream = source.one_stream and source.num_batches is None
        self._stream = None
        if distributed.is_distributed():
            distributed.warn_unsharded_loader(iterable=is_iterable(self.loader),
                                              has_sampler=has_distributed_sampler(self.loader))

    @property
    def num_batches(self) -> int | None:
        return loader_length(self.loader)

    def pass_batches(self, pass_index: int):
        if self.one_stream:  # len-less data with steps_per_epoch: one stream over all epochs, as a generator
            if self._stream is None:
                self._stream = self._iterate()
            yield from prepared(self._stream, self.prepare, self.device)
            return
        set_epoch(self.loader, pass_index)
        yield from prepared(self._iterate(), self.prepare, self.device)

    def _iterate(self):
        if self.loader.persistent_workers:  # the user keeps these workers from epoch to epoch: leave them be
            return iter(self.loader)
        return shutting_down(iter(self.loader))  # stop the workers at once on an error or interrupt

    def close(self) -> None:
        if self._stream is not None:
            _close(self._stream)
            self._stream = None


# ---------------------------------------------------------------------------- a map-style Dataset
class DatasetAdapter(RowBatchAdapter):
    """Rows of a map-style Dataset in kerasish's order, one DataLoader per pass over the pass's batches."""

    global_batches = True  # torchrun: steps count global batches, as arrays (not one batch per replica)

    def __init__(self, source: TorchSource, prepare: Callable, *, shuffle, seed: int, device: torch.device,
                 workers: int, use_multiprocessing: bool, max_queue_size: int):
        shuffle = source.shuffle if source.shuffle is not None else shuffle
        super().__init__(len(source.data), source.batch_size, shuffle, seed, device)
        self.dataset = source.data
        self.prepare = prepare
        self.loading = (workers, use_multiprocessing, max_queue_size)
        if self.sharded:
            distributed.explain_global_batch(self.batch_size)

    def pass_batches(self, pass_index: int):
        order = self.pass_order(pass_index)
        batches = [list(range(start, stop)) if order is None else order[start:stop].tolist()
                   for start, stop in replica_batches(self.num_samples, self.batch_size, self.shard)]
        loaded = [b for b in batches if b]  # torchrun: a replica's part of a short last batch may be empty
        workers, use_multiprocessing, max_queue_size = self.loading
        last = None
        if loaded:
            loader = DataLoader(self.dataset, batch_sampler=loaded, collate_fn=_collate,
                                **loading_options(workers, use_multiprocessing, max_queue_size, self.device))
            raw = background(shutting_down(iter(loader)), workers, use_multiprocessing, max_queue_size)
            try:
                for last in prepared(raw, self.prepare, self.device):
                    yield last
            finally:
                _close(raw)
        for _ in range(len(batches) - len(loaded)):
            # an empty batch of the right shapes, so that every replica takes part in every step's collectives
            if last is None:  # fewer rows than replicas: load one only for its shapes
                last = self.prepare(as_batch(fetch(self.dataset, [0], _collate)))
            yield tuple(map_structure(lambda t: None if t is None else t[:0], entry) for entry in last)


# ---------------------------------------------------------------------------- an IterableDataset
class IterableDatasetAdapter:
    """Samples of an IterableDataset in batches of ``batch_size``; like a generator it cannot be split across
    replicas or reordered, and with ``use_multiprocessing`` it runs in one worker process (more would each
    yield the whole dataset)."""

    num_batches = None

    def __init__(self, source: TorchSource, prepare: Callable, *, device: torch.device, workers: int,
                 use_multiprocessing: bool, max_queue_size: int):
        self.prepare = prepare
        self.device = device
        self.one_stream = source.one_stream
        self.loading = (min(workers, 1), use_multiprocessing, max_queue_size)
        self.loader = DataLoader(source.data, batch_size=source.batch_size,
                                 **loading_options(*self.loading, device))
        self._stream = None
        if distributed.is_distributed():
            distributed.warn_unsharded_generator()

    def pass_batches(self, pass_index: int):
        if self.one_stream:
            if self._stream is None:
                self._stream = background(shutting_down(iter(self.loader)), *self.loading)
            yield from prepared(self._stream, self.prepare, self.device)
            return
        raw = background(shutting_down(iter(self.loader)), *self.loading)
        try:
            yield from prepared(raw, self.prepare, self.device)
        finally:
            _close(raw)

    def close(self) -> None:
        if self._stream is not None:
            _close(self._stream)
            self._stream = None


def _close(iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def torch_adapter(source: TorchSource, prepare: Callable, *, device: torch.device, shuffle, seed: int,
                  workers: int, use_multiprocessing: bool, max_queue_size: int):
    if source.is_loader:
        return DataLoaderAdapter(source, prepare, device)
    loading = {"workers": workers, "use_multiprocessing": use_multiprocessing, "max_queue_size": max_queue_size}
    if is_iterable(source.data):
        return IterableDatasetAdapter(source, prepare, device=device, **loading)
    return DatasetAdapter(source, prepare, shuffle=shuffle, seed=seed, device=device, **loading)
