"""``Callback`` and ``CallbackList``, as in Keras 2.3.1 ``keras/callbacks/callbacks.py``.

Hooks and their arguments (epochs and batches are 0-based):

=====================================  ==========================================================
``on_train_begin/end(logs)``           once per ``fit``; also ``on_test_*`` and ``on_predict_*``
``on_epoch_begin/end(epoch, logs)``    ``fit`` only; the end logs hold the epoch values and ``val_*``
``on_{train,test,predict}_batch_*``    ``(batch, logs)``; begin logs have ``batch`` and ``size``
``on_batch_begin/end(batch, logs)``    Keras 2 aliases, called by the default ``on_train_batch_*``
=====================================  ==========================================================

The training loop calls the batch hooks on every step, so :class:`CallbackList` works out once which
callbacks override which batch hook and dispatches only to those; :meth:`CallbackList.needs_batch_hooks`
tells the loop when it need not build batch logs at all.

Before the first epoch, :meth:`CallbackList.on_train_begin` tells the callbacks that read log keys
(``monitor=``, ``ModelCheckpoint``'s ``{placeholders}``) which keys this ``fit`` will produce (its ``metrics``
param, ``epoch``, and what the listed callbacks add), so a name that will never exist fails or warns before any
training (issue 15) instead of after the first epoch. When a callback of the user's may write its own keys into
the logs, nothing is checked there (Keras 2.3.1 lets such keys be used).
"""
from __future__ import annotations

import warnings
from typing import Iterable

from kerasish.utils.validation import did_you_mean, warn_at_user_line

_TRAIN = "train"
_TEST = "test"
_PREDICT = "predict"
_MODES = (_TRAIN, _TEST, _PREDICT)
# The hooks through which a callback can add keys to the epoch or batch logs that later callbacks read.
_LOG_WRITING_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end", "on_train_batch_begin",
                      "on_train_batch_end")


class Callback:
    """Abstract base class used to build new callbacks.

    Properties:
        params: dict of training parameters (K231 ``fit``: ``batch_size``, ``epochs``, ``steps``, ``samples``,
            ``verbose``, ``do_validation``, ``metrics``).
        model: the model being trained.
        validation_data: the validation arrays, when ``fit`` has any (K231 sets it; many F1/AUC callbacks read it).
    """

    # Class-level defaults so that subclasses which skip ``super().__init__()`` (common in user code, and in
    # K231's own BaseLogger) still have the attributes.
    model = None
    params = None
    validation_data = None
    # Keys this callback writes into the epoch logs (kerasish: tells the others they will exist).
    _adds_log_keys: tuple[str, ...] = ()

    def __init__(self):
        self.validation_data = None
        self.model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (``fit`` only)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch (``fit`` only). ``logs`` holds the epoch's metrics and ``val_*``."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called at the beginning of a training batch; ``logs`` has ``batch`` and ``size``."""
        # For backwards compatibility (K231).
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch; ``logs`` has the batch's metric results."""
        # For backwards compatibility (K231).
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in ``evaluate`` and in validation during ``fit``."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch in ``evaluate`` and in validation during ``fit``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch in ``predict``."""

    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    def on_train_end(self, logs=None):
        """Called at the end of training."""

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation."""

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""


def overrides(callback, hook_name: str) -> bool:
    """Whether ``callback.<hook_name>`` does something other than ``Callback``'s default.

    Compares the function behind the bound method, so an override in a subclass and a function assigned to the
    instance (K231's ``LambdaCallback`` does that) both count; a missing hook does not.
    """
    method = getattr(callback, hook_name, None)
    if method is None:
        return False
    return getattr(method, "__func__", method) is not getattr(Callback, hook_name)


def _needs_hook(callback, hook_name: str) -> bool:
    # The default on_train_batch_begin/end forwards to on_batch_begin/end.
    if hook_name.startswith("on_train_batch_"):
        alias = hook_name.replace("on_train_batch_", "on_batch_")
        return overrides(callback, hook_name) or overrides(callback, alias)
    return overrides(callback, hook_name)


class CallbackList:
    """Container abstracting a list of callbacks; every hook is called on each callback in order.

    Arguments:
        callbacks: list of ``Callback`` instances.
        queue_length: K231 times each batch hook against the batch over the last ``queue_length`` batches and
            warns when callbacks are slow; with asynchronous CUDA that timing would blame a callback for the GPU
            time its first read of a value waits for, so kerasish does not time them, and a value other than
            10 warns that it is ignored.
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, queue_length: int = 10):
        if queue_length != 10:
            warnings.warn(f"CallbackList: queue_length={queue_length!r} is ignored: it sizes Keras 2.3.1's timing "
                          "of the batch hooks for its slow-callback warning, which kerasish does not give.",
                          stacklevel=2)
        self.callbacks = list(callbacks or [])
        self.queue_length = queue_length
        self.params = {}
        self.model = None
        self._refresh_batch_hooks()

    def _refresh_batch_hooks(self):
        # hook name -> the callbacks that do something in it; computed when the list or its callbacks change,
        # never per batch.
        names = ["on_%s_batch_%s" % (mode, hook) for mode in _MODES for hook in ("begin", "end")]
        self._batch_hook_targets = {name: [c for c in self.callbacks if _needs_hook(c, name)] for name in names}

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._refresh_batch_hooks()

    def set_params(self, params) -> None:
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)
        self._refresh_batch_hooks()

    def set_model(self, model) -> None:
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)
        self._refresh_batch_hooks()

    def needs_batch_hooks(self, mode: str) -> bool:
        """Whether any callback does something in the ``mode`` ('train', 'test', 'predict') batch hooks.

        When False the loop may skip building batch logs and calling the batch hooks altogether.
        """
        if mode not in _MODES:
            raise ValueError("needs_batch_hooks: mode must be one of %s; received: mode=%r" % (_MODES, mode))
        return bool(self._batch_hook_targets["on_%s_batch_begin" % mode]
                    or self._batch_hook_targets["on_%s_batch_end" % mode])

    def _call_batch_hook(self, mode: str, hook: str, batch: int, logs=None) -> None:
        """Calls ``on_<mode>_batch_<hook>(batch, logs)`` on the callbacks that implement it."""
        hook_name = "on_%s_batch_%s" % (mode, hook)
        targets = self._batch_hook_targets[hook_name]
        if not targets:
            return
        if logs is None:
            logs = {}
        for callback in targets:
            getattr(callback, hook_name)(batch, logs)

    def _call_begin_hook(self, mode: str) -> None:
        """Calls ``on_{train|test|predict}_begin``."""
        if mode == _TRAIN:
            self.on_train_begin()
        elif mode == _TEST:
            self.on_test_begin()
        else:
            self.on_predict_begin()

    def _call_end_hook(self, mode: str) -> None:
        """Calls ``on_{train|test|predict}_end``."""
        if mode == _TRAIN:
            self.on_train_end()
        elif mode == _TEST:
            self.on_test_end()
        else:
            self.on_predict_end()

    def on_batch_begin(self, batch, logs=None):
        self._call_batch_hook(_TRAIN, "begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call_batch_hook(_TRAIN, "end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch_hook(_TRAIN, "begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch_hook(_TRAIN, "end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch_hook(_TEST, "begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch_hook(_TEST, "end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch_hook(_PREDICT, "begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch_hook(_PREDICT, "end", batch, logs)

    # K231 passes the begin/end logs through unchanged (None stays None).
    def on_train_begin(self, logs=None):
        self._check_log_keys()
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def _check_log_keys(self) -> None:
        """Let each callback that reads log keys check them against the keys this fit will produce."""
        epoch_keys = self._epoch_log_keys()
        if epoch_keys is None:
            return
        for callback in self.callbacks:
            check = getattr(callback, "_check_log_keys", None)
            if check is not None:
                check(epoch_keys)

    def _epoch_log_keys(self) -> list[str] | None:
        """The keys of this fit's epoch logs, or None when they cannot be known (no ``metrics`` param: the list
        is used outside fit; or a user's callback may write keys of its own)."""
        metrics = (self.params or {}).get("metrics")
        if metrics is None or any(_may_write_log_keys(c) for c in self.callbacks):
            return None
        added = [key for callback in self.callbacks for key in getattr(callback, "_adds_log_keys", ())]
        return list(dict.fromkeys([*metrics, *added]))

    def on_train_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_test_begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_test_end(logs)

    def on_predict_begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_predict_end(logs)

    def __iter__(self):
        return iter(self.callbacks)


def _may_write_log_keys(callback) -> bool:
    """Whether a hook of ``callback`` is the user's code (a subclass's method, a LambdaCallback's function),
    which may add keys to the logs that kerasish cannot foresee."""
    for name in _LOG_WRITING_HOOKS:
        hook = getattr(callback, name, None)
        function = getattr(hook, "__func__", hook)
        module = getattr(function, "__module__", None) or ""
        if not (module == "kerasish" or module.startswith("kerasish.")):
            return True
    return False


def warn_unknown_monitor(owner: str, monitor: str, available: list[str]) -> bool:
    """Warn, at the user's line, when ``monitor`` will not be among ``available`` (the epoch log keys of this
    fit); returns whether it warned. Keras 2.3.1 only warns, at every epoch; this says it once, before training,
    with the closest names."""
    if monitor in available:
        return False
    hint = did_you_mean(monitor, available)
    if monitor.startswith("val_") and not any(k.startswith("val_") for k in available):
        hint += (" `val_` values exist only when fit has validation data (validation_data=... or "
                 "validation_split=...).")
    warn_at_user_line(f"{owner}: monitor={monitor!r} will not be among the logs of this fit, so it is ignored "
                      f"every epoch. Available keys: {', '.join(available)}.{hint}", RuntimeWarning)
    return True
