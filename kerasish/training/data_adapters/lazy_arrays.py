"""Data larger than memory: ``np.load(..., mmap_mode='r')`` arrays and HDF5-like objects (``__getitem__``,
``__len__``, ``shape``), read one batch at a time so memory grows with the batch, not the dataset.

Each batch reads only its rows (sorted, as h5py requires increasing indices, then put back in the epoch's
order), becomes a tensor, and is copied to the device (pinned and non_blocking on CUDA). A background thread
reads the next batches from disk while the current one trains.
"""
from __future__ import annotations


import numpy as np
import torch

from kerasish import backend
from kerasish.training.data_adapters.generators import ThreadProducer
from kerasish.training.data_adapters.arrays import RowBatchAdapter
from kerasish.training.data_adapters.order import replica_batches

PREFETCH_BATCHES = 4


def is_lazy_array(data) -> bool:
    """A memory map, or an array-like that is not in memory (h5py.Dataset, Keras's HDF5Matrix and the like)."""
    if isinstance(data, (np.memmap, LazyRows)):
        return True
    if isinstance(data, (np.ndarray, torch.Tensor, list, tuple)) or type(data).__module__.startswith("pandas"):
        return False
    return all(hasattr(data, attr) for attr in ("__getitem__", "__len__", "shape", "dtype"))


class LazyRows:
    """Rows ``[start, stop)`` of an on-disk array; nothing is read until ``rows()`` is called. Float rows are read
    as ``dtype`` (default floatx), as ``to_tensor`` converts arrays in memory."""

    def __init__(self, source, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None):
        self.source = source.source if isinstance(source, LazyRows) else source
        base = source.start if isinstance(source, LazyRows) else 0
        self.start = base + start
        self.stop = base + (len(source) if stop is None else stop)
        self.float_dtype = dtype or (source.float_dtype if isinstance(source, LazyRows) else backend.torch_floatx())

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def shape(self) -> tuple:
        return (len(self),) + tuple(self.source.shape[1:])

    def dim(self) -> int:
        return len(self.shape)

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("LazyRows supports contiguous slices only; use rows() to read data.")
        start, stop, _ = index.indices(len(self))
        return LazyRows(self, start, stop)

    def rows(self, index: np.ndarray) -> torch.Tensor:
        """The rows at ``index`` (positions within this view), in that order, as a tensor."""
        positions = np.asarray(index, dtype=np.int64) + self.start
        if len(positions) == 0:  # a replica's empty batch (torchrun): an empty slice, which h5py also reads
            return self._as_tensor(np.array(self.source[self.start:self.start]))  # a copy: writable
        ascending = np.argsort(positions, kind="stable")
        block = np.asarray(self.source[positions[ascending].tolist()] if not isinstance(self.source, np.ndarray)
                           else np.take(self.source, positions[ascending], axis=0))
        restored = np.empty_like(block)
        restored[ascending] = block
        return self._as_tensor(restored)

    def _as_tensor(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(array)
        if tensor.is_floating_point() and tensor.dtype != self.float_dtype:
            tensor = tensor.to(self.float_dtype)
        return tensor


class LazyArrayDataAdapter(RowBatchAdapter):
    """Like ``ArrayDataAdapter``, for data that stays on disk; ``tensors`` may mix LazyRows and tensors.
    Under torchrun each replica reads only its slice of every global batch."""

    def __init__(self, tensors: list, batch_size: int, shuffle, seed: int, device: torch.device):
        super().__init__(len(tensors[0]), batch_size, shuffle, seed, device)
        self.tensors = tensors
        self._producer = None

    def pass_batches(self, pass_index: int):
        order = self.pass_order(pass_index)
        order = np.arange(self.num_samples) if order is None else order.numpy()
        host_batches = (self._read(order[start:stop])
                        for start, stop in replica_batches(self.num_samples, self.batch_size, self.shard))
        self._producer = ThreadProducer(host_batches, PREFETCH_BATCHES)
        try:
            for batch in self._producer:
                yield tuple(None if t is None else backend.to_device(t, self.device) for t in batch)
        finally:
            self.close()

    def _read(self, index: np.ndarray) -> tuple:
        batch = []
        for t in self.tensors:
            if t is None:
                batch.append(None)
            elif isinstance(t, LazyRows):
                rows = t.rows(index)
                batch.append(rows.pin_memory() if self.device.type == "cuda" else rows)
            else:
                batch.append(t[torch.from_numpy(index)])
        return tuple(batch)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
