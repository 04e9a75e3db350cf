"""``OrderedEnqueuer`` and ``GeneratorEnqueuer``: Keras 2.3.1's enqueuers (``keras/utils/data_utils.py``), a
``Sequence`` or a generator loaded ahead of use, behind Keras's API: ``start(workers, max_queue_size)``,
``get()``, ``stop(timeout)``, ``is_running()``.

The loading is the one ``fit_generator`` uses (``kerasish/training/data_adapters``), not a second copy:

* a Sequence, one pass after another (``get()`` never ends, as in Keras): the batches of a pass in index order
  (or shuffled with Python's ``random.shuffle``, as Keras) from a pool of ``workers`` threads, or with
  ``use_multiprocessing`` from ``workers`` processes (a ``DataLoader``, started per pass so that they see what
  ``on_epoch_end`` changed); ``workers=0`` loads in the background thread itself;
* a generator: pulled by one thread, or by one worker process with ``use_multiprocessing``. ``next()`` is never
  called from two threads at once, so the generator need not be thread-safe (Keras calls it from ``workers``
  threads and fails when it is not), and it is never copied into several processes, which would repeat its
  data (Keras does, and warns about it in ``fit_generator``); more workers are not used.

One background thread (``ThreadProducer``), started by ``start()``, runs that stream at most
``max_queue_size`` batches ahead of ``get()`` and hands a worker's exception to ``get()`` with its traceback.
Unlike Keras, ``on_epoch_end`` runs as soon as the last batch of a pass is loaded (Keras waits until it has been
consumed); batches already loaded are not affected by what it changes.
"""
from __future__ import annotations

import abc
import itertools
import os
import random
import threading
import warnings

import numpy as np

from kerasish.training.data_adapters.generators import ThreadProducer, _process_producer
from kerasish.training.data_adapters.sequences import _process_loader, _threaded_in_order

# Keras 2.3.1 shares the sequences with its worker pools through this dict (uid -> sequence or generator);
# get_index / next_sample read it. Kept for code that calls them; the enqueuers here register in it too.
_SHARED_SEQUENCES: dict = {}
_uids = itertools.count()


def init_pool(seqs):
    """Keras 2.3.1's pool initializer: share ``seqs`` (uid -> Sequence) with this process."""
    global _SHARED_SEQUENCES
    _SHARED_SEQUENCES = seqs


def get_index(uid, i):
    """The batch ``i`` of the Sequence registered as ``uid``."""
    return _SHARED_SEQUENCES[uid][i]


def init_pool_generator(gens, random_seed=None):
    """Keras 2.3.1's pool initializer for generators: share ``gens`` and seed NumPy with
    ``random_seed + pid`` (so that worker processes draw different numbers)."""
    global _SHARED_SEQUENCES
    _SHARED_SEQUENCES = gens
    if random_seed is not None:
        np.random.seed((random_seed + os.getpid()) % 2 ** 32)


def next_sample(uid):
    """The next item of the generator registered as ``uid``."""
    return next(_SHARED_SEQUENCES[uid])


class SequenceEnqueuer(abc.ABC):
    """Base class of the enqueuers: ``start`` the workers, iterate ``get()``, then ``stop()``.

    Subclasses define ``_stream(workers, max_queue_size)``, the batches in the order ``get()`` yields them."""

    def __init__(self, sequence, use_multiprocessing=False):
        self.sequence = sequence
        self.use_multiprocessing = use_multiprocessing
        self.uid = next(_uids)
        self.workers = 0
        self._producer: ThreadProducer | None = None

    def is_running(self):
        return self._producer is not None

    def start(self, workers=1, max_queue_size=10):
        """Starts loading in the background.

        Arguments:
            workers: number of worker threads (or processes with ``use_multiprocessing``).
            max_queue_size: how many batches may wait, loaded, for ``get()`` (0: no limit, as ``queue.Queue``).
        """
        name = type(self).__name__
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"{name}.start: workers must be an int >= 0; received {workers!r}.")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int):
            raise ValueError(f"{name}.start: max_queue_size must be an int; received {max_queue_size!r}.")
        if self.is_running():
            raise RuntimeError(f"{name}.start: the enqueuer is already running; call stop() first.")
        self.workers = workers
        _SHARED_SEQUENCES[self.uid] = self.sequence
        self._producer = ThreadProducer(self._stream(workers, max_queue_size), max_queue_size, close_source=True)

    def stop(self, timeout=None):
        """Stops the workers and waits for them (at most ``timeout`` seconds); call it from the thread that
        called ``start``. Batches waiting in the queue are dropped."""
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close()
            producer.join(timeout)
        _SHARED_SEQUENCES[self.uid] = None

    def get(self):
        """A generator of the loaded batches (``None`` items are skipped, as Keras); it ends when the
        enqueuer is stopped or a generator runs out. A worker's exception stops the enqueuer and is raised."""
        while self.is_running():
            try:
                batch = next(self._producer)
            except StopIteration:
                return
            except BaseException:
                self.stop()
                raise
            if batch is not None:
                yield batch

    @abc.abstractmethod
    def _stream(self, workers, max_queue_size):
        """The batches, in ``get()``'s order, loaded by ``workers``; run in the background thread."""


class OrderedEnqueuer(SequenceEnqueuer):
    """Loads the batches of a ``Sequence`` ahead, pass after pass, in order; ``on_epoch_end()`` after each pass.

    Arguments:
        sequence: a ``kerasish.utils.Sequence`` (anything with ``__getitem__``, ``__len__``, ``on_epoch_end``).
        use_multiprocessing: load in processes instead of threads.
        shuffle: visit the batches of each pass in a random order (Python's ``random``, as Keras).
    """

    def __init__(self, sequence, use_multiprocessing=False, shuffle=False):
        super().__init__(sequence, use_multiprocessing)
        self.shuffle = shuffle
        self.end_of_epoch_signal = threading.Event()

    def join_end_of_epoch(self):
        """Waits (at most 30 s, as Keras) until a pass has ended, then clears the signal."""
        self.end_of_epoch_signal.wait(timeout=30)
        self.end_of_epoch_signal.clear()

    def _stream(self, workers, max_queue_size):
        while True:
            order = list(range(len(self.sequence)))  # re-read every pass: a Sequence may change its length
            if not order:
                raise ValueError("OrderedEnqueuer: the Sequence has no batches (len(sequence) == 0); it must "
                                 "return at least one batch per epoch.")
            if self.shuffle:
                random.shuffle(order)
            yield from self._load_pass(order, workers, max_queue_size)
            self.sequence.on_epoch_end()
            self.end_of_epoch_signal.set()

    def _load_pass(self, order, workers, max_queue_size):
        if workers == 0:
            return (self.sequence[i] for i in order)
        if self.use_multiprocessing:
            return _process_loader(self.sequence, order, workers, max_queue_size)
        # the background thread collects the results in order; each worker has one batch in flight
        return _threaded_in_order(self.sequence.__getitem__, order, workers, workers)


class GeneratorEnqueuer(SequenceEnqueuer):
    """Runs a generator ahead in the background; ``get()`` ends when the generator does.

    Arguments:
        sequence: a generator (or any iterator) of batches.
        use_multiprocessing: run it in a worker process instead of a thread.
        wait_time: deprecated, not used (a warning says so, as in Keras 2.3.1).
        random_seed: with ``use_multiprocessing``, the worker process seeds NumPy with ``random_seed + pid``.
    """

    def __init__(self, sequence, use_multiprocessing=False, wait_time=None, random_seed=None):
        super().__init__(sequence, use_multiprocessing)
        self.random_seed = random_seed
        if wait_time is not None:
            warnings.warn("`wait_time` is not used anymore.", DeprecationWarning, stacklevel=2)

    def start(self, workers=1, max_queue_size=10):
        if self.use_multiprocessing and isinstance(workers, int) and workers > 1:
            warnings.warn(f"GeneratorEnqueuer: workers={workers} processes would each run a copy of the generator "
                          "and repeat its data, so it runs in one worker process. Use a "
                          "`kerasish.utils.Sequence` with OrderedEnqueuer to load in parallel.",
                          UserWarning, stacklevel=2)
        super().start(workers, max_queue_size)

    def _stream(self, workers, max_queue_size):
        if not self.use_multiprocessing:
            # a for loop, not ``yield from``: stopping must not close the user's generator
            for item in self.sequence:
                yield item
            return
        yield from _process_producer(_SeededGenerator(self.sequence, self.random_seed), max_queue_size)


class _SeededGenerator:
    """Iterated in the worker process: seeds NumPy there as Keras's ``init_pool_generator``, then the generator."""

    def __init__(self, generator, random_seed):
        self.generator = generator
        self.random_seed = random_seed

    def __iter__(self):
        if self.random_seed is not None:
            np.random.seed((self.random_seed + os.getpid()) % 2 ** 32)
        return iter(self.generator)
