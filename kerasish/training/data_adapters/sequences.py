"""``kerasish.utils.Sequence`` (and our ImageDataGenerator iterators) -> batches on the device.

A pass visits every index of the Sequence once, in order or in the epoch's shuffled order, then calls
``on_epoch_end()`` (Keras 2.3.1's OrderedEnqueuer does the same after each full pass). Loading:

* our augmentation iterators (they have ``batch_tensors(index, device)``): in the main thread; the raw batch
  goes to the device first and is augmented there, so there is no per-image work on the host. On a GPU the
  augmentation kernels of the next batch are queued while the current step still runs on the device; on the
  CPU a loader thread would compete with the step's own threads (measured: fit_generator went from 1.13x to
  1.86x the time of plain fit), so the main thread is the fastest place there too. File iterators
  (``flow_from_directory``/``flow_from_dataframe``) first decode each image on the host: with ``workers`` > 0
  that part (``staged_batch``) runs in ``workers`` threads (or processes) at most ``max_queue_size`` batches
  ahead, and the main thread finishes each batch on the device (``finish_batch``);
* ``workers=0``: in the main thread;
* threads (``use_multiprocessing=False``): a pool of ``workers`` threads, at most ``max_queue_size`` batches
  ahead, results in index order;
* processes: a ``DataLoader`` whose sampler is the pass's index order, ``workers`` processes, each index
  exactly once, order kept. Workers are started per pass so they see what ``on_epoch_end`` changed.

An exception raised while loading item ``i`` reaches the caller as itself (type, message, traceback), with a
note naming the Sequence index; from a worker process it comes back as a value (``LoadFailure``) rather than
as torch's ``<type>('Caught <type> in DataLoader worker process N. Original Traceback ...')``, which buries the
message under its own, and the worker's traceback is its cause.

Under torchrun each replica loads only its items of a pass (``order.replica_items``: ``rank, rank + W, ...``)
and runs ``replica_steps`` steps; at a last step without an item it trains on an empty batch. The pass's order
is the same on every rank (the model's seed is rank 0's), and so is an image iterator's own sample order and
augmentation (its seed is made rank 0's here). A Sequence that reorders itself in ``on_epoch_end`` must do so
alike on every rank (seed it), or replicas would see overlapping data.
"""
from __future__ import annotations

import collections
import copy
import itertools
import math
import pickle
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset

from kerasish import distributed
from kerasish.training.data_adapters.order import current_shard, epoch_order, replica_items, replica_steps


class SequenceDataAdapter:
    def __init__(self, sequence, prepare: Callable, device: torch.device, shuffle: bool = False, seed: int = 0,
                 workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self.sequence = sequence
        self.prepare = prepare
        self.device = device
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max(1, int(max_queue_size))
        self.augments_on_device = hasattr(sequence, "batch_tensors")
        self.shard = current_shard()  # torchrun: this replica's items of every pass
        self.sharded = self.shard.world > 1
        if self.sharded:
            _use_main_process_seed(sequence)

    @property
    def num_batches(self) -> int:
        # re-read every time: a Sequence may change its length between epochs
        return replica_steps(len(self.sequence), self.shard)

    def pass_batches(self, pass_index: int):
        # on_epoch_end runs once the last batch is loaded (before it trains), so an epoch that ends exactly at
        # the end of a pass has called it, as Keras does at each epoch end.
        previous = None
        order = self._order(pass_index)
        mine = [order[position] for position in replica_items(len(order), self.shard)]
        loader = self._load(mine)
        try:
            for index, raw in zip(mine, loader):  # the loaders keep the order of `mine`
                if previous is not None:
                    yield self.prepare(*previous)
                previous = (raw, index)  # the index names the batch in the preparer's errors
        finally:
            _close(loader)  # stops worker threads/processes at once, also on errors and Ctrl-C
        self.sequence.on_epoch_end()
        last = None if previous is None else self.prepare(*previous)
        if last is not None:
            yield last
        for _ in range(replica_steps(len(order), self.shard) - len(mine)):
            # torchrun: no item for this replica at the pass's last step; train on an empty batch of the right
            # shapes so that every replica takes part in every step's collectives.
            if last is None:  # fewer items than replicas: load one only for its shapes
                last = self.prepare(self.sequence.batch_tensors(order[0], self.device) if self.augments_on_device
                                    else self.sequence[order[0]], order[0])
            yield tuple(None if t is None else t[:0] for t in last)

    def _order(self, pass_index: int) -> list[int]:
        n = len(self.sequence)
        permutation = epoch_order(n, pass_index, self.seed, self.shuffle, 1)
        return list(range(n)) if permutation is None else permutation.tolist()

    def _load(self, order):
        if self.augments_on_device:
            return self._load_augmented(order)
        if self.workers <= 0:
            return (_load_item(self.sequence.__getitem__, i) for i in order)
        if self.use_multiprocessing:
            return _process_loader(self.sequence, order, self.workers, self.max_queue_size)
        return _threaded_in_order(self.sequence.__getitem__, order, self.workers, self.max_queue_size)

    def _load_augmented(self, order):
        sequence, device = self.sequence, self.device
        if not (getattr(sequence, "decodes_on_host", False) and self.workers > 0):
            return (_load_item(lambda i: sequence.batch_tensors(i, device), i) for i in order)
        if self.use_multiprocessing:
            staged = _process_loader(_StagedBatches(sequence), order, self.workers, self.max_queue_size)
        else:
            staged = _threaded_in_order(lambda i: sequence.staged_batch(i, device), order, self.workers,
                                        self.max_queue_size)
        return _finished(sequence, staged, device)

    def close(self) -> None:
        pass


def _finished(sequence, staged_batches, device):
    try:
        for staged in staged_batches:
            yield sequence.finish_batch(staged, device)
    finally:
        _close(staged_batches)  # stop the loaders at once, also on errors and Ctrl-C


def _use_main_process_seed(sequence) -> None:
    """Our image iterators shuffle their samples and draw augmentations from their own seed, drawn from
    torch's generator (different in each process) when the user gave none: use rank 0's on every rank."""
    if hasattr(sequence, "batch_tensors") and hasattr(sequence, "_stream_seed") and hasattr(sequence, "set_epoch"):
        seed = distributed.broadcast_int(sequence._stream_seed)
        if seed != sequence._stream_seed:
            sequence._stream_seed = seed
            sequence.set_epoch(sequence.epoch)  # recompute the sample order from the new seed


def _threaded_in_order(load, order, workers: int, max_queue_size: int):
    """``load(i)`` for i in ``order``, computed by a thread pool at most ``max_queue_size`` ahead."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kerasish-sequence",
                              initializer=single_threaded_torch)
    try:
        pending = collections.deque()
        indices = iter(order)
        for index in itertools.islice(indices, max_queue_size):
            pending.append(pool.submit(_load_item, load, index, " in a loader thread"))
        while pending:
            batch = pending.popleft().result()  # re-raises a worker's exception with its traceback
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(_load_item, load, index, " in a loader thread"))
            yield batch
    finally:
        # On an error or Ctrl-C, drop the queued loads instead of finishing them first.
        pool.shutdown(wait=True, cancel_futures=True)


def single_threaded_torch() -> None:
    """Run in each loader thread before it loads: its torch ops use one intra-op thread (torch's setting is per
    thread; the training step's keeps its own), as torch's DataLoader workers do (``set_num_threads(1)``). A
    loader thread that ran torch ops on all cores would oversubscribe them while the step's threads wait at
    every parallel region: measured on 2 CPU cores, ``fit(dataset)`` whose ``__getitems__`` gathers each batch
    with one indexing op took 2.3x the time of ``fit(arrays)``, and 1.2x with this."""
    torch.set_num_threads(1)


def _load_item(load, index: int, where: str = ""):
    try:
        return load(index)
    except Exception as err:
        err.add_note(f"(kerasish: raised while loading Sequence index {index}{where}.)")
        raise


class LoadFailure:
    """An exception raised in a DataLoader worker process, returned as a value so that the main process
    re-raises the original (``reraise``): its type and message first, a note saying where it came from, and
    the worker's traceback as its cause. Exceptions that do not survive pickling travel as ``RuntimeError``
    with their type's name and message."""

    def __init__(self, error: Exception, where: str):
        self.error = error if _survives_pickling(error) else RuntimeError(
            f"{type(error).__module__}.{type(error).__qualname__}: {error}")
        self.where = where
        self.worker_traceback = "".join(traceback.format_exception(error))

    def reraise(self):
        error = self.error
        error.add_note(f"(kerasish: raised while loading {self.where} in a DataLoader worker process; the "
                       "worker's traceback is shown above.)")
        raise error from WorkerTraceback(self.worker_traceback)


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker process, as text (what concurrent.futures does)."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0])


def _survives_pickling(error: Exception) -> bool:
    try:
        return type(pickle.loads(pickle.dumps(error))) is type(error)
    except Exception:  # e.g. an exception whose __init__ takes other arguments than its args
        return False


def raising_failures(items):
    """Yield from a DataLoader's items, re-raising a worker's ``LoadFailure`` in the main process."""
    try:
        for item in items:
            if isinstance(item, LoadFailure):
                item.reraise()
            yield item
    finally:
        _close(items)  # stops the workers now, not when the generator is collected


class _SequenceDataset(Dataset):
    def __init__(self, sequence):
        self.sequence = sequence

    def __len__(self):
        return len(self.sequence)

    def __getitem__(self, index):
        try:
            return self.sequence[index]
        except Exception as err:
            return LoadFailure(err, f"Sequence index {index}")


class _StagedBatches:
    """A file iterator's host parts as a sequence, for worker processes (tensors return in shared memory).

    Workers get a copy of the iterator without its ImageDataGenerator: decoding does not use it, and it may
    hold what cannot be pickled for spawned workers (a lambda ``preprocessing_function``)."""

    def __init__(self, sequence):
        self.sequence = sequence

    def __getstate__(self):
        decoder = copy.copy(self.sequence)
        decoder.image_data_generator = None
        return {"sequence": decoder}

    def __len__(self):
        return len(self.sequence)

    def __getitem__(self, index):
        return self.sequence.staged_batch(index, torch.device("cpu"))  # pinned, if at all, in the main process


def _identity(batch):
    return batch


def _process_loader(sequence, order, workers: int, max_queue_size: int):
    loader = DataLoader(_SequenceDataset(sequence), batch_size=None, sampler=order, num_workers=workers,
                        prefetch_factor=max(1, math.ceil(max_queue_size / workers)), collate_fn=_identity)
    yield from raising_failures(shutting_down(iter(loader)))


def shutting_down(loader_iterator):
    """Yield from a DataLoader iterator and stop its worker processes as soon as we are done with it (normal
    end, an error in a worker, or an interrupt), instead of whenever the iterator is garbage collected."""
    try:
        yield from loader_iterator
    finally:
        shutdown = getattr(loader_iterator, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()


def _close(iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
