"""The Layer base: a torch ``nn.Module`` with Keras's constructor arguments, lazy ``build`` and Keras weights.

Tensor layouts inside a model
-----------------------------
At the API every tensor is in Keras's layout (channels_last images ``(n, h, w, c)``). Convolutions are
fastest with channels at dim 1, so a layer declares which layout it wants for inputs of rank >= 3:

* ``KERAS`` -- the Keras logical layout (Dense, Flatten, Reshape, Permute, Lambda, torch modules ...);
* ``CHANNELS_FIRST`` -- the Keras layout with the last axis moved to dim 1 (channels_last convolutions,
  pooling, BatchNormalization on the last axis ...);
* ``ANY`` -- elementwise layers that work in either.

``Sequential`` converts only where consecutive layers disagree (``to_layout``), so a conv stack pays one
``movedim`` at its entry and one at its exit. From a contiguous NHWC tensor ``movedim(-1, 1)`` is a free
view whose memory is torch's ``channels_last`` format, which the conv kernels keep.
"""
from __future__ import annotations

import functools
import inspect
import itertools
import re

import numpy as np
import torch
from torch import nn

from kerasish import backend, initializers, mixed_precision
from kerasish.layers import legacy_arguments, weight_layouts
from kerasish.layers.keras_tensor import KerasTensor, any_symbolic, infer_outputs
from kerasish.layers.node import MaskComputation, Node
from kerasish.utils.generic_utils import serialize_keras_object, to_snake_case  # noqa: F401 - re-exported
from kerasish.utils.nest import flatten, map_structure

KERAS = "keras"
CHANNELS_FIRST = "channels_first"
ANY = "any"


def to_layout(x: torch.Tensor, current: str, wanted: str) -> torch.Tensor:
    """Move the channel axis between Keras layout and channels-first; a no-op for rank < 3 or equal layouts."""
    if wanted == ANY or wanted == current or x.dim() < 3:
        return x
    return x.movedim(-1, 1) if wanted == CHANNELS_FIRST else x.movedim(1, -1)


def normalize_tuple(value, n: int, arg_name: str) -> tuple:
    """``3`` -> ``(3, 3)``; validates a kernel_size/strides/pool_size style argument."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        values = ()
    if len(values) != n:
        raise ValueError(f"{arg_name}: expected an int or a tuple of {n} ints; received {value!r}.")
    return values


class InputSpec:
    """What a layer accepts (Keras 2.3.1 ``InputSpec``): ``dtype``, ``shape`` (None entries unchecked), ``ndim``,
    ``max_ndim``, ``min_ndim`` and ``axes`` (``{axis: size}``). Set ``self.input_spec`` (one spec, or a list of
    one per input) and calls on symbolic tensors are checked, with Keras's messages."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def __repr__(self) -> str:
        parts = [f"{key}={value}" for key, value in (("dtype", self.dtype), ("shape", self.shape),
                                                     ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                                     ("min_ndim", self.min_ndim), ("axes", self.axes)) if value]
        return f"InputSpec({', '.join(parts)})"

    def check(self, shape: tuple, dtype: str, input_index: int, layer_name: str) -> None:
        prefix = f"Input {input_index} is incompatible with layer {layer_name}:"
        rank = len(shape)
        for bound, ok in (("ndim", self.ndim is None or rank == self.ndim),
                          ("max_ndim", self.max_ndim is None or rank <= self.max_ndim),
                          ("min_ndim", self.min_ndim is None or rank >= self.min_ndim)):
            if not ok:
                raise ValueError(f"{prefix} expected {bound}={getattr(self, bound)}, found ndim={rank}")
        if self.dtype is not None and str(self.dtype) != dtype:
            raise ValueError(f"{prefix} expected dtype={self.dtype}, found dtype={dtype}")
        for axis, value in self.axes.items():
            if value is not None and -rank <= int(axis) < rank and shape[int(axis)] not in (value, None):
                raise ValueError(f"{prefix} expected axis {axis} of input shape to have value {value} but got "
                                 f"shape {shape}")
        if self.shape is not None:
            for want, got in zip(self.shape, shape):
                if want is not None and got is not None and want != got:
                    raise ValueError(f"{prefix} expected shape={self.shape}, found shape={shape}")


_BASE_KWARGS = ("input_shape", "input_dim", "batch_input_shape", "batch_size", "dtype", "name",
                "trainable", "weights", "input_length")


class Layer(nn.Module):
    """Base of every kerasish layer.

    Subclasses implement ``build(input_shape)`` (create parameters from the Keras-layout input shape,
    batch dimension ``None``, with ``initial_value``) and ``call(x)`` on tensors in ``self.input_layout``.
    Parameters that have a Keras twin are listed by ``keras_weight_specs()`` in Keras's weight order.

    dtype: ``dtype=`` or else ``backend.floatx()`` when the layer is constructed is the dtype of its weights
    (Keras 2.3.1 ``Layer.__init__`` and ``add_weight``). A layer with floating weights computes in their
    dtype: floating inputs of another dtype are cast to it. Keras 2.3.1 has no such cast (TensorFlow refuses
    ``float32 @ float64``, so a model mixing layer dtypes fails to build there); tf.keras's layers cast their
    inputs the same way. A layer without weights computes in its input's dtype, as in Keras 2.3.1.
    """

    input_layout = KERAS
    # Keras 2.3.1: a layer that passes masks on (or consumes them) says so; one that does not support masking
    # raises when a mask reaches it (compute_mask below). Layers set it as a class or instance attribute.
    supports_masking = False
    # The dtype a Sequential whose first layer this is feeds its input in (Embedding: 'int32'); None: the layer's
    # own dtype. A class attribute, so that the lookup at every step finds it without nn.Module's __getattr__.
    input_dtype = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Keras 2.3.1 decorates some constructors and methods to accept Keras 1 argument names (Dense(output_dim=
        # ...)); legacy_arguments.DECORATED says which, and wraps them here as each class is defined
        legacy_arguments.install(cls)
        # Keras's own build methods end with `self.built = True`; a layer's build called directly (a custom layer
        # building its sublayers: `self.dense.build(input_shape)`) must leave it built, with its weights kept
        if "build" in vars(cls) and not hasattr(cls, "_is_graph_network"):
            cls.build = _completing_build(vars(cls)["build"])
        # facts read at every call, set once per class here: set lazily at a class's first call, inside
        # torch.compile (jit_compile), they broke its graph and made it give up compiling the model's graph loop
        cls._call_arguments_cache = frozenset(inspect.signature(cls.call).parameters)
        cls._user_layer_cache = not cls.__module__.startswith("kerasish.")

    def __init__(self, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_BASE_KWARGS))
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {unknown}; "
                            f"accepted besides the layer's own: {list(_BASE_KWARGS)}.")
        name = kwargs.get("name")
        prefix = to_snake_case(type(self).__name__)
        self.name = name if name else f"{prefix}_{backend.get_uid(prefix)}"
        self.batch_input_shape = _batch_input_shape_from(kwargs, type(self).__name__)
        dtype = kwargs.get("dtype")
        self.dtype = (backend.floatx() if dtype is None
                      else backend.standardize_dtype(dtype, f"{type(self).__name__}: dtype"))
        self._compute_dtype: torch.dtype | None = None  # its weights' dtype once built (None: no weights)
        self._initial_weights = kwargs.get("weights")
        self._trainable = bool(kwargs.get("trainable", True))
        self._enclosing_trainable = True  # False inside a model (or wrapper) set trainable=False: see below
        self.built = False
        self._inbound_nodes: list[Node] = []  # one per call on symbolic tensors (see node.py)
        self.input_spec = None
        self._call_losses: list = []  # add_loss values of the last call, consumed by regularization_losses()
        self._added_weights: list[tuple[str, bool]] = []  # (attribute, trainable) per add_weight call
        self._weight_penalties: dict = {}   # weight attribute -> (regularizer or None, constraint or None)
        self.activity_regularizer = None
        self._activity_penalty = None

    # ------------------------------------------------------------ building
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of Keras-layout shape ``input_shape`` (batch dim ``None``)."""
        self.built = True

    def _build_once(self, input_shape) -> None:
        """``input_shape``: a Keras shape tuple, or a list of them for a layer of several inputs."""
        if not self.built:
            self.build(input_shape if isinstance(input_shape, list) else tuple(input_shape))
            self._complete_build()

    def _complete_build(self) -> None:
        """After ``build``: built, trainable flags and dtype following the new weights, ``weights=`` set. Safe to
        run twice (``weights=`` is set once)."""
        self.built = True
        self._apply_trainable()
        self._follow_weights_dtype()
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def initial_value(self, initializer, shape: tuple, layout: weight_layouts.WeightLayout = weight_layouts.SAME):
        """A new weight's value: ``initializer`` called with the Keras-layout ``shape`` and this layer's dtype
        (Keras 2.3.1 ``add_weight``), returned in torch layout."""
        value = initializers.initial_value(initializer, shape, backend.torch_dtype(self.dtype))
        return layout.from_keras(value).contiguous()

    def _follow_weights_dtype(self) -> None:
        """The layer computes in its floating weights' dtype, and that is its ``dtype`` (no change without them)."""
        self._compute_dtype = next((t.dtype for t in itertools.chain(self.parameters(), self.buffers())
                                    if t.is_floating_point()), None)
        if self._compute_dtype is not None:
            self.dtype = backend.standardize_dtype(self._compute_dtype)

    def _apply(self, fn, *args, **kwargs):
        # torch's .to(dtype)/.double()/.half() convert the weights through here: the dtype follows them
        result = super()._apply(fn, *args, **kwargs)
        self._follow_weights_dtype()
        return result

    def cast_inputs(self, x):
        """``x`` (a tensor, or a list of them) in the dtype this layer computes in (see the class docstring). Under
        ``torch.autocast`` (a mixed precision policy) autocast chooses the dtypes, so nothing is cast here."""
        wanted = self._compute_dtype
        if wanted is None:
            return x
        if not isinstance(x, torch.Tensor):
            return map_structure(lambda t: self.cast_inputs(t) if isinstance(t, torch.Tensor) else t, x)
        if x.dtype == wanted or not x.is_floating_point() or mixed_precision.autocast_enabled(x.device):
            return x
        return x.to(wanted)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(x)")

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output (Keras 2.3.1 ``Layer.compute_mask``): a boolean tensor ``(batch,
        time)`` marking the steps that count, or None. A layer that supports masking passes ``mask`` on; one that
        does not raises Keras's TypeError when a mask reaches it. ``inputs`` and ``mask`` are in Keras's layout."""
        if not self.supports_masking:
            masks = mask if isinstance(mask, (list, tuple)) else [mask]
            if any(m is not None for m in masks):
                raise TypeError(f"Layer {self.name} does not support masking, but was passed an input_mask: "
                                f"{mask}")
            return None
        return mask

    def __call__(self, inputs, *args, **kwargs):
        """``layer(x)`` as Keras users call it: on symbolic tensors it records a graph node (the functional API);
        on real tensors (Keras layout) it builds on first use and computes. Models run their layers through
        ``nn.Module.__call__`` directly, in the layer's own layout (see graph.py)."""
        if isinstance(inputs, KerasTensor) or (isinstance(inputs, (list, tuple, dict)) and any_symbolic(inputs)) \
                or (kwargs and any_symbolic(kwargs)):
            return self._call_symbolic(inputs, args, kwargs)
        if not self.built:
            self._build_once(map_structure(_keras_shape, inputs))
        if self.input_layout in (KERAS, ANY):
            return super().__call__(inputs, *args, **kwargs)
        return self._call_in_keras_layout(inputs, *args, **kwargs)

    def forward(self, inputs, *args, **kwargs):
        if kwargs.get("training") is None and self._call_takes_training():
            kwargs["training"] = self.training  # Keras 2's learning phase: the model's mode
        if self._is_user_layer():
            # Keras 2 custom layers may change their inputs in place (`inputs -= K.mean(inputs)`): give them a
            # copy, so the tensor another layer made (and autograd may need) stays as it was
            inputs = map_structure(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, inputs)
        out = self.call(self.cast_inputs(inputs), *args, **kwargs)
        if self.activity_regularizer is not None and self.training:
            # Keras 2.3.1 regularizes every output of a layer of several (an RNN with return_state)
            self._activity_penalty = sum(map(self.activity_regularizer, out)) if isinstance(out, (list, tuple)) \
                else self.activity_regularizer(out)
        return out

    def _is_user_layer(self) -> bool:
        return type(self)._user_layer_cache  # per class, set by __init_subclass__

    def _call_takes_training(self) -> bool:
        return self._call_takes("training")

    def _call_takes(self, argument: str) -> bool:
        return argument in type(self)._call_arguments_cache  # per class, set by __init_subclass__

    # ------------------------------------------------------------ calls on symbolic tensors (the functional API)
    def _call_symbolic(self, inputs, args: tuple, kwargs: dict):
        """Build from the inputs' Keras shapes, infer the outputs without computing anything, record a Node.
        Masks the inputs carry reach ``call`` as ``mask=`` when it takes one (and no mask was given), and
        ``compute_mask`` gives the outputs theirs (Keras 2.3.1 ``Layer.__call__``)."""
        if not self.built:
            self.assert_input_compatibility(inputs)
            self._build_once(map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, inputs))
        self.assert_input_compatibility(inputs)
        previous_mask = _collected_masks(inputs)
        mask_arg = None
        if previous_mask is not None and "mask" not in kwargs and self._call_takes("mask"):
            mask_arg = previous_mask
        run_kwargs = kwargs if mask_arg is None else {**kwargs, "mask": mask_arg}
        was_training = self.training
        self.train(False)
        try:
            outputs = infer_outputs(self._call_in_keras_layout, (inputs,) + tuple(args), run_kwargs, module=self)
            node = Node(self, (inputs,) + tuple(args), kwargs, outputs, mask_arg=mask_arg)
            _attach_masks(node.outputs, self._symbolic_output_mask(inputs, previous_mask))
        finally:
            self.train(was_training)
        return node.outputs

    def _symbolic_output_mask(self, inputs, previous_mask):
        """``compute_mask`` on symbolic tensors: the input masks themselves where it passes them on (the common
        case, nothing recorded), else the outputs of a ``MaskComputation`` node."""
        if previous_mask is None and type(self).compute_mask is Layer.compute_mask:
            return None
        # a probe on the plain meta tensors: which masks are new, which are passed on
        passed_on = {}
        probe_masks = map_structure(lambda m: _remember_example(m, passed_on), previous_mask)
        probe_inputs = map_structure(lambda t: t.examples()[0] if isinstance(t, KerasTensor) else t, inputs)
        with torch._C.DisableTorchFunctionSubclass():
            probe = self.compute_mask(probe_inputs, probe_masks)
        leaves = [m for m in flatten(probe) if m is not None]
        if all(id(m) in passed_on for m in leaves):
            return map_structure(lambda m: passed_on[id(m)] if m is not None else None, probe)
        masks = infer_outputs(lambda x, mask: self.compute_mask(x, mask), (inputs, previous_mask), {}, module=self)
        return Node(MaskComputation(self), (inputs, previous_mask), {}, masks).outputs

    def _call_in_keras_layout(self, inputs, *args, **kwargs):
        """``self(inputs)`` for Keras-layout tensors, whatever layout the layer computes in."""
        layout = self.input_layout
        out = nn.Module.__call__(self, map_structure(lambda t: _keras_to(t, layout), inputs), *args, **kwargs)
        return map_structure(lambda t: _to_keras(t, layout), out)

    def assert_input_compatibility(self, inputs) -> None:
        """Check symbolic inputs against ``self.input_spec`` (Keras 2.3.1 wording)."""
        if not self.input_spec:
            return
        tensors = flatten(inputs)
        specs = list(self.input_spec) if isinstance(self.input_spec, (list, tuple)) else [self.input_spec]
        if len(tensors) != len(specs):
            raise ValueError(f"Layer {self.name} expects {len(specs)} inputs, but it received {len(tensors)} input "
                             f"tensors. Input received: {inputs}")
        for index, (tensor, spec) in enumerate(zip(tensors, specs)):
            if spec is not None and isinstance(tensor, torch.Tensor):
                spec.check(tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""), index, self.name)

    def __getattr__(self, name):
        # Parameters, buffers and submodules (``self.kernel`` in every call) are nn.Module's to find, first.
        # A property below that raises AttributeError (Keras's error for an unconnected layer) would otherwise
        # be replaced by nn.Module's "has no attribute": raise the property's own message.
        try:
            return super().__getattr__(name)
        except AttributeError:
            prop = getattr(type(self), name, None)
            if isinstance(prop, property):
                return prop.fget(self)
            raise

    # ------------------------------------------------------------ nodes: Keras 2.3.1's per-call properties
    @property
    def inbound_nodes(self) -> list[Node]:
        return self._inbound_nodes

    def _node_attribute(self, node_index: int, what: str, read):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no input to return."
                                 if what.startswith("input") else
                                 f"The layer {self.name} has never been called and thus has no defined {what}.")
        if not -len(self._inbound_nodes) <= node_index < len(self._inbound_nodes):
            raise ValueError(f"Asked to get {what} at node {node_index}, but the layer has only "
                             f"{len(self._inbound_nodes)} inbound nodes.")
        return read(self._inbound_nodes[node_index])

    def _single_node_attribute(self, what: str, read):
        values = [read(node) for node in self._inbound_nodes] or [self._node_attribute(0, what, read)]
        if any(_differs(value, values[0]) for value in values[1:]):
            raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, with different {what}s. '
                                 f'Hence the notion of "{what}" is ill-defined for the layer. Use '
                                 f"`get_{what.replace(' ', '_')}_at(node_index)` instead.")
        return values[0]

    def get_input_at(self, node_index: int):
        return self._node_attribute(node_index, "input", lambda node: node.inputs)

    def get_output_at(self, node_index: int):
        return self._node_attribute(node_index, "output", lambda node: node.outputs)

    def get_input_shape_at(self, node_index: int):
        return self._node_attribute(node_index, "input shape", Node.input_shapes)

    def get_output_shape_at(self, node_index: int):
        return self._node_attribute(node_index, "output shape", Node.output_shapes)

    @property
    def input(self):
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence the notion of \"layer "
                                 "input\" is ill-defined. Use `get_input_at(node_index)` instead.")
        return self.get_input_at(0)

    @property
    def output(self):
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence the notion of \"layer "
                                 "output\" is ill-defined. Use `get_output_at(node_index)` instead.")
        return self.get_output_at(0)

    @property
    def input_shape(self):
        return self._single_node_attribute("input shape", Node.input_shapes)

    @property
    def output_shape(self):
        return self._single_node_attribute("output shape", Node.output_shapes)

    # ------------------------------------------------------------ regularizers and constraints
    def set_weight_penalties(self, activity=None, **per_weight) -> None:
        """``kernel=(regularizer, constraint)`` ... as given to the constructor, resolved from Keras names."""
        from kerasish import constraints, regularizers
        for attr, (regularizer, constraint) in per_weight.items():
            resolved = (regularizers.get(regularizer), constraints.get(constraint))
            if resolved != (None, None):
                self._weight_penalties[attr] = resolved
        self.activity_regularizer = regularizers.get(activity)

    def regularization_losses(self) -> list[torch.Tensor]:
        """Penalties of this layer's weights (in Keras layout) and of its last training output."""
        losses = []
        layouts = dict(self.keras_weight_specs())
        for attr, (regularizer, _) in self._weight_penalties.items():
            weight = getattr(self, attr, None)
            if regularizer is not None and weight is not None:
                losses.append(regularizer(layouts.get(attr, weight_layouts.SAME).to_keras(weight)))
        if self._activity_penalty is not None:
            losses.append(self._activity_penalty)
            self._activity_penalty = None
        losses += [loss() if callable(loss) else loss for loss in self._call_losses]
        self._call_losses = []
        return losses

    def add_loss(self, losses, inputs=None) -> None:
        """Keras 2.3.1 ``Layer.add_loss``, called from ``call``: the loss (a tensor, a list of them, or a
        zero-argument callable) joins the model's loss for this step. Scalars are added as they are, other
        tensors by their mean."""
        for loss in losses if isinstance(losses, (list, tuple)) else [losses]:
            if isinstance(loss, torch.Tensor) and loss.device.type == "meta":
                continue  # a shape-inference run, not a step
            if isinstance(loss, torch.Tensor) and loss.dim() > 0:
                loss = loss.mean()
            self._call_losses.append(loss)

    def apply_constraints(self) -> None:
        """Project constrained weights after an optimizer step (Keras applies constraints in Keras layout)."""
        layouts = dict(self.keras_weight_specs())
        with torch.no_grad():
            for attr, (_, constraint) in self._weight_penalties.items():
                weight = getattr(self, attr, None)
                if constraint is not None and weight is not None:
                    layout = layouts.get(attr, weight_layouts.SAME)
                    weight.copy_(layout.from_keras(constraint(layout.to_keras(weight))))

    # ------------------------------------------------------------ trainable
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self._apply_trainable()

    def _effectively_trainable(self) -> bool:
        """Its own flag and every enclosing model's: Keras 2.3.1 ``Network.trainable_weights`` and
        ``Network.updates`` are empty for a model with ``trainable=False``, whatever its layers' flags say (which
        stay as they are: ``model.trainable = True`` again leaves a frozen layer frozen)."""
        return self._trainable and self._enclosing_trainable

    def _apply_trainable(self) -> None:
        effective = self._effectively_trainable()
        frozen = {id(getattr(self, attr)) for attr, trainable in self._added_weights if not trainable}
        for p in _own_parameters(self):
            p.requires_grad_(effective and id(p) not in frozen)
        for layer in _child_layers(self):
            layer._enclosing_trainable = effective
            layer._apply_trainable()

    # ------------------------------------------------------------ custom layers: Keras 2.3.1 add_weight
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None) -> nn.Parameter:
        """Create a weight in ``build`` (Keras 2.3.1 order: ``add_weight('kernel', (3, 4))`` works, as do
        keywords). The weight is a torch Parameter in Keras's layout, listed by ``get_weights`` in the order of
        the calls (trainable ones first, as Keras's ``weights``); ``initializer`` defaults to glorot_uniform."""
        from kerasish import initializers
        shape = () if shape is None else tuple(int(d) for d in ((shape,) if isinstance(shape, int) else shape))
        init = initializers.get(initializer if initializer is not None else "glorot_uniform")
        dtype = dtype or self.dtype
        torch_dtype = dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype))
        weight = nn.Parameter(init(shape, dtype=torch_dtype), requires_grad=bool(trainable) and self._trainable)
        attr = _weight_attribute(self, name or "weight")
        self.register_parameter(attr, weight)
        self._added_weights.append((attr, bool(trainable)))
        self.set_weight_penalties(**{attr: (regularizer, constraint)}, activity=self.activity_regularizer)
        return weight

    # ------------------------------------------------------------ Keras weights
    def keras_weight_specs(self) -> list[tuple[str, weight_layouts.WeightLayout]]:
        """``(attribute name, layout)`` per weight, in Keras's order. Default: the ``add_weight`` weights
        (trainable first), then every other parameter and buffer, in torch layout (right for custom layers,
        which compute in Keras's layout, and for wrapped torch modules)."""
        added = [attr for attr, trainable in self._added_weights if trainable] + \
                [attr for attr, trainable in self._added_weights if not trainable]
        taken = {id(getattr(self, attr)) for attr in added}
        others = [n for n, p in self.named_parameters() if id(p) not in taken] + [n for n, _ in self.named_buffers()]
        return [(n, weight_layouts.SAME) for n in added + others]

    def _weight_tensors(self) -> list[tuple[torch.Tensor, weight_layouts.WeightLayout]]:
        tensors = []
        for attr, layout in self.keras_weight_specs():
            tensors.append((self.get_parameter(attr) if _is_parameter(self, attr) else self.get_buffer(attr), layout))
        return tensors

    @property
    def weights(self) -> list[torch.Tensor]:
        return [t for t, _ in self._weight_tensors()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [t for t in self.weights if isinstance(t, nn.Parameter) and t.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [t for t in self.weights if not (isinstance(t, nn.Parameter) and t.requires_grad)]

    def get_weights(self) -> list[np.ndarray]:
        """The layer's weights as NumPy arrays in Keras layouts (Dense kernel ``(in, out)`` ...), each of its
        weight's dtype (bfloat16, which NumPy lacks, as float32)."""
        return [backend.to_numpy(layout.to_keras(t.detach())).copy() for t, layout in self._weight_tensors()]

    def set_weights(self, weights) -> None:
        """Set the weights from NumPy arrays in Keras layouts; shapes are checked before anything changes."""
        tensors = self._weight_tensors()
        weights = list(weights)
        if len(weights) != len(tensors):
            raise ValueError(f"Layer {self.name!r}: set_weights expects a list of {len(tensors)} arrays "
                             f"(shapes {[layout.keras_shape(tuple(t.shape)) for t, layout in tensors]}); "
                             f"received {len(weights)}.")
        converted = []
        for i, ((tensor, layout), value) in enumerate(zip(tensors, weights)):
            expected = layout.keras_shape(tuple(tensor.shape))
            value = np.asarray(value)
            if tuple(value.shape) != expected:
                raise ValueError(f"Layer {self.name!r}: weight #{i} must have shape {expected}; "
                                 f"received an array of shape {tuple(value.shape)}.")
            converted.append(layout.from_keras(torch.as_tensor(value)))
        with torch.no_grad():
            for (tensor, _), value in zip(tensors, converted):
                tensor.copy_(value.to(device=tensor.device, dtype=tensor.dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call count_params on {self.name}, but the layer isn't built. "
                             "You can build it manually via: `layer.build(batch_input_shape)`.")
        return int(sum(t.numel() for t in self.weights))

    # ------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = self.batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        """The layer ``get_config()`` describes (Keras 2.3.1 ``Layer.from_config``: ``cls(**config)``)."""
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def penalties_config(layer: Layer, weights: tuple[str, ...], activity: bool = True) -> dict:
    """``{'<weight>_regularizer': ..., '<weight>_constraint': ...}`` from what ``set_weight_penalties``
    resolved, serialised as Keras 2.3.1 writes them (``{'class_name': 'L1L2', 'config': {...}}``)."""
    config = {}
    for attr in weights:
        regularizer, constraint = layer._weight_penalties.get(attr, (None, None))
        config[f"{attr.replace('_kernel', '')}_regularizer"] = serialize_keras_object(regularizer)
        config[f"{attr.replace('_kernel', '')}_constraint"] = serialize_keras_object(constraint)
    if activity:
        config["activity_regularizer"] = serialize_keras_object(layer.activity_regularizer)
    return config


def _collected_masks(inputs):
    """The masks the inputs carry (Keras 2.3.1 ``_collect_previous_mask``): one per input tensor, a single one
    for a single input; None when no input carries one."""
    masks = map_structure(lambda t: t._keras_mask if isinstance(t, KerasTensor) else None, inputs)
    return masks if any(m is not None for m in flatten(masks)) else None


def _attach_masks(outputs, masks) -> None:
    """Give each output tensor its mask; one mask for several outputs goes to each (Keras 2.3.1)."""
    tensors = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
    if masks is None:
        return
    mask_list = flatten(masks) if isinstance(masks, (list, tuple)) else [masks] * len(tensors)
    for tensor, mask in zip(tensors, mask_list):
        tensor._keras_mask = mask


def _remember_example(mask, passed_on: dict):
    if not isinstance(mask, KerasTensor):
        return mask
    example = mask.examples()[0]
    passed_on[id(example)] = mask
    return example


def _completing_build(build):
    """``build`` that completes the layer (``Layer._complete_build``) when it returns, unless it runs inside
    another build of the same layer (a subclass's build calling ``super().build``): the outermost completes."""
    @functools.wraps(build)
    def completing_build(self, input_shape):
        depth = self.__dict__.get("_build_depth", 0)
        self.__dict__["_build_depth"] = depth + 1
        try:
            build(self, input_shape)
        finally:
            self.__dict__["_build_depth"] = depth
        if depth == 0:
            self._complete_build()

    return completing_build


Layer._call_arguments_cache = frozenset(inspect.signature(Layer.call).parameters)
Layer._user_layer_cache = False


def _child_layers(module: nn.Module):
    """The Layers directly inside ``module`` (through plain torch containers such as ModuleList)."""
    for child in module.children():
        if isinstance(child, Layer):
            yield child
        else:
            yield from _child_layers(child)


def _own_parameters(module: nn.Module):
    """``module``'s parameters, less those of the Layers inside it (each of which applies its own flags)."""
    yield from module.parameters(recurse=False)
    for child in module.children():
        if not isinstance(child, Layer):
            yield from _own_parameters(child)


def _weight_attribute(layer: nn.Module, name: str) -> str:
    """A free attribute name for a weight called ``name`` (Keras names may hold '/' or '.')."""
    base = re.sub(r"\W", "_", str(name)) or "weight"
    attr, n = base, 1
    while attr in layer._parameters or attr in layer._buffers or attr in layer._modules:
        n += 1
        attr = f"{base}_{n}"
    return attr


def _keras_shape(t):
    return (None,) + tuple(t.shape[1:]) if isinstance(t, torch.Tensor) else None


def _keras_to(t, layout: str):
    return to_layout(t, KERAS, layout) if isinstance(t, torch.Tensor) else t


def _to_keras(t, layout: str):
    return to_layout(t, layout, KERAS) if isinstance(t, torch.Tensor) and layout != ANY else t


def _differs(a, b) -> bool:
    return repr(a) != repr(b)


def _is_parameter(module: nn.Module, attr: str) -> bool:
    *path, leaf = attr.split(".")
    owner = module.get_submodule(".".join(path)) if path else module
    return leaf in owner._parameters


def _batch_input_shape_from(kwargs: dict, layer_type: str):
    """Keras's three ways to declare the input: ``batch_input_shape``, ``input_shape`` (+ ``batch_size``),
    ``input_dim`` (+ ``input_length`` for sequence layers). Returns a tuple with the batch dim, or None."""
    if kwargs.get("batch_input_shape") is not None:
        return tuple(None if d is None else int(d) for d in kwargs["batch_input_shape"])
    if kwargs.get("input_shape") is not None:
        shape = kwargs["input_shape"]
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        try:
            shape = tuple(None if d is None else int(d) for d in shape)
        except TypeError as err:
            raise TypeError(f"{layer_type}: input_shape must be a tuple of ints such as (28, 28, 1); "
                            f"received {shape!r}.") from err
        return (kwargs.get("batch_size"),) + shape
    if kwargs.get("input_dim") is not None:
        if kwargs.get("input_length") is not None:
            return (kwargs.get("batch_size"), kwargs["input_length"], int(kwargs["input_dim"]))
        return (kwargs.get("batch_size"), int(kwargs["input_dim"]))
    return None
