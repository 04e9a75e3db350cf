"""Keras 2.3.1 ``keras.engine.sequential``: ``Sequential`` (kerasish/models/sequential.py)."""
from kerasish.models.sequential import Sequential

__all__ = ["Sequential"]
