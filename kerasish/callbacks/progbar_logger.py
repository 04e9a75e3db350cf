"""``ProgbarLogger``: prints ``Epoch 1/10`` and the progress bar (Keras 2.3.1 ``keras/callbacks/callbacks.py``).

When to draw is decided here, how a line looks in ``kerasish.utils.progbar``.

Our training loop keeps loss and metrics on the device; its batch ``logs`` is a lazy mapping whose ``size`` and
``batch`` are plain ints and whose ``running_averages()`` reads the epoch-so-far averages in one device sync.
This logger only counts ``seen`` on each batch and reads the averages when the bar is about to be drawn (at most
every ``interval`` = 0.05 s, and never on the last batch, whose line ``on_epoch_end`` writes). The averages are
what K231's Progbar shows too: it averages the per-batch loss weighted by the batch size, and K231 metrics are
already running averages (``fit`` passes them as ``stateful_metrics``). So they are shown as given.

Batch logs that are plain dicts (a user driving the callback) take K231's own path: every batch's values go to
the Progbar, which averages all names not in ``stateful_metrics``.
"""
from __future__ import annotations

from typing import Iterable

from kerasish.callbacks.callback import Callback
from kerasish.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Callback that prints metrics to stdout.

    Arguments:
        count_mode: 'samples' (the bar counts ``logs['size']``; K231 ``fit``) or 'steps' (one per batch; K231
            ``fit_generator`` and ``fit`` with ``steps_per_epoch``).
        stateful_metrics: names whose batch values are already epoch averages and are displayed as given;
            the others are averaged over the epoch by the progress bar.

    Raises:
        ValueError: in case of invalid ``count_mode``.
    """

    def __init__(self, count_mode: str = "samples", stateful_metrics: Iterable[str] | None = None):
        super().__init__()
        if count_mode == "samples":
            self.use_steps = False
        elif count_mode == "steps":
            self.use_steps = True
        else:
            raise ValueError("Unknown `count_mode`: " + str(count_mode))
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self.verbose = 0
        self.epochs = None
        self.target = None
        self.progbar = None
        self.seen = 0
        self.log_values: list[tuple[str, float]] = []

    def on_train_begin(self, logs=None):
        self.verbose = self.params["verbose"]
        self.epochs = self.params["epochs"]

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print("Epoch %d/%d" % (epoch + 1, self.epochs))
            self.target = self.params["steps"] if self.use_steps else self.params["samples"]
            self.progbar = Progbar(target=self.target, verbose=self.verbose,
                                   stateful_metrics=self.stateful_metrics)
        self.seen = 0
        self.log_values = []

    def _before_target(self, seen: int) -> bool:
        return self.target is None or seen < self.target

    def _metric_values(self, logs) -> list[tuple[str, float]]:
        # K231 shows params['metrics'] (loss, metrics, then val_*) in that order, those present in the logs.
        names = self.params.get("metrics") if self.params else None
        if names is None:
            names = [name for name in logs if name not in ("batch", "size")]
        return [(name, logs[name]) for name in names if name in logs]

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        seen_before = self.seen
        self.seen += 1 if self.use_steps else logs.get("size", 0)
        if not self.verbose:
            return
        if hasattr(logs, "running_averages"):
            # The last batch is drawn by on_epoch_end, from the epoch logs (K231 skips it here too).
            if not self._before_target(self.seen) or not self.progbar.would_display(self.seen):
                return
            values = self._metric_values(logs.running_averages())  # device sync, only when drawing
            self.progbar.stateful_metrics.update(name for name, _ in values)
            self.progbar.update(self.seen, values, force=True)
        else:
            # K231: log_values restart at each batch before the target; the last batch's values are kept and
            # shown again, with the epoch logs, by on_epoch_end.
            if self._before_target(seen_before):
                self.log_values = []
            self.log_values.extend(self._metric_values(logs))
            if self._before_target(self.seen):
                self.progbar.update(self.seen, self.log_values)

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        values = self._metric_values(logs or {})
        if not self.log_values:
            # Only averages reached the bar this epoch (or nothing did): the epoch logs are shown as given.
            self.progbar.stateful_metrics.update(name for name, _ in values)
        self.log_values.extend(values)
        self.progbar.update(self.seen, self.log_values)


class EvaluationProgbar(Callback):
    """The bar of ``evaluate`` and ``predict`` (K231 ``training_arrays.test_loop``/``predict_loop``).

    K231 draws it at verbose=1 only, with the counter, bar and time but no values, advancing by the batch size
    (or by one batch when ``steps`` is given) after each batch. kerasish addition: K231 builds this bar inside
    the loops; here it is a callback so the one loop in ``training/trainer.py`` serves every entry point.

    Arguments:
        target: the number of samples, or of steps in 'steps' mode.
        count_mode: 'samples' or 'steps'.
        verbose: the caller's verbosity; anything but 1 draws nothing.
    """

    def __init__(self, target: int | None, count_mode: str = "samples", verbose: int = 1):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError("Unknown `count_mode`: " + str(count_mode))
        self.target = target
        self.use_steps = count_mode == "steps"
        self.verbose = verbose
        self.progbar = None
        self.seen = 0

    def _begin(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target) if self.verbose == 1 else None

    def _batch_end(self, logs):
        if self.progbar is None:
            return
        self.seen += 1 if self.use_steps else (logs or {}).get("size", 0)
        self.progbar.update(self.seen)

    def on_test_begin(self, logs=None):
        self._begin()

    def on_predict_begin(self, logs=None):
        self._begin()

    def on_test_batch_end(self, batch, logs=None):
        self._batch_end(logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._batch_end(logs)
