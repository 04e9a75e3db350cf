"""Models: ``Model`` (the training API, and the functional API through ``Model(inputs, outputs)``),
``Sequential``, and loading them from files and configs."""
from kerasish.models.functional import Functional
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True):
    """Load a model written by ``model.save``: safe by default (no pickle, no code from the file)."""
    from kerasish import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None):
    from kerasish import saving
    return saving.model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "Functional", "load_model", "model_from_json"]
