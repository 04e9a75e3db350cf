"""``LambdaCallback`` (Keras 2.3.1 ``keras/callbacks/callbacks.py``)."""
from __future__ import annotations

from typing import Callable

from kerasish.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Callback for creating simple, custom callbacks on-the-fly.

    The functions are called with positional arguments:

    - ``on_epoch_begin`` and ``on_epoch_end``: ``(epoch, logs)``
    - ``on_batch_begin`` and ``on_batch_end``: ``(batch, logs)``
    - ``on_train_begin`` and ``on_train_end``: ``(logs)``

    Example::

        # Print the batch number at the beginning of every batch.
        batch_print_callback = LambdaCallback(on_batch_begin=lambda batch, logs: print(batch))

        # Stream the epoch loss to a file in JSON format (one JSON object per line).
        json_log = open('loss_log.json', mode='wt', buffering=1)
        json_logging_callback = LambdaCallback(
            on_epoch_end=lambda epoch, logs: json_log.write(json.dumps({'epoch': epoch, 'loss': logs['loss']}) + '\\n'),
            on_train_end=lambda logs: json_log.close())

    Arguments:
        on_epoch_begin: called at the beginning of every epoch.
        on_epoch_end: called at the end of every epoch.
        on_batch_begin: called at the beginning of every batch.
        on_batch_end: called at the end of every batch.
        on_train_begin: called at the beginning of model training.
        on_train_end: called at the end of model training.
        **kwargs: set as attributes of the callback (K231).

    K231 installs a do-nothing function for every hook not given; kerasish leaves those hooks to ``Callback``'s
    defaults, so a LambdaCallback without batch functions does not make the training loop build batch logs.
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_batch_begin: Callable | None = None, on_batch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None, **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_batch_begin": on_batch_begin,
                 "on_batch_end": on_batch_end, "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)
        # Callback.on_train_batch_* forward with ``logs=logs``, which K231 lambdas named ``(b, l)`` cannot take;
        # the functions are documented as positional, so call them positionally.
        if on_batch_begin is not None:
            self.on_train_batch_begin = lambda batch, logs=None: on_batch_begin(batch, logs)
        if on_batch_end is not None:
            self.on_train_batch_end = lambda batch, logs=None: on_batch_end(batch, logs)
