"""Keras 2 HDF5 model and weights files (``model.h5``), read and written with h5py.

kerasish/saving.py chooses this format for ``.h5``/``.hdf5`` names (or ``save_format='h5'``) when writing and
for files that start with HDF5's signature when reading; this module registers itself there.

The layout (Keras 2.3.1 ``engine/saving.py``, which tf.keras 2.x kept)
=====================================================================
==================================  ===============================================================================
root attrs (model files)            ``keras_version``, ``backend``, ``model_config`` (JSON ``{"class_name",
                                    "config"}``), ``training_config`` (JSON: optimizer_config, loss, metrics,
                                    weighted_metrics, sample_weight_mode, loss_weights)
``model_weights`` (model files;     attrs ``layer_names`` (every layer, in ``model.layers`` order; split into
the root of ``save_weights``        ``layer_names0``, ``layer_names1``... when over 64 KB), ``backend``,
files)                              ``keras_version``; a group per layer with attr ``weight_names``
                                    (``dense_1/kernel:0``) and a dataset at each of those paths, Keras layouts
``optimizer_weights``               attr ``weight_names``; iterations, then one tensor per slot kind and trainable
                                    weight (``_OPTIMIZER_SLOTS``)
``kerasish`` (ours; Keras ignores   attr ``state``: JSON of the shuffle seed, the random state, a torch optimizer's
it)                                 state ..., whose tensors are the datasets under ``kerasish/tensors``
==================================  ===============================================================================

Names written are Keras 2.3.1's (``lstm_1/kernel:0``, not tf.keras's ``lstm/lstm_cell/kernel:0``); reading
matches weights by their order within a layer, as Keras does, so both load. Optimizer weights are written in
tf.keras's legacy-optimizer order and names (Keras 2.3.1's order without its placeholder ``vhat`` of Adam
without amsgrad), which tf-keras restores; both that order and tf-keras 2.11+'s (per weight: ``m``, ``v``) are
read.

Keras 2.3.1's functions over h5py groups (``save_weights_to_hdf5_group``, ``load_weights_from_hdf5_group[_by_name]``,
``save/load_attributes_to/from_hdf5_group``, ``preprocess_weights_for_loading``) and ``pickle_model``/
``unpickle_model`` are here too, on the same readers and writers; ``keras.engine.saving`` exports them.

Safety: the whole file is read into memory (configs parsed, arrays copied) before any object is built, so a
truncated or corrupt file raises ``UnreadableFileError`` naming it and never leaves a half-built model. Nothing
in it is executed or unpickled: a ``Lambda`` layer's marshalled bytecode is refused by the config loader
(saving.deserialize_layer) unless ``custom_objects`` gives the function.
"""
from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from kerasish import backend, distributed
from kerasish import optimizers as optimizers_module
from kerasish import saving
from kerasish.saving import KERAS_VERSION, UnreadableFileError
from kerasish.utils.io_utils import atomic_write, check_readable_file

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
SUFFIXES = (".h5", ".hdf5")
BACKEND_NAME = "torch"  # Keras reads it only to flip Theano kernels (``_need_convert_kernel``)
HDF5_OBJECT_HEADER_LIMIT = 64512  # Keras 2.3.1 saving.py: bigger attributes are split into numbered chunks

# Keras 2.3.1 optimizers.py ``self.weights``: [iterations] (+ Nadam's m_schedule) + one list per slot kind, each
# with one tensor per trainable weight. Per slot kind: kerasish's state key and tf.keras's slot name.
_OPTIMIZER_SLOTS = {
    "SGD": (("velocity", "momentum"),),
    "RMSprop": (("accumulator", "rms"),),
    "Adagrad": (("accumulator", "accumulator"),),
    "Adadelta": (("accumulator", "accum_grad"), ("delta_accumulator", "accum_var")),
    "Adam": (("m", "m"), ("v", "v"), ("vhat", "vhat")),
    "Adamax": (("m", "m"), ("u", "v")),
    "Nadam": (("m", "m"), ("v", "v")),
}


@dataclass
class KerasH5Contents:
    """Everything a Keras HDF5 file holds, read into memory (nothing built yet)."""
    path: str
    keras_version: str | None = None  # of the weights; "1" when absent (Keras 2.3.1's rule)
    backend: str | None = None
    model_config: dict | None = None
    training_config: dict | None = None
    layers: list = field(default_factory=list)  # [(layer name, [(weight name, Keras-layout tensor)])]
    optimizer_weights: list | None = None  # [(name, tensor)]
    kerasish_state: dict = field(default_factory=dict)


# ============================================================================ public entry points
def save_model(model, path: str, include_optimizer: bool = True) -> None:
    """``model.save('m.h5')``: Keras 2.3.1 ``_serialize_model``, written atomically."""
    _write_file(path, _model_writer(model, include_optimizer))


def _model_writer(model, include_optimizer: bool):
    """``write(f)``: the whole model into the open HDF5 file ``f`` (what is saved is read from the model now)."""
    model_config = {"class_name": _keras_class_name(model), "config": model.get_config()}
    training_config = optimizer_weights = None
    state = {"shuffle_seed": model._shuffle_seed}
    if include_optimizer and model.compiled_loss is not None:
        training_config = saving._training_config(model)
        if training_config is not None:
            optimizer_weights, extra = _optimizer_weights_to_save(model)
            state.update(extra)
        state["rng"] = saving.get_rng_state()
        layer_rng = saving._layer_random_states(model)
        if layer_rng:
            state["layer_rng"] = layer_rng

    def write(f):
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = BACKEND_NAME
        f.attrs["model_config"] = json.dumps(model_config, default=saving._json_default)
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config, default=saving._json_default)
        save_weights_to_hdf5_group(f.create_group("model_weights"), model.layers)
        if optimizer_weights:
            group = f.create_group("optimizer_weights")
            _write_named_arrays(group, optimizer_weights)
        _write_kerasish_state(f, model, state)

    return write


def save_weights(model, path: str) -> None:
    """``model.save_weights('w.h5')``: Keras 2.3.1 ``save_weights_to_hdf5_group`` at the file's root."""
    def write(f):
        save_weights_to_hdf5_group(f, model.layers)
        _write_kerasish_state(f, model, {})

    _write_file(path, write)


def load_model(path: str, custom_objects: dict, compile: bool = True):
    """``load_model('m.h5')``: Keras 2.3.1 ``_deserialize_model`` (see saving.load_model)."""
    # warnings point at the caller of kerasish.models.load_model (through saving.load_model and this function)
    return _model_from_contents(read_file(path, "load_model"), custom_objects, compile, stacklevel=5)


def _model_from_contents(contents: KerasH5Contents, custom_objects: dict, compile: bool, stacklevel: int):
    path = contents.path
    if contents.model_config is None:
        raise ValueError(f"load_model: No model found in config file {path!r}: it holds only weights (written by "
                         "save_weights). Build the model in code and call model.load_weights(filepath).")
    with torch.random.fork_rng(devices=[]):  # the layers' initial weights are drawn, then replaced
        model = saving._model_from_config(contents.model_config, custom_objects, "load_model")
    saving._load_weights_by_order(model, contents.layers, path, "load_model", convert=_legacy_converter(contents))
    state = contents.kerasish_state
    saving._restore_shuffle_seed(model, state, path)
    saving._restore_layer_random_states(model, state.get("layer_rng"), path)
    if not compile:
        return model
    if contents.training_config is None:
        # Keras 2.3.1 engine/saving.py wording
        warnings.warn("No training configuration found in save file: the model was *not* compiled. "
                      "Compile it manually.", stacklevel=stacklevel)
        return model
    saving._compile_from_training_config(model, contents.training_config, custom_objects, path)
    _restore_optimizer(model, contents, stacklevel + 1)
    return model


def load_weights(model, path: str, by_name: bool = False, skip_mismatch: bool = False, reshape: bool = False):
    """``model.load_weights('w.h5')`` for ``save_weights`` and ``save`` files (see saving.load_weights)."""
    contents = read_file(path, "load_weights")
    saving.build_for_loading(model, contents.kerasish_state.get("batch_input_shape"), path)
    convert = _legacy_converter(contents)
    if by_name:
        saving._load_weights_by_name(model, contents.layers, path, skip_mismatch, reshape, convert=convert)
    else:
        saving._load_weights_by_order(model, contents.layers, path, "load_weights", reshape, convert=convert)


def read_training_state(path: str, caller: str) -> dict:
    """The shuffle seed and random state kerasish recorded in the file (``restore_rng_state``)."""
    return read_file(path, caller).kerasish_state


# ============================================================================ reading
def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras HDF5 files (.h5, .hdf5) need h5py: pip install h5py. (Other file names use "
                          "kerasish's own format, which does not.)") from None
    return h5py


def read_file(path: str, caller: str) -> KerasH5Contents:
    """Reads the whole file into memory; any HDF5 error becomes ``UnreadableFileError`` naming the file."""
    check_readable_file(path, caller)
    return _read_source(path, path, caller)


def _read_source(source, path: str, caller: str) -> KerasH5Contents:
    """``source``: a path or a binary file object; ``path`` names it in errors."""
    h5py = _h5py()
    try:
        with h5py.File(source, "r") as f:
            return _read_open_file(f, path)
    except UnreadableFileError:
        raise
    except _READ_ERRORS as err:
        raise UnreadableFileError(f"{caller}: {path!r} is truncated or corrupt, or not a Keras HDF5 file ({err}).") \
            from None


_READ_ERRORS = (OSError, KeyError, ValueError, TypeError, UnicodeDecodeError, RecursionError)  # h5py's, on bad data


def _read_open_file(f, path: str) -> KerasH5Contents:
    contents = KerasH5Contents(path=path)
    contents.model_config = _json_attr(f, "model_config", path)
    contents.training_config = _json_attr(f, "training_config", path)
    # Keras 2.3.1 load_weights: a model file's weights are under model_weights, a weights file's at the root
    weights = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
    _read_weights_group(weights, contents, path)
    if "optimizer_weights" in f:
        group = f["optimizer_weights"]
        contents.optimizer_weights = [(name, _tensor(group[name], path))
                                      for name in load_attributes_from_hdf5_group(group, "weight_names")]
    if "kerasish" in f:
        contents.kerasish_state = _read_kerasish_state(f["kerasish"], path)
    return contents


def _read_weights_group(weights, contents: KerasH5Contents, path: str) -> None:
    """The layers' weights of a ``save_weights_to_hdf5_group`` group, with its Keras version and backend."""
    if "layer_names" not in weights.attrs and "layer_names0" not in weights.attrs:
        raise UnreadableFileError(f"{path!r} is an HDF5 file but not a Keras model or weights file (no layer_names).")
    contents.keras_version = _text(weights.attrs["keras_version"]) if "keras_version" in weights.attrs else "1"
    contents.backend = _text(weights.attrs["backend"]) if "backend" in weights.attrs else None
    for layer_name in load_attributes_from_hdf5_group(weights, "layer_names"):
        group = weights[layer_name]
        contents.layers.append((layer_name, [(name, _tensor(group[name], path))
                                             for name in load_attributes_from_hdf5_group(group, "weight_names")]))


def _text(value) -> str:
    """h5py gives Keras 2.3.1's attributes as bytes, tf.keras's as str."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def _json_attr(f, name: str, path: str):
    if name not in f.attrs:
        return None
    try:
        return json.loads(_text(f.attrs[name]))
    except ValueError:
        raise UnreadableFileError(f"{path!r}: its {name} is not valid JSON: the file is corrupt.") from None


def load_attributes_from_hdf5_group(group, name: str) -> list[str]:
    """Keras 2.3.1 ``load_attributes_from_hdf5_group``: the names stored in attribute ``name`` of ``group``, or
    in its chunks ``name0``, ``name1``... (``save_attributes_to_hdf5_group``), as strings."""
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, index = [], 0
        while f"{name}{index}" in group.attrs:
            chunks.append(group.attrs[f"{name}{index}"])
            index += 1
    # an empty list is written as an empty float array (Keras and tf.keras)
    return [_text(n) for chunk in chunks for n in np.atleast_1d(chunk) if np.asarray(chunk).size]


def _tensor(dataset, path: str) -> torch.Tensor:
    if not hasattr(dataset, "dtype") or dataset.dtype.kind not in "fiub":
        raise UnreadableFileError(f"{path!r}: {dataset.name} is not a numeric array: the file is corrupt.")
    return torch.from_numpy(np.array(dataset[()]))  # a fresh, contiguous copy; 0-d stays 0-d


def _read_kerasish_state(group, path: str) -> dict:
    tensors = {}
    if "tensors" in group:
        group["tensors"].visititems(lambda name, obj: tensors.__setitem__(name, _tensor(obj, path))
                                    if hasattr(obj, "dtype") else None)
    try:
        document = json.loads(_text(group.attrs["state"]))
    except (KeyError, ValueError):
        raise UnreadableFileError(f"{path!r}: kerasish's state in the file is corrupt.") from None
    return saving._decode_tree(document, tensors, path) or {}


# ============================================================================ writing
def _write_file(path: str, write) -> None:
    """h5py writes into the temporary file that ``atomic_write`` renames over ``path`` once complete."""
    h5py = _h5py()
    if not distributed.is_main_process():
        return  # under torchrun only rank 0 writes files (io_utils.atomic_write)
    with atomic_write(path, "w+b") as stream:
        with h5py.File(stream, "w") as f:
            write(f)


def save_weights_to_hdf5_group(group, layers) -> None:
    """Keras 2.3.1 ``save_weights_to_hdf5_group``: the weights of ``layers`` into the h5py ``group``
    (``layer_names``, ``backend``, ``keras_version``; a group per layer with its ``weight_names`` and datasets in
    Keras layouts). Names and layouts come from saving._weights_manifest."""
    tensors: dict = {}
    manifest = saving._weights_manifest(_LayerList(layers), tensors)
    save_attributes_to_hdf5_group(group, "layer_names", manifest["layer_names"])
    group.attrs["backend"] = BACKEND_NAME
    group.attrs["keras_version"] = KERAS_VERSION
    for layer_name in manifest["layer_names"]:
        names = manifest["weight_names"][layer_name]
        _write_named_arrays(group.create_group(layer_name),
                            list(zip(_unique(names), [tensors[f"model_weights/{name}"] for name in names])))


def _write_named_arrays(group, named) -> None:
    save_attributes_to_hdf5_group(group, "weight_names", [name for name, _ in named])
    for name, value in named:
        array = backend.to_numpy(value.detach()) if isinstance(value, torch.Tensor) else np.asarray(value)
        group.create_dataset(name, data=array)


def _unique(names: list[str]) -> list[str]:
    """Keras 2.3.1 ``_serialize_model``: a repeated name gets ``_1``, ``_2``... (one dataset per name)."""
    result = []
    for name in names:
        unique, index = name, 1
        while unique in result:
            unique, index = f"{name}_{index}", index + 1
        result.append(unique)
    return result


def save_attributes_to_hdf5_group(group, name: str, data) -> None:
    """Keras 2.3.1 ``save_attributes_to_hdf5_group``: the names ``data`` (str or bytes) as a bytes attribute of
    ``group``; an attribute over HDF5's header limit is split into ``name0``, ``name1``... chunks."""
    names = [n if isinstance(n, bytes) else str(n).encode("utf-8") for n in data]
    too_long = [n.decode("utf-8", "replace") for n in names if len(n) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        # Keras 2.3.1 wording: no chunking can store a single name over the limit
        raise RuntimeError(f"The following attributes cannot be saved to HDF5 file because they are larger than "
                           f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {', '.join(too_long)}")
    if not names:
        group.attrs[name] = np.zeros((0,))  # what h5py makes of Keras's empty list
        return
    array = np.array(names)
    chunks = 1
    while any(chunk.nbytes > HDF5_OBJECT_HEADER_LIMIT for chunk in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = array
        return
    for index, chunk in enumerate(np.array_split(array, chunks)):
        group.attrs[f"{name}{index}"] = chunk


def _write_kerasish_state(f, model, state: dict) -> None:
    """What Keras files have no place for: the shuffle seed, the random state, a torch optimizer's state, the
    input shape an unbuilt model is built with by load_weights."""
    if model.built and model._is_graph_network:
        state = {**state, "batch_input_shape": list(model.input_shape)}
    tensors: dict = {}
    document = saving._encode_tree(state, tensors, "state")
    group = f.create_group("kerasish")
    group.attrs["state"] = json.dumps(document)
    for key, value in tensors.items():
        group.create_dataset(f"tensors/{key}", data=backend.to_numpy(value.detach().cpu()))


def _keras_class_name(model) -> str:
    from kerasish.utils.generic_utils import keras_class_name
    return keras_class_name(model)


# ============================================================================ optimizer state
def _trainable_weights(model) -> list:
    """``[(Keras weight name, parameter, layout)]`` in Keras's ``model.trainable_weights`` order, the order of
    the optimizer's slots."""
    result = []
    for layer in model.layers:
        for name, (tensor, layout) in zip(saving._weight_names(layer), layer._weight_tensors()):
            if isinstance(tensor, nn.Parameter) and tensor.requires_grad:
                result.append((name, tensor, layout))
    return result


def _slot_kinds(optimizer) -> list:
    """The slot kinds this optimizer's Keras weights hold (tf.keras: SGD's only with momentum, Adam's vhat only
    with amsgrad)."""
    kinds = list(_OPTIMIZER_SLOTS[type(optimizer).__name__])
    if isinstance(optimizer, optimizers_module.SGD) and not optimizer.momentum:
        return []
    if isinstance(optimizer, optimizers_module.Adam) and not optimizer.amsgrad:
        return kinds[:2]
    return kinds


def _optimizer_weights_to_save(model) -> tuple[list, dict]:
    """Keras optimizers: ``([(name, array)], {})`` for ``optimizer_weights``. Another torch optimizer: no
    Keras weights, its ``state_dict`` for kerasish's state."""
    optimizer = model.optimizer
    extra = {}
    scaler = getattr(model, "_grad_scaler", None)
    if scaler is not None and scaler.state_dict():
        extra["grad_scaler"] = scaler.state_dict()  # mixed_float16's loss scale
    if not isinstance(optimizer, torch.optim.Optimizer) or \
            isinstance(optimizer, optimizers_module.Optimizer) and not optimizer.is_bound:
        return [], extra  # never stepped (Keras 2.3.1 has no optimizer weights yet either)
    if type(optimizer).__name__ not in _OPTIMIZER_SLOTS or not isinstance(optimizer, optimizers_module.Optimizer):
        extra["optimizer_state"] = optimizer.state_dict()
        return [], extra
    prefix = type(optimizer).__name__
    named = [(f"{prefix}/iter:0", np.array(optimizer.iterations, dtype=np.int64))]
    if isinstance(optimizer, optimizers_module.Nadam):
        named.append((f"{prefix}/momentum_cache:0", np.array(optimizer.param_groups[0]["m_schedule"], np.float32)))
    weights = _trainable_weights(model)
    for key, slot_name in _slot_kinds(optimizer):
        for name, param, layout in weights:
            value = optimizer.state.get(param, {}).get(key)
            value = torch.zeros_like(param) if value is None else value
            named.append((f"{prefix}/{name.rsplit(':', 1)[0]}/{slot_name}:0", layout.to_keras(value.detach())))
    return named, extra


def _restore_optimizer(model, contents: KerasH5Contents, stacklevel: int) -> None:
    """The compiled optimizer continues where the saved one stopped: kerasish's exact state for torch
    optimizers, else the Keras ``optimizer_weights``. A state that does not fit is reported, not fatal (Keras
    2.3.1 wording)."""
    state = contents.kerasish_state
    if not any(True for _ in model.parameters()):
        return
    try:
        if "optimizer_state" in state:
            saving._load_optimizer_state(model, state["optimizer_state"])
        elif contents.optimizer_weights:
            _set_keras_optimizer_weights(model, contents.optimizer_weights)
        if state.get("grad_scaler") and model.dtype_policy.needs_loss_scaling:
            model._prepare_execution()  # creates the loss scaler for this device, as fit would
            model._grad_scaler.load_state_dict(state["grad_scaler"])
    except (ValueError, KeyError, TypeError, RuntimeError, AttributeError):
        warnings.warn("Error in loading the saved optimizer state. As a result, your model is starting with a "
                      "freshly initialized optimizer.", stacklevel=stacklevel)


def _set_keras_optimizer_weights(model, named: list) -> None:
    """Keras 2.3.1 ``optimizer.set_weights`` on kerasish's optimizer state. Reads Keras 2.3.1's and tf.keras's
    legacy order (iterations, then each slot kind for every weight) and tf-keras 2.11+'s (``iteration:0``, then
    every slot kind per weight); shapes are checked before anything is set."""
    model.to(backend.get_device())
    model._bind_optimizer()
    optimizer = model.optimizer
    if type(optimizer).__name__ not in _OPTIMIZER_SLOTS or not isinstance(optimizer, optimizers_module.Optimizer):
        raise ValueError("optimizer weights of a Keras optimizer for another optimizer")
    names = [name for name, _ in named]
    values = [value for _, value in named]
    weights = _trainable_weights(model)
    per_weight_order = names[0].rsplit("/", 1)[-1].startswith("iteration:")  # tf-keras 2.11+ optimizers
    head = 2 if isinstance(optimizer, optimizers_module.Nadam) and not per_weight_order else 1
    slots, count = values[head:], len(weights)
    kinds = _OPTIMIZER_SLOTS[type(optimizer).__name__]
    if count == 0 or len(slots) % count or len(slots) // count > len(kinds):
        raise ValueError(f"{len(slots)} optimizer slots for {count} trainable weights")
    present = len(slots) // count
    assignments = []
    for j, (key, _) in enumerate(kinds[:present]):
        if key == "vhat" and not optimizer.amsgrad:
            continue  # Keras 2.3.1's placeholder (1,) tensors
        if key == "velocity" and not optimizer.momentum:
            continue  # Keras 2.3.1 keeps moments at momentum 0; they stay zero
        for i, (_, param, layout) in enumerate(weights):
            value = slots[i * present + j] if per_weight_order else slots[j * count + i]
            if tuple(value.shape) != layout.keras_shape(tuple(param.shape)):
                raise ValueError(f"optimizer slot {key} of weight #{i} has shape {tuple(value.shape)}")
            assignments.append((param, key, layout.from_keras(value)))
    with torch.no_grad():
        for param, key, value in assignments:
            buffer = torch.empty_like(param, memory_format=torch.preserve_format)
            optimizer.state[param][key] = buffer.copy_(value.to(device=param.device, dtype=param.dtype))
    optimizer.iterations = int(values[0])
    if head == 2:
        for group in optimizer.param_groups:
            group["m_schedule"] = float(values[1])


# ============================================================================ Keras 2.3.1 engine/saving.py's functions
# Keras's own signatures over h5py groups, and pickle_model/unpickle_model, on the readers and writers above.
class _LayerList:
    """A list of layers where saving's weight helpers take a model: they read its ``layers`` (and a graph model's
    input shape, which a list of layers has not)."""

    built = False
    _is_graph_network = False

    def __init__(self, layers):
        self.layers = list(layers)


def load_weights_from_hdf5_group(f, layers, reshape=False) -> None:
    """Keras 2.3.1 ``load_weights_from_hdf5_group``: the weights in the h5py group ``f`` (written by
    ``save_weights_to_hdf5_group``: a weights file's root, a model file's ``model_weights``) into ``layers``,
    matched in order among the layers that have weights, with the conversions ``load_weights`` applies."""
    contents = _read_group(f, "load_weights_from_hdf5_group")
    saving._load_weights_by_order(_LayerList(layers), contents.layers, contents.path, "load_weights_from_hdf5_group",
                                  reshape, convert=_legacy_converter(contents))


def load_weights_from_hdf5_group_by_name(f, layers, skip_mismatch=False, reshape=False) -> None:
    """Keras 2.3.1 ``load_weights_from_hdf5_group_by_name``: as ``load_weights_from_hdf5_group``, into the layers
    of ``layers`` whose name matches; with ``skip_mismatch`` a layer whose weights do not fit is skipped, warning."""
    contents = _read_group(f, "load_weights_from_hdf5_group_by_name")
    saving._load_weights_by_name(_LayerList(layers), contents.layers, contents.path, skip_mismatch, reshape,
                                 convert=_legacy_converter(contents))


def _read_group(f, caller: str) -> KerasH5Contents:
    path = f"{f.file.filename}:{f.name}"
    contents = KerasH5Contents(path=path)
    try:
        _read_weights_group(f, contents, path)
    except UnreadableFileError:
        raise
    except _READ_ERRORS as err:
        raise UnreadableFileError(f"{caller}: {path!r} is not a group of Keras weights or is corrupt ({err}).") \
            from None
    return contents


def preprocess_weights_for_loading(layer, weights, original_keras_version=None, original_backend=None,
                                   reshape=False) -> list:
    """Keras 2.3.1 ``preprocess_weights_for_loading``: ``weights`` (arrays saved for ``layer``) converted as
    loading converts them: Keras 1 layouts (``original_keras_version='1'``), kernels trained with Theano
    (``original_backend='theano'``), CuDNN RNN weights for LSTM/GRU and back, and with ``reshape`` a kernel of
    the right size but another shape. ``layer`` must be built (the conversions compare with its weights).
    Returns NumPy arrays."""
    try:
        targets = layer._weight_tensors()
    except AttributeError:  # its weights do not exist yet
        raise ValueError(f"preprocess_weights_for_loading: layer {layer.name} is not built; call it on its input "
                         "first (or put it in a model that is built): the conversions read its weights.") from None
    contents = KerasH5Contents(path="<weights>", keras_version=original_keras_version, backend=original_backend)
    named = [(f"weight_{i}", torch.as_tensor(np.asarray(value))) for i, value in enumerate(weights)]
    named = _legacy_converter(contents)(layer, named)
    named = saving._maybe_reshape_kernel(layer, targets, named, reshape)
    return [backend.to_numpy(value) for _, value in saving._converted_rnn_weights(layer, named)]


def pickle_model(model) -> dict:
    """Keras 2.3.1 ``pickle_model``: the model as plain data, ``{'keras_h5': bytes}``: the bytes of the Keras 2
    HDF5 file ``model.save('m.h5')`` writes (architecture, weights, training configuration, optimizer state).
    Keras 2.3.1 returns that HDF5 layout as nested dicts; kerasish keeps the file's bytes, which any HDF5 reader
    (and ``load_model``, once written to a ``.h5`` file) opens."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        _model_writer(model, include_optimizer=True)(f)
    return {"keras_h5": buffer.getvalue()}


def unpickle_model(state):
    """Keras 2.3.1 ``unpickle_model``: the model (compiled when it was) that ``pickle_model`` returned ``state``
    for. Reading ``state`` runs no code from it, as ``load_model`` (a ``Lambda``'s bytecode is refused unless
    ``custom_objects`` gives the function). But ``pickle.loads`` of bytes from elsewhere runs any code they hold
    before this function sees them: never unpickle data you do not trust; send ``state['keras_h5']`` as a file
    and ``load_model`` it instead."""
    if not isinstance(state, dict) or not isinstance(state.get("keras_h5"), (bytes, bytearray)):
        raise TypeError(f"unpickle_model: expected what pickle_model returns, a dict {{'keras_h5': bytes}}; "
                        f"received a {type(state).__name__}.")
    contents = _read_source(io.BytesIO(bytes(state["keras_h5"])), "<pickled model>", "unpickle_model")
    return _model_from_contents(contents, saving.known_objects(None), True, stacklevel=3)


# ============================================================================ legacy conversions
def _legacy_converter(contents: KerasH5Contents):
    """Keras 2.3.1 ``preprocess_weights_for_loading`` for what saving's loaders do not already convert (they
    convert CuDNN RNN weights and reshape kernels): Keras 1 weights and Theano-trained convolution kernels."""
    version, original_backend = contents.keras_version, contents.backend

    def convert(layer, named):
        names, values = [name for name, _ in named], [value for _, value in named]
        if version == "1":
            values = _keras1_weights(layer, values)
        values = _converted_conv_kernel(layer, values, original_backend)
        if len(values) != len(names):  # Keras 1 RNN weights merged: the names Keras 2 gives them
            names = saving._weight_names(layer)[:len(values)]
        return list(zip(names, values))

    return convert


_CONV_CLASSES = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "ConvLSTM2D")


def _keras1_weights(layer, values):
    """Keras 2.3.1: Keras 1 RNNs stored one kernel, recurrent kernel and bias per gate (LSTM's in the order
    i, c, f, o); Keras 1 convolution kernels were (filters, stack, rows, cols) with channels_first."""
    name = type(layer).__name__
    if name == "TimeDistributed":
        return _keras1_weights(layer.layer, values)
    if name == "GRU" and len(values) == 9:
        return [torch.cat([values[k], values[k + 3], values[k + 6]], dim=-1) for k in range(3)]
    if name in ("LSTM", "ConvLSTM2D") and len(values) == 12:
        merged = [torch.cat([values[k], values[k + 6], values[k + 3], values[k + 9]], dim=-1) for k in range(3)]
        if name == "ConvLSTM2D" and layer.data_format == "channels_first":
            merged[:2] = [w.permute(2, 3, 1, 0) for w in merged[:2]]
        return merged
    if not values:
        return values
    kernel, channels_first = values[0], getattr(layer, "data_format", None) == "channels_first"
    if name == "Conv1D":
        if kernel.shape[:2] != (layer.kernel_size[0], 1) or kernel.shape[3] != layer.filters:
            kernel = kernel.permute(2, 3, 1, 0)  # Keras 1.1: (filters, input_dim, filter_length, 1)
        kernel = kernel[:, 0, :, :]
    elif name == "Conv2D" and channels_first:
        kernel = kernel.permute(2, 3, 1, 0)
    elif name == "Conv2DTranspose":
        kernel = kernel.permute(2, 3, 0, 1) if channels_first else kernel.permute(0, 1, 3, 2)
    elif name == "Conv3D" and channels_first:
        kernel = kernel.permute(2, 3, 4, 1, 0)
    return [kernel.contiguous()] + values[1:]


def _converted_conv_kernel(layer, values, original_backend):
    """Keras 2.3.1: Theano convolved (flipped kernels, ``_need_convert_kernel``), and kernels of Theano's
    (filters, stack, rows, cols) order are transposed when the shape does not fit."""
    if type(layer).__name__ not in _CONV_CLASSES or not values:
        return values
    kernels = 2 if type(layer).__name__ == "ConvLSTM2D" else 1
    if original_backend == "theano":
        values = [_flipped_kernel(v) if k < kernels else v for k, v in enumerate(values)]
    tensor, layout = layer._weight_tensors()[0]
    expected = layout.keras_shape(tuple(tensor.shape))
    if tuple(values[0].shape) != expected and values[0].dim() == 4 and \
            tuple(values[0].permute(3, 2, 0, 1).shape) == expected:
        values = [v.permute(3, 2, 0, 1).contiguous() if k < kernels else v for k, v in enumerate(values)]
    return values


def _flipped_kernel(kernel: torch.Tensor) -> torch.Tensor:
    """Keras 2.3.1 ``conv_utils.convert_kernel``: every spatial axis reversed (all but the last two)."""
    return torch.flip(kernel, dims=tuple(range(kernel.dim() - 2))) if kernel.dim() > 2 else kernel


saving.register_file_format(saving.FileFormat(
    name="h5", suffixes=SUFFIXES, signature=HDF5_SIGNATURE, save_model=save_model, load_model=load_model,
    save_weights=save_weights, load_weights=load_weights, read_training_state=read_training_state))

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "read_file", "read_training_state",
           "KerasH5Contents", "HDF5_SIGNATURE", "SUFFIXES", "save_attributes_to_hdf5_group",
           "load_attributes_from_hdf5_group", "save_weights_to_hdf5_group", "load_weights_from_hdf5_group",
           "load_weights_from_hdf5_group_by_name", "preprocess_weights_for_loading", "pickle_model", "unpickle_model"]
