"""Keras 2.3.1 ``keras.engine.topology``: the names Keras 2.0 had there, which Keras 2.3.1 keeps for old imports
(``from keras.engine.topology import Layer`` in custom layers)."""
from kerasish.engine.base_layer import InputSpec, Layer, Node
from kerasish.engine.input_layer import Input, InputLayer
from kerasish.engine.network import Network
from kerasish.utils.layer_utils import get_source_inputs

__all__ = ["Layer", "Node", "InputSpec", "Input", "InputLayer", "Network"]
