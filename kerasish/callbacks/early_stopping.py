"""``EarlyStopping`` (Keras 2.3.1 ``keras/callbacks/callbacks.py``).

The best weights are kept as copies of the model's weight tensors on their own device: saving them is a
device-to-device copy per improving epoch, with no host transfer and no sync. ``best_weights`` still reads as
K231's list of NumPy arrays in Keras layouts (``model.set_weights(es.best_weights)`` after ``fit`` is a common
script idiom), converted only when someone reads it.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from kerasish import backend
from kerasish.callbacks.callback import Callback, warn_unknown_monitor
from kerasish.distributed import print_main
from kerasish.utils.validation import check_number, warn_at_user_line


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    Arguments:
        monitor: quantity to be monitored.
        min_delta: minimum change in the monitored quantity to qualify as an improvement, i.e. an absolute
            change of less than ``min_delta`` will count as no improvement.
        patience: number of epochs that produced the monitored quantity with no improvement after which
            training will be stopped. Validation quantities may not be produced for every epoch, if the
            validation frequency (``model.fit(validation_freq=5)``) is greater than one.
        verbose: verbosity mode.
        mode: one of {auto, min, max}. In ``min`` mode, training will stop when the quantity monitored has
            stopped decreasing; in ``max`` mode it will stop when the quantity monitored has stopped
            increasing; in ``auto`` mode, the direction is ``max`` when ``'acc'`` is in the monitor's name
            (K231's rule: ``val_auc`` is minimised), else ``min``.
        baseline: baseline value for the monitored quantity to reach. Training will stop if the model doesn't
            show improvement over the baseline.
        restore_best_weights: whether to restore model weights from the epoch with the best value of the
            monitored quantity. As in Keras 2.3.1 this happens only when this callback stops training; when
            ``fit`` runs all its epochs the model keeps the weights of the last epoch.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False):
        super().__init__()
        # Keras 2.3.1 checks none of these; a negative patience or min_delta, or a string, would change when
        # training stops without a word (issue 15). patience=np.inf (never stop) stays accepted.
        patience = check_number(patience, "patience", "EarlyStopping", low=0, finite=False)
        min_delta = check_number(min_delta, "min_delta", "EarlyStopping", low=0)
        baseline = check_number(baseline, "baseline", "EarlyStopping", allow_none=True, finite=False)
        self.monitor = monitor
        self.baseline = baseline
        self.patience = patience
        self.verbose = verbose
        self.min_delta = min_delta
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best = None
        self._best_tensors: list[torch.Tensor] | None = None  # device copies of model.weights
        self._best_arrays: list | None = None  # Keras arrays, when assigned to best_weights

        if mode not in ("auto", "min", "max"):
            warnings.warn("EarlyStopping mode %s is unknown, fallback to auto mode." % mode, RuntimeWarning,
                          stacklevel=2)
            mode = "auto"
        if mode == "min":
            self.monitor_op = np.less
        elif mode == "max":
            self.monitor_op = np.greater
        else:
            self.monitor_op = np.greater if "acc" in self.monitor else np.less
        # K231 stores min_delta with the sign of the direction, so the test below is one comparison.
        if self.monitor_op == np.greater:
            self.min_delta *= 1
        else:
            self.min_delta *= -1

    def _check_log_keys(self, epoch_keys):
        """Before training (CallbackList): a monitor this fit will never log is said once, here."""
        self._monitor_warned = warn_unknown_monitor("EarlyStopping", self.monitor, epoch_keys)

    _monitor_warned = False

    def on_train_begin(self, logs=None):
        # Allow instances to be re-used.
        self.wait = 0
        self.stopped_epoch = 0
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = np.inf if self.monitor_op == np.less else -np.inf
        # kerasish: forget the previous fit's best weights, so a re-used instance never restores them.
        self._best_arrays = None
        self._best_tensors = None

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
            if self.restore_best_weights:
                self._keep_current_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                # K231 calls set_weights(None) and crashes when no epoch beat the baseline; tf.keras later
                # skips the restore then, and so do we.
                if self.restore_best_weights and self.best_weights_available:
                    if self.verbose > 0:
                        print_main("Restoring model weights from the end of the best epoch")
                    self._restore_best()

    def on_train_end(self, logs=None):
        # K231 prints nothing when training stopped at the first epoch (stopped_epoch == 0).
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_main("Epoch %05d: early stopping" % (self.stopped_epoch + 1))

    def get_monitor_value(self, logs):
        logs = logs or {}
        monitor_value = logs.get(self.monitor)
        if monitor_value is None and not self._monitor_warned:
            warn_at_user_line("Early stopping conditioned on metric `%s` which is not available. Available metrics "
                              "are: %s" % (self.monitor, ",".join(list(logs.keys()))), RuntimeWarning)
        return monitor_value

    # ------------------------------------------------------------------ best weights
    @property
    def best_weights_available(self) -> bool:
        return self._best_tensors is not None or self._best_arrays is not None

    @property
    def best_weights(self) -> list[np.ndarray] | None:
        """The weights of the best epoch so far as ``model.get_weights()`` gives them, or None."""
        if self._best_arrays is not None:
            return self._best_arrays
        if self._best_tensors is None:
            return None
        if not hasattr(self.model, "layers"):
            return [backend.to_numpy(t).copy() for t in self._best_tensors]
        layouts = [layout for layer in self.model.layers for _, layout in layer.keras_weight_specs()]
        return [backend.to_numpy(layout.to_keras(t)).copy() for t, layout in zip(self._best_tensors, layouts)]

    @best_weights.setter
    def best_weights(self, weights) -> None:
        self._best_tensors = None
        self._best_arrays = None if weights is None else list(weights)

    def _keep_current_weights(self) -> None:
        self._best_arrays = None
        if not hasattr(self.model, "weights"):  # a model without tensors to copy: K231's host copy
            self._best_arrays = self.model.get_weights()
            return
        weights = self.model.weights
        with torch.no_grad():
            if self._best_tensors is None or [t.shape for t in self._best_tensors] != [w.shape for w in weights]:
                self._best_tensors = [w.detach().clone() for w in weights]
            else:
                for kept, weight in zip(self._best_tensors, weights):
                    kept.copy_(weight)  # device to device, asynchronous

    def _restore_best(self) -> None:
        if self._best_arrays is not None:
            self.model.set_weights(self._best_arrays)
            return
        with torch.no_grad():
            for weight, kept in zip(self.model.weights, self._best_tensors):
                weight.copy_(kept)
