"""Core layers (Keras 2.3.1 ``keras/layers/core.py``): Dense, Activation, Dropout, SpatialDropout1D/2D/3D,
Flatten, Reshape, Permute, Masking, RepeatVector, ActivityRegularization, Lambda, and TorchModule (the adapter
that lets any ``torch.nn.Module`` sit in a ``Sequential``).

Masks: each layer sets ``supports_masking`` as Keras 2.3.1 does (see ``Layer.compute_mask``); Masking makes a
mask, Lambda's ``mask`` argument sets one, and the others pass it on or refuse it."""
from __future__ import annotations

import inspect
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import activations, backend, initializers, regularizers
from kerasish.layers import weight_layouts
from kerasish.layers.base import (ANY, CHANNELS_FIRST, KERAS, InputSpec, Layer, penalties_config,
                                  serialize_keras_object)
from kerasish.utils.validation import check_number


class ActivatedLayer(Layer):
    """A layer whose output goes through a Keras ``activation``. ``call_pre_activation`` lets a model
    compute a cross-entropy from logits when the model ends in softmax/sigmoid."""

    channel_axis = -1  # where softmax normalises, in the layout call() works in

    def __init__(self, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    @property
    def activation_name(self) -> str:
        return activations.serialize(self.activation)

    def call_pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def call(self, x):
        return self.apply_activation(self.call_pre_activation(x))

    def apply_activation(self, x):
        if self.activation is activations.softmax:
            return activations.softmax(x, axis=self.channel_axis)
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation_name}


class Dense(ActivatedLayer):
    """``Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform', ...)``; acts on the
    last axis. Kernel stored as torch ``(units, in)``; Keras weights ``[kernel (in, units), bias (units,)]``."""

    supports_masking = True  # Keras 2.3.1: the mask passes through

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        units = check_number(units, "units", "Dense", low=1, integer=True)
        self.set_weight_penalties(kernel=(kernel_regularizer, kernel_constraint),
                                  bias=(bias_regularizer, bias_constraint), activity=activity_regularizer)
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"{self.name}: the last dimension of the inputs to `Dense` should be defined; "
                             f"received input shape {input_shape}.")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_features})  # a shared Dense checks later inputs
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, (in_features, self.units),
                                                      weight_layouts.DENSE_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.units,))) if self.use_bias else None

    def keras_weight_specs(self):
        specs = [("kernel", weight_layouts.DENSE_KERNEL)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    def call_pre_activation(self, x):
        return F.linear(x, self.kernel, self.bias)

    def get_config(self):
        config = {"units": self.units, "use_bias": self.use_bias,
                  "kernel_initializer": serialize_keras_object(self.kernel_initializer),
                  "bias_initializer": serialize_keras_object(self.bias_initializer)}
        config.update(penalties_config(self, ("kernel", "bias")))
        return {**super().get_config(), **config}


class Activation(ActivatedLayer):
    """``Activation('relu')``: elementwise, so it works in any layout; softmax needs the Keras layout."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.input_layout = KERAS if self.activation is activations.softmax else ANY

    def call_in_place(self, x):
        """``call(x)`` written over ``x`` for ``'relu'`` (None otherwise; see models/graph.py: inference only,
        when nothing else reads ``x``)."""
        if self.activation is not activations.relu or self.cast_inputs(x) is not x:
            return None
        return activations.relu_in_place(x)


class SeededRandomLayer(Layer):
    """A layer that draws random numbers with Keras's ``seed`` argument (Dropout, AlphaDropout).

    Without ``seed`` the draws come from torch's global generator (``torch.manual_seed`` makes them
    reproducible). With ``seed`` the layer draws from its own ``torch.Generator`` on the input's device, seeded
    with ``seed``: as in Keras 2.3.1 (``K.dropout(..., seed=seed)``), layers with the same seed draw the same
    sequence of numbers, in any model and whatever else draws random numbers.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise TypeError(f"{type(self).__name__}: seed must be an integer or None; received {seed!r}.")
        self.seed = None if seed is None else int(seed)
        self._generators: dict[str, torch.Generator] = {}  # device -> this layer's generator (seeded layers)

    def _generator(self, device: torch.device) -> torch.Generator | None:
        """This layer's generator on ``device``; None (torch's global generator) when unseeded, and for the meta
        tensors of shape inference, which draw nothing."""
        if self.seed is None or device.type == "meta":
            return None
        key = str(device)
        generator = self._generators.get(key)
        if generator is None:
            generator = self._generators[key] = torch.Generator(device=device).manual_seed(self.seed)
        return generator

    def random_state(self) -> dict:
        """``{device: generator state}`` of a seeded layer's generators (empty when unseeded or unused); model
        files and training backups record it so that a resumed run draws the masks an uninterrupted one would."""
        return {device: generator.get_state() for device, generator in self._generators.items()}

    def set_random_state(self, states: dict) -> None:
        """Inverse of ``random_state``; states of devices this machine lacks are skipped (those generators
        start again from the seed)."""
        if self.seed is None:
            return
        for device, state in states.items():
            try:
                generator = torch.Generator(device=device)
            except RuntimeError:
                continue
            generator.set_state(state)
            self._generators[device] = generator


def resolved_noise_shape(noise_shape: tuple | None, x: torch.Tensor) -> tuple | None:
    """Keras 2.3.1 ``Dropout._get_noise_shape``: ``noise_shape`` with each None replaced by ``x``'s size there."""
    if noise_shape is None:
        return None
    return tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))


def in_training(layer: Layer, training) -> bool:
    """Keras's ``K.in_train_phase``: the ``training`` call argument when given, else the model's mode."""
    return layer.training if training is None else bool(training)


class Dropout(SeededRandomLayer):
    """``Dropout(rate, noise_shape=None, seed=None)``: inverted dropout during training only.

    Randomness as ``SeededRandomLayer`` says. A seeded layer works in the Keras layout, so its masks depend only
    on the seed and the Keras-layout shape, not on the layers around it.
    """

    input_layout = ANY
    supports_masking = True  # Keras 2.3.1: the mask passes through

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        # Keras 2.3.1 clips the rate into [0, 1] and then drops nothing at 1: refused instead.
        self.rate = check_number(rate, "rate", type(self).__name__, low=0, high=1, high_inclusive=False)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        if self.noise_shape is not None or self.seed is not None:
            self.input_layout = KERAS

    def call(self, x, training=None):
        """``training``: Keras's call argument (``Dropout(0.5)(x, training=True)`` keeps dropping at inference,
        as Monte Carlo dropout does); by default the model's mode decides."""
        if not in_training(self, training) or self.rate == 0.0:
            return x
        generator = self._generator(x.device)
        noise_shape = self._noise_shape(x)
        if noise_shape is None and generator is None:
            return F.dropout(x, self.rate, training=True)
        shape = tuple(x.shape) if noise_shape is None else noise_shape
        keep = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(1.0 - self.rate, generator=generator)
        return x * keep / (1.0 - self.rate)

    def _noise_shape(self, x: torch.Tensor) -> tuple | None:
        """The shape of the keep/drop mask, broadcast over ``x``; None: one draw per element."""
        return resolved_noise_shape(self.noise_shape, x)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class _SpatialDropout(Dropout):
    """Keras 2.3.1 ``SpatialDropout1D/2D/3D``: Dropout that keeps or drops whole feature maps, one draw per
    (sample, channel), scaled by ``1 / (1 - rate)`` as Dropout.

    The layer computes with the channel axis at dim 1 (channels-first inputs as they come, channels_last ones
    moved there as convolutions get them), so the mask is ``(batch, channels, 1, ...)`` either way. Its draws are
    in (sample, channel) order, as those of Keras's ``(batch, 1, ..., channels)`` mask: a seeded layer draws the
    same masks in any layout. ``noise_shape`` is accepted (Keras passes its keywords on to Dropout) and, as in
    Keras, replaced by the feature-map shape.
    """

    rank = 2

    def __init__(self, rate, data_format, **kwargs):
        super().__init__(rate, **kwargs)
        self.data_format = backend.normalize_data_format(data_format)
        self.input_layout = CHANNELS_FIRST if self.data_format == "channels_last" else KERAS
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        self.input_spec.check(tuple(input_shape), None, 0, self.name)  # an eager first call: Keras's message

    def _noise_shape(self, x):
        return (x.shape[0], x.shape[1]) + (1,) * (x.dim() - 2)

    def get_config(self):
        # Keras 2.3.1 writes only Dropout's keys; 2D/3D keep data_format too, so a channels_first layer loads as one
        config = super().get_config()
        return {**config, "data_format": self.data_format} if self.rank > 1 else config


class SpatialDropout1D(_SpatialDropout):
    """``SpatialDropout1D(rate)`` on ``(batch, timesteps, channels)``: drops whole channels (Keras 2.3.1)."""

    rank = 1

    def __init__(self, rate, **kwargs):
        super().__init__(rate, "channels_last", **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """``SpatialDropout2D(rate, data_format=None)`` on 4-D inputs: drops whole 2-D feature maps."""

    rank = 2

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, data_format, **kwargs)


class SpatialDropout3D(_SpatialDropout):
    """``SpatialDropout3D(rate, data_format=None)`` on 5-D inputs: drops whole 3-D feature maps."""

    rank = 3

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, data_format, **kwargs)


class Flatten(Layer):
    """Flattens all but the batch axis in Keras (channels_last) order, so a following Dense kernel has
    Keras's row order and weights move between Keras and kerasish unchanged."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.normalize_data_format(data_format)  # Keras 2.3.1: default image_data_format()

    def call(self, x):
        if self.data_format == "channels_first" and x.dim() > 2:
            x = x.movedim(1, -1)  # Keras permutes channels_first inputs to channels_last before flattening
        return x.flatten(1)  # not reshape(n, -1), which cannot infer -1 for the 0 rows of an empty batch

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """``Reshape(target_shape)``; one dimension may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape: can only specify one unknown dimension; received {self.target_shape}.")

    def build(self, input_shape):
        if None in input_shape[1:]:
            return  # Keras checks the size only when the input shape is fully known
        known = int(np.prod([d for d in input_shape[1:]]))
        target = int(np.prod([d for d in self.target_shape if d != -1]))
        fits = known % target == 0 if -1 in self.target_shape else known == target
        if not fits:
            raise ValueError(f"{self.name}: total size of new array must be unchanged; cannot reshape input "
                             f"shape {input_shape[1:]} to target_shape {self.target_shape}.")

    def call(self, x):
        shape = list(self.target_shape)
        if -1 in shape and x.shape[0] == 0:  # an empty batch (a replica's share under torchrun): -1 from the rest
            known = math.prod(d for d in shape if d != -1)
            shape[shape.index(-1)] = math.prod(x.shape[1:]) // known if known else 0
        return x.reshape(x.shape[0], *shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """``Permute(dims)`` with 1-indexed dims that exclude the batch axis, as in Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: invalid permutation `dims`: {self.dims}; it must be a permutation of "
                             f"1..{len(self.dims)} (the batch axis 0 is not included).")

    def call(self, x):
        return x.permute(0, *self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class Masking(Layer):
    """``Masking(mask_value=0.)``: a timestep whose features all equal ``mask_value`` is masked (skipped by the
    layers after it that support masking) and its features are set to 0 (Keras 2.3.1 ``Masking``).

    Inputs ``(batch, timesteps, features)`` (any rank: the last axis holds the features); the mask is
    ``(batch, timesteps)``, True where any feature differs from ``mask_value``.
    """

    supports_masking = True

    def __init__(self, mask_value=0., **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def call(self, x):
        return x * self._kept_steps(x, keepdim=True).to(x.dtype)

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1: made from the inputs alone; a mask coming in is replaced."""
        return self._kept_steps(inputs, keepdim=False)

    def _kept_steps(self, x, keepdim: bool):
        return (x != self.mask_value).any(dim=-1, keepdim=keepdim)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class RepeatVector(Layer):
    """``RepeatVector(n)``: ``(batch, features)`` -> ``(batch, n, features)``, the input repeated ``n`` times."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_number(n, "n", "RepeatVector", low=1, integer=True)
        self.input_spec = InputSpec(ndim=2)

    def build(self, input_shape):
        self.input_spec.check(tuple(input_shape), None, 0, self.name)  # an eager first call: Keras's message

    def call(self, x):
        # a broadcast view, no copy: every step reads the same row
        return x.unsqueeze(1).expand(x.shape[0], self.n, x.shape[1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class ActivityRegularization(Layer):
    """``ActivityRegularization(l1=0., l2=0.)``: the identity, whose output adds ``l1 * sum(|x|) + l2 *
    sum(x ** 2)`` to the training loss (Keras 2.3.1: the layer's ``activity_regularizer`` is ``L1L2(l1, l2)``,
    applied as any layer's activity regularizer is)."""

    input_layout = ANY
    supports_masking = True

    def __init__(self, l1=0., l2=0., **kwargs):
        super().__init__(**kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self.set_weight_penalties(activity=regularizers.L1L2(l1=self.l1, l2=self.l2))

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``: ``function(x, **arguments)`` on
    torch tensors in Keras layout.

    ``output_shape`` (a shape without the batch axis, or a function of the input shape) is what
    ``compute_output_shape`` returns, as in Keras 2.3.1; models take the shape from running the function, and a
    declared shape that the function's output contradicts is an error when the layer is built. ``mask`` is
    what ``compute_mask(inputs, mask)`` returns (called with ``(inputs, mask)`` when it is a function), as in
    Keras 2.3.1, and models pass that mask on to the layers after it. A function that takes a ``mask`` argument
    gets the mask coming in (None when there is none), as Keras passes it.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable; received {function!r}.")
        if output_shape is not None and not callable(output_shape) and not isinstance(output_shape, (tuple, list)):
            # Keras 2.3.1 wording
            raise TypeError(f"In Lambda, `output_shape` must be a list, a tuple, or a function; received "
                            f"{output_shape!r}.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.declared_output_shape = output_shape if output_shape is None or callable(output_shape) \
            else tuple(output_shape)
        self.mask = mask
        self.supports_masking = mask is not None
        self._function_takes_mask = _takes_argument(function, "mask")

    def build(self, input_shape):
        self._built_input_shape = input_shape if isinstance(input_shape, list) else tuple(input_shape)

    def call(self, x, mask=None):
        return self.function(x, mask=mask, **self.arguments) if self._function_takes_mask else \
            self.function(x, **self.arguments)

    def _call_symbolic(self, inputs, args, kwargs):
        # A declared output_shape must agree with what the function computes (checked when the graph is made)
        outputs = super()._call_symbolic(inputs, args, kwargs)
        if self.declared_output_shape is not None and isinstance(outputs, torch.Tensor):
            self._check_declared_shape(tuple(outputs.shape[1:]))
        return outputs

    def compute_output_shape(self, input_shape):
        """Keras 2.3.1: the declared ``output_shape`` (with the input's batch dimension in front), or what the
        ``output_shape`` function returns; without one, the shape of the function's output on zeros."""
        input_shape = input_shape if isinstance(input_shape, list) else tuple(input_shape)
        declared = self.declared_output_shape
        if declared is None:
            probe = torch.zeros((1,) + tuple(1 if d is None else d for d in input_shape[1:]))
            with torch.no_grad():
                out = self.call(probe)
            return (input_shape[0],) + tuple(out.shape[1:])
        if isinstance(declared, tuple):
            return (input_shape[0] if input_shape else None,) + declared
        shape = declared(input_shape)
        if not isinstance(shape, (list, tuple)):
            raise ValueError("`output_shape` function must return a tuple or a list of tuples.")
        if isinstance(shape, list) and (not shape or isinstance(shape[0], int) or shape[0] is None):
            shape = tuple(shape)
        return shape

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1 ``Lambda.compute_mask``: ``mask(inputs, mask)`` when the layer's ``mask`` is a function,
        else the layer's ``mask`` itself."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def _check_declared_shape(self, actual) -> None:
        declared = self.compute_output_shape(self._built_input_shape)
        if actual is None or not isinstance(declared, tuple):
            return  # several outputs: nothing to compare in a Sequential
        expected = declared[1:]
        if len(expected) != len(actual) or any(d is not None and d != a for d, a in zip(expected, actual)):
            raise ValueError(f"{self.name}: output_shape declares outputs of shape {(None,) + tuple(expected)}, but "
                             f"the function returns {(None,) + actual} for inputs of shape "
                             f"{self._built_input_shape}. Correct output_shape, or leave it out: kerasish takes "
                             "the shape from the function's output.")

    def get_config(self):
        # Keras 2.3.1 stores a lambda's marshalled bytecode ('function_type': 'lambda'); kerasish stores only
        # the function's name and takes the function from load_model's custom_objects: no code in files. The
        # mask is stored likewise (Keras 2.3.1 does not store it at all).
        output_shape = self.declared_output_shape
        shape_is_function = callable(output_shape)
        mask_is_function = callable(self.mask)
        mask = self.mask
        if mask_is_function:
            mask = getattr(mask, "__name__", "mask")
        elif mask is not None:
            mask = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask).tolist()
        return {**super().get_config(), "function": getattr(self.function, "__name__", "lambda"),
                "function_type": "function",
                "output_shape": getattr(output_shape, "__name__", None) if shape_is_function else output_shape,
                "output_shape_type": "function" if shape_is_function else "raw", "arguments": self.arguments,
                "mask": mask, "mask_type": "function" if mask_is_function else "raw"}


def _takes_argument(function, name: str) -> bool:
    """Keras's ``has_arg``: whether ``function`` accepts a keyword argument ``name``."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    parameter = parameters.get(name)
    return parameter is not None and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                        inspect.Parameter.KEYWORD_ONLY)


class TorchModule(Layer):
    """Wraps any ``torch.nn.Module`` so it can be added to a ``Sequential``. The module sees tensors in Keras
    layout (channels_last); its parameters train with the model and its weights keep torch layouts.

    The module's weights were made by torch, so they keep their dtype and the layer's ``dtype`` is theirs;
    ``dtype=`` converts the module to it (``module.to(dtype)``)."""

    def __init__(self, module: nn.Module, name=None, input_shape=None, **kwargs):
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchModule: expected a torch.nn.Module; received {type(module).__name__}.")
        super().__init__(name=name or _torch_module_name(module), input_shape=input_shape, **kwargs)
        self.module = module
        if kwargs.get("dtype") is not None:
            module.to(backend.torch_dtype(self.dtype))
        self._follow_weights_dtype()

    def call(self, x):
        return self.module(x)

    def get_config(self):
        # The module itself is code: only its class name is saved; load_model takes it from custom_objects.
        return {**super().get_config(), "module": type(self.module).__name__}


def _torch_module_name(module: nn.Module) -> str:
    from kerasish import backend
    from kerasish.utils.generic_utils import to_snake_case
    prefix = to_snake_case(type(module).__name__)
    return f"{prefix}_{backend.get_uid(prefix)}"


def as_layer(obj) -> Layer:
    """A kerasish Layer as is; a plain torch module wrapped in ``TorchModule``; anything else is an error."""
    if isinstance(obj, Layer):
        return obj
    if isinstance(obj, nn.Module):
        return TorchModule(obj)
    raise TypeError(f"The added layer must be an instance of class Layer or a torch.nn.Module; "
                    f"received: {obj!r} of type {type(obj).__name__}.")


__all__ = ["Dense", "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Flatten",
           "Reshape", "Permute", "Masking", "RepeatVector", "ActivityRegularization", "Lambda", "TorchModule",
           "ActivatedLayer", "SeededRandomLayer", "as_layer"]
