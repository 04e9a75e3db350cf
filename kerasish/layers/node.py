"""A ``Node``: one call of a layer (or a recorded torch op) on symbolic tensors.

Calling a layer on KerasTensors appends a Node to the layer's ``_inbound_nodes``; a layer called twice (a
shared layer) has two nodes and the same weights. Each output KerasTensor remembers ``(operation, node_index,
tensor_index)``, so a model can walk back from its outputs to its inputs (Keras 2.3.1 ``engine/base_layer.py``
``Node`` has the same contract; ``inbound_nodes`` in saved configs refer to layers by name and node index).
"""
from __future__ import annotations

from kerasish.utils.nest import flatten, map_structure


class Node:
    def __init__(self, operation, call_args: tuple, call_kwargs: dict, outputs):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs)
        self.input_tensors = [t for t in flatten((self.call_args, self.call_kwargs)) if _is_symbolic(t)]
        self.node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        self.outputs = outputs
        self.output_tensors = [t for t in flatten(outputs) if _is_symbolic(t)]
        for tensor_index, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (operation, self.node_index, tensor_index)

    @classmethod
    def model_internal(cls, model, inputs: list, outputs: list) -> "Node":
        """A graph model's node 0 (Keras 2.3.1 Network): its own inputs to its own outputs. Unlike a call, it
        leaves the tensors' histories alone; calls of the model on other tensors are nodes 1, 2, ..."""
        node = cls.__new__(cls)
        node.operation = model
        node.call_args, node.call_kwargs = (inputs if len(inputs) > 1 else inputs[0],), {}
        node.input_tensors, node.outputs, node.output_tensors = list(inputs), outputs, list(outputs)
        node.node_index = 0
        return node

    @property
    def inputs(self):
        """The first positional argument as it was given (a tensor or a list of tensors), as Keras's
        ``node.input_tensors`` for the layer's ``input`` property."""
        return self.call_args[0] if self.call_args else None

    @property
    def inbound_layers(self) -> list:
        return [t._keras_history[0] for t in self.input_tensors]

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    def input_shapes(self):
        return map_structure(lambda t: t.shape if _is_symbolic(t) else None, self.inputs)

    def output_shapes(self):
        return map_structure(lambda t: t.shape if _is_symbolic(t) else None, self.outputs)

    def __repr__(self) -> str:
        return f"<Node {self.node_index} of {self.operation.name}>"


def _is_symbolic(value) -> bool:
    return hasattr(value, "_keras_history") and hasattr(value, "_twin")
