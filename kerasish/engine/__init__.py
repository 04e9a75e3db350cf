"""Keras 2.3.1's ``keras.engine`` module paths, for scripts that import from them (``from keras.engine.topology
import Layer``, ``keras.engine.training.Model``). Each submodule re-exports the one implementation that lives in
``kerasish.layers`` and ``kerasish.models``; nothing is defined here.

=====================  ===========================================================================
``base_layer``         ``Layer``, ``InputSpec``, ``Node``
``input_layer``        ``Input``, ``InputLayer``
``network``            ``Network`` (Keras's graph base class of ``Model``: ``Model`` itself here)
``training``           ``Model``
``sequential``         ``Sequential``
``topology``           the Keras 2.0 names, kept by Keras 2.3.1 for old imports
``saving``             ``save_model``, ``load_model``, ``model_from_config/json/yaml``
=====================  ===========================================================================
"""
from kerasish.engine import base_layer, input_layer, network, saving, sequential, topology, training
from kerasish.engine.base_layer import InputSpec, Layer
from kerasish.engine.input_layer import Input, InputLayer
from kerasish.engine.network import get_source_inputs
from kerasish.engine.training import Model

__all__ = ["Input", "InputLayer", "InputSpec", "Layer", "Model", "base_layer", "input_layer", "network", "saving",
           "sequential", "topology", "training", "get_source_inputs"]
