"""``History``: the object ``fit`` returns (Keras 2.3.1 ``keras/callbacks/callbacks.py``)."""
from __future__ import annotations

from kerasish.callbacks.callback import Callback


class History(Callback):
    """Records the epoch logs: ``history.epoch`` (0-based epoch indices) and ``history.history``
    (``{name: [value per epoch]}``, keys in the order the logs gave them, never sorted).

    K231 appends a History last to every ``fit``'s callbacks (a new one per call) and ``on_train_begin`` starts
    it afresh, so the returned object holds exactly that call's epochs.
    """

    def __init__(self):
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list] = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(value)
