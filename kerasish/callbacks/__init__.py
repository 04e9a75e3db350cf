"""Keras 2.3.1 callbacks (``keras.callbacks``); one family per module."""
from kerasish.callbacks.backup_and_restore import BackupAndRestore
from kerasish.callbacks.base_logger import BaseLogger
from kerasish.callbacks.callback import Callback, CallbackList
from kerasish.callbacks.csv_logger import CSVLogger
from kerasish.callbacks.early_stopping import EarlyStopping
from kerasish.callbacks.history import History
from kerasish.callbacks.lambda_callback import LambdaCallback
from kerasish.callbacks.lr_schedulers import LearningRateScheduler, ReduceLROnPlateau
from kerasish.callbacks.metrics_plot import MetricsPlot
from kerasish.callbacks.model_checkpoint import ModelCheckpoint
from kerasish.callbacks.progbar_logger import ProgbarLogger
from kerasish.callbacks.remote_monitor import RemoteMonitor
from kerasish.callbacks.tensorboard import TensorBoard
from kerasish.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "BaseLogger", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
           "LambdaCallback", "LearningRateScheduler", "MetricsPlot", "ModelCheckpoint", "ProgbarLogger",
           "ReduceLROnPlateau", "RemoteMonitor", "TensorBoard", "TerminateOnNaN"]
