"""Recurrent layers (Keras 2.3.1 ``layers/recurrent.py``): the generic ``RNN(cell)``, the cells ``SimpleRNNCell``,
``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``, and the layers ``SimpleRNN``, ``LSTM`` and ``GRU``.

Weights
-------
A layer's weights live in its cell (``layer.cell.kernel``), in torch's layout: ``kernel (gates * units, in)``,
``recurrent_kernel (gates * units, units)``, ``bias`` with the gates in torch's order (LSTM i, f, c, o as Keras;
GRU r, z, n where Keras has z, r, h), which is what torch's fused kernels read. ``get_weights``/``set_weights``
convert to and from Keras's layouts and gate orders (``weight_layouts.GateBlocks``), so Keras weight lists
load unchanged: LSTM ``[kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)]``, GRU ``bias (3u,)``, or ``(2, 3u)``
with ``reset_after=True`` (input and recurrent biases).

How a sequence runs
-------------------
A built-in cell splits Keras's step in two: ``project(inputs)`` (input dropout, kernel and input bias) and
``recurrent_step(projected, states)`` (the rest); ``call(inputs, states)`` is the two in a row, Keras's cell API
for custom loops and ``StackedRNNCells``. ``RNN.call`` then picks, per call:

1. fused: torch's ``torch.lstm`` / ``torch.gru`` / ``torch.rnn_tanh`` / ``torch.rnn_relu`` (cuDNN on a GPU) when
   the configuration is torch's equations: tanh (SimpleRNN: or relu) and sigmoid activations, no recurrent dropout
   while training, input dropout with one mask (``implementation=2``; it is applied to the whole sequence up
   front, the mask being fixed across time), GRU with ``reset_after=True`` (torch's GRU), ``unroll=False``, and no
   mask or one whose unmasked steps form one block per sample (right or left padding);
2. loop: otherwise the input projection of every step is one matmul up front and only ``recurrent_step`` runs per
   step; for Keras's default GRU (``reset_after=False``, tanh and sigmoid, no recurrent dropout while training,
   ``unroll=False``), which no torch kernel computes, the steps run in one autograd Function with a hand-written
   backward pass (``recurrent_kernels.run_gru_reset_before``: 1.2-1.9 times the loop's training speed measured
   on a CPU) instead of ``recurrent_step``;
3. generic: any other cell (yours, subclasses of ours, ``StackedRNNCells``) steps through ``cell.call`` as Keras's
   ``K.rnn`` does.

The three give the same numbers for the same weights. A mask costs the fused path one read of ``3 * batch``
integers to the host per call (which samples' steps form one block, and the lengths torch's packing needs), not
one per step. The step loop is plain Python over torch ops: a TorchScript version of the GRU loop measured no
faster on the CPU (and TorchScript is deprecated in torch 2.x). ``implementation`` (1 or 2) changes only how the dropout
masks are drawn, as in Keras: 1 draws one mask per gate, 2 one mask for all gates; without dropout the two are
identical.

Dropout masks are drawn once per sequence and fixed across its time steps (Keras 2.3.1 caches them in the cell
until the layer's next call), in training only. Stateful layers keep their final states, detached, between
calls (``reset_states()`` zeroes them), as Keras's state updates do.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import activations, initializers, mixed_precision
from kerasish.backend.control import rnn as backend_rnn
from kerasish.layers import weight_layouts
from kerasish.layers.base import InputSpec, Layer, penalties_config, serialize_keras_object
from kerasish.layers.keras_tensor import is_keras_tensor
from kerasish.layers.legacy import Recurrent
from kerasish.layers.recurrent_kernels import one_block_spans, run_fused, run_gru_reset_before, run_steps
from kerasish.utils.generic_utils import get_custom_objects
from kerasish.utils.validation import check_number, did_you_mean


# ============================================================================================== cells
class _GatedCell(Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: arguments, weights, dropout masks, the fused and loop
    paths over a whole sequence. Subclasses set ``gates`` and write ``project``/``recurrent_step``."""

    gates = 1
    kernel_layout = weight_layouts.DENSE_KERNEL
    bias_layout = weight_layouts.SAME

    def __init__(self, units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                 kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                 recurrent_constraint, bias_constraint, dropout, recurrent_dropout, **kwargs):
        super().__init__(**kwargs)
        self.units = check_number(units, "units", type(self).__name__, low=1, integer=True)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.set_weight_penalties(kernel=(kernel_regularizer, kernel_constraint),
                                  recurrent_kernel=(recurrent_regularizer, recurrent_constraint),
                                  bias=(bias_regularizer, bias_constraint))
        # Keras 2.3.1 clips the rates into [0, 1]; a rate outside it is a mistake, refused (issue 15)
        self.dropout = check_number(dropout, "dropout", type(self).__name__, low=0, high=1)
        self.recurrent_dropout = check_number(recurrent_dropout, "recurrent_dropout", type(self).__name__, low=0,
                                              high=1)
        self.state_size = self.units
        self.output_size = self.units
        self._dropout_mask = None  # per sequence: drawn at its first step, fixed across its steps
        self._recurrent_dropout_mask = None

    # ------------------------------------------------------------ Keras's per-weight attributes
    def _penalty(self, weight: str, index: int):
        return self._weight_penalties.get(weight, (None, None))[index]

    kernel_regularizer = property(lambda self: self._penalty("kernel", 0))
    recurrent_regularizer = property(lambda self: self._penalty("recurrent_kernel", 0))
    bias_regularizer = property(lambda self: self._penalty("bias", 0))
    kernel_constraint = property(lambda self: self._penalty("kernel", 1))
    recurrent_constraint = property(lambda self: self._penalty("recurrent_kernel", 1))
    bias_constraint = property(lambda self: self._penalty("bias", 1))

    # ------------------------------------------------------------ weights
    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{self.name}: the last dimension of the inputs to `{type(self).__name__}` should be "
                             f"defined; received input shape {tuple(input_shape)}.")
        width = self.gates * self.units
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, (input_dim, width),
                                                      self.kernel_layout))
        self.recurrent_kernel = nn.Parameter(self.initial_value(self._recurrent_initial_value,
                                                                (self.units, width), self.kernel_layout))
        self.bias = nn.Parameter(self.initial_value(self._bias_initial_value, self._bias_shape(),
                                                    self.bias_layout)) if self.use_bias else None

    def _recurrent_initial_value(self, shape, dtype=None):
        if isinstance(self.recurrent_initializer, initializers.Identity) and self.gates > 1:
            # Keras 2.3.1 (LSTMCell/GRUCell.build): one identity per gate, side by side, gain 1
            return torch.eye(shape[0], dtype=dtype).repeat(1, shape[1] // shape[0])
        return initializers.initial_value(self.recurrent_initializer, shape, dtype)

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_initial_value(self, shape, dtype=None):
        return initializers.initial_value(self.bias_initializer, shape, dtype)

    def keras_weight_specs(self):
        specs = [("kernel", self.kernel_layout), ("recurrent_kernel", self.kernel_layout)]
        return specs + [("bias", self.bias_layout)] if self.use_bias else specs

    # ------------------------------------------------------------ dropout masks (Keras _generate_dropout_mask)
    def reset_dropout_mask(self) -> None:
        """Forget the input dropout masks: the next step draws new ones (the layer does this per sequence)."""
        if self._dropout_mask is not None:  # (nn.Module.__setattr__ costs microseconds at every call otherwise)
            self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        if self._recurrent_dropout_mask is not None:
            self._recurrent_dropout_mask = None

    def _mask_count(self) -> int:
        # implementation 1 drops each gate's copy of the inputs separately; 2 uses one mask (Keras 2.3.1)
        return self.gates if getattr(self, "implementation", 2) == 1 else 1

    def _input_masks(self, inputs, training):
        if not 0.0 < self.dropout < 1.0 or not self._in_training(training):
            return None
        if self._dropout_mask is None:
            self._dropout_mask = _dropout_masks(inputs, self.dropout, self._mask_count())
        return self._dropout_mask

    def _recurrent_masks(self, state, training):
        if not 0.0 < self.recurrent_dropout < 1.0 or not self._in_training(training):
            return None
        if self._recurrent_dropout_mask is None:
            self._recurrent_dropout_mask = _dropout_masks(state, self.recurrent_dropout, self._mask_count())
        return self._recurrent_dropout_mask

    def _in_training(self, training) -> bool:
        return self.training if training is None else bool(training)

    # ------------------------------------------------------------ one step (Keras's cell API)
    def call(self, inputs, states, training=None):
        """One step: ``inputs`` ``(batch, in)``, ``states`` a list -> ``(output, new_states)``. Subclasses define
        ``project(inputs, training)`` (``(batch, [time,] in)`` -> kernel projection with the input bias and dropout)
        and ``recurrent_step(projected, states, training)`` (the rest of the step)."""
        return self.recurrent_step(self.project(inputs, training), list(states), training)

    def _linear_per_mask(self, x, masks, weight, bias):
        """``x @ weight.T + bias`` with the inputs dropped by ``masks``: one mask for all gates, or one per gate
        (``implementation=1``), each reading its own dropped copy."""
        if masks is None:
            return F.linear(x, weight, bias)
        if len(masks) == 1:
            return F.linear(x * _over_time(masks[0], x), weight, bias)
        biases = bias.chunk(self.gates) if bias is not None else [None] * self.gates
        return torch.cat([F.linear(x * _over_time(m, x), w, b)
                          for m, w, b in zip(masks, weight.chunk(self.gates), biases)], dim=-1)

    # ------------------------------------------------------------ whole sequences (RNN.call)
    def fused_weights(self) -> list:
        """The weights a fused kernel takes: ``[w_ih, w_hh]`` or ``[w_ih, w_hh, b_ih, b_hh]``."""
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias, torch.zeros_like(self.bias)]

    def _fused_allowed(self, training) -> bool:
        training = self._in_training(training)
        no_recurrent_dropout = not (training and 0.0 < self.recurrent_dropout < 1.0)
        one_input_mask = not (training and 0.0 < self.dropout < 1.0 and self._mask_count() > 1)
        return no_recurrent_dropout and one_input_mask

    def run_sequence(self, x, states, mask=None, training=None, allow_fused=True):
        """``(outputs (batch, time, units), final states)`` over ``x`` ``(batch, time, in)`` in processing order,
        with Keras's masking; fused when ``allow_fused`` and the configuration permits (see the module docs)."""
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()
        mode = self.fused_mode(training) if allow_fused else None  # the torch kernel of these equations, or None
        if mode is not None:
            spans = None if mask is None else one_block_spans(mask)
            if mask is None or spans is not None:
                masks = self._input_masks(x, training)
                if masks is not None:
                    x = x * masks[0][:, None, :]
                return run_fused(mode, x, states, self.fused_weights(), spans)
        projected = self.project(x, training)
        kernel = self._steps_kernel(projected, states, training) if allow_fused else None
        if kernel is not None:
            return kernel(projected, states, mask)
        return run_steps(lambda p, s: self.recurrent_step(p, s, training), projected, states, mask)

    def _steps_kernel(self, projected, states, training):
        """A function computing ``recurrent_step`` over a whole sequence in this configuration, ``(projected,
        states, mask) -> (outputs, final states)``, or None for the step loop (GRUCell has one for its default)."""
        return None

    # ------------------------------------------------------------ config
    def _cell_config(self) -> dict:
        """The cell's own arguments, in Keras 2.3.1's order (subclasses insert theirs)."""
        penalties = penalties_config(self, ("kernel", "recurrent_kernel", "bias"), activity=False)
        return {"units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_keras_object(self.kernel_initializer),
                "recurrent_initializer": serialize_keras_object(self.recurrent_initializer),
                "bias_initializer": serialize_keras_object(self.bias_initializer),
                **{f"{kind}_regularizer": penalties[f"{kind}_regularizer"] for kind in ("kernel", "recurrent", "bias")},
                **{f"{kind}_constraint": penalties[f"{kind}_constraint"] for kind in ("kernel", "recurrent", "bias")},
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}

    def get_config(self):
        return {**super().get_config(), **self._cell_config()}


def _dropout_masks(like: torch.Tensor, rate: float, count: int) -> list:
    """``count`` inverted-dropout masks ``(batch, features)`` (Keras ``K.dropout(ones, rate)``)."""
    ones = like.new_ones((like.shape[0], like.shape[-1]))
    return [F.dropout(ones, rate, training=True) for _ in range(count)]


def _over_time(mask, x):
    """A ``(batch, features)`` mask for ``x`` of one step or of a whole sequence ``(batch, time, features)``."""
    return mask if x.dim() == 2 else mask.unsqueeze(1)


def _insert_after(config: dict, key: str, extra: dict) -> dict:
    out = {}
    for k, v in config.items():
        out[k] = v
        if k == key:
            out.update(extra)
    return out


class SimpleRNNCell(_GatedCell):
    """Keras 2.3.1 ``SimpleRNNCell``: ``output = activation(x @ kernel + bias + h @ recurrent_kernel)``."""

    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, **kwargs)

    def project(self, inputs, training=None):
        return self._linear_per_mask(inputs, self._input_masks(inputs, training), self.kernel, self.bias)

    def recurrent_step(self, projected, states, training=None):
        previous = states[0]
        masks = self._recurrent_masks(previous, training)
        if masks is not None:
            previous = previous * masks[0]
        output = self.activation(projected + F.linear(previous, self.recurrent_kernel))
        return output, [output]

    def fused_mode(self, training):
        if not self._fused_allowed(training):
            return None
        return {activations.tanh: "rnn_tanh", activations.relu: "rnn_relu"}.get(self.activation)


class LSTMCell(_GatedCell):
    """Keras 2.3.1 ``LSTMCell``: gates i, f, c, o (torch's i, f, g, o); ``unit_forget_bias`` starts the forget
    gate's bias at 1. States ``[h, c]``."""

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, implementation=2, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = _checked_implementation(implementation, type(self).__name__)
        self.state_size = (self.units, self.units)

    def _bias_initial_value(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return super()._bias_initial_value(shape, dtype)
        units = self.units
        return torch.cat([initializers.initial_value(self.bias_initializer, (units,), dtype),
                          torch.ones(units, dtype=dtype),
                          initializers.initial_value(self.bias_initializer, (2 * units,), dtype)])

    def project(self, inputs, training=None):
        return self._linear_per_mask(inputs, self._input_masks(inputs, training), self.kernel, self.bias)

    def recurrent_step(self, projected, states, training=None):
        h, c = states[0], states[1]
        z = projected + self._linear_per_mask(h, self._recurrent_masks(h, training), self.recurrent_kernel, None)
        i, f, g, o = z.chunk(4, dim=-1)
        act, recurrent_act = self.activation, self.recurrent_activation
        c = recurrent_act(f) * c + recurrent_act(i) * act(g)
        h = recurrent_act(o) * act(c)
        return h, [h, c]

    def fused_mode(self, training):
        torch_equations = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "lstm" if torch_equations and self._fused_allowed(training) else None

    def _cell_config(self):
        config = {**super()._cell_config(), "implementation": self.implementation}
        config = _insert_after(config, "activation",
                               {"recurrent_activation": activations.serialize(self.recurrent_activation)})
        return _insert_after(config, "bias_initializer", {"unit_forget_bias": self.unit_forget_bias})


class GRUCell(_GatedCell):
    """Keras 2.3.1 ``GRUCell``: gates z, r, h (stored in torch's order r, z, n). ``reset_after=False`` (Keras's
    default) applies the reset gate to the state before its matmul; ``reset_after=True`` after it, with a
    separate recurrent bias (bias ``(2, 3 * units)``), which is torch's (and cuDNN's) GRU."""

    gates = 3
    kernel_layout = weight_layouts.GRU_KERNEL
    bias_layout = weight_layouts.GRU_BIAS

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 implementation=2, reset_after=False, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = _checked_implementation(implementation, type(self).__name__)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self):
        """(input bias, recurrent bias) in torch's gate order; None where there is none."""
        if self.bias is None:
            return None, None
        return (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)

    def project(self, inputs, training=None):
        return self._linear_per_mask(inputs, self._input_masks(inputs, training), self.kernel, self._biases()[0])

    def recurrent_step(self, projected, states, training=None):
        h = states[0]
        masks = self._recurrent_masks(h, training)
        units, recurrent_kernel = self.units, self.recurrent_kernel
        x_r, x_z, x_n = projected.chunk(3, dim=-1)
        if masks is None:
            h_r = h_z = h_n = h
        elif len(masks) == 1:
            # Keras 2.3.1 (implementation 2) drops h_tm1 in place, so the dropped state is also the one mixed
            # into the new state below
            h = h_r = h_z = h_n = h * masks[0]
        else:
            h_z, h_r, h_n = (h * m for m in masks)  # Keras's masks by gate: z, r, h
        if self.reset_after:
            recurrent_bias = self._biases()[1]
            if h_r is h_z is h_n:
                inner = F.linear(h_r, recurrent_kernel, recurrent_bias)
            else:
                biases = recurrent_bias.chunk(3) if recurrent_bias is not None else (None,) * 3
                inner = torch.cat([F.linear(s, w, b) for s, w, b in zip((h_r, h_z, h_n), recurrent_kernel.chunk(3),
                                                                         biases)], dim=-1)
            rec_r, rec_z, rec_n = inner.chunk(3, dim=-1)
            r = self.recurrent_activation(x_r + rec_r)
            z = self.recurrent_activation(x_z + rec_z)
            candidate = self.activation(x_n + r * rec_n)
        else:
            if h_r is h_z:
                rec_r, rec_z = F.linear(h_r, recurrent_kernel[:2 * units]).chunk(2, dim=-1)
            else:
                rec_r = F.linear(h_r, recurrent_kernel[:units])
                rec_z = F.linear(h_z, recurrent_kernel[units:2 * units])
            r = self.recurrent_activation(x_r + rec_r)
            z = self.recurrent_activation(x_z + rec_z)
            candidate = self.activation(x_n + F.linear(r * h_n, recurrent_kernel[2 * units:]))
        h = z * h + (1 - z) * candidate
        return h, [h]

    def _steps_kernel(self, projected, states, training):
        if not self._reset_before_kernel_allowed(projected, states[0], training):
            return None
        return lambda p, s, mask: run_gru_reset_before(p, s, self.recurrent_kernel, mask)

    def _reset_before_kernel_allowed(self, projected, state, training) -> bool:
        """Keras's default GRU (``reset_after=False``, tanh, sigmoid) without recurrent dropout, in one dtype (not
        under autocast, which picks dtypes per op): ``run_gru_reset_before``'s equations."""
        keras_default = (not self.reset_after and self.activation is activations.tanh
                         and self.recurrent_activation is activations.sigmoid)
        recurrent_dropout = self._in_training(training) and 0.0 < self.recurrent_dropout < 1.0
        one_dtype = projected.dtype == state.dtype == self.recurrent_kernel.dtype
        return (keras_default and not recurrent_dropout and one_dtype
                and not mixed_precision.autocast_enabled(projected.device))

    def fused_mode(self, training):
        torch_equations = (self.reset_after and self.activation is activations.tanh
                           and self.recurrent_activation is activations.sigmoid)
        return "gru" if torch_equations and self._fused_allowed(training) else None

    def fused_weights(self):
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias[0], self.bias[1]]

    def _cell_config(self):
        config = {**super()._cell_config(), "implementation": self.implementation, "reset_after": self.reset_after}
        return _insert_after(config, "activation",
                             {"recurrent_activation": activations.serialize(self.recurrent_activation)})


def _checked_implementation(implementation, owner: str) -> int:
    if implementation == 0:
        # Keras 2.3.1 wording; its from_config maps 0 to 1 as well
        warnings.warn("`implementation=0` has been deprecated, and now defaults to `implementation=1`.Please update "
                      "your layer call.", stacklevel=3)
        return 1
    if implementation not in (1, 2):
        raise ValueError(f"{owner}: implementation must be 1 or 2; received {implementation!r}.")
    return int(implementation)


_BUILTIN_CELLS = (SimpleRNNCell, LSTMCell, GRUCell)


# ============================================================================================== stacked cells
class StackedRNNCells(Layer):
    """Keras 2.3.1 ``StackedRNNCells(cells)``: a stack of cells run as one cell; each cell's output is the next
    one's input at the same step. States are the cells' states in order (``[h1, c1, h2, c2]`` for two LSTMs)."""

    def __init__(self, cells, **kwargs):
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError(f"All cells must have a `call` method. received cells: {cells}")
            if not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `state_size` attribute. received cells: {cells}")
        self.reverse_state_order = kwargs.pop("reverse_state_order", False)
        if self.reverse_state_order:
            warnings.warn("`reverse_state_order=True` in `StackedRNNCells` will soon be deprecated. Please update the "
                          "code to work with the natural order of states if you reply on the RNN states, eg "
                          "`RNN(return_state=True)`.", stacklevel=2)
        super().__init__(**kwargs)
        cells = list(cells)
        if all(isinstance(cell, nn.Module) for cell in cells):
            self.cells = nn.ModuleList(cells)
        else:  # plain-Python cells (Keras allows any object with call and state_size)
            self.cells = cells
            for index, cell in enumerate(cells):
                if isinstance(cell, nn.Module):
                    self.add_module(f"cell_{index}", cell)

    def _ordered_cells(self) -> list:
        return list(self.cells)[::-1] if self.reverse_state_order else list(self.cells)

    @property
    def state_size(self) -> tuple:
        sizes = []
        for cell in self._ordered_cells():
            sizes += list(_state_sizes(cell))
        return tuple(sizes)

    @property
    def output_size(self) -> int:
        return _output_size(list(self.cells)[-1])

    def call(self, inputs, states, constants=None, training=None):
        nested = []
        states = list(states)
        for cell in self._ordered_cells():
            count = len(_state_sizes(cell))
            nested.append(states[:count])
            states = states[count:]
        if self.reverse_state_order:
            nested = nested[::-1]
        new_nested = []
        for cell, cell_states in zip(self.cells, nested):
            kwargs = {}
            if _takes(cell.call, "constants"):
                kwargs["constants"] = constants
            if _takes(cell.call, "training"):
                kwargs["training"] = training
            inputs, cell_states = cell.call(inputs, cell_states, **kwargs)
            new_nested.append(list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states])
        if self.reverse_state_order:
            new_nested = new_nested[::-1]
        return inputs, [state for cell_states in new_nested for state in cell_states]

    def build(self, input_shape):
        constants_shape = None
        if isinstance(input_shape, list):
            input_shape, constants_shape = input_shape[0], input_shape[1:]
        for cell in self.cells:
            if isinstance(cell, Layer):
                if constants_shape is not None and _takes(cell.call, "constants"):
                    cell._build_once([tuple(input_shape)] + list(constants_shape))
                else:
                    cell._build_once(tuple(input_shape))
            input_shape = (input_shape[0], _output_size(cell))

    def keras_weight_specs(self):
        """The cells' weights, cell by cell (Keras 2.3.1 ``StackedRNNCells.get_weights``)."""
        specs = []
        for index, cell in enumerate(self.cells):
            if isinstance(cell, Layer):
                prefix = f"cells.{index}." if isinstance(self.cells, nn.ModuleList) else f"cell_{index}."
                specs += [(prefix + attr, layout) for attr, layout in cell.keras_weight_specs()]
        return specs

    def _apply_trainable(self):
        _apply_trainable_to_cells(self, [cell for cell in self.cells if isinstance(cell, Layer)])

    def reset_dropout_mask(self) -> None:
        for cell in self.cells:
            _reset_dropout_masks(cell)

    def get_config(self):
        cells = [{"class_name": type(cell).__name__, "config": cell.get_config()} for cell in self.cells]
        return {**super().get_config(), "cells": cells}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [_cell_from(cell, custom_objects) for cell in config.pop("cells")]
        return cls(cells, **config)


def _state_sizes(cell) -> tuple:
    size = cell.state_size
    return tuple(size) if hasattr(size, "__len__") else (size,)


def _output_size(cell) -> int:
    output_size = getattr(cell, "output_size", None)
    return output_size if output_size is not None else _state_sizes(cell)[0]


def _takes(function, name: str) -> bool:
    """Keras's ``has_arg``: ``function`` names the argument ``name`` (``**kwargs`` does not count)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters and parameters[name].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                inspect.Parameter.VAR_KEYWORD)


def _reset_dropout_masks(cell) -> None:
    for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
        if hasattr(cell, reset):
            getattr(cell, reset)()


def _apply_trainable_to_cells(owner: Layer, cells: list) -> None:
    """Each cell keeps its own trainable flags (weights added with trainable=False stay frozen); a frozen owner
    freezes them all (Keras 2.3.1 ``RNN.trainable_weights``)."""
    for cell in cells:
        cell._enclosing_trainable = owner._effectively_trainable()
        cell._apply_trainable()
    if not owner._effectively_trainable():
        for parameter in owner.parameters():
            parameter.requires_grad_(False)


def _cell_from(data, custom_objects=None):
    """A cell given as a layer (``load_model`` builds nested layers) or as ``{'class_name', 'config'}``."""
    if not isinstance(data, dict):
        return data
    known = {**{cls.__name__: cls for cls in _BUILTIN_CELLS + (StackedRNNCells,)}, **get_custom_objects(),
             **dict(custom_objects or {})}
    cls = known.get(data.get("class_name"))
    if cls is None:
        name = data.get("class_name")
        raise ValueError(f"Unknown layer: {name}.{did_you_mean(name, known)} A custom cell class must be passed by "
                         f"name: custom_objects={{'{name}': {name}}}.")
    config = dict(data.get("config") or {})
    if _takes(cls.from_config, "custom_objects"):
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


# ============================================================================================== RNN
class RNN(Layer):
    """Keras 2.3.1 ``RNN(cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
    unroll=False)``. ``cell``: a cell (``state_size`` and ``call(inputs, states) -> (output, new_states)``), or a
    list of cells (stacked). Call arguments: ``mask`` ``(batch, time)``, ``training``, ``initial_state`` (a tensor or
    a list, one per state), ``constants`` (passed to ``cell.call(..., constants=...)`` at every step)."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError(f"`cell` should have a `call` method. The RNN was passed: {cell}")
        if not hasattr(cell, "state_size"):
            raise ValueError("The RNN cell should have an attribute `state_size` (tuple of integers, one integer per "
                             "RNN state).")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]
        self.state_spec = None
        self._states = None
        self.constants_spec = None
        self._num_constants = None
        self._batch_size = None  # a stateful layer's fixed batch size, from its input shape
        self._cell_takes_training = _takes(cell.call, "training")

    # ------------------------------------------------------------ states
    @property
    def states(self) -> list:
        """A stateful layer's current states (after ``build``), else ``[None] * number of states``."""
        if self._states is None:
            return [None] * len(_state_sizes(self.cell))
        return self._states

    @states.setter
    def states(self, states) -> None:
        self._states = states

    def get_initial_state(self, inputs) -> list:
        """Zeros ``(batch, size)`` per state, in the inputs' dtype and device."""
        return [inputs.new_zeros((inputs.shape[0], size)) for size in _state_sizes(self.cell)]

    def reset_states(self, states=None) -> None:
        """Zero a stateful layer's states, or set them to ``states`` (arrays, one per state, ``(batch, size)``)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        shapes = self._state_shapes()
        reference = next(iter(self.parameters()), torch.zeros(()))
        dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
        if states is None:
            self._states = [torch.zeros(shape, dtype=dtype, device=reference.device) for shape in shapes]
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(shapes):
            raise ValueError(f"Layer {self.name} expects {len(shapes)} states, but it received {len(states)} state "
                             f"values. Input received: {states}")
        values = []
        for index, (value, shape) in enumerate(zip(states, shapes)):
            value = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
            if tuple(value.shape) != shape:
                raise ValueError(f"State {index} is incompatible with layer {self.name}: expected shape="
                                 f"{shape}, found shape={tuple(value.shape)}")
            values.append(value.detach().to(dtype=dtype, device=reference.device).clone())
        self._states = values

    def _state_shapes(self) -> list:
        """The shape of each state a stateful layer keeps, ``(batch, size)`` (a hook: ConvRNN2D's are images)."""
        if not self._batch_size:
            raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch size of your "
                             "input tensors: \n- If using a Sequential model, specify the batch size by passing a "
                             "`batch_input_shape` argument to your first layer.\n- If using the functional API, "
                             "specify the batch size by passing a `batch_shape` argument to your Input layer.")
        return [(self._batch_size, size) for size in _state_sizes(self.cell)]

    # ------------------------------------------------------------ building
    def build(self, input_shape):
        constants_shape = None
        if isinstance(input_shape, list):
            if self._num_constants:
                constants_shape = [tuple(s) for s in input_shape[-self._num_constants:]]
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if self.unroll and input_shape[1] is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined. \n- If using a Sequential model, "
                             "specify the time dimension by passing an `input_shape` or `batch_input_shape` argument "
                             "to your first layer. If your first layer is an Embedding, you can also use the "
                             "`input_length` argument.\n- If using the functional API, specify the time dimension by "
                             "passing a `shape` or `batch_shape` argument to your Input layer.")
        self._batch_size = input_shape[0] if self.stateful else None
        self.input_spec[0] = InputSpec(shape=(self._batch_size, None, input_shape[-1]))
        step_input_shape = (input_shape[0],) + input_shape[2:]
        if isinstance(self.cell, Layer):
            self.cell._build_once([step_input_shape] + constants_shape if constants_shape else step_input_shape)
        state_size = list(_state_sizes(self.cell))
        if self.state_spec is not None:
            if [spec.shape[-1] for spec in self.state_spec] != state_size:
                raise ValueError(f"An `initial_state` was passed that is not compatible with `cell.state_size`. "
                                 f"Received `state_spec`={self.state_spec}; however `cell.state_size` is "
                                 f"{self.cell.state_size}")
        else:
            self.state_spec = [InputSpec(shape=(None, size)) for size in state_size]
        if self.stateful:
            self.reset_states()

    def _apply_trainable(self):
        _apply_trainable_to_cells(self, [self.cell] if isinstance(self.cell, Layer) else [])

    def keras_weight_specs(self):
        """The cell's weights (Keras 2.3.1: an RNN's weights are its cell's)."""
        if not isinstance(self.cell, Layer):
            return []
        return [(f"cell.{attr}", layout) for attr, layout in self.cell.keras_weight_specs()]

    def assert_input_compatibility(self, inputs) -> None:
        """The sequence against the layer's spec; initial states given in the input list against ``state_spec``."""
        tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        specs = list(self.input_spec[:1])
        if len(tensors) > 1 and self.state_spec is not None:
            specs += list(self.state_spec)[:len(tensors) - 1 - (self._num_constants or 0)]
        for index, (tensor, spec) in enumerate(zip(tensors, specs)):
            if isinstance(tensor, torch.Tensor):
                spec.check(tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""), index, self.name)

    # ------------------------------------------------------------ calling
    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        inputs, initial_state, constants = _standardize_args(inputs, initial_state, constants, self._num_constants)
        if initial_state is None and constants is None:
            return super().__call__(inputs, **kwargs)
        additional = []
        if initial_state is not None:
            additional += initial_state
            self.state_spec = [InputSpec(shape=_static_shape(state)) for state in initial_state]
        if constants is not None:
            additional += constants
            self.constants_spec = [InputSpec(shape=_static_shape(constant)) for constant in constants]
            self._num_constants = len(constants)
        symbolic = [is_keras_tensor(t) for t in additional]
        if any(symbolic) != all(symbolic):
            raise ValueError('The initial state or constants of an RNN layer cannot be specified with a mix of Keras '
                             'tensors and non-Keras tensors (a "Keras tensor" is a tensor that was returned by a Keras '
                             'layer, or by `Input`)')
        if all(symbolic):
            # graph inputs of the call, as Keras 2.3.1 records them: [inputs, *initial_state, *constants]
            return super().__call__([inputs] + additional, **kwargs)
        return super().__call__(inputs, initial_state=initial_state, constants=constants, **kwargs)

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if not isinstance(initial_state, (list, tuple, type(None))):
            initial_state = [initial_state]
        if not isinstance(constants, (list, tuple, type(None))):
            constants = [constants]
        inputs, initial_state, constants = self._split_input_list(inputs, initial_state, constants)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        states = self._starting_states(inputs, initial_state)
        constants = [_like(c, inputs) for c in constants] if constants else None
        if inputs.device.type == "meta":
            mask = None  # shape inference: the mask changes no shape
        elif mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device).bool()
        last_output, outputs, final_states = self._run(inputs, states, mask, training, constants)
        if self.stateful and inputs.device.type != "meta":
            # Keras's state updates: no gradient; a copy, so that a kernel's per-step buffer it may view is freed
            self._states = [state.detach().clone() for state in final_states]
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(final_states)
        return output

    def _split_input_list(self, inputs, initial_state, constants):
        """Keras 2.3.1: ``[inputs, *initial_state, *constants]`` from a functional call or a loaded model."""
        if not isinstance(inputs, (list, tuple)):
            return inputs, initial_state, constants
        if len(inputs) == 1:
            return inputs[0], initial_state, constants
        if self._num_constants is None:
            if initial_state is not None:
                raise ValueError("Layer was passed initial state via both kwarg and inputs list)")
            initial_state = list(inputs[1:])
        else:
            from_list = list(inputs[1:-self._num_constants])
            if initial_state is not None and from_list:
                raise ValueError("Layer was passed initial state via both kwarg and inputs list")
            initial_state = from_list if initial_state is None else initial_state
            if constants is None:
                constants = list(inputs[-self._num_constants:])
            elif len(inputs) > 1 + len(initial_state):
                raise ValueError("Layer was passed constants via both kwarg and inputs list)")
        return inputs[0], (initial_state or None), constants

    def _starting_states(self, inputs, initial_state) -> list:
        if initial_state is not None:
            states = [_like(state, inputs) for state in initial_state]
        elif self.stateful:
            states = self._stateful_states(inputs)
        else:
            states = self.get_initial_state(inputs)
        expected = len(_state_sizes(self.cell))
        if len(states) != expected:
            raise ValueError(f"Layer has {expected} states but was passed {len(states)} initial states.")
        return states

    def _stateful_states(self, inputs) -> list:
        if self._states is None:
            self.reset_states()
        if inputs.device.type == "meta":
            return [torch.empty_like(state, device="meta") for state in self._states]
        if self._states[0].shape[0] != inputs.shape[0]:
            raise ValueError(f"Layer {self.name} is stateful: its states are kept for batches of "
                             f"{self._states[0].shape[0]} samples, but it received a batch of {inputs.shape[0]}. "
                             "Feed batches of exactly that size (batch_size, and a number of samples divisible by it; "
                             "shuffle=False keeps each sample's sequence in its row).")
        if self._states[0].device != inputs.device or self._states[0].dtype != inputs.dtype:
            self._states = [state.to(device=inputs.device, dtype=inputs.dtype) for state in self._states]
        return list(self._states)

    def _run(self, inputs, states, mask, training, constants):
        """``(last_output, outputs, final_states)`` with Keras's ``K.rnn`` semantics."""
        cell = self.cell
        if type(cell) in _BUILTIN_CELLS and constants is None:
            x = inputs.flip(1) if self.go_backwards else inputs
            step_mask = mask.flip(1) if mask is not None and self.go_backwards else mask
            outputs, final_states = cell.run_sequence(x, states, step_mask, training, allow_fused=not self.unroll)
            return outputs[:, -1], outputs, list(final_states)
        _reset_dropout_masks(cell)
        kwargs = {"training": training} if self._cell_takes_training else {}
        if constants:
            if not _takes(cell.call, "constants"):
                raise ValueError("RNN cell does not support constants")
            count = len(constants)

            def step(x_t, step_states):
                return cell.call(x_t, step_states[:-count], constants=step_states[-count:], **kwargs)
        else:
            def step(x_t, step_states):
                return cell.call(x_t, step_states, **kwargs)
        return backend_rnn(step, inputs, states, go_backwards=self.go_backwards, mask=mask, constants=constants,
                           unroll=self.unroll)

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1: the input mask when returning sequences, else None; with ``return_state``, a list with
        None for each state."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_state_sizes(self.cell))
        return output_mask

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        output_dim = _output_size(self.cell)
        output_shape = (input_shape[0], input_shape[1], output_dim) if self.return_sequences \
            else (input_shape[0], output_dim)
        if self.return_state:
            return [output_shape] + [(input_shape[0], size) for size in _state_sizes(self.cell)]
        return output_shape

    # ------------------------------------------------------------ config
    def get_config(self):
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll}
        if self._num_constants is not None:
            config["num_constants"] = self._num_constants
        config["cell"] = {"class_name": type(self.cell).__name__, "config": self.cell.get_config()}
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = _cell_from(config.pop("cell"), custom_objects)
        num_constants = config.pop("num_constants", None)
        layer = cls(cell, **config)
        layer._num_constants = num_constants
        return layer


def _standardize_args(inputs, initial_state, constants, num_constants):
    """Keras 2.3.1: ``inputs`` given as ``[inputs, *initial_state, *constants]`` split apart; states and
    constants as lists (or None)."""
    if isinstance(inputs, list):
        if initial_state is not None or constants is not None:
            raise ValueError("RNN: pass the initial state and constants either in the inputs list or by keyword, "
                             "not both.")
        if num_constants is not None:
            constants = inputs[-num_constants:]
            inputs = inputs[:-num_constants]
        if len(inputs) > 1:
            initial_state = inputs[1:]
        inputs = inputs[0]

    def to_list_or_none(x):
        if x is None or isinstance(x, list):
            return x
        if isinstance(x, tuple):
            return list(x)
        return [x]

    return inputs, to_list_or_none(initial_state), to_list_or_none(constants)


def _static_shape(tensor) -> tuple:
    if is_keras_tensor(tensor):
        return tuple(tensor.shape)
    return (None,) + tuple(np.shape(tensor))[1:]


def _like(value, inputs):
    """An initial state or constant as a tensor on the inputs' device, floating ones in their dtype."""
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    if inputs.device.type == "meta" and tensor.device.type != "meta":
        return torch.empty_like(tensor, device="meta", dtype=inputs.dtype if tensor.is_floating_point() else None)
    return tensor.to(device=inputs.device, dtype=inputs.dtype if tensor.is_floating_point() else tensor.dtype)


# ============================================================================================== layers
def _cell_attribute(name: str) -> property:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}`` (Keras 2.3.1).")


class _CellLayer(RNN):
    """SimpleRNN, LSTM and GRU: an RNN over one built-in cell whose arguments it takes and reports."""

    cell_class: type = None

    units = _cell_attribute("units")
    activation = _cell_attribute("activation")
    use_bias = _cell_attribute("use_bias")
    kernel_initializer = _cell_attribute("kernel_initializer")
    recurrent_initializer = _cell_attribute("recurrent_initializer")
    bias_initializer = _cell_attribute("bias_initializer")
    kernel_regularizer = _cell_attribute("kernel_regularizer")
    recurrent_regularizer = _cell_attribute("recurrent_regularizer")
    bias_regularizer = _cell_attribute("bias_regularizer")
    kernel_constraint = _cell_attribute("kernel_constraint")
    recurrent_constraint = _cell_attribute("recurrent_constraint")
    bias_constraint = _cell_attribute("bias_constraint")
    dropout = _cell_attribute("dropout")
    recurrent_dropout = _cell_attribute("recurrent_dropout")
    # the cell's weights (torch layout; get_weights gives Keras's), as Keras 2.0's recurrent layers had them
    kernel = _cell_attribute("kernel")
    recurrent_kernel = _cell_attribute("recurrent_kernel")
    bias = _cell_attribute("bias")

    def __init__(self, cell, activity_regularizer, return_sequences, return_state, go_backwards, stateful, unroll,
                 **kwargs):
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.set_weight_penalties(activity=activity_regularizer)

    def get_config(self):
        return config_with_cell_arguments(self, super().get_config())

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("implementation") == 0:
            config["implementation"] = 1  # Keras 2.3.1 LSTM/GRU.from_config
        return cls(**config)


def config_with_cell_arguments(layer: RNN, rnn_config: dict) -> dict:
    """The config of a layer that builds its own cell (LSTM, ConvLSTM2D ...): the RNN's, with the cell's arguments
    in place of the cell and the layer's ``activity_regularizer`` after ``bias_regularizer`` (Keras 2.3.1)."""
    config = {key: value for key, value in rnn_config.items() if key != "cell"}
    cell_config = _insert_after(layer.cell._cell_config(), "bias_regularizer",
                                {"activity_regularizer": serialize_keras_object(layer.activity_regularizer)})
    return {**config, **cell_config}


def _cell_kwargs(kwargs: dict) -> dict:
    """The cell is made in the layer's dtype."""
    return {"dtype": kwargs["dtype"]} if kwargs.get("dtype") is not None else {}


class SimpleRNN(_CellLayer):
    """Keras 2.3.1 ``SimpleRNN``: a fully connected RNN whose output is fed back as its input."""

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 **kwargs):
        if "implementation" in kwargs:
            kwargs.pop("implementation")
            warnings.warn("The `implementation` argument in `SimpleRNN` has been deprecated. Please remove it from "
                          "your layer call.", stacklevel=2)
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, **_cell_kwargs(kwargs))
        super().__init__(cell, activity_regularizer, return_sequences, return_state, go_backwards, stateful, unroll,
                         **kwargs)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("implementation", None)
        return cls(**config)


class LSTM(_CellLayer):
    """Keras 2.3.1 ``LSTM`` (Hochreiter 1997); ``recurrent_activation='sigmoid'`` is Keras 2.3's default."""

    recurrent_activation = _cell_attribute("recurrent_activation")
    unit_forget_bias = _cell_attribute("unit_forget_bias")
    implementation = _cell_attribute("implementation")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, implementation=2, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                        unit_forget_bias=unit_forget_bias, bias_initializer=bias_initializer,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
                        recurrent_dropout=recurrent_dropout, implementation=implementation, **_cell_kwargs(kwargs))
        super().__init__(cell, activity_regularizer, return_sequences, return_state, go_backwards, stateful, unroll,
                         **kwargs)


class GRU(_CellLayer):
    """Keras 2.3.1 ``GRU`` (Cho 2014). ``reset_after=False`` (Keras 2's default) resets the state before its
    matmul; ``reset_after=True`` is CuDNNGRU's and torch's variant (and runs on torch's fused kernel)."""

    recurrent_activation = _cell_attribute("recurrent_activation")
    implementation = _cell_attribute("implementation")
    reset_after = _cell_attribute("reset_after")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, implementation=2, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=False, **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                       kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       implementation=implementation, reset_after=reset_after, **_cell_kwargs(kwargs))
        super().__init__(cell, activity_regularizer, return_sequences, return_state, go_backwards, stateful, unroll,
                         **kwargs)


__all__ = ["RNN", "StackedRNNCells", "SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU"]
# also importable from this module, as from Keras 2.3.1's
__all__ += ["Recurrent", "Layer", "InputSpec"]
