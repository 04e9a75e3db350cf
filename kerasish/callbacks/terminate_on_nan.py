"""``TerminateOnNaN`` (Keras 2.3.1 ``keras/callbacks/callbacks.py``)."""
from __future__ import annotations

import numpy as np

from kerasish.callbacks.callback import Callback
from kerasish.distributed import print_main


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN loss is encountered.

    It reads the batch loss after every batch, as K231 does: with the trainer's lazy batch logs that is one
    device sync per batch, the price of checking every batch (the loop keeps no per-batch host values itself).
    """

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None:
            if np.isnan(loss) or np.isinf(loss):
                print_main("Batch %d: Invalid loss, terminating training" % batch)
                self.model.stop_training = True
