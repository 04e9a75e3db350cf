"""``kerasish.utils.Sequence``: Keras 2.3.1's base class for datasets indexed by batch."""
from __future__ import annotations


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


def is_sequence(obj) -> bool:
    """Duck-typed as Keras 2.3.1 ``training_utils.is_sequence``: a Sequence, or any object with its whole API."""
    if isinstance(obj, Sequence) or getattr(obj, "use_sequence_api", False):
        return True
    return all(hasattr(obj, attr) for attr in ("__getitem__", "__len__", "on_epoch_end", "__iter__"))
