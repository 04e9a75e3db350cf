"""Keras 2.3.1 ``keras.engine.network``: ``Network``.

Keras's ``Network`` is the graph container that ``Model`` extends with training; every Keras model, Sequential
included, is a ``Network``. kerasish has one class for both, ``Model`` (kerasish/models/model.py), so ``Network``
is that class: ``Network(inputs, outputs)`` builds a functional model, ``isinstance(model, Network)`` holds for
every model, and a ``Network`` subclass is a ``Model`` subclass.
"""
from kerasish.models.model import Model
from kerasish.utils.layer_utils import get_source_inputs

Network = Model

__all__ = ["Network"]
