"""Keras 2.3.1 ``keras.engine.training``: ``Model`` (kerasish/models/model.py)."""
from kerasish.models.model import Model

__all__ = ["Model"]
