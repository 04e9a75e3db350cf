"""Every file format kerasish writes or reads for models, in one place, with safe loading.

What goes where
===============
=============================  ==============================================================================
``save_model`` / ``load_model``  architecture (Keras 2.3.1-shaped JSON), weights, compile configuration,
                                 optimizer state (with ``iterations``), shuffle seed and RNG state
``save_weights`` / ``load_weights``  weights only, per layer name in Keras order and layouts
``model_to_json`` / ``model_from_json``  the architecture alone, as a JSON string (no file)
``write_training_backup`` / ``restore_training_backup``  a model file plus the epoch/step it was written at
                                 (``BackupAndRestore``)
``restore_rng_state``            put back the random state a model file recorded (exact resume with dropout)
=============================  ==============================================================================

Which format
============
As in Keras, the file name decides and ``save_format=`` overrides:

==========================  ===================================================================================
``.kerasish``               kerasish's own container (``save_format='kerasish'``), below
``.keras``                  Keras 3's zip (kerasish/saving_keras3.py, ``save_format='keras'``), which Keras 3 loads
``.h5``, ``.hdf5``, other   Keras 2 HDF5 (kerasish/saving_h5.py, ``save_format='h5'``), which Keras 2.3.1 and
                            tf-keras load; Keras 2.3.1's ``model.save`` writes HDF5 whatever the name
==========================  ===================================================================================

The other formats register here through ``register_file_format``, so that this module never imports them.
Reading goes by the file's content, whatever its name: HDF5's signature, or a zip whose members tell kerasish's
container from Keras 3's (each format's ``recognizes``). ``BackupAndRestore`` backups are always the container.

The file (kerasish container, version 1)
========================================
kerasish's own container needs neither h5py nor pickle and keeps what Keras files have no place for exactly. It
is a zip archive (stored, not compressed, so ``unzip -l`` shows it) of exactly two entries:

* ``kerasish.json``: ``{"format": "kerasish", "format_version": 1, "kind": "model" | "weights",
  "keras_version": "2.3.1", "backend": "torch", "model_config": {...}, "training_config": {...},
  "model_weights": {"layer_names": [...], "weight_names": {layer: [...]}, "batch_input_shape": [...]},
  "optimizer_state": ..., "training_state": ..., "tensors": {key: {"dtype", "shape", "offsets"}}}``.
  ``model_config`` and ``training_config`` have Keras 2.3.1's shape (``{"class_name": "Sequential", "config":
  {"name", "layers": [...]}}``, or ``"Model"`` with the functional config of models/graph_config.py, and
  ``{"optimizer_config", "loss", "metrics", "weighted_metrics", "sample_weight_mode", "loss_weights"}``).
  A model used as a layer lists its layers' weights under their own names (``dense_1/kernel:0``). The optimizer's ``state_dict()`` and the RNG state are JSON trees in
  which each tensor is ``{"__tensor__": key}``.
* ``tensors.bin``: the raw little-endian bytes of every tensor, back to back, at the ``offsets`` the header
  gives. Weights are stored in Keras layouts (Dense kernel ``(in, out)``) under Keras names
  (``dense_1/kernel:0``), so the file is the same whichever device or torch layout trained the model.

Safe by default
===============
Nothing in a file is ever executed or unpickled: the header is JSON, the tensors are raw bytes read into
freshly allocated tensors after checking dtype, shape and extent. Layer classes, activations, losses and
metrics are looked up by name among kerasish's own objects or in ``custom_objects``. A ``Lambda`` layer's
function (Keras 2.3.1 stores its marshalled bytecode) and a wrapped torch module are never stored: only their
names are, and loading takes them from ``custom_objects``. A file that is not a kerasish container (a pickle,
``torch.save`` output, a Keras HDF5 file), that has been tampered with, or that is truncated raises
``UnreadableFileError`` naming the path. Every write goes through ``atomic_write``: a crash mid-write leaves
the previous file intact.
"""
from __future__ import annotations

import functools
import inspect
import json
import math
import os
import random
import sys
import warnings
import zipfile
from typing import Callable, NamedTuple

import numpy as np
import torch

from kerasish import backend
from kerasish import optimizers as optimizers_module
from kerasish.utils.generic_utils import get_custom_objects
from kerasish.utils.io_utils import atomic_write, check_readable_file
from kerasish.utils.validation import did_you_mean

KERAS_VERSION = "2.3.1"  # the Keras API whose config format we write
FORMAT_NAME = "kerasish"
FORMAT_VERSION = 1
HEADER_ENTRY = "kerasish.json"
TENSORS_ENTRY = "tensors.bin"

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
           "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32, "int16": torch.int16,
           "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool}
_DTYPE_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # identical models give identical bytes


class UnreadableFileError(ValueError):
    """A file that is not a kerasish container, was tampered with, or is truncated or corrupt."""


# ============================================================================ model files
def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True,
               save_format: str | None = None) -> None:
    """Saves a model to one file: architecture, weights, compile configuration and optimizer state.

    Keras 2.3.1 ``keras.models.save_model``. The file name chooses the format, as in Keras: ``.keras`` writes
    Keras 3's zip, ``.kerasish`` kerasish's own container, ``.h5``/``.hdf5`` and any other name Keras 2 HDF5
    (see the module docstring). With ``include_optimizer`` (default) the file also records the
    shuffle seed and the random state (torch, CUDA when used, NumPy, Python) at the time of saving, for exact
    resumption.

    # Arguments
        model: the ``Sequential`` or functional model to save. A subclassed model (a ``Model`` subclass with
            ``call``) cannot be saved whole (its graph is code): this raises ``NotImplementedError``; use
            ``save_weights``.
        filepath: where to write (str or path-like). Written atomically: beside it first, then renamed.
        overwrite: Keras 2.3.1 asks interactively before replacing a file when this is False; kerasish never
            prompts and raises ``FileExistsError`` instead.
        include_optimizer: save the compile configuration and the optimizer's state (Keras 2.3.1). Without
            it, ``load_model`` returns an uncompiled model.
        save_format: (tf.keras) ``'h5'``, ``'keras'`` or ``'kerasish'`` overrides what the file name chooses.
    """
    file_format = _format_for_writing(filepath, save_format, "save_model")
    if not model._is_graph_network:
        # tf.keras 1.x wording (Keras 2.3.1 raises NotImplementedError without a message)
        raise NotImplementedError("Currently `save` requires model to be a graph network. Consider using "
                                  "`save_weights`, in order to save the weights of the model.")
    path = _writable_path(filepath, overwrite, "save_model")
    if file_format is not None:
        file_format.save_model(model, path, include_optimizer)
        return
    document, tensors = _model_document(model, include_optimizer=include_optimizer)
    _write_container(path, document, tensors)


def load_model(filepath, custom_objects=None, compile: bool = True):
    """Loads a model written by ``save_model`` (or ``model.save``, or ``ModelCheckpoint``), or a Keras 2 HDF5
    model file (Keras 2.3.1, tf.keras 2.x): the file's first bytes decide, not its name.

    Safe by default: nothing from the file is executed or unpickled. Custom layers, activations,
    initializers, regularizers, constraints, losses, metrics and optimizers, ``Lambda`` functions and wrapped
    torch modules come from ``custom_objects`` (``{'name': object}``; a ``Lambda``'s function and a
    ``TorchModule``'s module may also be keyed by the layer's name).

    The weights and the optimizer state are restored exactly; the model gets back its shuffle seed, so
    ``fit(..., initial_epoch=k)`` visits the data in the order an uninterrupted run would, and seeded
    ``Dropout`` layers get back their own generators' state (files saved with the optimizer). Loading never
    changes the global random state; for dropout masks identical to an uninterrupted run, call
    ``restore_rng_state(filepath)`` as well (``BackupAndRestore`` does both).

    # Arguments
        filepath: the file to read.
        custom_objects: names -> classes or functions used by the model.
        compile: compile the model with the saved configuration (Keras 2.3.1: when the file has none, a
            warning says the model was *not* compiled). With False the model is returned uncompiled.

    # Raises
        UnreadableFileError (a ValueError): not a kerasish file, tampered with, truncated or corrupt.
        ValueError: the file holds only weights, or names objects not supplied in ``custom_objects``.
    """
    custom_objects = known_objects(custom_objects)
    file_format = _format_of_file(filepath, "load_model")
    if file_format is not None:
        return file_format.load_model(os.fspath(filepath), custom_objects, compile)
    path, document, tensors = _read_container(filepath, "load_model")
    if document["kind"] != "model":
        raise ValueError(f"load_model: {path!r} holds only weights (written by save_weights), not a model. "
                         "Build the model in code and call model.load_weights(filepath) instead.")
    if "model_config" in document and document["model_config"] is None:
        raise ValueError(f"load_model: {path!r} is a training backup of a subclassed model: it holds the model's "
                         "state but no architecture (a subclassed model's graph is code). Build the model in code "
                         "and call model.load_weights(filepath).")
    with torch.random.fork_rng(devices=[]):  # the layers' initial weights are drawn, then replaced
        model = _model_from_config(_field(document, "model_config", dict, path), custom_objects, "load_model")
    _load_weights_by_order(model, _saved_layers(document, tensors, path), path, "load_model")
    training_state = _decode_tree(document.get("training_state"), tensors, path) or {}
    _restore_shuffle_seed(model, training_state, path)
    _restore_layer_random_states(model, training_state.get("layer_rng"), path)
    if not compile:
        return model
    training_config = document.get("training_config")
    if training_config is None:
        # Keras 2.3.1 engine/saving.py wording
        warnings.warn("No training configuration found in save file: the model was *not* compiled. "
                      "Compile it manually.", stacklevel=3)
        return model
    _compile_from_training_config(model, training_config, custom_objects, path)
    optimizer_state = _decode_tree(document.get("optimizer_state"), tensors, path)
    if optimizer_state is not None:
        try:
            _load_optimizer_state(model, optimizer_state)
        except (ValueError, KeyError, TypeError, RuntimeError):
            # Keras 2.3.1 engine/saving.py: a state that does not fit is reported, not fatal
            warnings.warn("Error in loading the saved optimizer state. As a result, your model is starting "
                          "with a freshly initialized optimizer.", stacklevel=3)
    return model


def restore_rng_state(filepath) -> None:
    """Sets torch's (CPU and, where recorded and available, CUDA), NumPy's and Python's global random state
    to what ``save_model`` recorded, so that training resumed from the file draws the same dropout masks as
    an uninterrupted run. A file saved with ``include_optimizer=False`` records no random state."""
    file_format = _format_of_file(filepath, "restore_rng_state")
    if file_format is not None:
        path, state = os.fspath(filepath), file_format.read_training_state(os.fspath(filepath), "restore_rng_state")
    else:
        path, document, tensors = _read_container(filepath, "restore_rng_state")
        state = _decode_tree(document.get("training_state"), tensors, path) or {}
    if "rng" not in state:
        raise ValueError(f"restore_rng_state: {path!r} records no random state (it was saved with "
                         "include_optimizer=False, or by save_weights).")
    set_rng_state(state["rng"], path)


# ============================================================================ weights files
def save_weights(model, filepath, overwrite: bool = True, save_format: str | None = None) -> None:
    """Saves every layer's weights, by layer name, in Keras order and layouts (Keras 2.3.1
    ``Network.save_weights``): kerasish's container for ``.kerasish`` names (or ``save_format='kerasish'``),
    else Keras 2 HDF5 (Keras 3's ``.keras`` files hold whole models: ``save_weights`` refuses them). ``overwrite=False`` on an existing file raises ``FileExistsError`` (Keras 2.3.1 asks
    interactively)."""
    file_format = _format_for_writing(filepath, save_format, "save_weights")
    path = _writable_path(filepath, overwrite, "save_weights")
    if file_format is not None:
        file_format.save_weights(model, path)
        return
    tensors: dict[str, torch.Tensor] = {}
    document = {"kind": "weights", "model_weights": _weights_manifest(model, tensors)}
    _write_container(path, document, tensors)


def load_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False, reshape: bool = False) -> None:
    """Loads weights written by ``save_weights`` or ``save_model`` (Keras 2.3.1 ``Network.load_weights``).

    ``by_name=False``: by order, counting only layers that have weights, so layers without weights may be
    added or removed. ``by_name=True``: into the layers whose names match; other layers are left alone.
    ``skip_mismatch`` (with ``by_name`` only, as in Keras 2.3.1 where it is otherwise ignored): skip, with a
    warning, a layer whose number of weights differs and each weight whose shape differs. ``reshape``: reshape
    a convolution kernel holding the right number of values (Keras 2.3.1 ``preprocess_weights_for_loading``).

    An unbuilt model is first built with the input shape the file records. Every check runs before any
    weight changes, so a failed load leaves the model as it was. Keras 2 HDF5 files (from ``save_weights`` or
    ``save``, Keras 2.3.1 or tf.keras) are recognised by their first bytes.
    """
    file_format = _format_of_file(filepath, "load_weights")
    if file_format is not None:
        file_format.load_weights(model, os.fspath(filepath), by_name, skip_mismatch, reshape)
        return
    path, document, tensors = _read_container(filepath, "load_weights")
    saved = _saved_layers(document, tensors, path)
    build_for_loading(model, document.get("model_weights", {}).get("batch_input_shape"), path)
    if by_name:
        _load_weights_by_name(model, saved, path, skip_mismatch, reshape)
    else:
        _load_weights_by_order(model, saved, path, "load_weights", reshape)


# ============================================================================ other file formats
class FileFormat(NamedTuple):
    """A file format other than the container, registered by its module (kerasish/saving_h5.py: Keras 2 HDF5)
    so that this module never imports it. Writing picks it by ``save_format`` or the file name's suffix,
    reading by the file's first bytes (``signature``) and, where formats share them (zips), ``recognizes(path)``."""
    name: str
    suffixes: tuple
    signature: bytes
    save_model: Callable  # (model, path, include_optimizer)
    load_model: Callable  # (path, custom_objects, compile) -> model
    save_weights: Callable  # (model, path)
    load_weights: Callable  # (model, path, by_name, skip_mismatch, reshape)
    read_training_state: Callable  # (path, caller) -> the decoded training state (shuffle seed, rng ...)
    recognizes: Callable | None = None  # (path) -> True when a file with ``signature`` is of this format


_FILE_FORMATS: dict[str, FileFormat] = {}


def register_file_format(file_format: FileFormat) -> None:
    _FILE_FORMATS[file_format.name] = file_format


CONTAINER_SUFFIX = ".kerasish"
# Keras 2.3.1's model.save writes HDF5 whatever the file is called; kerasish does the same for names no format claims.
DEFAULT_FILE_FORMAT = "h5"


def _format_for_writing(filepath, save_format, caller: str) -> FileFormat | None:
    """The registered format that ``save_format`` names or the suffix chooses (``.kerasish``: the container,
    returned as None; a suffix no format claims: Keras 2 HDF5, as in Keras 2.3.1)."""
    if save_format is None:
        suffix = os.path.splitext(os.fspath(filepath))[1].lower()
        if suffix == CONTAINER_SUFFIX:
            return None
        chosen = next((f for f in _FILE_FORMATS.values() if suffix in f.suffixes), None)
        return chosen or _FILE_FORMATS.get(DEFAULT_FILE_FORMAT)
    if save_format == FORMAT_NAME:
        return None
    if save_format not in _FILE_FORMATS:
        known = sorted([*_FILE_FORMATS, FORMAT_NAME])
        remedy = " (the TensorFlow SavedModel cannot be written on PyTorch)" if save_format == "tf" else ""
        raise ValueError(f"{caller}: Unknown save_format {save_format!r}{remedy};{did_you_mean(save_format, known)} "
                         f"Expected one of {known} or None (the file name decides).")
    return _FILE_FORMATS[save_format]


def _format_of_file(filepath, caller: str) -> FileFormat | None:
    path = os.fspath(filepath)
    check_readable_file(path, caller)
    with open(path, "rb") as f:
        head = f.read(16)
    return next((f for f in _FILE_FORMATS.values()
                 if head.startswith(f.signature) and (f.recognizes is None or f.recognizes(path))), None)


def build_for_loading(model, batch_input_shape, path: str) -> None:
    """``load_weights`` into an unbuilt model: build it with the input shape the file records."""
    if model.built:
        return
    if not model._is_graph_network:
        raise ValueError(f"load_weights: the subclassed model {model.name!r} has not made its weights yet (its "
                         "layers make them when call first runs). Call it on a batch first, e.g. "
                         "model.predict(x[:1]), then load the weights.")
    if batch_input_shape is None:
        raise ValueError(f"load_weights: the model is not built and {path!r} does not record an input "
                         "shape. Build the model first (model.build(input_shape)).")
    model.build(tuple(batch_input_shape))


# ============================================================================ JSON configs
def model_to_json(model, **kwargs) -> str:
    """Keras 2.3.1 ``Network.to_json``: ``{"class_name", "config", "keras_version", "backend"}`` as JSON;
    ``kwargs`` go to ``json.dumps`` (``indent=2`` ...)."""
    return json.dumps(_model_config(model), default=_json_default, **kwargs)


def model_from_json(json_string: str, custom_objects=None):
    """Keras 2.3.1 ``keras.models.model_from_json``: an uncompiled model from ``model_to_json``'s output."""
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise ValueError(f"model_from_json: expected the JSON string written by model.to_json(); it does not "
                         f"parse: {err}") from None
    return _model_from_config(config, known_objects(custom_objects), "model_from_json")


def model_from_config(config: dict, custom_objects=None):
    """Keras 2.3.1 ``keras.models.model_from_config``: ``{"class_name": "Sequential" | "Model", "config":
    {...}}`` (what ``to_json`` writes, parsed), an uncompiled model."""
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Maybe you meant to use "
                        "`Sequential.from_config(config)`?")
    return _model_from_config(config, known_objects(custom_objects), "model_from_config")


def sequential_config(model) -> dict:
    """``Sequential.get_config()`` as Keras 2.3.1 writes it: ``{"name", "layers": [{"class_name", "config"}]}``,
    plus ``build_input_shape`` when the input shape came from ``build``/``fit`` rather than the first layer.

    When the model starts with an ``InputLayer`` (which ``model.layers`` leaves out), its shape is written
    into the first layer's config, as tf.keras does, so the model is rebuilt with it."""
    layers = [layer_config(layer) for layer in model.layers]
    config = {"name": model.name, "layers": layers}
    if not layers or "batch_input_shape" in layers[0]["config"]:
        return config
    first = model._stack[0]
    from kerasish.layers.input_layer import InputLayer
    if isinstance(first, InputLayer):
        layers[0]["config"]["batch_input_shape"] = first.batch_input_shape
    elif model.built:
        config["build_input_shape"] = model.input_shape
    return config


def sequential_from_config(config, custom_objects=None, cls=None):
    """Keras 2.3.1 ``Sequential.from_config``: also accepts the legacy plain list of layer configs."""
    custom_objects = known_objects(custom_objects)
    cls = cls or _MODEL_CLASSES["Sequential"]
    if isinstance(config, dict) and "layers" in config:
        name, build_input_shape, layer_configs = config.get("name"), config.get("build_input_shape"), config["layers"]
    elif isinstance(config, list):  # Keras 2.3.1 "legacy config file"
        name, build_input_shape, layer_configs = None, None, config
    else:
        raise ValueError(f"Sequential.from_config: expected {{'name': ..., 'layers': [...]}} (or a list of layer "
                         f"configs); received {type(config).__name__}.")
    model = cls(name=name)
    for layer_data in layer_configs:
        model.add(deserialize_layer(layer_data, custom_objects))
    if not model.built and build_input_shape:
        model.build(tuple(build_input_shape))
    return model


def layer_config(layer) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}`` (Keras 2.3.1 ``serialize_keras_object``)."""
    from kerasish.utils.generic_utils import keras_class_name
    return {"class_name": keras_class_name(layer), "config": layer.get_config()}


def known_objects(custom_objects) -> dict:
    """The names loading resolves: the global registry (``get_custom_objects``, ``custom_object_scope``), then
    the ``custom_objects`` argument, which wins (Keras 2.3.1 ``deserialize_keras_object``)."""
    return {**get_custom_objects(), **dict(custom_objects or {})}


def deserialize_layer(layer_data: dict, custom_objects=None):
    """A layer from ``layer_config``'s output; classes come from ``custom_objects`` first, then
    ``kerasish.layers`` (Keras 2.3.1 ``layers.deserialize``). Never runs code from the config."""
    from kerasish.layers.core import Lambda, TorchModule
    custom_objects = known_objects(custom_objects)
    if not isinstance(layer_data, dict) or not isinstance(layer_data.get("class_name"), str):
        raise ValueError(f"Improperly formatted layer config: expected {{'class_name': ..., 'config': {{...}}}}; "
                         f"received {layer_data!r:.200}.")
    class_name = layer_data["class_name"]
    cls = custom_objects.get(class_name) or _builtin_layer_class(class_name)
    config = tf_keras_compatible_config(cls, layer_data.get("config") or {}) if cls is not None else {}
    if cls is None:
        # Keras 2.3.1 generic_utils.deserialize_keras_object wording, plus the remedy
        raise ValueError(f"Unknown layer: {class_name}.{did_you_mean(class_name, _builtin_layer_names())} A custom "
                         f"layer class must be passed by name: custom_objects={{'{class_name}': {class_name}}}.")
    if cls is Lambda:
        return _lambda_from_config(config, custom_objects)
    if cls is TorchModule:
        return _torch_module_from_config(config, custom_objects)
    if _is_model_class(cls):  # a nested model: its layers resolve their own objects
        return _model_class_from_config(cls, config, custom_objects)
    config = _resolve_config_objects(_resolve_nested_layers(config, custom_objects), custom_objects)
    try:
        # a from_config that takes custom_objects (wrappers: their nested layer) gets them, as in Keras 2.3.1
        return _model_class_from_config(cls, config, custom_objects) if hasattr(cls, "from_config") \
            else cls(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"Layer {config.get('name')!r} ({class_name}): its saved config could not be applied: "
                         f"{err} If it names a function or class of yours, pass it by name in custom_objects.") \
            from None


# tf.keras 2.x writes keys Keras 2.3.1 has not. Those whose value is the no-op below carry no meaning here and are
# dropped; any other value is a feature kerasish does not have, and loading says so.
_TF_KERAS_NO_OP_KEYS = {"ragged": False, "optional": False,  # InputLayer
                        "time_major": False,  # RNNs
                        "groups": 1,  # convolutions (grouped convolutions: tf.keras 2.3+)
                        "synchronized": False,  # BatchNormalization (tf.keras 2.12+)
                        "use_legacy_config": False}
# Serialization bookkeeping of tf.keras 2.13+ / Keras 3 on every {"class_name", "config"} dict: no meaning here.
_TF_KERAS_BOOKKEEPING_KEYS = ("module", "registered_name", "build_config", "compile_config", "shared_object_id")


def tf_keras_compatible_config(cls, config: dict) -> dict:
    """A layer config written by tf.keras 2.x (or Keras 2.3.1) as ``cls`` accepts it: the one place where
    tf.keras's extra keys are read. Bookkeeping keys (``module``, ``registered_name``) are dropped at every
    depth, a ``dtype`` policy dict (``{"class_name": "Policy", "config": {"name": ...}}``) becomes its name, and
    the keys of ``_TF_KERAS_NO_OP_KEYS`` that ``cls`` does not take are dropped when they hold their no-op value."""
    config = _without_bookkeeping(dict(config))
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        config["dtype"] = (dtype.get("config") or {}).get("name", dtype.get("class_name"))
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1:  # tf.keras BatchNormalization writes [3] for Keras 2's 3
        config["axis"] = axis[0]
    accepted = inspect.signature(cls.__init__).parameters if isinstance(cls, type) else {}
    for key, no_op in _TF_KERAS_NO_OP_KEYS.items():
        if key in config and key not in accepted:
            value = config.pop(key)
            if value != no_op:
                raise ValueError(f"Layer {config.get('name')!r} ({cls.__name__}): the file sets the tf.keras option "
                                 f"{key}={value!r}, which kerasish does not have (only {key}={no_op!r} loads).")
    return config


# tf.keras 2.x optimizer config keys Keras 2.3.1 has not, with the value that makes them no-ops; None: any value
# is a no-op here (the optimizer's name, XLA compilation).
_TF_KERAS_OPTIMIZER_NO_OP_KEYS = {"name": None, "decay": (0, 0.0), "jit_compile": None, "is_legacy_optimizer": None,
                                  "weight_decay": (None, 0, 0.0), "global_clipnorm": (None,), "use_ema": (False,),
                                  "ema_momentum": None, "ema_overwrite_frequency": None,
                                  "clipnorm": (None,), "clipvalue": (None,), "momentum": (0, 0.0),
                                  "centered": (False,), "initial_accumulator_value": None,
                                  "loss_scale_factor": (None,), "gradient_accumulation_steps": (None,)}  # Keras 3


def tf_keras_optimizer_config(class_name: str, config: dict) -> dict:
    """A tf.keras 2.x optimizer config as Keras 2.3.1's optimizer ``class_name`` takes it: the keys it lacks
    are dropped when they are no-ops (``name``, ``is_legacy_optimizer``, ``use_ema=False`` ...); others raise.
    (``initial_accumulator_value``: tf.keras's Adagrad starts at 0.1, Keras 2 at 0; the saved state overrides.)"""
    cls = optimizers_module._BY_NAME.get(class_name.lower())
    if cls is None:
        return config
    accepted = {*inspect.signature(cls.__init__).parameters, "lr", "clipnorm", "clipvalue"}
    if cls._accepts_decay:
        accepted.add("decay")
    result = {}
    for key, value in config.items():
        if key in accepted and not (key in ("clipnorm", "clipvalue") and value is None):
            result[key] = value
            continue
        no_ops = _TF_KERAS_OPTIMIZER_NO_OP_KEYS.get(key, ())
        if key not in _TF_KERAS_OPTIMIZER_NO_OP_KEYS or (no_ops is not None and value not in no_ops):
            raise ValueError(f"optimizer {class_name}: the file sets {key}={value!r}, which Keras 2's {class_name} "
                             "(and kerasish's) does not have. Load with compile=False and compile the model "
                             "with an optimizer of your choice.")
    return result


def _tf_keras_metrics(value, single_output: bool = False):
    """tf.keras 2.x writes the metrics of a one-output model as ``[[...]]`` and a metric given by name as
    ``{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "fn": "categorical_accuracy"}}``: the
    name the user gave, which compile resolves as Keras does."""
    if single_output and isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list):
        return [_tf_keras_metrics(v) for v in value]
    if isinstance(value, dict) and value.get("class_name") == "MeanMetricWrapper":
        config = value.get("config") or {}
        return config.get("name") or config.get("fn")
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _tf_keras_metrics(v) for key, v in value.items()}
    return value


def _without_bookkeeping(value):
    if isinstance(value, dict):
        if "class_name" in value:
            value = {k: v for k, v in value.items() if k not in _TF_KERAS_BOOKKEEPING_KEYS}
        return {k: _without_bookkeeping(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_bookkeeping(v) for v in value]
    return value


# ============================================================================ training backups
def write_training_backup(model, filepath, epoch: int, step: int | None) -> None:
    """A model file (weights, optimizer state, shuffle seed, RNG state) that also records where training was:
    after the end of ``epoch`` (``step=None``) or after batch ``step`` of ``epoch``. Atomic."""
    document, tensors = _model_document(model, include_optimizer=True, with_training_config=False,
                                        extra_state={"epoch": int(epoch), "step": None if step is None else int(step)})
    _write_container(os.fspath(filepath), document, tensors)


def restore_training_backup(model, filepath) -> tuple[int, int | None]:
    """Puts the model (weights, optimizer state, shuffle seed) and the global random state back as
    ``write_training_backup`` recorded them; returns the ``(epoch, step)`` it was written at."""
    path, document, tensors = _read_container(filepath, "BackupAndRestore")
    state = _decode_tree(document.get("training_state"), tensors, path) or {}
    if not isinstance(state.get("epoch"), int) or "rng" not in state:
        raise UnreadableFileError(f"BackupAndRestore: {path!r} is a model file but not a training backup "
                                  "(it records no epoch); remove it or point backup_dir elsewhere.")
    try:
        _load_weights_by_order(model, _saved_layers(document, tensors, path), path, "BackupAndRestore")
        optimizer_state = _decode_tree(document.get("optimizer_state"), tensors, path)
        if optimizer_state is not None:
            _load_optimizer_state(model, optimizer_state)
    except UnreadableFileError:
        raise
    except (ValueError, KeyError, TypeError, RuntimeError) as err:
        raise ValueError(f"BackupAndRestore: the backup {path!r} does not fit this model and optimizer ({err}). "
                         "The backup belongs to another training; delete it to start afresh.") from None
    _restore_shuffle_seed(model, state, path)
    _restore_layer_random_states(model, state.get("layer_rng"), path)
    set_rng_state(state["rng"], path)
    step = state.get("step")
    return state["epoch"], step if isinstance(step, int) else None


# ============================================================================ random state
def get_rng_state() -> dict:
    """The global random state: torch CPU, torch CUDA (only once CUDA is in use: asking sooner would start
    it), NumPy and Python's ``random``."""
    np_state = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                       "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
             "python": {"version": py_version, "internal": list(py_internal), "gauss_next": py_gauss}}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: dict, path: str = "<memory>") -> None:
    """Inverse of ``get_rng_state``. CUDA states are set for the devices both the file and this machine
    have; a file from a CUDA machine restores the CPU, NumPy and Python state on a CPU-only one."""
    try:
        torch.set_rng_state(_checked_tensor(state["torch"], torch.uint8))
        numpy_state = state["numpy"]
        np.random.set_state(("MT19937", _checked_tensor(numpy_state["keys"], torch.int64).numpy().astype(np.uint32),
                             int(numpy_state["pos"]), int(numpy_state["has_gauss"]),
                             float(numpy_state["cached_gaussian"])))
        python_state = state["python"]
        gauss = python_state["gauss_next"]
        random.setstate((int(python_state["version"]), tuple(int(v) for v in python_state["internal"]),
                         None if gauss is None else float(gauss)))
        cuda_states = state.get("torch_cuda") or []
        if cuda_states and torch.cuda.is_available():
            for index in range(min(len(cuda_states), torch.cuda.device_count())):
                torch.cuda.set_rng_state(_checked_tensor(cuda_states[index], torch.uint8), index)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise UnreadableFileError(f"{path!r}: the recorded random state is truncated or corrupt ({err}).") from None


def _checked_tensor(value, dtype: torch.dtype) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dtype != dtype or value.dim() != 1:
        raise TypeError(f"expected a 1-D {dtype} tensor")
    return value


# ============================================================================ building the document
def _model_document(model, include_optimizer: bool, with_training_config: bool = True,
                    extra_state: dict | None = None) -> tuple[dict, dict]:
    """The header and tensors of a model file. A backup (``extra_state``) keeps the optimizer state without
    the training configuration: it is restored into an already compiled model."""
    tensors: dict[str, torch.Tensor] = {}
    # A backup of a subclassed model holds its state without an architecture (its graph is code).
    model_config = _model_config(model) if model._is_graph_network or extra_state is None else None
    document = {"kind": "model", "model_config": model_config, "model_weights": _weights_manifest(model, tensors)}
    training_state = {"shuffle_seed": model._shuffle_seed}
    if include_optimizer and model.compiled_loss is not None:
        training_config = _training_config(model) if with_training_config else None
        if training_config is not None:
            document["training_config"] = training_config
        if training_config is not None or extra_state is not None:
            optimizer_state = _optimizer_state(model)
            if optimizer_state is not None:
                scaler = getattr(model, "_grad_scaler", None)
                scaler_state = scaler.state_dict() if scaler is not None else {}
                if scaler_state:  # mixed_float16's loss scale is part of where training is
                    optimizer_state = {**optimizer_state, "kerasish_grad_scaler": scaler_state}
                document["optimizer_state"] = _encode_tree(optimizer_state, tensors, "optimizer")
        training_state["rng"] = get_rng_state()
        layer_rng = _layer_random_states(model)
        if layer_rng:  # seeded Dropout layers' own generators
            training_state["layer_rng"] = layer_rng
    training_state.update(extra_state or {})
    document["training_state"] = _encode_tree(training_state, tensors, "training_state")
    return document, tensors


def _model_config(model) -> dict:
    from kerasish.utils.generic_utils import keras_class_name
    return {"class_name": keras_class_name(model), "config": model.get_config(), "keras_version": KERAS_VERSION,
            "backend": "torch"}


def _weights_manifest(model, tensors: dict) -> dict:
    """Keras 2.3.1 ``save_weights_to_hdf5_group``: ``layer_names`` (every layer) and per layer its
    ``weight_names`` (``dense_1/kernel:0`` ...), values in Keras layouts."""
    layer_names, weight_names = [], {}
    for layer in model.layers:
        names = []
        for name, (tensor, layout) in zip(_weight_names(layer), layer._weight_tensors()):
            if f"model_weights/{name}" in tensors:  # a layer both in a nested model and beside it
                name = f"{layer.name}/{name}"
            names.append(name)
            tensors[f"model_weights/{name}"] = layout.to_keras(tensor.detach())
        layer_names.append(layer.name)
        weight_names[layer.name] = names
    recorded_shape = model.input_shape if model.built and model._is_graph_network else None
    return {"layer_names": layer_names, "weight_names": weight_names,
            "batch_input_shape": None if recorded_shape is None else list(recorded_shape)}


def _weight_names(layer) -> list[str]:
    """Keras names of a layer's weights, in ``_weight_tensors`` order: ``dense_1/kernel:0``; a model used as a
    layer lists its layers' weights under their own names, as Keras 2.3.1 does."""
    if _is_model_class(type(layer)):
        return [name for inner in layer.layers for name in _weight_names(inner)]
    # a cell's weight is the RNN's (Keras 2.3.1: lstm_1/kernel:0, not lstm_1/cell.kernel:0)
    attrs = [attr.rsplit(".", 1)[-1] for attr, _ in layer.keras_weight_specs()]
    forward, backward = getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None)
    if forward is not None and backward is not None and len(attrs) % 2 == 0:
        # Keras 2.3.1 Bidirectional builds each direction under its name scope: bidirectional_1/forward_lstm_1/...
        half = len(attrs) // 2
        return [f"{layer.name}/{forward.name}/{attr}:0" for attr in attrs[:half]] + \
            [f"{layer.name}/{backward.name}/{attr}:0" for attr in attrs[half:]]
    return [f"{layer.name}/{attr}:0" for attr in attrs]


def _training_config(model) -> dict | None:
    """Keras 2.3.1 ``training_config``; None (with Keras's warning for optimizers it cannot save) when the
    optimizer is a factory function that kerasish cannot name."""
    optimizer_config = _optimizer_config(model.optimizer)
    if optimizer_config is None:
        warnings.warn(f"save_model: the optimizer {model.optimizer!r} is a function, which cannot be saved by "
                      "name. As a result, the model is saved without its training configuration and optimizer "
                      "state; you will have to compile it again after loading. Pass a Keras optimizer or a "
                      "torch.optim class instead.", stacklevel=3)
        return None
    compile_args = model._compile_args or {}
    loss_weight = getattr(model.compiled_loss, "loss_weight", None)
    loss_weights = compile_args.get("loss_weights") if loss_weight is None else \
        (None if loss_weight == 1.0 else [loss_weight])
    # several outputs: loss, metrics and loss_weights as given, a list or a dict by output (Keras 2.3.1)
    config = {"optimizer_config": optimizer_config,
              "loss": _serialize_tree(model.loss),
              "metrics": _serialize_list(compile_args.get("metrics")),
              "weighted_metrics": _serialize_list(compile_args.get("weighted_metrics")),
              "sample_weight_mode": model.compiled_loss.sample_weight_mode,
              "loss_weights": loss_weights}
    # kerasish's compile arguments beyond Keras 2, written only when they differ from the default
    if compile_args.get("jit_compile"):
        config["jit_compile"] = compile_args["jit_compile"]
    if compile_args.get("dtype_policy") not in (None, "float32"):
        config["dtype_policy"] = compile_args["dtype_policy"]
    return config


def _optimizer_config(optimizer) -> dict | None:
    if isinstance(optimizer, optimizers_module.Optimizer):
        return optimizers_module.serialize(optimizer)
    if isinstance(optimizer, torch.optim.Optimizer):
        return {"class_name": _torch_optimizer_name(type(optimizer)),
                "config": {k: v for k, v in optimizer.defaults.items() if _is_json_value(v)}}
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return {"class_name": _torch_optimizer_name(optimizer), "config": {}}
    return None


def _torch_optimizer_name(cls: type) -> str:
    # The class itself or the torch class it wraps (optimizers.with_keras_lr subclasses it at run time).
    for klass in cls.__mro__:
        if getattr(torch.optim, klass.__name__, None) is klass and klass is not torch.optim.Optimizer:
            return f"torch.optim.{klass.__name__}"
    return cls.__name__


def _optimizer_state(model) -> dict | None:
    optimizer = model.optimizer
    if isinstance(optimizer, optimizers_module.Optimizer) and not optimizer.is_bound:
        return None  # never stepped: nothing to save (Keras 2.3.1 has no optimizer weights yet either)
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer.state_dict()
    return None


def _serialize_named(obj):
    """A loss/metric as Keras 2.3.1 writes it into training_config: names as given, functions by name, Loss
    and Metric instances as ``{"class_name", "config"}`` (a bare ``MeanMetricWrapper``, whose function its config
    lacks, by its name); other objects by their ``name``."""
    from kerasish import losses, metrics
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (losses.Loss, metrics.Metric)) and type(obj) is not metrics.MeanMetricWrapper:
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def _serialize_list(values):
    if values is None:
        return None
    if isinstance(values, (list, tuple, dict)):
        return _serialize_tree(values)
    return [_serialize_named(values)]


def _serialize_tree(value):
    """``_serialize_named`` through lists and dicts (the per-output losses and metrics of a model)."""
    if isinstance(value, (list, tuple)):
        return [_serialize_tree(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _serialize_tree(v) for key, v in value.items()}
    return _serialize_named(value)


# ============================================================================ rebuilding a model
def _model_from_config(config, custom_objects: dict, caller: str):
    """Keras 2.3.1 ``model_from_config``: ``{"class_name": "Sequential" | "Model", "config": {...}}``; a model
    class of yours (a Sequential or functional subclass) comes from ``custom_objects``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{caller}: expected a model config {{'class_name': 'Model', 'config': {{...}}}}; "
                         f"received {type(config).__name__}.")
    class_name = config["class_name"]
    cls = custom_objects.get(class_name)
    if not _is_model_class(cls):
        cls = _builtin_model_class(class_name) if isinstance(class_name, str) else None
    if cls is None:
        raise ValueError(f"{caller}: the config describes a {class_name!r} model; kerasish builds 'Sequential' and "
                         f"functional ('Model') models from configs. For a model class of yours, pass it as "
                         f"custom_objects={{'{class_name}': cls}}.")
    return _model_class_from_config(cls, config.get("config"), custom_objects)


# kerasish.layers registers its namespace here (register_layer_namespace), so that this module finds layer
# classes by name without importing the package that imports it (kerasish.layers.serialize/deserialize).
_LAYER_NAMESPACES: list[dict] = []


def register_layer_namespace(namespace: dict) -> None:
    """Make the layer classes of ``namespace`` (a module's globals) loadable by their names."""
    _LAYER_NAMESPACES.append(namespace)


def _builtin_layer_names() -> list[str]:
    """The class names ``_builtin_layer_class`` finds (for the "did you mean" of an unknown one)."""
    from kerasish.layers.base import Layer
    names = {name for namespace in _LAYER_NAMESPACES for name, candidate in namespace.items()
             if isinstance(candidate, type) and issubclass(candidate, Layer) and candidate is not Layer}
    return sorted(names | set(_MODEL_CLASSES))


def _builtin_layer_class(class_name: str):
    from kerasish.layers.base import Layer  # importing any kerasish.layers module runs the package's registration
    for namespace in _LAYER_NAMESPACES:
        candidate = namespace.get(class_name)
        if isinstance(candidate, type) and issubclass(candidate, Layer) and candidate is not Layer:
            return candidate
    return _builtin_model_class(class_name)


# Model classes by the names configs give them: Keras 2.3.1 writes "Model" and "Sequential", tf.keras 2.4+
# "Functional". kerasish.models registers them (register_model_class), so this module never imports models.
_MODEL_CLASSES: dict[str, type] = {}


def register_model_class(class_name: str, cls: type) -> None:
    """Make ``cls`` the model class a config's ``class_name`` names (``"Model"`` is also the base that tells
    a model class from a layer class)."""
    _MODEL_CLASSES[class_name] = cls


def _builtin_model_class(class_name: str):
    return _MODEL_CLASSES.get(class_name)


def _model_class_from_config(cls, config, custom_objects: dict):
    """Keras 2.3.1 ``deserialize_keras_object``: ``custom_objects`` go to a ``from_config`` that takes them."""
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


def _is_model_class(cls) -> bool:
    base = _MODEL_CLASSES.get("Model")
    return isinstance(cls, type) and base is not None and issubclass(cls, base)


def _lambda_from_config(config: dict, custom_objects: dict):
    from kerasish.layers.core import Lambda
    name, function_name = config.get("name"), config.get("function")
    function = custom_objects.get(function_name) if isinstance(function_name, str) else None
    function = function if function is not None else custom_objects.get(name)
    if not callable(function) and not isinstance(function_name, str):
        # Keras files store a lambda's marshalled bytecode ("function_type": "lambda"): never unmarshalled here
        raise ValueError(
            f"Layer {name!r} is a Lambda layer whose function the file stores as marshalled Python bytecode. "
            f"kerasish never runs code from a file. Pass the function when loading, keyed by the layer name: "
            f"custom_objects={{{name!r}: fn}}.")
    if not callable(function):
        raise ValueError(
            f"Layer {name!r} is a Lambda layer. Its function ({function_name!r}) is code, which kerasish never "
            f"stores in a file nor runs from one. Pass the function when loading: "
            f"custom_objects={{{function_name!r}: {function_name if _is_identifier(function_name) else 'fn'}}} "
            f"(or keyed by the layer name, {name!r}).")
    output_shape = config.get("output_shape")
    if config.get("output_shape_type") == "function":
        output_shape = _lambda_helper_function(custom_objects, output_shape, name, "output_shape")
    mask = config.get("mask")
    if config.get("mask_type") == "function":
        mask = _lambda_helper_function(custom_objects, mask, name, "mask")
    elif mask is not None:
        mask = torch.tensor(mask)
    kwargs = {k: config[k] for k in ("name", "trainable", "dtype", "batch_input_shape") if k in config}
    return Lambda(function, output_shape=output_shape, mask=mask, arguments=config.get("arguments"), **kwargs)


def _lambda_helper_function(custom_objects: dict, function_name, layer_name, argument: str):
    """A Lambda's ``output_shape`` or ``mask`` function, by the name its config records, from custom_objects."""
    function = custom_objects.get(function_name) if isinstance(function_name, str) else None
    if not callable(function):
        raise ValueError(
            f"Layer {layer_name!r} is a Lambda layer whose {argument} is a function ({function_name!r}), which "
            f"kerasish never stores in a file. Pass it when loading: custom_objects={{{function_name!r}: "
            f"{function_name if _is_identifier(function_name) else 'fn'}}}.")
    return function


def _torch_module_from_config(config: dict, custom_objects: dict):
    from torch import nn

    from kerasish.layers.core import TorchModule
    name, module_name = config.get("name"), config.get("module")
    source = custom_objects.get(name)
    source = source if source is not None else custom_objects.get(module_name)
    module = source if isinstance(source, nn.Module) else (source() if callable(source) else None)
    if not isinstance(module, nn.Module):
        raise ValueError(
            f"Layer {name!r} wraps a torch module ({module_name}); a module is code, which kerasish never stores "
            f"in a file. Pass it when loading: custom_objects={{{name!r}: <the module>}} or "
            f"{{{module_name!r}: <a function or class returning the module>}}. Its weights then come from the file.")
    kwargs = {k: config[k] for k in ("trainable", "dtype", "batch_input_shape") if k in config}
    return TorchModule(module, name=name, **kwargs)


def _resolve_nested_layers(config: dict, custom_objects: dict) -> dict:
    """Layers inside a layer's config (an RNN's ``cell``, ``StackedRNNCells``' ``cells``) built first, the same way
    (Keras 2.3.1 ``RNN.from_config`` deserializes its cell)."""
    def is_layer_data(value):
        return isinstance(value, dict) and isinstance(value.get("class_name"), str) and "config" in value

    resolved = dict(config)
    for key in ("cell", "cells"):
        value = config.get(key)
        if is_layer_data(value):
            resolved[key] = deserialize_layer(value, custom_objects)
        elif isinstance(value, list) and value and all(is_layer_data(v) for v in value):
            resolved[key] = [deserialize_layer(v, custom_objects) for v in value]
    return resolved


def _resolve_config_objects(config: dict, custom_objects: dict) -> dict:
    """Activations, initializers, regularizers and constraints named in a layer config -> objects: first
    ``custom_objects``, then kerasish's own classes for ``{"class_name", "config"}`` dicts (Keras 2.3.1 does
    this through ``custom_object_scope``). Names of built-ins stay names; the layer resolves them."""
    from kerasish import constraints, regularizers
    resolved = dict(config)
    for key, value in config.items():
        if key in ("activation", "recurrent_activation") or key.endswith("_initializer"):
            module_classes = {}
        elif key.endswith("_regularizer"):
            module_classes = _classes_in(regularizers, regularizers.Regularizer)
        elif key.endswith("_constraint"):
            module_classes = _classes_in(constraints, constraints.Constraint)
        else:
            continue
        if isinstance(value, str) and value in custom_objects:
            resolved[key] = custom_objects[value]
        elif isinstance(value, dict) and "class_name" in value:
            cls = custom_objects.get(value["class_name"]) or module_classes.get(value["class_name"])
            if cls is not None:
                inner = dict(value.get("config") or {})
                resolved[key] = cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    return resolved


def _classes_in(module, base: type) -> dict:
    return {name: obj for name, obj in vars(module).items() if isinstance(obj, type) and issubclass(obj, base)}


def _compile_from_training_config(model, training_config: dict, custom_objects: dict, path: str) -> None:
    if not isinstance(training_config, dict) or "optimizer_config" not in training_config:
        raise UnreadableFileError(f"load_model: {path!r}: the training configuration is truncated or corrupt.")
    optimizer = _optimizer_from_config(training_config["optimizer_config"], custom_objects, path)
    loss = _resolve_tree(training_config.get("loss"), custom_objects)
    single_output = len(model.output_names) == 1
    metrics = _resolve_list(_tf_keras_metrics(training_config.get("metrics"), single_output), custom_objects)
    weighted_metrics = _resolve_list(_tf_keras_metrics(training_config.get("weighted_metrics"), single_output),
                                     custom_objects)
    extras = {key: training_config[key] for key in ("jit_compile", "dtype_policy") if key in training_config}
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                      loss_weights=training_config.get("loss_weights"),
                      sample_weight_mode=training_config.get("sample_weight_mode"),
                      weighted_metrics=weighted_metrics, **extras)
    except ValueError as err:
        raise ValueError(f"load_model: the model in {path!r} could not be compiled with its saved configuration: "
                         f"{err} If the loss or a metric is a function of yours, pass it by name in "
                         "custom_objects; or load with compile=False.") from None


def _optimizer_from_config(config, custom_objects: dict, path: str):
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise UnreadableFileError(f"load_model: {path!r}: the optimizer configuration is truncated or corrupt.")
    name, options = config["class_name"], dict(config.get("config") or {})
    if name.startswith("Custom>"):  # tf.keras 2.11+ writes its new optimizers as "Custom>Adam"
        name = name[len("Custom>"):]
    cls = custom_objects.get(name)
    if cls is None and name.startswith("torch.optim."):
        cls = getattr(torch.optim, name[len("torch.optim."):], None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise ValueError(f"load_model: {path!r} names the optimizer {name!r}, which this torch does not have.")
    if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) \
            and not issubclass(cls, optimizers_module.Optimizer):
        return functools.partial(_make_torch_optimizer, cls, options)
    return optimizers_module.deserialize({"class_name": name, "config": tf_keras_optimizer_config(name, options)},
                                         custom_objects)


def _make_torch_optimizer(cls: type, options: dict, params):
    accepted = inspect.signature(cls.__init__).parameters
    return cls(params, **{k: v for k, v in options.items() if k in accepted})


def _resolve_named(value, custom_objects: dict):
    """Keras 2.3.1 ``convert_custom_objects``: a saved name found in ``custom_objects`` becomes the object; a
    Loss ``{"class_name", "config"}`` becomes the instance."""
    from kerasish import losses, metrics
    if isinstance(value, str):
        obj = custom_objects.get(value, value)
        if isinstance(obj, type) and issubclass(obj, (metrics.Metric, losses.Loss)):
            obj = obj()
        return obj
    if isinstance(value, dict) and "class_name" in value:
        cls = custom_objects.get(value["class_name"])
        if cls is not None:
            return cls.from_config(dict(value.get("config") or {}))
        return value  # losses.get builds kerasish's own Loss classes from this dict
    return value


def _resolve_list(values, custom_objects: dict):
    if values is None:
        return None
    return _resolve_tree(values, custom_objects)


def _resolve_tree(value, custom_objects: dict):
    if isinstance(value, list):
        return [_resolve_tree(v, custom_objects) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _resolve_tree(v, custom_objects) for key, v in value.items()}
    return _resolve_named(value, custom_objects)


def _restore_shuffle_seed(model, training_state: dict, path: str) -> None:
    seed = training_state.get("shuffle_seed")
    if seed is not None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise UnreadableFileError(f"{path!r}: the recorded shuffle seed is corrupt ({seed!r}).")
        model._shuffle_seed = seed


def _layer_random_states(model) -> list:
    """Per layer, in order (as weights are restored by order), the ``{device: generator state}`` of the layers
    that draw from their own seeded generator (``{}`` for the others); empty when no layer does."""
    states = [layer.random_state() if hasattr(layer, "random_state") else {} for layer in model.layers]
    return states if any(states) else []


def _restore_layer_random_states(model, states, path: str) -> None:
    """Puts back what ``_layer_random_states`` recorded: the model continues each seeded layer's mask
    sequence where the saved one was, as it continues the data order with the shuffle seed."""
    if not states:
        return
    layers = model.layers
    if not isinstance(states, list) or len(states) != len(layers):
        raise UnreadableFileError(f"{path!r}: the recorded random state of the layers is corrupt or belongs to "
                                  "another model.")
    for layer, layer_states in zip(layers, states):
        if not layer_states or not hasattr(layer, "set_random_state"):
            continue
        try:
            checked = {str(device): _checked_tensor(state, torch.uint8) for device, state in layer_states.items()}
            layer.set_random_state(checked)
        except (AttributeError, TypeError, ValueError, RuntimeError) as err:
            raise UnreadableFileError(f"{path!r}: the recorded random state of layer {layer.name!r} is corrupt "
                                      f"({err}).") from None


def _load_optimizer_state(model, state: dict) -> None:
    """Attach the compiled optimizer to the weights (as the first ``fit`` would) on the training device, so
    the state lands where the parameters live, then load it."""
    if not any(True for _ in model.parameters()):
        return
    state = dict(state)
    scaler_state = state.pop("kerasish_grad_scaler", None)
    model.to(backend.get_device())
    model._bind_optimizer()
    if isinstance(model.optimizer, optimizers_module.Optimizer):
        _check_keras_optimizer_state(model.optimizer, state)
    model.optimizer.load_state_dict(state)
    if scaler_state and model.dtype_policy.needs_loss_scaling:
        model._prepare_execution()  # creates the loss scaler for this device, as fit would
        if model._grad_scaler is not None:
            model._grad_scaler.load_state_dict(scaler_state)


def _check_keras_optimizer_state(optimizer, state: dict) -> None:
    """torch's ``load_state_dict`` does not compare shapes; every state tensor of a Keras optimizer (moments,
    accumulators, velocities) has its parameter's shape, so a state that does not is refused up front."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_ids = [i for group in state.get("param_groups", []) for i in group.get("params", [])]
    if len(saved_ids) != len(params):
        raise ValueError(f"the saved optimizer state covers {len(saved_ids)} weights; this model has {len(params)}.")
    by_id = dict(zip(saved_ids, params))
    for param_id, param_state in (state.get("state") or {}).items():
        param = by_id.get(param_id)
        for key, value in (param_state or {}).items():
            if param is None or (torch.is_tensor(value) and tuple(value.shape) != tuple(param.shape)):
                raise ValueError(f"the saved optimizer state {key!r} of weight #{param_id} does not fit that weight.")


# ============================================================================ setting weights
def _saved_layers(document: dict, tensors: dict, path: str) -> list[tuple[str, list[tuple[str, torch.Tensor]]]]:
    """``[(layer name, [(weight name, Keras-layout tensor)])]`` in file order, checked against the tensors."""
    manifest = _field(document, "model_weights", dict, path)
    layer_names = manifest.get("layer_names")
    weight_names = manifest.get("weight_names")
    if not isinstance(layer_names, list) or not isinstance(weight_names, dict):
        raise UnreadableFileError(f"{path!r}: the weights manifest is truncated or corrupt.")
    saved = []
    for layer_name in layer_names:
        names = weight_names.get(layer_name)
        if not isinstance(layer_name, str) or not isinstance(names, list):
            raise UnreadableFileError(f"{path!r}: the weights manifest is truncated or corrupt (layer {layer_name!r}).")
        values = []
        for name in names:
            tensor = tensors.get(f"model_weights/{name}") if isinstance(name, str) else None
            if tensor is None:
                raise UnreadableFileError(f"{path!r}: weight {name!r} is listed but missing: the file is "
                                          "truncated or corrupt.")
            values.append((name, tensor))
        saved.append((layer_name, values))
    return saved


def _load_weights_by_order(model, saved, path: str, caller: str, reshape: bool = False, convert=None) -> None:
    """Keras 2.3.1 ``load_weights_from_hdf5_group``: layers with weights, matched in order. ``convert(layer,
    values)`` first rewrites a layer's saved weights (the legacy conversions of Keras HDF5 files)."""
    model_layers = [layer for layer in model.layers if layer.weights]
    saved = [(name, values) for name, values in saved if values]
    if len(saved) != len(model_layers):
        # Keras 2.3.1 wording
        raise ValueError(f"{caller}: You are trying to load a weight file containing {len(saved)} layers into a "
                         f"model with {len(model_layers)} layers. ({path!r})")
    assignments = []
    for k, (layer, (saved_name, values)) in enumerate(zip(model_layers, saved)):
        targets = layer._weight_tensors()
        values = convert(layer, values) if convert is not None else values
        if len(values) != len(targets):
            raise ValueError(f"{caller}: Layer #{k} (named \"{layer.name}\" in the current model) was found to "
                             f"correspond to layer {saved_name} in the save file. However the new layer "
                             f"{layer.name} expects {len(targets)} weights, but the saved weights have "
                             f"{len(values)} elements. ({path!r})")
        values = _converted_rnn_weights(layer, _maybe_reshape_kernel(layer, targets, values, reshape))
        for i, ((tensor, layout), (weight_name, value)) in enumerate(zip(targets, values)):
            expected = layout.keras_shape(tuple(tensor.shape))
            if tuple(value.shape) != expected:
                raise ValueError(f"{caller}: Layer #{k} (named \"{layer.name}\"), weight {layer.name} #{i} has "
                                 f"shape {expected}, but the saved weight {weight_name} has shape "
                                 f"{tuple(value.shape)}. ({path!r})")
            assignments.append((tensor, layout, value))
    _assign(assignments)


def _load_weights_by_name(model, saved, path: str, skip_mismatch: bool, reshape: bool, convert=None) -> None:
    """Keras 2.3.1 ``load_weights_from_hdf5_group_by_name``: layers whose name matches; with ``skip_mismatch``
    a layer with another number of weights is skipped whole, a weight of another shape alone."""
    index = {layer.name: layer for layer in model.layers}
    assignments = []
    for k, (saved_name, values) in enumerate(saved):
        layer = index.get(saved_name)
        if layer is None:
            continue
        targets = layer._weight_tensors()
        values = convert(layer, values) if convert is not None else values
        if len(values) != len(targets):
            if skip_mismatch:
                warnings.warn(f"Skipping loading of weights for layer {layer.name} due to mismatch in number of "
                              f"weights ({len(targets)} vs {len(values)}).", stacklevel=4)
                continue
            raise ValueError(f"Layer #{k} (named \"{layer.name}\") expects {len(targets)} weight(s), but the saved "
                             f"weights have {len(values)} element(s). ({path!r})")
        values = _converted_rnn_weights(layer, _maybe_reshape_kernel(layer, targets, values, reshape))
        for (tensor, layout), (weight_name, value) in zip(targets, values):
            expected = layout.keras_shape(tuple(tensor.shape))
            if tuple(value.shape) != expected:
                if skip_mismatch:
                    warnings.warn(f"Skipping loading of weights for layer {layer.name} due to mismatch in shape "
                                  f"({expected} vs {tuple(value.shape)}).", stacklevel=4)
                    continue
                raise ValueError(f"Layer #{k} (named \"{layer.name}\"), weight {weight_name} has shape {expected}, "
                                 f"but the saved weight has shape {tuple(value.shape)}. ({path!r})")
            assignments.append((tensor, layout, value))
    _assign(assignments)


def _maybe_reshape_kernel(layer, targets, values, reshape: bool):
    """Keras 2.3.1 ``preprocess_weights_for_loading(reshape=True)``: a convolution kernel with the right number
    of values but another shape is reshaped to the layer's kernel shape."""
    from kerasish.layers.convolutional import _Conv
    if not reshape or not isinstance(layer, _Conv) or not values:
        return values
    (tensor, layout), (name, kernel) = targets[0], values[0]
    expected = layout.keras_shape(tuple(tensor.shape))
    if tuple(kernel.shape) == expected:
        return values
    if kernel.numel() != math.prod(expected):
        # Keras 2.3.1 wording
        raise ValueError(f"Weights must be of equal size to apply a reshape operation. Layer {layer.name}'s "
                         f"weights have shape {expected} and size {math.prod(expected)}. The weights for loading "
                         f"have shape {tuple(kernel.shape)} and size {kernel.numel()}. ")
    return [(name, kernel.reshape(expected))] + list(values[1:])


def _converted_rnn_weights(layer, values):
    """Keras 2.3.1 ``preprocess_weights_for_loading``: CuDNNLSTM/CuDNNGRU weights load into an LSTM/GRU
    (``reset_after=True``), and back, also inside Bidirectional and TimeDistributed (nested models: not converted)."""
    from kerasish.layers.cudnn_recurrent import convert_rnn_weights
    converted = convert_rnn_weights(layer, [value for _, value in values])
    return [(name, new if isinstance(new, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(new)))
            for (name, _), new in zip(values, converted)]


@torch.no_grad()
def _assign(assignments) -> None:
    for tensor, layout, value in assignments:
        tensor.copy_(layout.from_keras(value).to(device=tensor.device, dtype=tensor.dtype))


# ============================================================================ the container
def _writable_path(filepath, overwrite: bool, caller: str) -> str:
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{caller}: {path!r} already exists and overwrite=False. Keras 2.3.1 would ask "
                              "interactively; kerasish never prompts. Pass overwrite=True to replace it, or "
                              "choose another path.")
    return path


def _write_container(path: str, document: dict, tensors: dict[str, torch.Tensor]) -> None:
    if sys.byteorder != "little":
        raise NotImplementedError("kerasish files store little-endian tensors; this machine is big-endian.")
    ordered, header, offset = [], {}, 0
    for key, tensor in tensors.items():
        tensor = tensor.detach().to("cpu").contiguous()
        if tensor.dtype not in _DTYPE_NAMES:
            raise TypeError(f"save: tensor {key!r} has dtype {tensor.dtype}, which kerasish files do not store "
                            f"(supported: {sorted(_DTYPES)}).")
        nbytes = tensor.numel() * tensor.element_size()
        header[key] = {"dtype": _DTYPE_NAMES[tensor.dtype], "shape": list(tensor.shape),
                       "offsets": [offset, offset + nbytes]}
        ordered.append(tensor)
        offset += nbytes
    document = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "keras_version": KERAS_VERSION,
                "backend": "torch", "byteorder": "little", **document, "tensors": header}
    text = json.dumps(document, default=_json_default).encode("utf-8")
    with atomic_write(path) as stream:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(zipfile.ZipInfo(HEADER_ENTRY, _FIXED_ZIP_TIME), text)
            with archive.open(zipfile.ZipInfo(TENSORS_ENTRY, _FIXED_ZIP_TIME), "w", force_zip64=True) as out:
                for tensor in ordered:
                    out.write(_tensor_bytes(tensor))


def _tensor_bytes(tensor: torch.Tensor) -> memoryview:
    """The raw bytes of a contiguous CPU tensor, without a copy."""
    if tensor.numel() == 0:
        return memoryview(b"")
    return memoryview(tensor.reshape(-1).view(torch.uint8).numpy())


def _read_container(filepath, caller: str) -> tuple[str, dict, dict[str, torch.Tensor]]:
    path = os.fspath(filepath)
    check_readable_file(path, caller)
    with open(path, "rb") as f:
        head = f.read(8)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise UnreadableFileError(f"{caller}: {path!r} {_not_a_container_reason(head)}") from None
    with archive:
        names = set(archive.namelist())
        if names != {HEADER_ENTRY, TENSORS_ENTRY}:
            if HEADER_ENTRY not in names and any(name.endswith(".pkl") for name in names):
                raise UnreadableFileError(
                    f"{caller}: {path!r} is not a kerasish file: it holds a Python pickle (e.g. torch.save output). "
                    "kerasish never unpickles files, since unpickling can run arbitrary code. Load it with "
                    "torch.load(..., weights_only=True) yourself if you trust its origin.")
            raise UnreadableFileError(f"{caller}: {path!r} is not a kerasish file, or it was tampered with: "
                                      f"unexpected entries {sorted(names)}.")
        try:
            for info in archive.infolist():
                if info.compress_type != zipfile.ZIP_STORED:
                    raise UnreadableFileError(f"{caller}: {path!r} was not written by kerasish (compressed "
                                              "entries); refusing to read it.")
            document = json.loads(archive.read(HEADER_ENTRY).decode("utf-8"))
            if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
                raise UnreadableFileError(f"{caller}: {path!r} is not a kerasish file (no kerasish header).")
            version = document.get("format_version")
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise UnreadableFileError(f"{caller}: {path!r} has format version {version!r}; this kerasish "
                                          f"reads version {FORMAT_VERSION} and older. Upgrade kerasish.")
            if document.get("kind") not in ("model", "weights"):
                raise UnreadableFileError(f"{caller}: {path!r}: unknown kind {document.get('kind')!r}.")
            tensors = _read_tensors(archive, document.get("tensors"), path, caller)
        except UnreadableFileError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, UnicodeDecodeError, RecursionError) as err:
            raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt ({err}).") from None
    return path, document, tensors


def _not_a_container_reason(head: bytes) -> str:
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("is a Python pickle, which kerasish never loads (unpickling can run arbitrary code); it is "
                "not a kerasish file.")
    return "is truncated or corrupt (or not a kerasish file at all): it is not a readable kerasish container."


def _read_tensors(archive: zipfile.ZipFile, header, path: str, caller: str) -> dict[str, torch.Tensor]:
    """Each tensor is a fresh allocation filled from the raw bytes, after its dtype, shape and extent are
    checked; the extents must tile the data exactly (no gaps, no overlaps)."""
    if not isinstance(header, dict):
        raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt (no tensor table).")
    specs, expected_offset = [], 0
    for key, spec in sorted(header.items(), key=lambda item: _start_offset(item[1])):
        try:
            dtype = _DTYPES[spec["dtype"]]
            shape = [int(d) for d in spec["shape"]]
            start, end = (int(v) for v in spec["offsets"])
        except (KeyError, TypeError, ValueError):
            raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt (tensor {key!r}).") from None
        numel = math.prod(shape)
        itemsize = torch.empty((), dtype=dtype).element_size()
        if any(d < 0 for d in shape) or start != expected_offset or end - start != numel * itemsize:
            raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt (tensor {key!r} has an "
                                      "inconsistent extent).")
        specs.append((key, dtype, shape, numel))
        expected_offset = end
    if archive.getinfo(TENSORS_ENTRY).file_size != expected_offset:
        raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt (tensor data has "
                                  f"{archive.getinfo(TENSORS_ENTRY).file_size} bytes, the table {expected_offset}).")
    tensors = {}
    with archive.open(TENSORS_ENTRY) as data:
        for key, dtype, shape, numel in specs:
            flat = torch.empty(numel, dtype=dtype)
            if numel:
                target = memoryview(flat.view(torch.uint8).numpy())
                if data.readinto(target) != len(target):
                    raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt (tensor {key!r}).")
            tensors[key] = flat.reshape(shape)
        data.read()  # reach the end of the entry: zipfile verifies its CRC-32 there
    return tensors


def _start_offset(spec) -> int:
    try:
        return int(spec["offsets"][0])
    except (KeyError, TypeError, ValueError, IndexError):
        return -1


def _field(document: dict, key: str, kind: type, path: str):
    value = document.get(key)
    if not isinstance(value, kind):
        raise UnreadableFileError(f"{path!r}: the {key!r} section is missing: the file is truncated or corrupt.")
    return value


# ============================================================================ JSON trees with tensors
def _encode_tree(obj, tensors: dict, prefix: str):
    """A JSON-able copy of ``obj`` (dicts, lists, tuples, numbers, strings, None, tensors): tensors go into
    ``tensors`` and are referenced as ``{"__tensor__": key}``; dicts keep non-string keys, tuples stay tuples."""
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}/{len(tensors)}"
        tensors[key] = obj
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        return _encode_tree(torch.from_numpy(obj), tensors, prefix)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {"__dict__": [[_encode_tree(k, tensors, prefix), _encode_tree(v, tensors, prefix)]
                             for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode_tree(v, tensors, prefix) for v in obj]}
    if isinstance(obj, list):
        return [_encode_tree(v, tensors, prefix) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: cannot store {type(obj).__name__} {obj!r:.80} in a kerasish file (only tensors, "
                    "numbers, strings, lists and dicts).")


def _decode_tree(obj, tensors: dict, path: str):
    """Inverse of ``_encode_tree``; anything else in the file is an error."""
    try:
        return _decode(obj, tensors, path)
    except RecursionError:
        raise UnreadableFileError(f"{path!r}: the stored state is nested too deeply: the file is corrupt.") from None


def _decode(obj, tensors: dict, path: str):
    if isinstance(obj, list):
        return [_decode(v, tensors, path) for v in obj]
    if isinstance(obj, dict):
        if len(obj) == 1 and "__tensor__" in obj:
            tensor = tensors.get(obj["__tensor__"]) if isinstance(obj["__tensor__"], str) else None
            if tensor is None:
                raise UnreadableFileError(f"{path!r}: a referenced tensor is missing: the file is truncated or corrupt.")
            return tensor
        if len(obj) == 1 and isinstance(obj.get("__tuple__"), list):
            return tuple(_decode(v, tensors, path) for v in obj["__tuple__"])
        if len(obj) == 1 and isinstance(obj.get("__dict__"), list):
            pairs = obj["__dict__"]
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise UnreadableFileError(f"{path!r}: the stored state is truncated or corrupt.")
            result = {}
            for k, v in pairs:
                key = _decode(k, tensors, path)
                if not isinstance(key, (str, int, float, bool, type(None))):
                    raise UnreadableFileError(f"{path!r}: the stored state is truncated or corrupt.")
                result[key] = _decode(v, tensors, path)
            return result
        raise UnreadableFileError(f"{path!r}: the stored state is truncated or corrupt.")
    return obj


def _json_default(obj):
    """Keras 2.3.1 ``get_json_type``: NumPy values, objects with ``get_config``, functions by name."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, torch.dtype):
        return _DTYPE_NAMES.get(obj, str(obj))
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    raise TypeError(f"Not JSON Serializable: {obj!r}")


def _is_json_value(value) -> bool:
    try:
        json.dumps(value, default=_json_default)
    except (TypeError, ValueError):
        return False
    return True


def _is_identifier(name) -> bool:
    return isinstance(name, str) and name.isidentifier()


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_to_json", "model_from_json",
           "model_from_config", "sequential_config", "sequential_from_config", "layer_config", "deserialize_layer",
           "restore_rng_state", "get_rng_state", "set_rng_state", "write_training_backup",
           "restore_training_backup", "UnreadableFileError", "KERAS_VERSION"]
