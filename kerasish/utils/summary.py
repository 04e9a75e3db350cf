"""``model.summary()`` in Keras 2.3.1's table format (``keras/utils/layer_utils.py`` ``print_summary``).

Two tables, chosen as Keras chooses them:

* a Sequential model, a subclassed model, or a functional graph that is a simple chain (at each depth one
  node, reading at most one tensor, and no layer called twice in the model): three columns, 65 wide,
  at ``[.45, .85, 1.]``;
* any other graph: a fourth column, "Connected to", with ``layer_name[node_index][tensor_index]`` for each
  tensor a layer's calls in the model read, one per line; 98 wide, at ``[.33, .55, .67, 1.]``.

A layer whose calls give different output shapes shows ``multiple``. Parameters are counted once per weight
however many times a layer appears.
"""
from __future__ import annotations

import numpy as np

from kerasish.utils.generic_utils import keras_class_name


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    print_fn = print_fn or print
    model_nodes = None if _sequential_like(model) else model._plan.nodes
    if model_nodes is None:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def print_row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "  # Keras overwrites the last character of a full column with a space
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_row(header)
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        fields = [f"{layer.name} ({keras_class_name(layer)})", _output_shape(layer), layer.count_params()]
        if model_nodes is None:
            print_row(fields)
        else:
            connections = _connections(layer, model_nodes)
            print_row(fields + [connections[0] if connections else ""])
            for connection in connections[1:]:
                print_row(["", "", "", connection])
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


def _sequential_like(model) -> bool:
    """Keras 2.3.1's test: a Sequential or subclassed model, or a graph in which every depth holds one node
    reading at most one tensor and no layer has two nodes in the model."""
    if keras_class_name(model) == "Sequential" or not model._is_graph_network:
        return True
    from kerasish.models.graph import nodes_by_depth
    nodes = model._plan.nodes
    for at_depth in nodes_by_depth(nodes).values():
        if len(at_depth) > 1 or len(at_depth[0].input_tensors) > 1:
            return False
    operations = [id(node.operation) for node in nodes]
    return len(operations) == len(set(operations))


def _output_shape(layer):
    try:
        return layer.output_shape
    except AttributeError:  # calls with different output shapes (Keras 2.3.1 prints this word)
        return "multiple"


def _connections(layer, model_nodes: list) -> list[str]:
    """``inbound_layer[node_index][tensor_index]`` per tensor read by the layer's calls in the model. The node
    index is the inbound layer's own count of its calls (Keras's ``node.node_indices``), not the config's."""
    in_model = {id(node) for node in model_nodes}
    connections = []
    for node in layer._inbound_nodes:
        if id(node) not in in_model:
            continue
        for tensor in node.input_tensors:
            operation, node_index, tensor_index = tensor._keras_history
            connections.append(f"{operation.name}[{node_index}][{tensor_index}]")
    return connections


def count_params(weights) -> int:
    """Keras 2.3.1 ``layer_utils.count_params``: the number of scalars in ``weights`` (tensors or arrays); a
    weight listed twice (a layer inside a nested model and beside it) counts once."""
    seen, total = set(), 0
    for weight in weights:
        if id(weight) not in seen:
            seen.add(id(weight))
            total += int(np.prod(tuple(weight.shape), dtype=np.int64))
    return total
