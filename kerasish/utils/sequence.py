"""``kerasish.utils.Sequence``: Keras 2.3.1's base class for datasets indexed by batch, and the way back to plain
torch code: ``sequence.as_torch_dataset()`` (also on the ImageDataGenerator iterators, which are Sequences)."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from kerasish.utils.nest import map_structure


class Sequence:
    """Every ``Sequence`` implements ``__getitem__(index)`` (a complete batch) and ``__len__()`` (the number of
    batches per epoch); ``on_epoch_end()`` is called between epochs. Iterating yields every batch once, in order.
    """

    use_sequence_api = True

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) returning a batch")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__() returning the number of batches")

    def on_epoch_end(self):
        """Called at the end of every epoch; override to reshuffle."""

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]

    def as_torch_dataset(self) -> "SequenceDataset":
        """This Sequence as a map-style ``torch.utils.data.Dataset`` whose item ``i`` is batch ``i`` as torch
        tensors: hand it to plain torch code as ``DataLoader(dataset, batch_size=None, ...)`` (items are already
        batches), with workers or a ``DistributedSampler`` if wanted, and call ``dataset.set_epoch(epoch)`` at
        each epoch (as for a DistributedSampler) to get the Sequence's next epoch."""
        return SequenceDataset(self)


class SequenceDataset(Dataset):
    """A Sequence for torch code (see ``Sequence.as_torch_dataset``). An ImageDataGenerator iterator gives its
    augmented batch ``i`` of the epoch set by ``set_epoch`` (a pure function of its seed, the epoch and ``i``,
    so worker processes compute the batches the main process would); another Sequence gets one
    ``on_epoch_end()`` call per epoch that ``set_epoch`` moves forward."""

    def __init__(self, sequence):
        self.sequence = sequence
        self.epoch = 0

    def __len__(self):
        return len(self.sequence)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} is out of range for a Sequence of {len(self)} batches.")
        if hasattr(self.sequence, "batch_tensors"):  # our image iterators: tensors without a NumPy round trip
            return self.sequence.batch_tensors(index, torch.device("cpu"))
        return map_structure(_as_tensor, self.sequence[index])

    def __iter__(self):  # plain Python iteration: one pass
        for index in range(len(self)):
            yield self[index]

    def set_epoch(self, epoch: int) -> None:
        epoch = int(epoch)
        if hasattr(self.sequence, "set_epoch"):
            self.sequence.set_epoch(epoch)
        else:
            for _ in range(max(0, epoch - self.epoch)):
                self.sequence.on_epoch_end()
        self.epoch = epoch


def _as_tensor(value):
    return None if value is None else torch.as_tensor(value)


def is_sequence(obj) -> bool:
    """Duck-typed as Keras 2.3.1 ``training_utils.is_sequence``: a Sequence, or any object with its whole API."""
    if isinstance(obj, Sequence) or getattr(obj, "use_sequence_api", False):
        return True
    return all(hasattr(obj, attr) for attr in ("__getitem__", "__len__", "on_epoch_end", "__iter__"))
