"""A functional model's graph as Keras 2.3.1 writes it in configs, and back (``engine/network.py``
``Network.get_config`` / ``Network.from_config``)::

    {"name": "model_1",
     "layers": [{"name": "dense_1", "class_name": "Dense", "config": {...},
                 "inbound_nodes": [[["input_1", 0, 0, {}]],            # one list per call of the layer,
                                   [["input_2", 0, 0, {}]]]}, ...],     # one entry per input tensor
     "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]],
     "output_layers": [["dense_2", 0, 0]]}

An entry ``[layer_name, node_index, tensor_index, kwargs]`` names the tensor a call read: output
``tensor_index`` of call ``node_index`` of layer ``layer_name``; ``kwargs`` are the call's keyword arguments.
Node indices count only the calls that belong to the model, in the order they were made (a layer also used
by another model keeps its numbering here dense); a model used as a layer counts from 1, its node 0 being
its own graph. Rebuilding calls each layer on the tensors its entries name, deferring a call
whose inputs do not exist yet, as Keras does for layers shared at several depths (``A(B(A(B(x))))``).
"""
from __future__ import annotations

import copy
import json
import warnings

from kerasish.layers.base import Layer
from kerasish.models.graph import GraphPlan
from kerasish.saving import deserialize_layer, known_objects
from kerasish.utils.generic_utils import keras_class_name
from kerasish.utils.nest import flatten


# ---------------------------------------------------------------------------------------------- writing
def functional_config(model) -> dict:
    """``model.get_config()`` of a functional model, in Keras 2.3.1's format (see the module docstring)."""
    plan = model._plan
    if model._graph_losses or model._graph_metrics:
        # Keras 2.3.1 writes the graph from the inputs to the outputs only; add_loss/add_metric terms are lost
        warnings.warn(f"get_config: the add_loss/add_metric terms of model {model.name!r} computed from its graph "
                      "are not part of its config (Keras 2.3.1 leaves them out too): a model loaded from this "
                      "config or file lacks them. Add them again with model.add_loss(...)/add_metric(...) after "
                      "loading, before compile.", stacklevel=3)
        plan = GraphPlan(model.inputs, model.outputs)
    for node in plan.nodes:
        if not isinstance(node.operation, Layer):
            raise ValueError(_torch_op_message(model, node.operation))
    in_model = {id(node) for node in plan.nodes}
    kept_index: dict[int, int] = {}  # id(node) -> its index among the model's calls of its layer
    for layer in plan.layers:
        index = 1 if hasattr(layer, "_is_graph_network") else 0  # a model's node 0 is its own (Keras: Network)
        for node in layer._inbound_nodes:
            if id(node) in in_model:
                kept_index[id(node)] = index
                index += 1

    def coordinates(tensor) -> list:
        operation, node_index, tensor_index = tensor._keras_history
        return [operation.name, kept_index.get(id(operation._inbound_nodes[node_index]), 0), tensor_index]

    layer_configs = []
    for layer in plan.layers:
        inbound_nodes = []
        for node in layer._inbound_nodes:
            if id(node) in in_model and node.input_tensors:
                kwargs = _call_kwargs(node)
                inbound_nodes.append([coordinates(t) + [kwargs] for t in _call_inputs(node)])
        layer_configs.append({"name": layer.name, "class_name": keras_class_name(layer),
                              "config": layer.get_config(), "inbound_nodes": inbound_nodes})
    return copy.deepcopy({"name": model.name, "layers": layer_configs,
                          "input_layers": [coordinates(t) for t in model.inputs],
                          "output_layers": [coordinates(t) for t in model.outputs]})


def _torch_op_message(model, op) -> str:
    from kerasish.layers.keras_tensor import _func_name
    function = _func_name(op.func)
    return (f"get_config: the model {model.name!r} applies the torch function {function!r} to a symbolic tensor "
            f"outside any layer (recorded as {op.name!r}). A config holds layers only (Keras 2.3.1 could not "
            f"serialise raw backend ops either), so this model cannot be written to a config, JSON or a model "
            f"file. Wrap the computation in a Lambda layer, e.g. Lambda(lambda t: ...)(x), and load it with "
            f"custom_objects naming the function; or save only the weights with save_weights().")


def _call_inputs(node) -> list:
    """The tensors a layer call read, as Keras records them: its first argument, one tensor or a flat list."""
    first = node.call_args[0] if node.call_args else None
    tensors = [first] if _is_symbolic(first) else list(first) if isinstance(first, (list, tuple)) else None
    layer = node.operation.name
    if tensors is None or not all(_is_symbolic(t) for t in tensors):
        raise ValueError(f"get_config: layer {layer!r} was called on {type(first).__name__} {first!r:.100}; a Keras "
                         "config records a call on one Keras tensor or a flat list of them.")
    if len(node.input_tensors) != len(tensors):
        raise ValueError(f"get_config: layer {layer!r} was called with Keras tensors outside its first argument "
                         f"(in {sorted(k for k, v in node.call_kwargs.items() if any(map(_is_symbolic, flatten(v))))}"
                         " or further positional arguments), which a Keras 2.3.1 config cannot record. Pass them "
                         "in the list of inputs, or compute them inside the layer.")
    return tensors


def _call_kwargs(node) -> dict:
    """The call's keyword arguments; Keras 2.3.1 leaves out (with this warning) those JSON cannot hold."""
    if len(node.call_args) > 1:
        raise ValueError(f"get_config: layer {node.operation.name!r} was called with positional arguments after "
                         f"its inputs ({node.call_args[1:]!r:.100}); a Keras 2.3.1 config records keyword "
                         "arguments only. Pass them by keyword.")
    if not node.call_kwargs:
        return {}
    try:
        json.dumps(node.call_kwargs)
    except (TypeError, ValueError):
        warnings.warn(f"Layer {node.operation.name} was passed non-serializable keyword arguments: "
                      f"{node.call_kwargs}. They will not be included in the serialized model (and thus will be "
                      "missing at deserialization time).", stacklevel=4)
        return {}
    return dict(node.call_kwargs)


def _is_symbolic(value) -> bool:
    return hasattr(value, "_keras_history") and hasattr(value, "_twin")


# ---------------------------------------------------------------------------------------------- reading
def functional_from_config(config, custom_objects, cls):
    """The functional model (of class ``cls``) ``config`` describes: each layer made from its config
    (``custom_objects`` for classes and functions of yours), then called on the tensors its ``inbound_nodes``
    name."""
    custom_objects = known_objects(custom_objects)
    if not isinstance(config, dict) or not all(isinstance(config.get(key), list)
                                               for key in ("layers", "input_layers", "output_layers")):
        raise ValueError("Improperly formatted model config: a functional model's config is {'name': ..., "
                         "'layers': [...], 'input_layers': [...], 'output_layers': [...]} (Keras 2.3.1 "
                         f"Model.get_config()); received {config!r:.200}.")
    created: dict[str, Layer] = {}
    pending: dict[str, list] = {}  # layer name -> its calls not made yet, in order
    for layer_data in config["layers"]:
        if not isinstance(layer_data, dict) or not isinstance(layer_data.get("name"), str):
            raise ValueError(f"Improperly formatted model config: a layer entry needs 'name', 'class_name', "
                             f"'config' and 'inbound_nodes'; received {layer_data!r:.200}.")
        name = layer_data["name"]
        created[name] = deserialize_layer(layer_data, custom_objects)
        inbound_nodes = layer_data.get("inbound_nodes") or []
        if not isinstance(inbound_nodes, list):
            raise ValueError(f"Improperly formatted model config: 'inbound_nodes' of layer {name!r} must be a list; "
                             f"received {inbound_nodes!r:.200}.")
        pending[name] = list(inbound_nodes)

    # Keras 2.3.1: passes over the layers in config order, each making its calls in order until one reads a
    # call not made yet; repeated until every call is made.
    while any(pending.values()):
        progressed = False
        for name, calls in pending.items():
            while calls:
                found = _call_inputs_from(calls[0], created, name)
                if found is None:
                    break
                tensors, kwargs = found
                created[name](tensors[0] if len(tensors) == 1 else tensors, **kwargs)
                calls.pop(0)
                progressed = True
        if not progressed:
            waiting = {name: calls[0] for name, calls in pending.items() if calls}
            raise ValueError(f"Improperly formatted model config: these layer calls read calls that are never made "
                             f"(a node index too high, or a cycle): {waiting!r:.300}.")
    inputs = [_tensor_at(entry, created, "input_layers") for entry in config["input_layers"]]
    outputs = [_tensor_at(entry, created, "output_layers") for entry in config["output_layers"]]
    return cls(inputs=inputs[0] if len(inputs) == 1 else inputs,
               outputs=outputs[0] if len(outputs) == 1 else outputs, name=config.get("name"))


def _call_inputs_from(node_data, created: dict, layer_name: str):
    """``(tensors, kwargs)`` for one recorded call, or None when a call it reads has not been made yet."""
    if not isinstance(node_data, list) or not node_data:
        raise ValueError(f"Improperly formatted model config: a call of layer {layer_name!r} must be a list of "
                         f"[layer_name, node_index, tensor_index, kwargs] entries; received {node_data!r:.200}.")
    tensors, kwargs = [], {}
    for entry in node_data:
        if not isinstance(entry, list) or len(entry) not in (3, 4):
            raise ValueError(f"Improperly formatted model config: layer {layer_name!r} has the inbound entry "
                             f"{entry!r:.200}; expected [layer_name, node_index, tensor_index, kwargs].")
        if len(entry) == 4:
            kwargs = entry[3] or {}
            if not isinstance(kwargs, dict):
                raise ValueError(f"Improperly formatted model config: the keyword arguments of a call of layer "
                                 f"{layer_name!r} must be a dict; received {kwargs!r:.200}.")
        tensor = _output_of(entry[:3], created, f"layer {layer_name!r}")
        if tensor is None:
            return None
        tensors.append(tensor)
    return tensors, kwargs


def _output_of(coordinates, created: dict, reader: str):
    """The tensor ``[layer_name, node_index, tensor_index]`` names; None when that call is not made yet."""
    layer_name, node_index, tensor_index = coordinates
    layer = created.get(layer_name) if isinstance(layer_name, str) else None
    if layer is None:
        raise ValueError(f"Improperly formatted model config: {reader} reads layer {layer_name!r}, which is not "
                         f"among the config's layers {sorted(created)}.")
    if not isinstance(node_index, int) or not isinstance(tensor_index, int):
        raise ValueError(f"Improperly formatted model config: {reader} reads {coordinates!r}; node and tensor "
                         "indices must be integers.")
    if node_index < 0:
        raise ValueError(f"Improperly formatted model config: {reader} reads node {node_index} of {layer_name!r}, "
                         "which does not exist.")
    if node_index >= len(layer._inbound_nodes):
        return None
    outputs = layer._inbound_nodes[node_index].output_tensors
    if not 0 <= tensor_index < len(outputs):
        raise ValueError(f"Improperly formatted model config: {reader} reads output {tensor_index} of "
                         f"{layer_name!r}, which has {len(outputs)} output(s).")
    return outputs[tensor_index]


def _tensor_at(entry, created: dict, section: str):
    if not isinstance(entry, list) or len(entry) != 3:
        raise ValueError(f"Improperly formatted model config: {section} entries are [layer_name, node_index, "
                         f"tensor_index]; received {entry!r:.200}.")
    tensor = _output_of(entry, created, section)
    if tensor is None:
        raise ValueError(f"Improperly formatted model config: {section} names {entry!r}, a call that the config "
                         "never makes.")
    return tensor


__all__ = ["functional_config", "functional_from_config"]
