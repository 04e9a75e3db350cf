"""A ``Node``: one call of a layer (or a recorded torch op) on symbolic tensors.

Calling a layer on KerasTensors appends a Node to the layer's ``_inbound_nodes``; a layer called twice (a
shared layer) has two nodes and the same weights. Each output KerasTensor remembers ``(operation, node_index,
tensor_index)``, so a model can walk back from its outputs to its inputs (Keras 2.3.1 ``engine/base_layer.py``
``Node`` has the same contract; ``inbound_nodes`` in saved configs refer to layers by name and node index).

Masks (Keras 2.3.1 ``supports_masking``/``compute_mask``): a layer called on tensors that carry a mask
(``_keras_mask``) gets it as ``mask=`` when its ``call`` takes one. That mask is kept apart from the call's own
arguments (``mask_arg``), as Keras keeps it out of configs and summaries: the call is recorded as the user made
it, and calling the layer again (loading, cloning) passes the mask again. A mask a layer computes anew is made
by a node of its own (``MaskComputation``): models run it like any other node, and only when something reads
the mask.
"""
from __future__ import annotations

from kerasish.utils.nest import flatten, map_structure


class Node:
    def __init__(self, operation, call_args: tuple, call_kwargs: dict, outputs, mask_arg=None):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs)
        self.input_tensors = [t for t in flatten((self.call_args, self.call_kwargs)) if _is_symbolic(t)]
        # the mask propagated to the call (not one the user passed): read at run time, never recorded
        self.mask_arg = mask_arg
        self.mask_tensors = [t for t in flatten(mask_arg) if _is_symbolic(t)]
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
        node.mask_arg, node.mask_tensors = None, []
        node.node_index = 0
        return node

    @property
    def run_kwargs(self) -> dict:
        """The keyword arguments of the call as a model runs it: the recorded ones, plus the propagated mask."""
        return self.call_kwargs if self.mask_arg is None else {**self.call_kwargs, "mask": self.mask_arg}

    @property
    def input_masks(self):
        """The masks of the call's inputs (Keras 2.3.1 ``node.input_masks``): one, a list, or None."""
        return map_structure(lambda t: getattr(t, "_keras_mask", None) if _is_symbolic(t) else None, self.inputs)

    @property
    def output_masks(self):
        return map_structure(lambda t: getattr(t, "_keras_mask", None) if _is_symbolic(t) else None, self.outputs)

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


class MaskComputation:
    """The operation of a node that computes a layer's output mask: ``layer.compute_mask(inputs, mask)`` on
    Keras-layout tensors. Not a layer: it has no weights, no name in configs and no line in summaries."""

    input_layout = "keras"

    def __init__(self, layer):
        self.layer = layer
        self.name = f"{layer.name}/compute_mask"
        self._inbound_nodes: list[Node] = []

    def __call__(self, inputs, mask=None):
        return self.layer.compute_mask(inputs, mask)

    def __repr__(self) -> str:
        return f"MaskComputation({self.layer.name})"


def _is_symbolic(value) -> bool:
    return hasattr(value, "_keras_history") and hasattr(value, "_twin")
