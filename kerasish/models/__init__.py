"""Models: ``Model`` (the training API, and the functional API through ``Model(inputs, outputs)``),
``Sequential``, and loading them from files and configs."""
from kerasish.backend import graph_api
from kerasish.layers.input_layer import Input, InputLayer
from kerasish.layers.keras_tensor import KerasTensor
from kerasish.models.functional import Functional
from kerasish.models.graph import GraphFunction
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential


def _placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    if shape is None and ndim is None:
        raise ValueError("K.placeholder: give shape=(...) or ndim=n.")
    return Input(batch_shape=tuple(shape) if shape is not None else (None,) * int(ndim), dtype=dtype, sparse=sparse,
                 name=name)


def _is_placeholder(x) -> bool:
    return isinstance(x, KerasTensor) and isinstance(x._keras_history[0], InputLayer)


graph_api.install(placeholder=_placeholder, is_placeholder=_is_placeholder, function=GraphFunction)


def load_model(filepath, custom_objects=None, compile=True):
    """Load a model written by ``model.save``: safe by default (no pickle, no code from the file)."""
    from kerasish import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None):
    from kerasish import saving
    return saving.model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "Functional", "load_model", "model_from_json"]
