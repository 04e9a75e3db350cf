"""Python generators and iterators -> batches on the device, through a bounded prefetch queue.

A plain generator can be neither indexed nor split, so it has one producer: a background thread
(``use_multiprocessing=False``) or one worker process of a ``torch.utils.data.DataLoader`` over an
``IterableDataset`` (``use_multiprocessing=True``). Either way the next ``max_queue_size`` batches are produced
while the current step trains, ``next()`` is never called from two threads at once (so generators need not be
thread-safe), no batch is duplicated, and an exception raised by the generator reaches the caller with its
original traceback (from a worker process: returned as a ``LoadFailure`` and re-raised here as itself, not as
torch's "Caught ... in DataLoader worker process" wrapper).
"""
from __future__ import annotations

import queue
import threading
import warnings
from typing import Callable, Iterator

from torch.utils.data import DataLoader, IterableDataset

from kerasish.training.data_adapters.sequences import (LoadFailure, raising_failures, shutting_down,
                                                       single_threaded_torch)

_DONE = object()


class GeneratorDataAdapter:
    """One pass: the whole generator. ``prepare`` turns a raw batch into device tensors (main thread)."""

    num_batches = None  # unknown until the generator ends

    def __init__(self, generator, prepare: Callable, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10, first_batch=None):
        self.generator = generator
        self.prepare = prepare
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max(1, int(max_queue_size))
        self._first = first_batch  # peeked by the caller to check shapes; served first
        self._source: Iterator | None = None
        if use_multiprocessing and workers > 1:
            warnings.warn("Using a generator with `use_multiprocessing=True` and multiple workers would duplicate "
                          "your data, so kerasish runs it in a single worker process. Please consider using the "
                          "`kerasish.utils.Sequence` class for parallel loading.", UserWarning, stacklevel=4)

    def pass_batches(self, pass_index: int):
        if self._source is None:
            self._source = self._open()
        for raw in self._source:
            yield self.prepare(raw)

    def _open(self) -> Iterator:
        if self._first is not None:
            first, self._first = self._first, None
            head = [first]
        else:
            head = []
        if self.workers <= 0:
            return _chain(head, self.generator)
        if self.use_multiprocessing:
            return _chain(head, _process_producer(self.generator, self.max_queue_size))
        return _chain(head, ThreadProducer(self.generator, self.max_queue_size))

    def close(self) -> None:
        if isinstance(self._source, _Chained):
            self._source.close()


class _Chained:
    def __init__(self, head, tail):
        self.head, self.tail = list(head), tail

    def __iter__(self):
        return self

    def __next__(self):
        if self.head:
            return self.head.pop(0)
        return next(self.tail)

    def close(self):
        close = getattr(self.tail, "close", None)
        if close is not None:
            close()


def _chain(head, tail) -> _Chained:
    return _Chained(head, iter(tail))


class ThreadProducer:
    """Pulls ``next(source)`` in one daemon thread into a queue of ``max_queue_size`` items.

    ``close_source``: the thread closes ``source`` when it stops (for our own generators, whose ``finally``
    stops their workers; never for a user's generator, which may be used again)."""

    def __init__(self, source, max_queue_size: int, close_source: bool = False):
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue_size)
        self._stop = threading.Event()
        self._close_source = close_source
        self._thread = threading.Thread(target=self._run, args=(iter(source),), daemon=True,
                                        name="kerasish-generator-producer")
        self._thread.start()

    def _run(self, source):
        single_threaded_torch()  # leave the cores' intra-op threads to the training step
        try:
            for item in source:
                if not self._put(item):
                    return
        except BaseException as err:  # re-raised in the consumer, with the producer's traceback
            self._put(_Failure(err))
            return
        finally:
            if self._close_source:
                _close_iterator(source)
        self._put(_DONE)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is _DONE:
            self._queue.put(_DONE)  # stay exhausted for later calls
            raise StopIteration
        if isinstance(item, _Failure):
            raise item.error
        return item

    def close(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (after ``close``); True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


def _close_iterator(source) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        close()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class _GeneratorDataset(IterableDataset):
    def __init__(self, generator):
        self.generator = generator

    def __iter__(self):
        batches = iter(self.generator)
        produced = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as err:
                yield LoadFailure(err, f"the generator, after {produced} batch(es) from it")
                return
            produced += 1
            yield batch


def _identity(batch):
    return batch


def _process_producer(generator, max_queue_size: int):
    # One worker process (fork inherits the generator): no duplication, prefetch of max_queue_size batches.
    loader = DataLoader(_GeneratorDataset(generator), batch_size=None, num_workers=1,
                        prefetch_factor=max_queue_size, collate_fn=_identity)
    return raising_failures(shutting_down(iter(loader)))
