"""Models: ``Model`` (the training API, and the functional API through ``Model(inputs, outputs)``),
``Sequential``, and loading them from files and configs."""
from kerasish import saving
from kerasish import saving_h5, saving_keras3  # noqa: F401  (register the Keras 2 HDF5 and Keras 3 formats with saving)
from kerasish.backend import graph_api
from kerasish.layers.input_layer import Input, InputLayer
from kerasish.layers.keras_tensor import KerasTensor
from kerasish.models.cloning import clone_model
from kerasish.models.functional import Functional
from kerasish.models.graph import GraphFunction
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential

for _name, _cls in (("Model", Model), ("Functional", Functional), ("Sequential", Sequential)):
    saving.register_model_class(_name, _cls)  # the names configs give them (Keras 2.3.1; tf.keras: Functional)


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None):
    """Keras 2.3.1 ``keras.models.save_model``: ``model.save(filepath)``; ``.h5``/``.hdf5`` names (or tf.keras's
    ``save_format='h5'``) write Keras 2 HDF5, other names kerasish's own format."""
    saving.save_model(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                      save_format=save_format)


def _placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    if shape is None and ndim is None:
        raise ValueError("K.placeholder: give shape=(...) or ndim=n.")
    return Input(batch_shape=tuple(shape) if shape is not None else (None,) * int(ndim), dtype=dtype, sparse=sparse,
                 name=name)


def _is_placeholder(x) -> bool:
    return isinstance(x, KerasTensor) and isinstance(x._keras_history[0], InputLayer)


graph_api.install(placeholder=_placeholder, is_placeholder=_is_placeholder, function=GraphFunction)


def load_model(filepath, custom_objects=None, compile=True):
    """Load a model written by ``model.save``: safe by default (no pickle, no code from the file). A functional
    model comes back as a functional model, a Sequential as a Sequential."""
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None):
    return saving.model_from_json(json_string, custom_objects=custom_objects)


def model_from_config(config, custom_objects=None):
    return saving.model_from_config(config, custom_objects=custom_objects)


def model_from_yaml(yaml_string, custom_objects=None):
    """Keras 2.3.1 ``model_from_yaml``: the model a YAML architecture (Keras's ``to_yaml()``) describes. PyYAML's
    safe loader reads it, with one addition: Python tuples, which Keras's YAML writes for shapes
    (``!!python/tuple``); any other Python tag is refused, so nothing in the text can run code."""
    try:
        import yaml
    except ImportError:
        raise ImportError("Requires yaml module installed (`pip install pyyaml`).") from None
    loader = yaml.SafeLoader(yaml_string)
    # an instance-level table: SafeLoader's own (shared by every user of PyYAML) stays as it was
    loader.yaml_constructors = {**loader.yaml_constructors,
                                "tag:yaml.org,2002:python/tuple": lambda ld, node: tuple(ld.construct_sequence(node))}
    try:
        config = loader.get_single_data()
    finally:
        loader.dispose()
    return model_from_config(config, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "Functional", "clone_model", "save_model", "load_model", "model_from_json",
           "model_from_config", "model_from_yaml", "Input", "InputLayer"]
