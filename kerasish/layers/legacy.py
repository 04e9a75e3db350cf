"""The Keras 1 layers Keras 2.3.1 still exports from ``keras.layers`` (``keras/legacy/layers.py``).

* ``MaxoutDense`` and ``Highway``: deprecated dense layers with Keras 1 argument names (``init``, ``W_regularizer``,
  ``bias`` ...), Keras 1 weight names (``W``, ``b``, ``W_carry``, ``b_carry``) and Keras's deprecation warning.
  Their weights stay in Keras's layout, so ``get_weights``/``set_weights`` and saved files match Keras.
* ``AtrousConvolution1D`` and ``AtrousConvolution2D``: functions, not classes, as in Keras 2.3.1. They warn and
  return a ``Conv1D``/``Conv2D`` whose ``dilation_rate`` is the ``atrous_rate``; Keras 1 argument names go
  through the conversions of ``legacy_arguments`` (Keras 2.3.1's ``legacy_conv1d_support``/``..._conv2d_...``).
  They are defined in ``convolutional.py`` (Keras's convolutional module exports them too, and it cannot import
  this module, which builds on it) and re-exported here.
* ``Recurrent`` and ``ConvRecurrent2D``: the abstract bases of Keras 1 recurrent layers. A subclass writes
  ``build`` (its weights and ``self.states``, one entry per state, ``[None]`` until known) and
  ``step(inputs, states) -> (output, new_states)``; it may override ``get_initial_state``,
  ``preprocess_input`` and ``get_constants``. ``Recurrent.call`` runs the loop with ``backend.rnn`` (Keras's
  masking: a masked step keeps the previous output and states), handles ``initial_state``,
  ``return_sequences``, ``return_state``, ``go_backwards`` and ``stateful``.

Stateful layers keep their states in ``self.states``, a plain list of tensors (Keras 2.3.1 makes them backend
variables, not weights: they are not in ``get_weights``). A call on real tensors replaces them with the final
states, detached (Keras's ``add_update`` assigns the variables; no gradient flows between batches); shape
inference on meta tensors leaves them alone.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import activations, backend, initializers
from kerasish.layers import weight_layouts
from kerasish.layers.base import InputSpec, Layer, penalties_config, serialize_keras_object
# the Atrous* factories live with the convolutions they build (Keras's convolutional module re-exports them)
from kerasish.layers.convolutional import AtrousConvolution1D, AtrousConvolution2D
from kerasish.layers.window_shapes import (check_ndim, conv_output_length, normalize_padding_arg, positive_int,
                                           positive_tuple)
from kerasish.layers.keras_tensor import KerasTensor


# ---------------------------------------------------------------------------------------------- dense layers
class _Keras1Dense(Layer):
    """What MaxoutDense and Highway share: Keras 1 names for the initializer (``init``), the penalties of ``W``
    and ``b``, ``bias`` (use one) and ``input_dim``; 2-D inputs whose feature size must be known."""

    def __init__(self, init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                 b_constraint, bias, input_dim, **kwargs):
        # Keras 2.3.1: a truthy `input_dim` becomes `input_shape=(input_dim,)`, replacing any given input_shape
        if input_dim:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(weights=weights, **kwargs)
        self.init = initializers.get(init)
        self.set_weight_penalties(W=(W_regularizer, W_constraint), b=(b_regularizer, b_constraint),
                                  activity=activity_regularizer)
        self.bias = bool(bias)
        self.input_dim = input_dim
        self.input_spec = InputSpec(ndim=2)

    def _features(self, input_shape: tuple) -> int:
        """The feature size of the 2-D input, which then fixes the input spec (Keras's build)."""
        check_ndim(self, input_shape, 2)
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the last dimension of the inputs to `{type(self).__name__}` should be "
                             f"defined; received input shape {tuple(input_shape)}.")
        self.input_spec = InputSpec(shape=(None, int(input_shape[-1])))
        return int(input_shape[-1])

    def get_config(self):
        config = {"init": serialize_keras_object(self.init), **penalties_config(self, ("W", "b")),
                  "bias": self.bias, "input_dim": self.input_dim}
        return {**super().get_config(), **config}


class MaxoutDense(_Keras1Dense):
    """``MaxoutDense(output_dim, nb_feature=4, init='glorot_uniform', weights=None, W_regularizer=None,
    b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
    input_dim=None)``: the elementwise maximum of ``nb_feature`` affine maps of a 2-D input,
    ``max_k (x @ W[k] + b[k])``. Linear: no activation.

    Weights (Keras layout and names) ``[W (nb_feature, input_dim, output_dim), b (nb_feature, output_dim)]``.
    Deprecated in Keras 2 (a warning at construction).
    """

    def __init__(self, output_dim, nb_feature=4, init="glorot_uniform", weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 input_dim=None, **kwargs):
        warnings.warn("The `MaxoutDense` layer is deprecated and will be removed after 06/2017.", stacklevel=2)
        output_dim = positive_int(output_dim, "output_dim", type(self).__name__)
        nb_feature = positive_int(nb_feature, "nb_feature", type(self).__name__)
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                         b_constraint, bias, input_dim, **kwargs)
        self.output_dim = output_dim
        self.nb_feature = nb_feature

    def build(self, input_shape):
        input_dim = self._features(input_shape)
        self.W = nn.Parameter(self.initial_value(self.init, (self.nb_feature, input_dim, self.output_dim)))
        self.b = nn.Parameter(self.initial_value(initializers.get("zeros"), (self.nb_feature, self.output_dim))) \
            if self.bias else None

    def keras_weight_specs(self):
        return [("W", weight_layouts.SAME)] + ([("b", weight_layouts.SAME)] if self.bias else [])

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], self.output_dim)

    def call(self, x):
        # x (n, in) @ W (k, in, out) broadcasts to (k, n, out): one affine map per feature, then their maximum
        features = torch.matmul(x, self.W)
        if self.b is not None:
            features = features + self.b.unsqueeze(1)
        return features.amax(dim=0)

    def get_config(self):
        return {**super().get_config(), "output_dim": self.output_dim, "nb_feature": self.nb_feature}


class Highway(_Keras1Dense):
    """``Highway(init='glorot_uniform', activation=None, weights=None, W_regularizer=None, b_regularizer=None,
    activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True, input_dim=None)``: a densely
    connected highway layer on 2-D inputs,

        T = sigmoid(x @ W_carry + b_carry);   y = T * activation(x @ W + b) + (1 - T) * x

    Weights (Keras order and names) ``[W, W_carry, b, b_carry]``, kernels ``(input_dim, input_dim)``; ``b``
    starts at zeros and ``b_carry`` at ones. Only ``W`` and ``b`` take the regularizers and constraints (as in
    Keras 2.3.1). Deprecated in Keras 2 (a warning at construction); Keras 1's ``transform_bias`` is dropped
    with a warning.
    """

    def __init__(self, init="glorot_uniform", activation=None, weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 input_dim=None, **kwargs):
        warnings.warn("The `Highway` layer is deprecated and will be removed after 06/2017.", stacklevel=2)
        if "transform_bias" in kwargs:
            kwargs.pop("transform_bias")
            warnings.warn("`transform_bias` argument is deprecated and has been removed.", stacklevel=2)
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                         b_constraint, bias, input_dim, **kwargs)
        self.activation = activations.get(activation)

    def build(self, input_shape):
        input_dim = self._features(input_shape)
        square = (input_dim, input_dim)
        self.W = nn.Parameter(self.initial_value(self.init, square, weight_layouts.DENSE_KERNEL))
        self.W_carry = nn.Parameter(self.initial_value(self.init, square, weight_layouts.DENSE_KERNEL))
        self.b = self.b_carry = None
        if self.bias:
            self.b = nn.Parameter(self.initial_value(initializers.get("zeros"), (input_dim,)))
            self.b_carry = nn.Parameter(self.initial_value(initializers.get("ones"), (input_dim,)))

    def keras_weight_specs(self):
        kernels = [("W", weight_layouts.DENSE_KERNEL), ("W_carry", weight_layouts.DENSE_KERNEL)]
        return kernels + ([("b", weight_layouts.SAME), ("b_carry", weight_layouts.SAME)] if self.bias else [])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, x):
        transform = torch.sigmoid(F.linear(x, self.W_carry, self.b_carry))
        transformed = self.activation(F.linear(x, self.W, self.b))
        return transformed * transform + (1 - transform) * x

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


# ---------------------------------------------------------------------------------------------- recurrent bases
def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _spec_list(spec) -> list:
    return [] if spec is None else _as_list(spec)


class Recurrent(Layer):
    """Keras 1's abstract recurrent layer: ``Recurrent(return_sequences=False, return_state=False,
    go_backwards=False, stateful=False, unroll=False, implementation=0)`` (Keras 2.3.1 ``keras/legacy/layers.py``).

    A subclass builds its weights and ``self.states`` (``[None] * number_of_states``; a stateful one calls
    ``reset_states()`` from ``build``, which needs a fixed batch size), sets ``self.units`` (the state size the
    default ``get_initial_state`` and ``compute_output_shape`` use) and implements ``step``. Inputs
    ``(batch, time, features)``; the initial states may also be given, as ``initial_state=`` or as extra inputs
    (``layer([x, h0])``). ``implementation`` (0, 1 or 2) is for subclasses to read.
    """

    supports_masking = True

    def __init__(self, return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 implementation=0, **kwargs):
        if implementation not in (0, 1, 2):
            raise ValueError(f"{type(self).__name__}: implementation must be 0, 1 or 2; received "
                             f"{implementation!r}.")
        super().__init__(**kwargs)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.implementation = implementation
        self.input_spec = [InputSpec(ndim=3)]
        self.state_spec = None
        # Keras 2.3.1 sets both to 0; a Keras 1 subclass that set them before calling this keeps its values
        self.dropout = getattr(self, "dropout", 0)
        self.recurrent_dropout = getattr(self, "recurrent_dropout", 0)

    # ------------------------------------------------------------ what subclasses implement or override
    def step(self, inputs, states):
        """One time step: ``inputs`` ``(batch, ...)`` and ``states`` (the states, then the constants) ->
        ``(output, new_states)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement step(inputs, states), the Keras 1 "
                                  "recurrent layer's computation for one time step.")

    def get_constants(self, inputs, training=None):
        """Tensors passed to every ``step`` after the states (dropout masks in Keras 1 layers); none by default."""
        return []

    def preprocess_input(self, inputs, training=None):
        """The inputs as ``step`` receives them (a precomputed input projection in Keras 1 layers)."""
        return inputs

    def get_initial_state(self, inputs):
        """Zeros ``(batch, units)``, one per entry of ``self.states`` (Keras 2.3.1)."""
        zeros = inputs.new_zeros((inputs.shape[0], self.units))
        return [zeros for _ in range(len(self.states))]

    # ------------------------------------------------------------ shapes and masks
    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        if self.return_sequences:
            output_shape = (input_shape[0], input_shape[1], self.units)
        else:
            output_shape = (input_shape[0], self.units)
        if self.return_state:
            return [output_shape] + [(input_shape[0], self.units) for _ in self.states]
        return output_shape

    def compute_mask(self, inputs, mask=None):
        """The input mask for the sequence output, None for the last output and for the states (Keras 2.3.1)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.states]
        return output_mask

    # ------------------------------------------------------------ calling
    def __call__(self, inputs, initial_state=None, **kwargs):
        """Keras 2.3.1 ``Recurrent.__call__``: ``[x, *states]`` is ``x`` with ``initial_state=states``;
        symbolic initial states join the inputs (so the graph records them), real ones go to ``call``."""
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1 and initial_state is None:
            inputs, initial_state = inputs[0], list(inputs[1:])
        if isinstance(inputs, KerasTensor):
            self._check_unroll(inputs.shape[1])
        if initial_state is None:
            return super().__call__(inputs, **kwargs)
        initial_state = _as_list(initial_state)
        symbolic = [isinstance(state, KerasTensor) for state in initial_state]
        if any(symbolic) and not all(symbolic):
            raise ValueError("The initial state of an RNN layer cannot be specified with a mix of Keras tensors and "
                             "non-Keras tensors")
        if not symbolic[0]:
            return super().__call__(inputs, initial_state=initial_state, **kwargs)
        if not self.built:
            # build before the state specs join the input spec: a Keras 1 layer's build replaces
            # `self.input_spec` with one spec, which Keras 2.3.1 then checks against the joined inputs and fails
            self.assert_input_compatibility(inputs)
            self._build_once([inputs.shape] + [state.shape for state in initial_state])
        input_spec = self.input_spec
        state_spec = _spec_list(self.state_spec) or [None] * len(initial_state)
        self.input_spec = _spec_list(input_spec) + state_spec
        try:
            return super().__call__([inputs] + initial_state, **kwargs)
        finally:
            self.input_spec = input_spec

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:])
        elif initial_state is not None:
            initial_state = _as_list(initial_state)
        elif self.stateful:
            initial_state = self._current_states(inputs)
        else:
            initial_state = self.get_initial_state(inputs)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if len(initial_state) != len(self.states):
            raise ValueError(f"Layer has {len(self.states)} states but was passed {len(initial_state)} initial "
                             "states.")
        timesteps = inputs.shape[1]
        self._check_unroll(timesteps)
        # Keras 2.3.1 passes training=None (the learning phase decides); passing the call's `training` gives the
        # same in a model and honours an explicit layer(x, training=True)
        constants = self.get_constants(inputs, training=training)
        preprocessed_input = self.preprocess_input(inputs, training=training)
        last_output, outputs, states = backend.rnn(self.step, preprocessed_input, initial_state,
                                                   go_backwards=self.go_backwards, mask=mask, constants=constants,
                                                   unroll=self.unroll, input_length=timesteps)
        if self.stateful and inputs.device.type != "meta":
            self.states = [state.detach() for state in states]
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(states)
        return output

    def _check_unroll(self, timesteps) -> None:
        if self.unroll and timesteps in (None, 1):
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined or equal to 1. \n"
                             "- If using a Sequential model, specify the time dimension by passing an `input_shape` "
                             "or `batch_input_shape` argument to your first layer. If your first layer is an "
                             "Embedding, you can also use the `input_length` argument.\n"
                             "- If using the functional API, specify the time dimension by passing a `shape` or "
                             "`batch_shape` argument to your Input layer.")

    def _current_states(self, inputs) -> list:
        if any(state is None for state in self.states):
            raise ValueError(f"Layer {self.name} is stateful but its states are not set: call reset_states() "
                             "(Keras 1 layers do so in build, which needs a fixed batch size).")
        return [state.to(device=inputs.device, dtype=inputs.dtype) for state in self.states]

    # ------------------------------------------------------------ stateful layers
    def reset_states(self, states=None):
        """Keras 2.3.1: zeros for every state, or the given ``states`` (NumPy arrays, one per state, each of the
        state shape). Only for stateful layers, whose batch size must be known. (Keras 2.3.1 replaces given
        ``states`` by zeros while the states are still unset; here they are used.)"""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        batch_size = self._fixed_batch_size()
        if not batch_size:
            raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch size of your "
                             "input tensors: \n- If using a Sequential model, specify the batch size by passing a "
                             "`batch_input_shape` argument to your first layer.\n- If using the functional API, "
                             "specify the time dimension by passing a `batch_shape` argument to your Input layer.")
        shape = self._state_shape(batch_size)
        if states is None:
            self.states = [self._new_state(np.zeros(shape)) for _ in self.states]
            return
        states = _as_list(states)
        if len(states) != len(self.states):
            raise ValueError(f"Layer {self.name} expects {len(self.states)} states, but it received {len(states)} "
                             f"state values. Input received: {states}")
        for index, value in enumerate(states):
            if tuple(np.shape(value)) != shape:
                raise ValueError(f"State {index} is incompatible with layer {self.name}: expected shape={shape}, "
                                 f"found shape={tuple(np.shape(value))}")
        self.states = [self._new_state(value) for value in states]

    def _fixed_batch_size(self):
        """The batch size the input spec fixes (Keras reads ``input_spec[0].shape[0]``), else the one the
        layer was declared with (``batch_input_shape``)."""
        shape = self._spec_input_shape()
        if shape is not None and shape[0] is not None:
            return shape[0]
        return self.batch_input_shape[0] if self.batch_input_shape else None

    def _spec_input_shape(self):
        specs = _spec_list(self.input_spec)
        return specs[0].shape if specs and specs[0] is not None and specs[0].shape is not None else None

    def _state_shape(self, batch_size: int) -> tuple:
        return (batch_size, self.units)

    def _new_state(self, value) -> torch.Tensor:
        device = next((p.device for p in self.parameters()), torch.device("cpu"))
        return torch.as_tensor(np.asarray(value), dtype=backend.torch_dtype(self.dtype), device=device)

    def get_config(self):
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                  "implementation": self.implementation}
        return {**super().get_config(), **config}


class ConvRecurrent2D(Recurrent):
    """Keras 1's abstract convolutional recurrent layer: ``ConvRecurrent2D(filters, kernel_size, strides=(1, 1),
    padding='valid', data_format=None, dilation_rate=(1, 1), return_sequences=False, go_backwards=False,
    stateful=False)`` (Keras 2.3.1 ``keras/legacy/layers.py``), plus ``Recurrent``'s other arguments.

    Inputs ``(batch, time, rows, cols, channels)`` (channels_last) or ``(batch, time, channels, rows, cols)``.
    Each state has the shape of one output step: ``(batch, rows', cols', filters)`` (channels_first:
    ``(batch, filters, rows', cols')``), where ``rows'``/``cols'`` follow the convolution's ``padding``,
    ``strides`` and ``dilation_rate``. A subclass implements ``step`` (and ``build``) as for ``Recurrent``.
    Keras 2.3.1 leaves ``get_initial_state`` to the subclass; here it defaults to zeros of the state shape.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), return_sequences=False, go_backwards=False, stateful=False, **kwargs):
        layer_type = type(self).__name__
        filters = positive_int(filters, "filters", layer_type)
        kernel_size = positive_tuple(kernel_size, 2, "kernel_size", layer_type)
        strides = positive_tuple(strides, 2, "strides", layer_type)
        # Keras 2.3.1 conv_utils.normalize_padding accepts these three
        padding = normalize_padding_arg(padding, ("valid", "same", "causal"), layer_type)
        data_format = backend.normalize_data_format(data_format)
        dilation_rate = positive_tuple(dilation_rate, 2, "dilation_rate", layer_type)
        super().__init__(return_sequences=return_sequences, go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format
        self.dilation_rate = dilation_rate
        self.input_spec = [InputSpec(ndim=5)]
        self.state_spec = None

    def _state_shape_for(self, input_shape) -> tuple:
        """The shape of one output step (and of each state) for a 5-D Keras input shape."""
        channels_first = self.data_format == "channels_first"
        rows, cols = input_shape[3:5] if channels_first else input_shape[2:4]
        rows, cols = (conv_output_length(length, kernel, self.padding, stride, dilation) for length, kernel, stride,
                      dilation in zip((rows, cols), self.kernel_size, self.strides, self.dilation_rate))
        if channels_first:
            return (input_shape[0], self.filters, rows, cols)
        return (input_shape[0], rows, cols, self.filters)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        state_shape = self._state_shape_for(tuple(input_shape))
        output_shape = (state_shape[:1] + (input_shape[1],) + state_shape[1:]) if self.return_sequences \
            else state_shape
        if self.return_state:
            # Keras 2.3.1 lists two states, those of ConvLSTM2D
            return [output_shape, state_shape, state_shape]
        return output_shape

    def get_initial_state(self, inputs):
        zeros = inputs.new_zeros(self._state_shape_for(tuple(inputs.shape)))
        return [zeros for _ in range(len(self.states))]

    def _state_shape(self, batch_size: int) -> tuple:
        input_shape = self._spec_input_shape()
        if input_shape is None:
            raise ValueError(f"Layer {self.name}: reset_states needs the input shape; set "
                             "`self.input_spec = [InputSpec(shape=input_shape)]` in build (as Keras 1 layers do).")
        return (batch_size,) + self._state_shape_for(tuple(input_shape))[1:]

    def get_config(self):
        config = {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                  "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                  "return_sequences": self.return_sequences, "go_backwards": self.go_backwards,
                  "stateful": self.stateful}
        return {**super().get_config(), **config}


__all__ = ["MaxoutDense", "Highway", "AtrousConvolution1D", "AtrousConvolution2D", "Recurrent", "ConvRecurrent2D"]
