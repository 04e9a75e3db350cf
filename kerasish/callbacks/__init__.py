"""Keras 2.3.1 callbacks (``keras.callbacks``); one family per module."""
from kerasish.callbacks.callback import Callback, CallbackList
from kerasish.callbacks.history import History
from kerasish.callbacks.progbar_logger import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
