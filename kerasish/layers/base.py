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

import itertools
import re

import numpy as np
import torch
from torch import nn

from kerasish import backend, initializers, mixed_precision
from kerasish.layers import weight_layouts

KERAS = "keras"
CHANNELS_FIRST = "channels_first"
ANY = "any"


def to_layout(x: torch.Tensor, current: str, wanted: str) -> torch.Tensor:
    """Move the channel axis between Keras layout and channels-first; a no-op for rank < 3 or equal layouts."""
    if wanted == ANY or wanted == current or x.dim() < 3:
        return x
    return x.movedim(-1, 1) if wanted == CHANNELS_FIRST else x.movedim(1, -1)


def to_snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``LeakyReLU`` -> ``leaky_re_lu`` (Keras generic_utils)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


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
        self.built = False
        self.input_shape = None
        self.output_shape = None
        self._weight_penalties: dict = {}   # weight attribute -> (regularizer or None, constraint or None)
        self.activity_regularizer = None
        self._activity_penalty = None

    # ------------------------------------------------------------ building
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of Keras-layout shape ``input_shape`` (batch dim ``None``)."""
        self.built = True

    def _build_once(self, input_shape: tuple) -> None:
        if not self.built:
            self.build(tuple(input_shape))
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

    def cast_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the dtype this layer computes in (see the class docstring). Under ``torch.autocast`` (a mixed
        precision policy) autocast chooses the dtypes, so nothing is cast here."""
        wanted = self._compute_dtype
        if wanted is None or x.dtype == wanted or not x.is_floating_point() \
                or mixed_precision.autocast_enabled(x.device):
            return x
        return x.to(wanted)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(x)")

    def forward(self, x):
        out = self.call(self.cast_inputs(x))
        if self.activity_regularizer is not None and self.training:
            self._activity_penalty = self.activity_regularizer(out)
        return out

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
        return losses

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

    def _apply_trainable(self) -> None:
        for p in self.parameters():
            p.requires_grad_(self._trainable)

    # ------------------------------------------------------------ Keras weights
    def keras_weight_specs(self) -> list[tuple[str, weight_layouts.WeightLayout]]:
        """``(attribute name, layout)`` per weight, in Keras's order. Default: every parameter then every
        buffer, torch layout (right for layers that have no Keras twin, such as wrapped torch modules)."""
        names = [n for n, _ in self.named_parameters()] + [n for n, _ in self.named_buffers()]
        return [(n, weight_layouts.SAME) for n in names]

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
