"""Keras 2.3.1 ``keras.callbacks.callbacks``: the module where Keras 2.3.1 defines its classic callbacks (its
package ``keras.callbacks`` re-exports them). kerasish keeps one family per module in this package; this module
only gives them Keras's path, so ``from keras.callbacks.callbacks import EarlyStopping`` is kerasish's class."""
from kerasish.callbacks.base_logger import BaseLogger
from kerasish.callbacks.callback import Callback, CallbackList
from kerasish.callbacks.csv_logger import CSVLogger
from kerasish.callbacks.early_stopping import EarlyStopping
from kerasish.callbacks.history import History
from kerasish.callbacks.lambda_callback import LambdaCallback
from kerasish.callbacks.lr_schedulers import LearningRateScheduler, ReduceLROnPlateau
from kerasish.callbacks.model_checkpoint import ModelCheckpoint
from kerasish.callbacks.progbar_logger import ProgbarLogger
from kerasish.callbacks.remote_monitor import RemoteMonitor
from kerasish.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["CallbackList", "Callback", "BaseLogger", "TerminateOnNaN", "ProgbarLogger", "History", "ModelCheckpoint",
           "EarlyStopping", "RemoteMonitor", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
           "LambdaCallback"]
