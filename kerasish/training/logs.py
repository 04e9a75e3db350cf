"""Batch logs that read the device only when someone looks.

Keras 2.3.1 batch logs hold ``batch``, ``size``, ``loss`` (this batch's value) and the metrics (running
epoch averages). Building them as floats would force a device sync every step, so ``BatchLogs`` keeps a
handle on the tracker and converts on access; ``running_averages()`` gives every epoch-so-far value in
one transfer (what the progress bar shows).

Under torchrun reading a value of a ``BatchLogs`` sums it over all replicas (a collective), so it is for
callbacks that every rank runs alike: they read on every rank at the same batch, and decide alike. The
progress bar runs on rank 0 only and reads ``running_averages()``, which stays local: its intermediate values
describe rank 0's share of the epoch so far; the line written at the epoch's end shows the epoch logs, which
are global.
"""
from __future__ import annotations

from collections.abc import MutableMapping

from kerasish.training.compile_utils import MetricsTracker


class BatchLogs(MutableMapping):
    def __init__(self, batch: int, size: int, tracker: MetricsTracker):
        self._plain = {"batch": batch, "size": size}
        self._tracker = tracker
        self._read: dict | None = None

    def _value(self, key: str) -> float:
        # Reading the loss alone (TerminateOnNaN) costs one small device read; any metric reads all of them
        # in one transfer. Values are cached for this batch.
        if self._read is None:
            self._read = {}
        if key not in self._read:
            if key == "loss":
                self._read["loss"] = self._tracker.last_batch_loss()
            else:
                self._read.update({k: v for k, v in self._tracker.results().items() if k != "loss"})
        return self._read[key]

    def running_averages(self) -> dict:
        """Loss and metrics averaged over the epoch so far (one device read). Under torchrun: this replica's
        samples only, with no communication, so that rank 0 alone may call it (see the module docstring)."""
        return dict(self._tracker.results(local=True))

    def _metric_keys(self):
        return [k for k in self._tracker.names if k not in self._plain]

    def __getitem__(self, key):
        if key in self._plain:
            return self._plain[key]
        if key in self._tracker.names:
            return self._value(key)
        raise KeyError(key)

    def __setitem__(self, key, value):
        self._plain[key] = value

    def __delitem__(self, key):
        del self._plain[key]

    def __iter__(self):
        yield from self._plain
        yield from self._metric_keys()

    def __len__(self):
        return len(self._plain) + len(self._metric_keys())

    def __repr__(self):
        return repr(dict(self))
