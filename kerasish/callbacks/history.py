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

    def plot(self, metrics=None, path=None, show=None):
        """Plots each metric against its ``val_`` twin over the epochs (R keras's ``plot(history)``).

        Arguments:
            metrics: the metric names to draw (``'loss'``, ``['loss', 'accuracy']``); default: all logged.
            path: if given, the PNG is written there (atomically).
            show: display inline; default (None): yes in a Jupyter/IPython kernel, no elsewhere.

        Returns:
            the ``matplotlib.figure.Figure`` (one subplot per metric, x axis pre-sized to ``fit``'s ``epochs``).
            In a notebook, end the line with ``;`` or assign the result, or IPython shows the Figure a second time.

        Raises:
            ImportError: matplotlib is not installed.
            ValueError: nothing was logged, or ``metrics`` names a metric that was not.
        """
        from kerasish.utils import plotting

        caller = "history.plot"
        plotting.require_matplotlib(caller)
        fig = plotting.plot_metrics(plotting.history_series(self.history, self.epoch),
                                    total_epochs=(self.params or {}).get("epochs"), metrics=metrics, caller=caller)
        return plotting.output_figure(fig, path=path, show=show, caller=caller)
