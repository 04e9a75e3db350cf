"""``BaseLogger``: epoch averages of the batch logs (Keras 2.3.1 ``keras/callbacks/callbacks.py``).

K231 adds ``BaseLogger(stateful_metrics=metrics_names[1:])`` first to every ``fit`` and it is what turns the
per-batch loss into the epoch ``loss`` (``sum(loss * size) / seen``) while the metrics, already running epoch
averages, are copied from the last batch. kerasish's trainer accumulates exactly those quantities on the device
and puts them in the epoch logs, so ``fit`` does not add a BaseLogger and no batch value is read for it.

The class stays public for scripts that list it. Given plain dict batch logs (a user driving it, or another
loop) it runs K231's algorithm. Given the trainer's lazy batch logs it reads no values, which would cost a
device sync per batch, and leaves the trainer's epoch values in place: they are the same numbers K231's own
BaseLogger produces (a BaseLogger listed by the user in K231 without ``stateful_metrics`` would additionally
re-average the metrics' running averages over the batches, an artefact nobody relies on).
"""
from __future__ import annotations

from typing import Iterable

from kerasish.callbacks.callback import Callback


class BaseLogger(Callback):
    """Callback that accumulates epoch averages of metrics.

    Arguments:
        stateful_metrics: names of metrics that should *not* be averaged over an epoch: their last batch value
            is logged as-is in ``on_epoch_end``. All others are averaged, weighted by the batch ``size``.
    """

    def __init__(self, stateful_metrics: Iterable[str] | None = None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self.seen = 0
        self.totals: dict = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        batch_size = logs.get("size", 0)
        self.seen += batch_size
        if hasattr(logs, "running_averages"):
            return  # the trainer's lazy logs: its epoch logs already hold these averages (module docstring)
        for name, value in logs.items():
            if name in self.stateful_metrics:
                self.totals[name] = value
            elif name in self.totals:
                self.totals[name] += value * batch_size
            else:
                self.totals[name] = value * batch_size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        # K231 writes only the names in params['metrics'] (loss, metrics, val_*), in that order, so the
        # next callbacks (History, CSVLogger ...) see the averages.
        names = (self.params or {}).get("metrics")
        if names is None:  # no fit set params: every value that was logged
            names = [name for name in self.totals if name not in ("batch", "size")]
        for name in names:
            if name in self.totals:
                if name in self.stateful_metrics:
                    logs[name] = self.totals[name]
                else:
                    logs[name] = self.totals[name] / self.seen
