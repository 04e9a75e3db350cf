"""``ModelCheckpoint``: Keras 2.3.1 ``keras/callbacks/callbacks.py``, plus tf.keras's ``save_freq``.

Every file goes through ``model.save``/``model.save_weights``, which write atomically: a crash while a
checkpoint is written leaves the previous checkpoint of that name intact.
"""
from __future__ import annotations

import os
import string
import warnings

import numpy as np

from kerasish.callbacks.callback import Callback, warn_unknown_monitor
from kerasish.distributed import print_main
from kerasish.utils.io_utils import check_writable
from kerasish.utils.validation import check_number, did_you_mean, warn_at_user_line

# Stand-ins of the types the file name is formatted with, to try its placeholders before training: `epoch` and
# `batch` are ints (1-based), log values floats.
_INT_KEYS = ("epoch", "batch", "size")


class ModelCheckpoint(Callback):
    """Save the model after every epoch.

    `filepath` can contain named formatting options, which will be filled with the values of `epoch` and keys
    in `logs` (passed in `on_epoch_end`). For example: if `filepath` is `weights.{epoch:02d}-{val_loss:.2f}.hdf5`,
    then the model checkpoints will be saved with the epoch number and the validation loss in the filename.
    The content is kerasish's file format whatever the extension (see ``kerasish.saving``).

    # Arguments
        filepath: string, path to save the model file.
        monitor: quantity to monitor.
        verbose: verbosity mode, 0 or 1.
        save_best_only: if `save_best_only=True`, the latest best model according to the quantity monitored
            will not be overwritten.
        save_weights_only: if True, then only the model's weights will be saved (`model.save_weights(filepath)`),
            else the full model is saved (`model.save(filepath)`).
        mode: one of {auto, min, max}. If `save_best_only=True`, the decision to overwrite the current save file
            is made based on either the maximization or the minimization of the monitored quantity. For
            `val_acc`, this should be `max`, for `val_loss` this should be `min`, etc. In `auto` mode, the
            direction is automatically inferred from the name of the monitored quantity.
        period: Interval (number of epochs) between checkpoints.
        save_freq: (tf.keras) `'epoch'` (default: every `period` epochs) or an integer: save after every
            `save_freq` training batches, counted across epochs; `filepath` may then also use `{batch}`
            (1-based, within the epoch) and the batch logs. The monitored value is then a batch value.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", period=1, save_freq="epoch"):
        super().__init__()
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            # tf.keras ModelCheckpoint wording
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or integer "
                             "values (a number of batches >= 1).")
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: argument `filepath` must be a str or a path; received {filepath!r} "
                            f"(of type {type(filepath).__name__}).")
        # Keras 2.3.1 takes any period; 0 or less saves every epoch, 2.5 every third: refused (issue 15).
        period = check_number(period, "period", "ModelCheckpoint", low=1, integer=True)
        self.monitor = monitor
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.period = period
        self.save_freq = save_freq
        self.epochs_since_last_save = 0
        self._batches_seen_since_last_saving = 0
        self._current_epoch = 0

        if mode not in ["auto", "min", "max"]:
            warnings.warn(f"ModelCheckpoint mode {mode} is unknown, fallback to auto mode.", RuntimeWarning,
                          stacklevel=2)
            mode = "auto"
        # Keras 2.3.1: 'auto' maximises accuracies and f-measures, minimises everything else
        if mode == "max" or (mode == "auto" and ("acc" in self.monitor or self.monitor.startswith("fmeasure"))):
            self.monitor_op = np.greater
            self.best = -np.inf
        else:
            self.monitor_op = np.less
            self.best = np.inf
        if save_freq != "epoch":
            # Only then does the loop need batch hooks (and batch logs): bound on the instance, not the class.
            self.on_train_batch_end = self._on_train_batch_end_saving

    _monitor_warned = False

    def _check_log_keys(self, epoch_keys):
        """Before training (CallbackList): the file name's placeholders are tried with the keys this fit will
        log, so a wrong one fails before the first epoch trains instead of after it."""
        if self.save_freq == "epoch":
            keys = ["epoch", *epoch_keys]
        else:  # batch logs: the training values, `batch` and `size`
            keys = ["epoch", "batch", "size", *(k for k in epoch_keys if not k.startswith("val_"))]
        self._try_filepath(keys)
        if self.save_best_only:
            self._monitor_warned = warn_unknown_monitor("ModelCheckpoint", self.monitor,
                                                        [k for k in keys if k not in _INT_KEYS])

    def _try_filepath(self, keys) -> None:
        sample = {key: (1 if key in _INT_KEYS else 0.5) for key in keys}
        try:
            check_writable(self.filepath.format(**sample))  # a directory, a write-protected file: say so now
        except KeyError as err:
            name = err.args[0]
            # tf.keras wording first, as the error at epoch end says it
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {{{name}}} will '
                           f"not be among the logs of this fit ({', '.join(keys)}).{did_you_mean(name, keys)}"
                           ) from None
        except (IndexError, ValueError, AttributeError, TypeError) as err:
            fields = [field for _, field, _, _ in string.Formatter().parse(self.filepath) if field is not None]
            raise ValueError(f'ModelCheckpoint: cannot format the filepath "{self.filepath}" with the values this '
                             f"fit will log ({err}). Its placeholders ({', '.join(fields) or 'none'}) must name "
                             f"keys among {', '.join(keys)}, with a format for their type: epoch and batch are "
                             "ints (e.g. {epoch:02d}), the others floats (e.g. {val_loss:.2f}).") from None

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq != "epoch":
            return
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save_model(epoch, self._format_path(epoch, None, logs), logs)

    def _on_train_batch_end_saving(self, batch, logs=None):
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            logs = dict(logs or {})  # one read of the batch values (a device sync), only when saving
            self._save_model(self._current_epoch, self._format_path(self._current_epoch, batch, logs), logs)

    def _format_path(self, epoch, batch, logs) -> str:
        # Keras 2.3.1: filepath.format(epoch=epoch + 1, **logs); tf.keras adds batch=batch + 1 for batch saves.
        values = {**logs, "epoch": epoch + 1}
        if batch is not None:
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except KeyError as err:
            # tf.keras wording
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {err} is not '
                           f"among the logs ({', '.join(values)}).") from None

    def _save_model(self, epoch, filepath, logs):
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                if not self._monitor_warned:
                    warn_at_user_line(f"Can save best model only with {self.monitor} available, skipping.",
                                      RuntimeWarning)
                return
            if self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print_main("\nEpoch %05d: %s improved from %0.5f to %0.5f, saving model to %s"
                          % (epoch + 1, self.monitor, self.best, current, filepath))
                self.best = current
                self._write(filepath)
            elif self.verbose > 0:
                print_main("\nEpoch %05d: %s did not improve from %0.5f" % (epoch + 1, self.monitor, self.best))
            return
        if self.verbose > 0:
            print_main("\nEpoch %05d: saving model to %s" % (epoch + 1, filepath))
        self._write(filepath)

    def _write(self, filepath):
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)


__all__ = ["ModelCheckpoint"]
