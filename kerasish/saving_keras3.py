"""Keras 3 ``.keras`` model files, read and written (the layers that exist in both Keras 2.3.1 and Keras 3).

kerasish/saving.py chooses this format for ``.keras`` names (or ``save_format='keras'``) when writing, and for
zips holding ``config.json`` when reading (kerasish's own container holds ``kerasish.json``, so files that
earlier kerasish versions wrote under ``.keras`` names still load as containers); this module registers itself
there.

The file (Keras 3.x ``saving/saving_lib.py``, checked against files Keras 3.15 writes)
======================================================================================
A zip of three members:

* ``metadata.json``: ``{"keras_version", "date_saved"}``.
* ``config.json``: the model serialized as Keras 3 does, ``{"module", "class_name": "Sequential" | "Functional",
  "config", "registered_name", "build_config", "compile_config"}``. Layer configs are Keras 3's: dtype policies
  as ``{"class_name": "DTypePolicy", "config": {"name"}}``, ``module``/``registered_name`` on every serialized
  object, functional ``inbound_nodes`` as ``[{"args": [...], "kwargs": {...}}]`` whose tensors are
  ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer, node, index]}}``,
  and a Sequential model starts with its ``InputLayer`` (``batch_shape``).
* ``model.weights.h5``: each object's variables as datasets ``0``, ``1`` ... under ``<path>/vars`` (attribute
  ``name``: the object's name). A model's layers are at ``layers/<snake_case class name>`` numbered ``_1``,
  ``_2`` ... in ``model.layers`` order (not by layer name); an RNN's weights are its cell's
  (``layers/lstm/cell/vars``), ``Bidirectional``'s under ``forward_layer``/``backward_layer``,
  ``TimeDistributed``'s under ``layer``, a nested model's under its own ``layers/...``. The optimizer's are at
  ``optimizer/vars``: iterations, learning rate, then its slots (Adam: ``m``, ``v`` interleaved per trainable
  weight).

Keras 2.3.1 (kerasish) and Keras 3 configs differ by a few keys per layer class; ``_LAYER_KEYS`` is the one table
of them, read in both directions. A key one side has and the other lacks converts only at the value that means
the same on both sides (``keepdims=False``, ``quantization_config=None``, ``implementation`` of an RNN: any);
another value is an error naming the layer and the key. A layer class outside ``SUPPORTED_LAYERS`` is an error
naming the layer.

Safety: the members are read into memory and parsed before anything is built; nothing is unpickled or run. A
Keras 3 ``Lambda`` layer stores its function as base64 marshalled bytecode: it is never decoded; the layer
loads only when ``custom_objects`` gives its function keyed by the layer's name (kerasish has no
``safe_mode=False``). A truncated or corrupt file raises ``UnreadableFileError`` naming it.
"""
from __future__ import annotations

import datetime
import io
import json
import re
import warnings
import zipfile

import numpy as np
import torch

from kerasish import backend, distributed
from kerasish import optimizers as optimizers_module
from kerasish import saving
from kerasish.saving import UnreadableFileError
from kerasish.utils.generic_utils import keras_class_name
from kerasish.utils.io_utils import atomic_write, check_readable_file

SUFFIXES = (".keras",)
ZIP_SIGNATURE = b"PK\x03\x04"
CONFIG_ENTRY, METADATA_ENTRY, WEIGHTS_ENTRY = "config.json", "metadata.json", "model.weights.h5"
KERAS3_VERSION = "3.15.1"  # the Keras 3 release whose file format this module writes and was checked against

_MERGE_LAYERS = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot")
_RNN_LAYERS = ("LSTM", "GRU", "SimpleRNN", "ConvLSTM2D")
SUPPORTED_LAYERS = frozenset((
    "InputLayer", "Dense", "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking",
    "ActivityRegularization", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "BatchNormalization", "Embedding", "LeakyReLU", "PReLU", "ELU", "ReLU",
    "Softmax", "Bidirectional", "TimeDistributed", "Lambda", *_MERGE_LAYERS, *_RNN_LAYERS))
_MODEL_CLASSES = ("Sequential", "Functional", "Model")

ANY = object()  # a key whose every value means the same on the side that lacks it
# Per Keras class (``"*"``: every layer): ``renamed`` {Keras 3 key: Keras 2 key}; ``keras3_only`` {key: the value
# Keras 2 behaves as}; ``keras2_only`` {key: the value Keras 3 behaves as}. Found by comparing the get_config()
# of both (Keras 3.15.1, Keras 2.3.1 / kerasish).
_RNN_KEYS = {"keras3_only": {"zero_output_for_mask": False, "seed": None}, "keras2_only": {"implementation": ANY}}
_GLOBAL_POOLING_KEYS = {"keras3_only": {"keepdims": False}}
_LAYER_KEYS = {
    "*": {"keras3_only": {"quantization_config": None}},
    "InputLayer": {"renamed": {"batch_shape": "batch_input_shape"},
                   "keras3_only": {"sparse": False, "ragged": False, "optional": False}},
    "LeakyReLU": {"renamed": {"negative_slope": "alpha"}},
    "Embedding": {"keras2_only": {"input_length": ANY}},
    "LSTM": _RNN_KEYS, "GRU": _RNN_KEYS, "SimpleRNN": _RNN_KEYS, "ConvLSTM2D": _RNN_KEYS,
    "BatchNormalization": {"keras3_only": {"synchronized": False, "renorm": False, "renorm_clipping": None,
                                           "renorm_momentum": ANY}},
    "ZeroPadding1D": {"keras3_only": {"data_format": "channels_last"}},
    "GaussianNoise": {"keras3_only": {"seed": None}}, "GaussianDropout": {"keras3_only": {"seed": None}},
    "SpatialDropout1D": {"keras2_only": {"noise_shape": None}}, "SpatialDropout2D": {"keras2_only": {"noise_shape": None}},
    "SpatialDropout3D": {"keras2_only": {"noise_shape": None}},
    **{name: {"keras3_only": {"groups": 1}} for name in ("Conv1D", "Conv2D", "Conv3D")},
    **{name: _GLOBAL_POOLING_KEYS for name in ("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
                                               "GlobalAveragePooling1D", "GlobalAveragePooling2D",
                                               "GlobalAveragePooling3D")},
}
# Keras 3 initializers write input_axes/output_axes (None: Keras 2's fan computation).
_INITIALIZER_KEYS = {"keras3_only": {"input_axes": None, "output_axes": None}}
# The module Keras 3 writes for an object in a layer config, by the config key holding it.
_OBJECT_MODULES = (("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
                   ("_constraint", "keras.constraints"))

# Keras 3 optimizer slots, in the order of its ``add_optimizer_variables`` calls; each call interleaves its slot
# kinds per trainable weight. Values: kerasish's state keys. Optimizers not listed keep only iterations and lr.
_OPTIMIZER_SLOTS = {"Adam": (("m", "v"),), "Adamax": (("m", "u"),), "Adagrad": (("accumulator",),),
                    "SGD": (("velocity",),), "RMSprop": (("accumulator",),)}
# Keras 2.3.1 optimizer keys Keras 3 also takes (``lr`` is written as ``learning_rate``).
_OPTIMIZER_KEYS = ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho",
                   "clipnorm", "clipvalue")


# ============================================================================ public entry points
def save_model(model, path: str, include_optimizer: bool = True) -> None:
    """``model.save('m.keras')``: the three members, written atomically."""
    config = model_config_to_keras3(model)
    if include_optimizer and model.compiled_loss is not None:
        compile_config = _compile_config(model)
        if compile_config is not None:
            config["compile_config"] = compile_config
    weights = _weights_file_bytes(model, include_optimizer)
    metadata = {"keras_version": KERAS3_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "written_by": "kerasish"}
    if not distributed.is_main_process():
        return  # under torchrun only rank 0 writes files (io_utils.atomic_write)
    with atomic_write(path) as stream:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA_ENTRY, json.dumps(metadata))
            archive.writestr(CONFIG_ENTRY, json.dumps(config, default=saving._json_default))
            archive.writestr(WEIGHTS_ENTRY, weights)


def save_weights(model, path: str) -> None:
    # Keras 3 save_weights wording: its weights files are .weights.h5, never .keras
    raise ValueError(f"save_weights: the filename must not end in `.keras`: a .keras file holds a whole model "
                     f"(Keras 3). Received: filepath={path!r}. Use model.save({path!r}) for a .keras file, or a .h5 "
                     "name (Keras 2 HDF5) or a .kerasish name for weights.")


def load_model(path: str, custom_objects: dict, compile: bool = True):
    """``load_model('m.keras')`` (see saving.load_model)."""
    config, weights = read_file(path, "load_model")
    with torch.random.fork_rng(devices=[]):  # the layers' initial weights are drawn, then replaced
        model = saving._model_from_config(model_config_from_keras3(config, path), custom_objects, "load_model")
    _set_weights(model, weights, path, "load_model")
    compile_config = config.get("compile_config")
    if not compile:
        return model
    if not compile_config:
        warnings.warn("No training configuration found in save file: the model was *not* compiled. "
                      "Compile it manually.", stacklevel=4)
        return model
    saving._compile_from_training_config(model, _training_config(compile_config, path), custom_objects, path)
    if "optimizer/vars" in weights:
        try:
            _set_optimizer_state(model, weights["optimizer/vars"])
        except (ValueError, KeyError, TypeError, RuntimeError):
            warnings.warn("Error in loading the saved optimizer state. As a result, your model is starting "
                          "with a freshly initialized optimizer.", stacklevel=4)
    return model


def load_weights(model, path: str, by_name: bool = False, skip_mismatch: bool = False, reshape: bool = False):
    """``model.load_weights('m.keras')`` (Keras 3 reads a .keras file's weights): by the Keras 3 paths."""
    if by_name or skip_mismatch or reshape:
        raise ValueError("load_weights: by_name, skip_mismatch and reshape apply to Keras 2 HDF5 and kerasish "
                         f"files; a .keras file's weights are matched by their Keras 3 paths. ({path!r})")
    config, weights = read_file(path, "load_weights")
    saving.build_for_loading(model, (config.get("build_config") or {}).get("input_shape"), path)
    _set_weights(model, weights, path, "load_weights")


def read_training_state(path: str, caller: str) -> dict:
    read_file(path, caller)
    return {}  # a Keras 3 file records no shuffle seed or random state


def recognizes(path: str) -> bool:
    """A zip with ``config.json`` and without kerasish's header is a Keras 3 file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    return CONFIG_ENTRY in names and saving.HEADER_ENTRY not in names


# ============================================================================ configs: kerasish -> Keras 3
def model_config_to_keras3(model) -> dict:
    """The ``config.json`` of a kerasish Sequential or functional model."""
    class_name = keras_class_name(model)
    config = _model_config_to_keras3(class_name, model.get_config(), model)
    if class_name == "Sequential":
        return {"module": "keras", "class_name": "Sequential", "config": config, "registered_name": None,
                "build_config": {"input_shape": list(model.input_shape) if model.built else None}}
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": config,
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def _model_config_to_keras3(class_name: str, config: dict, model) -> dict:
    if class_name == "Sequential":
        layers = [_layer_to_keras3(entry) for entry in config["layers"]]
        first = config["layers"][0]["config"] if config["layers"] else {}
        shape = first.get("batch_input_shape") or config.get("build_input_shape")
        if config["layers"] and config["layers"][0]["class_name"] != "InputLayer" and shape is not None:
            layers.insert(0, _serialized("InputLayer", {"batch_shape": list(shape), "dtype": first.get("dtype",
                                         "float32"), "sparse": False, "name": f"{config['name']}_input"}))
        result = {"name": config["name"], "trainable": True, "dtype": _policy("float32"), "layers": layers}
        if model is not None and model.built:
            result["build_input_shape"] = list(model.input_shape)
        return result
    if class_name not in ("Model", "Functional"):
        raise ValueError(f"save: the model class {class_name!r} cannot be written to a .keras file; only "
                         "Sequential and functional models can.")
    layers_by_name = {layer.name: layer for layer in model.layers} if model is not None else {}
    layers = []
    for entry in config["layers"]:
        serialized = _layer_to_keras3(entry)
        serialized["name"] = entry["name"]
        serialized["inbound_nodes"] = [_node_to_keras3(node, entry, layers_by_name) for node in entry["inbound_nodes"]]
        layers.append(serialized)
    return {"name": config["name"], "trainable": True, "layers": layers,
            "input_layers": _endpoints_to_keras3(config["input_layers"]),
            "output_layers": _endpoints_to_keras3(config["output_layers"])}


def _layer_to_keras3(entry: dict) -> dict:
    class_name, config = entry["class_name"], dict(entry["config"])
    name = config.get("name")
    if class_name in _MODEL_CLASSES:  # a model used as a layer
        return {"module": "keras", "class_name": "Functional" if class_name == "Model" else class_name,
                "config": _model_config_to_keras3(class_name, config, None), "registered_name": None}
    if class_name not in SUPPORTED_LAYERS or class_name == "Lambda":
        raise _not_writable(name, class_name)
    if class_name != "InputLayer":  # Sequential writes it as its InputLayer; a functional model has InputLayers
        config.pop("batch_input_shape", None)
    config = _convert_keys(class_name, config, to_keras3=True)
    if class_name != "InputLayer":
        config["dtype"] = _policy(config.get("dtype") or "float32")
    for key in ("layer", "backward_layer"):  # wrappers: the wrapped layer's full serialization
        if isinstance(config.get(key), dict):
            config[key] = _layer_to_keras3(config[key])
    for key, value in list(config.items()):
        module = next((m for suffix, m in _OBJECT_MODULES if key.endswith(suffix)), None)
        if module is not None and isinstance(value, dict) and "class_name" in value:
            config[key] = {"module": module, "class_name": value["class_name"],
                           "config": dict(value.get("config") or {}), "registered_name": None}
    return _serialized(class_name, config)


def _serialized(class_name: str, config: dict) -> dict:
    return {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}


def _policy(name: str) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def _node_to_keras3(node: list, entry: dict, layers_by_name: dict) -> dict:
    """Keras 2.3.1 ``[[layer, node, tensor, kwargs], ...]`` -> ``{"args": [...], "kwargs": {...}}``: one
    tensor is the call's argument, several a list (merge layers)."""
    tensors = [_keras_tensor(layer, node_index, tensor_index, layers_by_name)
               for layer, node_index, tensor_index, *_ in node]
    kwargs = dict(node[0][3]) if node and len(node[0]) > 3 and node[0][3] else {}
    if len(tensors) > 1 and entry["class_name"] not in _MERGE_LAYERS:
        raise ValueError(f"save: layer {entry['name']!r} ({entry['class_name']}) is called on {len(tensors)} tensors "
                         "(e.g. an RNN's initial_state), which kerasish does not write to .keras files. Save to a .h5 "
                         "or .kerasish file instead.")
    return {"args": [tensors if len(tensors) > 1 else tensors[0]], "kwargs": kwargs}


def _keras_tensor(layer_name: str, node_index: int, tensor_index: int, layers_by_name: dict) -> dict:
    layer = layers_by_name.get(layer_name)
    shape, dtype = None, "float32"
    if layer is not None:
        shapes = layer.get_output_shape_at(node_index)
        shape = shapes[tensor_index] if isinstance(shapes, list) else shapes
        dtype = str(getattr(layer, "dtype", None) or "float32")
    return {"class_name": "__keras_tensor__", "config": {"shape": None if shape is None else list(shape),
                                                           "dtype": dtype,
                                                           "keras_history": [layer_name, node_index, tensor_index]}}


def _endpoints_to_keras3(endpoints: list):
    return endpoints[0] if len(endpoints) == 1 else endpoints


def _convert_keys(class_name: str, config: dict, to_keras3: bool) -> dict:
    """The one place where Keras 2 and Keras 3 layer config keys are converted (``_LAYER_KEYS``)."""
    tables = [_LAYER_KEYS["*"], _LAYER_KEYS.get(class_name, {})]
    result = dict(config)
    for table in tables:
        for keras3_key, keras2_key in table.get("renamed", {}).items():
            source, target = (keras2_key, keras3_key) if to_keras3 else (keras3_key, keras2_key)
            if source in result:
                result[target] = result.pop(source)
        dropped = table.get("keras2_only" if to_keras3 else "keras3_only", {})
        for key, same in dropped.items():
            if key in result:
                value = result.pop(key)
                if same is not ANY and value != same:
                    side = "Keras 3" if to_keras3 else "Keras 2 (kerasish)"
                    raise ValueError(f"Layer {config.get('name')!r} ({class_name}): {key}={value!r} has no "
                                     f"equivalent in {side} (only {key}={same!r} converts).")
    return result


# ============================================================================ configs: Keras 3 -> kerasish
def model_config_from_keras3(config: dict, path: str) -> dict:
    """``config.json`` -> the Keras 2.3.1-shaped ``{"class_name", "config"}`` that saving builds models from."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise UnreadableFileError(f"{path!r}: its config.json is not a Keras model config: the file is corrupt.")
    class_name = config.get("class_name")
    if class_name not in _MODEL_CLASSES:
        raise ValueError(f"load_model: {path!r} holds a {class_name!r} model; kerasish loads Sequential and "
                         "functional models from .keras files (a subclassed model's graph is code).")
    return _model_from_keras3(class_name, config["config"], path)


def _model_from_keras3(class_name: str, config: dict, path: str) -> dict:
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise UnreadableFileError(f"{path!r}: a model config has no layer list: the file is corrupt.")
    if class_name == "Sequential":
        converted = [_layer_from_keras3(entry, path) for entry in layers]
        if len(converted) > 1 and converted[0]["class_name"] == "InputLayer":
            # Keras 2.3.1's Embedding gives itself an input shape (None, input_length); the InputLayer's wins
            converted[1]["config"].setdefault("batch_input_shape", converted[0]["config"].get("batch_input_shape"))
        result = {"name": config.get("name"), "layers": converted}
        if config.get("build_input_shape"):
            result["build_input_shape"] = config["build_input_shape"]
        return {"class_name": "Sequential", "config": result}
    converted = []
    for entry in layers:
        layer = _layer_from_keras3(entry, path)
        layer["name"] = entry.get("name", layer["config"].get("name"))
        layer["inbound_nodes"] = [_node_from_keras3(node, layer["name"], path)
                                  for node in entry.get("inbound_nodes") or []]
        converted.append(layer)
    return {"class_name": "Model", "config": {
        "name": config.get("name"), "layers": converted,
        "input_layers": _endpoints_from_keras3(config.get("input_layers"), path),
        "output_layers": _endpoints_from_keras3(config.get("output_layers"), path)}}


def _layer_from_keras3(entry, path: str) -> dict:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise UnreadableFileError(f"{path!r}: a layer config is malformed: the file is corrupt.")
    class_name, config = entry["class_name"], dict(entry["config"])
    if class_name in _MODEL_CLASSES:
        return _model_from_keras3(class_name, config, path)
    if class_name not in SUPPORTED_LAYERS:
        return {"class_name": class_name, "config": config}  # a custom layer: custom_objects, or saving's error
    config = _convert_keys(class_name, config, to_keras3=False)
    for key in ("layer", "backward_layer"):
        if isinstance(config.get(key), dict):
            config[key] = _layer_from_keras3(config[key], path)
    inner = config.get("layer", {}).get("config", {}) if class_name == "Bidirectional" else {}
    if str(inner.get("name", "")).startswith("forward_"):  # Keras 3 writes the forward copy; kerasish adds the prefix
        inner["name"] = inner["name"][len("forward_"):]
    for key, value in list(config.items()):
        if key.endswith("_initializer") and isinstance(value, dict) and isinstance(value.get("config"), dict):
            config[key] = {**value, "config": _drop_initializer_keys(value["config"], config.get("name"))}
    return {"class_name": class_name, "config": config}


def _drop_initializer_keys(config: dict, layer_name) -> dict:
    result = dict(config)
    for key, same in _INITIALIZER_KEYS["keras3_only"].items():
        if key in result and result.pop(key) != same:
            raise ValueError(f"Layer {layer_name!r}: an initializer sets {key}, which Keras 2 (kerasish) has not.")
    return result


def _node_from_keras3(node, layer_name: str, path: str) -> list:
    """``{"args", "kwargs"}`` -> Keras 2.3.1 ``[[layer, node, tensor, kwargs], ...]``."""
    if isinstance(node, list):  # Keras 3 also reads (and may keep) the legacy form
        return node
    if not isinstance(node, dict):
        raise UnreadableFileError(f"{path!r}: an inbound node of layer {layer_name!r} is malformed.")
    history = []
    _collect_histories(node.get("args", []), history)
    kwargs = node.get("kwargs") or {}
    tensor_kwargs = []
    _collect_histories(kwargs, tensor_kwargs)
    if tensor_kwargs:
        raise ValueError(f"load_model: layer {layer_name!r} of {path!r} is called with tensors as keyword "
                         f"arguments ({sorted(kwargs)}), which kerasish's graph configs cannot express.")
    return [[name, node_index, tensor_index, dict(kwargs)] for name, node_index, tensor_index in history]


def _collect_histories(value, out: list) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            out.append(tuple((value.get("config") or {}).get("keras_history") or ()))
            return
        for item in value.values():
            _collect_histories(item, out)
    elif isinstance(value, list):
        for item in value:
            _collect_histories(item, out)


def _endpoints_from_keras3(endpoints, path: str) -> list:
    if isinstance(endpoints, dict):  # a dict of inputs/outputs: Keras 2 has lists
        endpoints = list(endpoints.values())
    if not isinstance(endpoints, list) or not endpoints:
        raise UnreadableFileError(f"{path!r}: the model's inputs/outputs are missing: the file is corrupt.")
    return [endpoints] if isinstance(endpoints[0], str) else endpoints


# ============================================================================ compile config
def _compile_config(model) -> dict | None:
    training_config = saving._training_config(model)
    if training_config is None:
        return None
    optimizer = training_config["optimizer_config"]
    if optimizer["class_name"].startswith("torch.optim."):
        warnings.warn(f"save: the optimizer {optimizer['class_name']} has no Keras 3 equivalent; the .keras file "
                      "is saved without its compile configuration (compile the model again after loading).",
                      stacklevel=4)
        return None
    options = dict(optimizer.get("config") or {})
    if "lr" in options:
        options["learning_rate"] = options.pop("lr")
    dropped = {k: v for k, v in options.items() if k not in _OPTIMIZER_KEYS and k != "decay" or k == "decay" and v}
    if dropped:
        warnings.warn(f"save: the optimizer options {dropped} have no Keras 3 equivalent; the .keras file's "
                      "compile_config leaves them out.", stacklevel=4)
    options = {k: v for k, v in options.items() if k in _OPTIMIZER_KEYS}
    options["name"] = optimizer["class_name"].lower()
    return {"optimizer": {"module": "keras.optimizers", "class_name": optimizer["class_name"], "config": options,
                          "registered_name": None},
            "loss": training_config["loss"], "loss_weights": training_config["loss_weights"],
            "metrics": training_config["metrics"], "weighted_metrics": training_config["weighted_metrics"],
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _training_config(compile_config: dict, path: str) -> dict:
    if not isinstance(compile_config, dict) or not isinstance(compile_config.get("optimizer"), dict):
        raise UnreadableFileError(f"load_model: {path!r}: the compile configuration is truncated or corrupt.")
    optimizer = compile_config["optimizer"]
    return {"optimizer_config": {"class_name": optimizer.get("class_name"), "config": optimizer.get("config")},
            "loss": compile_config.get("loss"), "metrics": compile_config.get("metrics"),
            "weighted_metrics": compile_config.get("weighted_metrics"),
            "loss_weights": compile_config.get("loss_weights"), "sample_weight_mode": None}


# ============================================================================ weights
def snake_case(name: str) -> str:
    """Keras 3 ``naming.to_snake_case``: the name of a layer's group in the weights file."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_groups(layers, prefix: str = "layers") -> list:
    """``[(group path, layer)]``: Keras 3 names each layer's group by its class, numbered in list order."""
    used: dict[str, int] = {}
    result = []
    for layer in layers:
        name = snake_case(keras_class_name(layer))
        used[name] = used.get(name, -1) + 1
        result.append((f"{prefix}/{name}" + (f"_{used[name]}" if used[name] else ""), layer))
    return result


def weight_paths(layer, group: str) -> list[str]:
    """The datasets of ``layer``'s weights, in ``layer._weight_tensors()`` order (Keras order)."""
    class_name = keras_class_name(layer)
    if class_name in _MODEL_CLASSES:
        return [p for sub_group, inner in layer_groups(layer.layers, f"{group}/layers")
                for p in weight_paths(inner, sub_group)]
    if class_name == "Bidirectional":
        return weight_paths(layer.forward_layer, f"{group}/forward_layer") + \
            weight_paths(layer.backward_layer, f"{group}/backward_layer")
    if class_name == "TimeDistributed":
        return weight_paths(layer.layer, f"{group}/layer")
    count = len(layer._weight_tensors())
    if class_name in _RNN_LAYERS:
        group = f"{group}/cell"
    return [f"{group}/vars/{i}" for i in range(count)]


def _empty_groups(layer, group: str) -> list[tuple[str, str]]:
    """``[(vars group, object name)]`` Keras 3 writes for ``layer`` (every object has one, empty or not)."""
    class_name = keras_class_name(layer)
    groups = [(f"{group}/vars", layer.name)]
    if class_name in _MODEL_CLASSES:
        groups += [g for sub_group, inner in layer_groups(layer.layers, f"{group}/layers")
                   for g in _empty_groups(inner, sub_group)]
    elif class_name == "Bidirectional":
        groups += _empty_groups(layer.forward_layer, f"{group}/forward_layer") + \
            _empty_groups(layer.backward_layer, f"{group}/backward_layer")
    elif class_name == "TimeDistributed":
        groups += _empty_groups(layer.layer, f"{group}/layer")
    elif class_name in _RNN_LAYERS:
        groups.append((f"{group}/cell/vars", f"{snake_case(class_name)}_cell"))
    return groups


def _check_supported(layer) -> None:
    class_name = keras_class_name(layer)
    if class_name in _MODEL_CLASSES:
        for inner in layer.layers:
            _check_supported(inner)
    elif class_name not in SUPPORTED_LAYERS or class_name == "Lambda":
        raise _not_writable(layer.name, class_name)


def _not_writable(name, class_name: str) -> ValueError:
    # a Lambda's function is code: Keras 3 would store its bytecode, which kerasish never writes
    return ValueError(f"save: layer {name!r} ({class_name}) has no Keras 3 equivalent that kerasish writes to a "
                      ".keras file. Save to a .h5 (Keras 2) or .kerasish file instead.")


def _weights_file_bytes(model, include_optimizer: bool) -> bytes:
    h5py = _h5py()
    for layer in model.layers:
        _check_supported(layer)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars").attrs["name"] = model.name
        for group, layer in layer_groups(model.layers):
            for vars_group, name in _empty_groups(layer, group):
                f.require_group(vars_group).attrs["name"] = name
            for path, (tensor, layout) in zip(weight_paths(layer, group), layer._weight_tensors()):
                f.create_dataset(path, data=backend.to_numpy(layout.to_keras(tensor.detach()).cpu()))
        if include_optimizer and model.compiled_loss is not None:
            _write_optimizer(f, model)
    return buffer.getvalue()


def _write_optimizer(f, model) -> None:
    optimizer = model.optimizer
    if not isinstance(optimizer, optimizers_module.Optimizer):
        return  # a torch optimizer: Keras 3 has no place for its state
    group = f.create_group("optimizer/vars")
    group.attrs["name"] = type(optimizer).__name__.lower()
    options = optimizer.get_config()
    # int32 and float32 scalars, as Keras 3's numpy and JAX backends write them
    values = [np.array(optimizer.iterations, dtype=np.int32),
              np.array(options.get("learning_rate", options.get("lr")), dtype=np.float32)]
    if optimizer.is_bound:
        values += [array for _, _, _, array in _optimizer_slots(model)]
    for index, value in enumerate(values):
        group.create_dataset(str(index), data=value)


def _optimizer_slots(model) -> list:
    """``[(param, state key, layout, Keras-layout array)]`` in Keras 3's order."""
    from kerasish.saving_h5 import _trainable_weights
    optimizer = model.optimizer
    calls = list(_OPTIMIZER_SLOTS.get(type(optimizer).__name__, ()))
    if isinstance(optimizer, optimizers_module.SGD) and not optimizer.momentum:
        calls = []
    if isinstance(optimizer, optimizers_module.Adam) and optimizer.amsgrad:
        calls.append(("vhat",))
    weights = _trainable_weights(model)
    result = []
    for keys in calls:
        for _, param, layout in weights:
            for key in keys:
                value = optimizer.state.get(param, {}).get(key)
                value = torch.zeros_like(param) if value is None else value
                result.append((param, key, layout, backend.to_numpy(layout.to_keras(value.detach()).cpu())))
    return result


def _set_optimizer_state(model, saved: list) -> None:
    optimizer = model.optimizer
    if not isinstance(optimizer, optimizers_module.Optimizer) or len(saved) < 2:
        raise ValueError("no Keras optimizer state")
    if len(saved) == 2:  # Keras 3 builds its optimizer's slots at the first step
        optimizer.iterations = int(saved[0])
        return
    model.to(backend.get_device())
    model._bind_optimizer()
    slots = _optimizer_slots(model)
    if len(saved) - 2 != len(slots):
        raise ValueError(f"{len(saved) - 2} optimizer slots for {len(slots)}")
    for (param, key, layout, expected), value in zip(slots, saved[2:]):
        if tuple(value.shape) != tuple(expected.shape):
            raise ValueError(f"optimizer slot {key} has shape {tuple(value.shape)}")
    with torch.no_grad():
        for (param, key, layout, _), value in zip(slots, saved[2:]):
            buffer = torch.empty_like(param, memory_format=torch.preserve_format)
            optimizer.state[param][key] = buffer.copy_(layout.from_keras(value).to(param.device, param.dtype))
    optimizer.iterations = int(saved[0])


def _set_weights(model, weights: dict, path: str, caller: str) -> None:
    saved = []
    for group, layer in layer_groups(model.layers):
        if not layer._weight_tensors():
            continue
        paths = weight_paths(layer, group)
        missing = [p for p in paths if p not in weights]
        if missing:
            raise ValueError(f"{caller}: {path!r} has no weights for layer {layer.name!r} at {missing[0]!r}: the "
                             "file holds another model, or was truncated.")
        saved.append((layer.name, [(p, weights[p]) for p in paths]))
    saving._load_weights_by_order(model, saved, path, caller)


# ============================================================================ reading
def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(".keras files hold an HDF5 member and need h5py: pip install h5py. (.kerasish files "
                          "do not.)") from None
    return h5py


def read_file(path: str, caller: str) -> tuple[dict, dict]:
    """``(config.json parsed, {dataset path: tensor})``, everything read into memory first."""
    h5py = _h5py()
    check_readable_file(path, caller)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if CONFIG_ENTRY not in names:
                raise UnreadableFileError(f"{caller}: {path!r} is not a Keras 3 .keras file (no {CONFIG_ENTRY}).")
            config = json.loads(archive.read(CONFIG_ENTRY).decode("utf-8"))
            if WEIGHTS_ENTRY not in names:
                extra = " (Keras 3's .npz weights variant is not read)" if "model.weights.npz" in names else ""
                raise UnreadableFileError(f"{caller}: {path!r} has no {WEIGHTS_ENTRY}{extra}.")
            weights_bytes = archive.read(WEIGHTS_ENTRY)
        weights = {}
        with h5py.File(io.BytesIO(weights_bytes), "r") as f:
            f.visititems(lambda name, obj: weights.__setitem__(name, _tensor(obj, path))
                         if isinstance(obj, h5py.Dataset) else None)
            if "optimizer/vars" in f:
                group = f["optimizer/vars"]
                weights["optimizer/vars"] = [weights[f"optimizer/vars/{i}"] for i in range(len(group))]
    except UnreadableFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError, TypeError, UnicodeDecodeError,
            RecursionError) as err:
        raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt, or not a Keras 3 .keras file "
                                  f"({err}).") from None
    if not isinstance(config, dict):
        raise UnreadableFileError(f"{caller}: {path!r}: its config.json is not a model config: the file is corrupt.")
    return config, weights


def _tensor(dataset, path: str) -> torch.Tensor:
    if dataset.dtype.kind not in "fiub":
        raise UnreadableFileError(f"{path!r}: {dataset.name} is not a numeric array: the file is corrupt.")
    return torch.from_numpy(np.array(dataset[()]))


saving.register_file_format(saving.FileFormat(
    name="keras", suffixes=SUFFIXES, signature=ZIP_SIGNATURE, save_model=save_model, load_model=load_model,
    save_weights=save_weights, load_weights=load_weights, read_training_state=read_training_state,
    recognizes=recognizes))

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "read_file", "model_config_to_keras3",
           "model_config_from_keras3", "layer_groups", "weight_paths", "snake_case", "SUPPORTED_LAYERS", "SUFFIXES"]
