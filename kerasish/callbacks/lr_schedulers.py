"""``LearningRateScheduler`` and ``ReduceLROnPlateau`` (Keras 2.3.1 ``keras/callbacks/callbacks.py``).

Both read and write the learning rate as K231 does, ``K.get_value``/``K.set_value`` on
``model.optimizer.lr``; ``kerasish.optimizers.learning_rate_of`` gives that handle for our Keras optimizers and
the first param group's rate for a plain torch optimizer given to ``compile``. ``K.get_value`` gives a float32
NumPy scalar like K231's variable, so the values logged as ``lr`` and the numbers in the messages are K231's
(``0.00010000000474974513`` after one reduction of 0.001).
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from kerasish import backend as K
from kerasish.callbacks.callback import Callback, warn_unknown_monitor
from kerasish.optimizers import learning_rate_of
from kerasish.distributed import print_main
from kerasish.utils.validation import check_number, close_matches, warn_at_user_line


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    Arguments:
        schedule: a function that takes an epoch index as input (integer, indexed from 0) and the current
            learning rate, and returns a new learning rate as output (float). A function of the epoch alone
            also works (the old API; K231 falls back to it when the call with two arguments raises TypeError).
        verbose: int. 0: quiet, 1: update messages.
    """

    _adds_log_keys = ("lr",)

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            # Keras 2.3.1 fails only at the first epoch ('... object is not callable').
            raise TypeError("LearningRateScheduler: argument `schedule` must be a function of (epoch, lr) or of "
                            f"(epoch) returning the learning rate; received {schedule!r} (of type "
                            f"{type(schedule).__name__}).")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr_handle = learning_rate_of(self.model.optimizer)  # K231: ValueError 'Optimizer must have a "lr" ...'
        lr = float(K.get_value(lr_handle))
        try:  # new API
            lr = self.schedule(epoch, lr)
        except TypeError:  # old API for backward compatibility
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError('The output of the "schedule" function should be float.')
        if not lr >= 0 or lr == np.inf:  # NaN fails every comparison
            # kerasish (issue 15): K231 would train on with it (a negative rate climbs the loss, NaN poisons
            # every weight); the optimizer is left as it was.
            raise ValueError(f"LearningRateScheduler: the schedule {getattr(self.schedule, '__name__', '')!s} "
                             f"returned {lr!r} for epoch {epoch + 1} (epoch index {epoch}); a learning rate must "
                             "be a finite number >= 0.")
        K.set_value(lr_handle, lr)
        if self.verbose > 0:
            print_main("\nEpoch %05d: LearningRateScheduler setting learning rate to %s." % (epoch + 1, lr))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = K.get_value(learning_rate_of(self.model.optimizer))


class ReduceLROnPlateau(Callback):
    """Reduce learning rate when a metric has stopped improving.

    Models often benefit from reducing the learning rate by a factor of 2-10 once learning stagnates. This
    callback monitors a quantity and if no improvement is seen for a 'patience' number of epochs, the learning
    rate is reduced.

    Example::

        reduce_lr = ReduceLROnPlateau(monitor='val_loss', factor=0.2, patience=5, min_lr=0.001)
        model.fit(X_train, Y_train, callbacks=[reduce_lr])

    Arguments:
        monitor: quantity to be monitored.
        factor: factor by which the learning rate will be reduced. new_lr = lr * factor
        patience: number of epochs that produced the monitored quantity with no improvement after which the
            learning rate will be reduced. Validation quantities may not be produced for every epoch, if the
            validation frequency (``model.fit(validation_freq=5)``) is greater than one.
        verbose: int. 0: quiet, 1: update messages.
        mode: one of {auto, min, max}. In ``min`` mode, lr will be reduced when the quantity monitored has
            stopped decreasing; in ``max`` mode it will be reduced when the quantity monitored has stopped
            increasing; in ``auto`` mode, ``max`` when ``'acc'`` is in the monitor's name, else ``min``.
        min_delta: threshold for measuring the new optimum, to only focus on significant changes.
        cooldown: number of epochs to wait before resuming normal operation after lr has been reduced.
        min_lr: lower bound on the learning rate.
        **kwargs: ``epsilon``, the deprecated name of ``min_delta``. K231 ignores any other keyword silently;
            kerasish ignores it too but warns, naming the argument it probably meant.
    """

    _ARGUMENTS = ("monitor", "factor", "patience", "verbose", "mode", "min_delta", "cooldown", "min_lr")
    _adds_log_keys = ("lr",)
    _monitor_warned = False

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0, **kwargs):
        super().__init__()
        self.monitor = monitor
        factor = check_number(factor, "factor", "ReduceLROnPlateau")
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0.")
        # kerasish (issue 15): factor 0 or below would set the rate to min_lr or below at the first plateau.
        check_number(factor, "factor", "ReduceLROnPlateau", low=0, high=1, low_inclusive=False,
                     high_inclusive=False)
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                          stacklevel=2)
        patience = check_number(patience, "patience", "ReduceLROnPlateau", low=0, finite=False)
        cooldown = check_number(cooldown, "cooldown", "ReduceLROnPlateau", low=0)
        min_delta = check_number(min_delta, "min_delta", "ReduceLROnPlateau", low=0)
        min_lr = check_number(min_lr, "min_lr", "ReduceLROnPlateau", low=0)
        for name in kwargs:
            close = close_matches(name, self._ARGUMENTS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            warnings.warn(f"ReduceLROnPlateau: ignoring the unknown keyword argument {name!r} (Keras 2.3.1 "
                          f"ignores it too){hint}", stacklevel=2)
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0  # Cooldown counter.
        self.wait = 0
        self.best = 0
        self.mode = mode
        self.monitor_op = None
        self._reset()

    def _reset(self):
        """Resets wait counter and cooldown counter."""
        if self.mode not in ("auto", "min", "max"):
            warnings.warn("Learning Rate Plateau Reducing mode %s is unknown, fallback to auto mode."
                          % self.mode, RuntimeWarning, stacklevel=3)
            self.mode = "auto"
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _check_log_keys(self, epoch_keys):
        """Before training (CallbackList): a monitor this fit will never log is said once, here."""
        self._monitor_warned = warn_unknown_monitor("ReduceLROnPlateau", self.monitor, epoch_keys)

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        lr_handle = learning_rate_of(self.model.optimizer)
        logs["lr"] = K.get_value(lr_handle)  # the rate this epoch trained with
        current = logs.get(self.monitor)
        if current is None:
            if not self._monitor_warned:
                warn_at_user_line("Reduce LR on plateau conditioned on metric `%s` which is not available. "
                                  "Available metrics are: %s" % (self.monitor, ",".join(list(logs.keys()))),
                                  RuntimeWarning)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(K.get_value(lr_handle))
                # At min_lr already: K231 neither reduces nor resets the wait.
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    K.set_value(lr_handle, new_lr)
                    if self.verbose > 0:
                        print_main("\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s." % (epoch + 1, new_lr))
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0
