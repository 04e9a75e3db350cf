"""Arrays (NumPy, torch, lists of numbers) -> a stream of ``(x, y, sample_weight)`` batches on the device.

A batch is one gather of many rows (``index_select``), never one ``__getitem__`` per sample plus a collate.
When the data fits on the training device it is copied there once and batches are gathered there; otherwise
(a CUDA device with too little free memory) batches are gathered on the host into pinned memory by a
``DataLoader`` and copied with ``non_blocking=True`` one batch ahead of the step that uses them.
"""
from __future__ import annotations

import math
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from kerasish.training.data_adapters.order import current_shard, epoch_order, global_batch_rows, replica_batches
from kerasish.utils.nest import batch_rows, flatten, map_structure

# Share of free GPU memory the training data may take before we stream it from the host instead.
DEVICE_DATA_BUDGET = 0.25


class BatchGatherDataset(Dataset):
    """``TensorDataset`` whose ``__getitems__`` gathers a whole batch at once (the DataLoader uses it)."""

    def __init__(self, tensors: list[torch.Tensor | None]):
        self.tensors = tensors

    def __len__(self):
        return batch_rows(self.tensors[0])

    def __getitems__(self, indices):
        index = torch.as_tensor(indices, dtype=torch.int64)  # int64 also for a replica's empty batch
        return gather(self.tensors, index)

    def __getitem__(self, i):
        return tuple(map_structure(lambda t: None if t is None else t[i], entry) for entry in self.tensors)


def gather(tensors, index: torch.Tensor | slice):
    """The rows ``index`` of each entry of ``[x, y, sample_weight]``; an entry may be a list of tensors (a model
    of several inputs or outputs) or None."""
    if isinstance(index, slice):
        take = lambda t: None if t is None else t[index]  # noqa: E731
    else:
        take = lambda t: None if t is None else t.index_select(0, index)  # noqa: E731
    # a plain tensor (or None) directly: map_structure's walk costs a few microseconds a step
    return tuple(take(entry) if entry is None or isinstance(entry, torch.Tensor) else map_structure(take, entry)
                 for entry in tensors)


def _identity_collate(batch):
    return batch


def fits_on_device(tensors, device: torch.device) -> bool:
    if device.type != "cuda":
        return True  # CPU (and other host-memory devices): the arrays are already there
    needed = sum(t.numel() * t.element_size() for t in flatten(tensors) if t is not None)
    free, _total = torch.cuda.mem_get_info(device)
    return needed <= DEVICE_DATA_BUDGET * free


class RowBatchAdapter:
    """What the adapters of row-indexed data share: ``batch_size`` rows a step, a pass's order from the epoch
    (``order.epoch_order``), and under torchrun this replica's slice of each global batch
    (``order.replica_batches``)."""

    def __init__(self, num_samples: int, batch_size: int, shuffle, seed: int, device: torch.device):
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.device = device
        self.shard = current_shard()  # torchrun: this replica's share of every batch
        self.sharded = self.shard.world > 1

    @property
    def num_batches(self) -> int:
        return math.ceil(self.num_samples / self.batch_size)

    def pass_order(self, pass_index: int) -> torch.Tensor | None:
        """The row order of pass ``pass_index`` (the epoch, usually); ``None``: rows in order."""
        return epoch_order(self.num_samples, pass_index, self.seed, self.shuffle, self.batch_size)

    def global_batch_size(self, step: int) -> int:
        """Rows of batch ``step`` of a pass, over all replicas."""
        return global_batch_rows(self.num_samples, self.batch_size, step)

    def close(self) -> None:
        pass


class ArrayDataAdapter(RowBatchAdapter):
    """Serves epochs of batches from in-memory tensors (host tensors given, already validated)."""

    def __init__(self, tensors: list[torch.Tensor | None], batch_size: int, shuffle, seed: int,
                 device: torch.device):
        super().__init__(batch_rows(tensors[0]), batch_size, shuffle, seed, device)
        self.on_device = fits_on_device(tensors, device)
        if self.on_device:
            # One copy for the whole fit; every batch is then gathered on the device.
            self.tensors = [map_structure(lambda t: None if t is None else t.to(device), entry) for entry in tensors]
        else:
            self.tensors = tensors

    def pass_batches(self, pass_index: int) -> Iterator[tuple]:
        """All batches of one pass over the data, in the order of ``pass_index`` (the epoch, usually)."""
        order = self.pass_order(pass_index)
        if self.on_device:
            return self._device_batches(order)
        return self._streamed_batches(order)

    def _batch_indices(self, order):
        for start, stop in replica_batches(self.num_samples, self.batch_size, self.shard):
            yield slice(start, stop) if order is None else order[start:stop]

    def _device_batches(self, order):
        if order is not None:
            order = order.to(self.device, non_blocking=True)
        for index in self._batch_indices(order):
            yield gather(self.tensors, index)

    def _streamed_batches(self, order):
        batches = [range(s.start, s.stop) if isinstance(s, slice) else s for s in self._batch_indices(order)]
        loader = DataLoader(BatchGatherDataset(self.tensors), batch_sampler=batches, collate_fn=_identity_collate,
                            pin_memory=self.device.type == "cuda")
        # Copy the next batch while the current one trains: the copy is queued on the CUDA stream and only
        # waited for when the step uses it.
        pending = None
        for host_batch in loader:
            ready = pending
            pending = tuple(map_structure(lambda t: None if t is None else t.to(self.device, non_blocking=True), entry)
                            for entry in host_batch)
            if ready is not None:
                yield ready
        if pending is not None:
            yield pending
