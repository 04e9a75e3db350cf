"""Keras 2.3.1 ``keras.engine.base_layer``: the layer base class, its input specification and the graph node
(kerasish/layers/base.py, kerasish/layers/node.py)."""
from kerasish.layers.base import InputSpec, Layer
from kerasish.layers.node import Node

__all__ = ["Layer", "InputSpec", "Node"]
