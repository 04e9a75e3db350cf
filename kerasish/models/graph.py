"""The graph of a functional model: which nodes lie between its inputs and outputs, in which order they run,
and the flat loop that runs them.

Built once, when the model is made: ``GraphPlan(inputs, outputs)`` walks back from the outputs (Keras 2.3.1
``network._map_graph_network``: depth first, a node's depth is its longest path to an output), checks that
every tensor can be computed from the inputs, and sorts the nodes so that each runs after its inputs exist.
A call then is one Python loop over ``steps``: no graph walking, no dictionaries keyed by tensors.

In inference (autograd off: predict, evaluate), an elementwise activation whose input nobody reads afterwards
writes its output over that input (``call_in_place``: ReLU, Activation('relu')), as torchvision's
``ReLU(inplace=True)`` does: no fresh buffer per activation; an Add writes its sum over its first input in the
same way (torchvision's ResNet ``out += identity``). In training the same holds for an input that needs
no gradient (a frozen base in transfer learning) and that the activation alone reads: no autograd node can
have saved it (its producer was not recorded, and no other layer read it). Which steps may do so is decided
with the plan (the step is its input's last reader; the input is no model input or output); each call then
checks that no other value or outside reference shares the input's memory (``_overwritable``).

A ZeroPadding layer whose output a convolution alone reads leaves its zeros to that convolution
(``call_zero_padded``): no padded copy of the input is written (on the CPU that copy, a fill of fresh memory and
a copy into it, was 12 % of MobileNetV2's frozen-base training step). Symmetric zeros become the convolution's
own padding; uneven ones (MobileNetV2's stride-2 blocks) widen a depthwise kernel (``window_ops.pad_for_conv``).

Layouts: each value remembers the layout it was computed in (see layers/base.py); a step converts its inputs
only where the layer wants another one, so a chain of convolutions stays channels-first throughout. Model
outputs leave in Keras's layout.
"""
from __future__ import annotations

import sys

import torch
from torch import nn
from torch.nn.modules import module as torch_module

from kerasish import backend
from kerasish.layers.base import ANY, KERAS, Layer, to_layout
from kerasish.layers.node import MaskComputation
from kerasish.utils.nest import flatten, map_structure, pack_like


class Step:
    """One node to run: its operation, its arguments with value slots in place of symbolic tensors, the slots
    its outputs go to, and the layout it computes in."""

    __slots__ = ("node", "operation", "call", "args", "kwargs", "input_slots", "output_slots", "layout",
                 "single_input", "in_place", "folds_into")

    def __init__(self, node, slot_of: dict):
        self.node = node
        self.operation = node.operation
        # A layer's inputs arrive already in its layout: call the module itself, past Layer.__call__'s
        # conversions from Keras's layout.
        self.call = nn.Module.__call__.__get__(node.operation) if isinstance(node.operation, nn.Module) \
            else node.operation
        self.args = map_structure(lambda t: _Slot(slot_of[id(t)]) if _symbolic(t) else t, list(node.call_args))
        self.kwargs = map_structure(lambda t: _Slot(slot_of[id(t)]) if _symbolic(t) else t, node.run_kwargs)
        self.input_slots = [slot_of[id(t)] for t in node.input_tensors + node.mask_tensors]
        self.output_slots = [slot_of[id(t)] for t in node.output_tensors]
        self.layout = getattr(node.operation, "input_layout", KERAS)
        # The common case, one tensor in and no keywords, skips the structure walk.
        self.single_input = (len(self.args) == 1 and isinstance(self.args[0], _Slot) and not self.kwargs)
        self.in_place = False  # set by GraphPlan: may overwrite its input in inference
        self.folds_into = None  # set by GraphPlan: the convolution step that takes this ZeroPadding's zeros


class _Slot:
    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


class GraphPlan:
    def __init__(self, inputs: list, outputs: list):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        run_order = _nodes_in_run_order(self.inputs, self.outputs)
        # the nodes Keras knows (summaries, configs, depths); the mask computations run among them
        self.nodes = [node for node in run_order if not isinstance(node.operation, MaskComputation)]
        self.layers = _layers_in_keras_order(self.inputs, self.outputs, self.nodes)
        slot_of: dict[int, int] = {}
        for tensor in self.inputs:
            slot_of.setdefault(id(tensor), len(slot_of))
        for node in run_order:
            for tensor in node.output_tensors:
                slot_of.setdefault(id(tensor), len(slot_of))
        self.num_slots = len(slot_of)
        self.input_slots = [slot_of[id(t)] for t in self.inputs]
        self.output_slots = [slot_of[id(t)] for t in self.outputs]
        self.steps = [Step(node, slot_of) for node in run_order if node.input_tensors]
        consumers = [0] * self.num_slots
        for step in self.steps:
            for slot in step.input_slots:
                consumers[slot] += 1
        self.consumers = consumers
        # A value is dropped after the last step that reads it (model outputs excepted), so memory of dead
        # activations is reused at once, as eager PyTorch code does, instead of every activation of the call
        # staying alive to its end (fresh memory for each layer's output: page faults on the CPU, peak memory).
        last_reader = {}
        for position, step in enumerate(self.steps):
            for slot in step.input_slots:
                last_reader[slot] = position
        kept = set(self.output_slots)
        self.released_after = [[] for _ in self.steps]
        for slot, position in last_reader.items():
            if slot not in kept:
                self.released_after[position].append(slot)
        for position, step in enumerate(self.steps):
            step.in_place = _may_run_in_place(step, position, last_reader, kept | set(self.input_slots))
            step.folds_into = _padded_convolution(step, self.steps, consumers, kept)

    def run(self, input_values: list, logits_steps: tuple = ()):
        """The outputs (a list, in ``outputs`` order, Keras layout) for ``input_values`` (Keras layout).
        The ``logits_steps`` run without their final activation (``call_pre_activation``)."""
        values = [None] * self.num_slots
        layouts = [KERAS] * self.num_slots
        for slot, value in zip(self.input_slots, input_values):
            values[slot] = value
        # not under torch.compile: it traces one graph for any call, and handles buffers itself
        in_place = not torch.compiler.is_compiling()
        grad_enabled = torch.is_grad_enabled()
        zero_pads = {}  # slot -> the zeros a folded ZeroPadding step left to the convolution that reads the slot
        for step, released in zip(self.steps, self.released_after):
            if step.folds_into is not None and in_place and _may_fold(step, logits_steps):
                # the convolution pads: the ZeroPadding's output is its input, with the zeros noted
                source, target = step.args[0].index, step.output_slots[0]
                values[target], layouts[target] = values[source], layouts[source]
                zero_pads[target] = step.operation.padding
                for slot in released:
                    values[slot] = None
                continue
            call = step.operation.call_pre_activation if logits_steps and step in logits_steps else step.call
            if step.single_input:
                slot = step.args[0].index
                layout = layouts[slot] if step.layout == ANY else step.layout
                result = None
                if zero_pads and slot in zero_pads:
                    result = step.operation.call_zero_padded(to_layout(values[slot], layouts[slot], layout),
                                                             zero_pads.pop(slot))
                elif in_place and step.in_place and (not grad_enabled or self.consumers[slot] == 1) \
                        and _overwritable(values[slot], values, input_values) \
                        and not _hooked(step.operation) and not (logits_steps and step in logits_steps):
                    result = step.operation.call_in_place(values[slot])
                if result is None:
                    result = call(to_layout(values[slot], layouts[slot], layout))
            else:
                layout = _common_layout(step, layouts)
                fill = lambda v: (to_layout(values[v.index], layouts[v.index], layout)  # noqa: E731
                                  if isinstance(v, _Slot) else v)
                result = None
                if in_place and step.in_place:  # a merge (Add) that may write over its first input
                    slot = step.input_slots[0]
                    if (not grad_enabled or self.consumers[slot] == 1) \
                            and _overwritable(values[slot], values, input_values) and not _hooked(step.operation):
                        result = step.operation.call_in_place(map_structure(fill, step.args[0]))
                if result is None:
                    result = call(*map_structure(fill, step.args), **map_structure(fill, step.kwargs))
            for slot, value in zip(step.output_slots, _output_leaves(result, len(step.output_slots))):
                values[slot] = value
                layouts[slot] = layout
            for slot in released:
                values[slot] = None
            result = value = None  # so that values holds each tensor alone (what _overwritable counts on)
        return [to_layout(values[slot], layouts[slot], KERAS) for slot in self.output_slots]


def _may_run_in_place(step: Step, position: int, last_reader: dict, kept: set) -> bool:
    """Whether ``step`` may write its output over its (first) input, as far as the graph tells: a kerasish layer
    with ``call_in_place`` (a user's subclass may compute otherwise) in any layout (no conversion of that input),
    one input or a merge's list of them (no masks), the input read by nothing after this step and only once by
    it, neither a model input nor a model output, and no activity regularizer."""
    operation = step.operation
    if not (isinstance(operation, Layer) and hasattr(operation, "call_in_place")) or operation._is_user_layer():
        return False
    if step.layout != ANY or len(step.output_slots) != 1 or operation.activity_regularizer is not None:
        return False
    if step.single_input:
        slot = step.args[0].index
        others = []
    elif len(step.args) == 1 and not step.kwargs and isinstance(step.args[0], list) and len(step.args[0]) > 1 \
            and all(isinstance(v, _Slot) for v in step.args[0]):
        slot = step.args[0][0].index
        others = [v.index for v in step.args[0][1:]]
    else:
        return False
    return step.input_slots == [slot] + others and slot not in others and last_reader.get(slot) == position \
        and slot not in kept


def _padded_convolution(step: Step, steps: list, consumers: list, kept: set) -> Step | None:
    """The step of the convolution that alone reads this ZeroPadding step's output, when the padding can be
    left to it (``call_zero_padded``: no padded copy of the input is written): kerasish layers both (a user's
    subclass may compute otherwise), in the same layout, no activity regularizer, the padded tensor no model
    output. MobileNet/MobileNetV2 pad before each stride-2 depthwise convolution, ResNet50 before its first."""
    operation = step.operation
    if not getattr(operation, "folds_into_convolution", False) or operation._is_user_layer() \
            or operation.activity_regularizer is not None or not step.single_input or len(step.output_slots) != 1:
        return None
    slot = step.output_slots[0]
    if consumers[slot] != 1 or slot in kept:
        return None
    reader = next(other for other in steps if slot in other.input_slots)
    convolution = reader.operation
    if not (isinstance(convolution, Layer) and getattr(convolution, "call_zero_padded", None) is not None) \
            or convolution._is_user_layer() or convolution.activity_regularizer is not None \
            or not reader.single_input or reader.layout != step.layout:
        return None
    return reader


def _may_fold(step: Step, logits_steps: tuple) -> bool:
    """At run time: no hook would miss the padded tensor, and the convolution runs whole (not without its final
    activation, as a model's last layer may)."""
    return not (_hooked(step.operation) or _hooked(step.folds_into.operation)
                or (logits_steps and step.folds_into in logits_steps))


def _references_seen_by_callee(x) -> int:
    return sys.getrefcount(x)


def _own_references() -> int:
    """What ``_overwritable`` counts for a tensor the values list alone holds (CPython 3.11: the list, the
    parameter, getrefcount's argument), measured once so that another interpreter's counting cannot make it
    overwrite a tensor held elsewhere."""
    held = [torch.empty(1)]
    return _references_seen_by_callee(held[0])


_OWN_REFERENCES = _own_references()


def _overwritable(x, values: list, input_values: list) -> bool:
    """Whether nothing but ``values`` holds ``x`` or its memory: not a view (its base may be read elsewhere), no
    other live value or model input in the same storage (a view of it, or it a view of them), no reference from
    outside the plan (a Lambda that kept it)."""
    if not isinstance(x, torch.Tensor) or x._base is not None or x.requires_grad or x.numel() == 0 \
            or sys.getrefcount(x) > _OWN_REFERENCES:
        return False
    memory = x.untyped_storage().data_ptr()
    for other in (*values, *input_values):
        if other is not x and isinstance(other, torch.Tensor) and other.untyped_storage().data_ptr() == memory:
            return False
    return True


def _hooked(module: nn.Module) -> bool:
    """Forward hooks (the module's or torch's global ones) would see the input after it was overwritten."""
    return bool(module._forward_hooks or module._forward_pre_hooks
                or getattr(torch_module, "_global_forward_hooks", None)
                or getattr(torch_module, "_global_forward_pre_hooks", None))


def _common_layout(step: Step, layouts: list) -> str:
    """A layer of several inputs gets them in one layout: its own, or (layout-agnostic layers) the first's."""
    if step.layout != ANY:
        return step.layout
    return layouts[step.input_slots[0]] if step.input_slots else KERAS


def _output_leaves(result, count: int) -> list:
    if count == 1 and not isinstance(result, (list, tuple, dict)):
        return [result]
    leaves = flatten(result)
    return [leaf for leaf in leaves if leaf is not None][:count] if len(leaves) != count else leaves


def _symbolic(value) -> bool:
    return hasattr(value, "_keras_history") and hasattr(value, "_twin")


# ---------------------------------------------------------------------------------------------- mapping
def _nodes_in_run_order(inputs: list, outputs: list) -> list:
    """Every node between the inputs and the outputs, each after the nodes that make its inputs; raises Keras
    2.3.1's "Graph disconnected" error when an output needs a tensor the inputs cannot give."""
    input_ids = {id(t) for t in inputs}
    order, finished, in_progress = [], set(), set()

    def visit(tensor, via):
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f'The tensor {tensor!r} at layer "{operation.name}" is part of a cycle.')
        if id(tensor) not in input_ids:
            if not node.input_tensors:
                done = [n.operation.name for n in order]
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {tensor!r} at layer "
                                 f'"{via}". The following previous layers were accessed without issue: {done}')
            in_progress.add(id(node))
            for parent in node.input_tensors + node.mask_tensors:
                visit(parent, operation.name)
            in_progress.discard(id(node))
        finished.add(id(node))
        order.append(node)

    for tensor in outputs:
        visit(tensor, tensor._keras_history[0].name)
    return order


def _layers_in_keras_order(inputs: list, outputs: list, nodes: list) -> list:
    """``model.layers`` as Keras 2.3.1 orders them: by decreasing depth (a layer's longest path to an output,
    the deepest of its nodes), ties in the order a depth-first walk from the outputs first meets them. Torch
    ops recorded in the graph are not layers and are left out."""
    first_seen: dict[int, int] = {}
    discovered: set[int] = set()

    def discover(tensor):
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        first_seen.setdefault(id(operation), len(first_seen))
        # Each node once (Keras's build_map skips finished nodes): without this, every residual block
        # doubles the walk.
        if id(node) in discovered:
            return
        discovered.add(id(node))
        for parent in node.input_tensors:
            discover(parent)

    for tensor in outputs:
        discover(tensor)
    _, layer_depth = keras_depths(nodes)
    by_id = {id(node.operation): node.operation for node in nodes}
    ordered = sorted(by_id.values(), key=lambda op: (-layer_depth[id(op)], first_seen.get(id(op), 0)))
    return [op for op in ordered if isinstance(op, Layer)]


def keras_depths(nodes: list) -> tuple[dict, dict]:
    """Keras 2.3.1 ``_map_graph_network``'s depths, keyed by ``id``: ``(node -> depth, operation -> depth)``.
    A node's depth is its longest path to an output; a node of a shared layer met deeper before takes that
    depth, so the layer has one depth. ``nodes`` in run order (each after the nodes it reads)."""
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(nodes):  # outputs first
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.operation), 0))
        node_depth[id(node)] = depth
        layer_depth[id(node.operation)] = depth
        for parent in node.input_tensors:
            operation, node_index, _ = parent._keras_history
            parent_node = operation._inbound_nodes[node_index]
            node_depth[id(parent_node)] = max(node_depth.get(id(parent_node), 0), depth + 1)
    return node_depth, layer_depth


def nodes_by_depth(nodes: list) -> dict[int, list]:
    """Keras 2.3.1 ``Network._nodes_by_depth``: depth -> the nodes at that depth, in run order."""
    node_depth, _ = keras_depths(nodes)
    grouped: dict[int, list] = {}
    for node in nodes:
        grouped.setdefault(node_depth[id(node)], []).append(node)
    return grouped


def structure_of(value):
    """``pack_like``'s template for a model's inputs or outputs as the user gave them."""
    return map_structure(lambda _: None, value)


__all__ = ["GraphPlan", "GraphFunction", "keras_depths", "nodes_by_depth", "structure_of", "pack_like"]


# ---------------------------------------------------------------------------------------------- K.function
class GraphFunction:
    """What ``K.function(inputs, outputs)`` returns: the graph between them as a callable on arrays (reading
    intermediate activations: ``K.function([model.input], [model.layers[2].output])([x])``)."""

    def __init__(self, inputs, outputs, updates=None, **kwargs):
        if updates:
            raise ValueError("K.function: updates (assignments run with each call) are a TensorFlow graph feature; "
                             "kerasish functions compute outputs only. Apply the updates yourself after the call.")
        if kwargs:
            raise TypeError(f"K.function: unexpected keyword arguments {sorted(kwargs)} (TensorFlow session options "
                            "have no kerasish equivalent).")
        self._single_output = not isinstance(outputs, (list, tuple))
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._phase_positions = [i for i, t in enumerate(inputs) if not _symbolic(t)]  # K.learning_phase()
        self._symbolic_inputs = [t for t in inputs if _symbolic(t)]
        self._plan = GraphPlan(self._symbolic_inputs, list(outputs) if not self._single_output else [outputs])

    def __call__(self, values):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        count = len(self._symbolic_inputs) + len(self._phase_positions)
        if len(values) != count:
            raise ValueError(f"K.function: expected {count} input values (one per input), received {len(values)}.")
        training = bool(values[self._phase_positions[0]]) if self._phase_positions else False
        device = backend.get_device()
        tensors = [torch.as_tensor(v).to(device) for i, v in enumerate(values) if i not in self._phase_positions]
        tensors = [t.to(backend.torch_floatx()) if t.is_floating_point() and s.dtype.is_floating_point
                   and t.dtype != s.dtype else t for t, s in zip(tensors, self._symbolic_inputs)]
        layers = self._plan.layers
        modes = [layer.training for layer in layers]
        for layer in layers:
            layer.to(device).train(training)
        try:
            with torch.no_grad():
                outputs = self._plan.run(tensors)
        finally:
            for layer, mode in zip(layers, modes):
                layer.train(mode)
        arrays = [backend.to_numpy(t) for t in outputs]
        return arrays[0] if self._single_output else arrays
