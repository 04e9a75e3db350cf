"""Keras 2.3.1 ``keras.engine.input_layer``: ``Input`` and ``InputLayer`` (kerasish/layers/input_layer.py)."""
from kerasish.layers.input_layer import Input, InputLayer

__all__ = ["Input", "InputLayer"]
