"""Keras 2.3.1's cuDNN recurrent layers (``keras/layers/cudnn_recurrent.py``): ``CuDNNLSTM`` and ``CuDNNGRU``.

In Keras 2 these names run only on a GPU with TensorFlow. Here they run on any device: their equations are
exactly those of torch's fused ``torch.lstm`` / ``torch.gru`` (cuDNN on a GPU, one C++ loop on the CPU), so
they are ``RNN`` layers over a built-in cell that always takes ``recurrent.py``'s fused path (tanh and a true
sigmoid, two biases, GRU with the reset gate applied after the recurrent matmul, no dropout, no mask).

Weights, in Keras's layouts (``get_weights``/``set_weights``, files), as Keras 2.3.1 builds them:

* ``CuDNNLSTM``: ``kernel (input_dim, 4 * units)``, ``recurrent_kernel (units, 4 * units)``, ``bias (8 * units,)``:
  the input biases then the recurrent ones, gates i, f, c, o (``unit_forget_bias`` sets the *recurrent* forget
  bias to 1);
* ``CuDNNGRU``: ``kernel (input_dim, 3 * units)``, ``recurrent_kernel (units, 3 * units)``, ``bias (6 * units,)``,
  gates z, r, h.

Keras hands each gate's ``(rows, units)`` block of a kernel to cuDNN as raw memory that cuDNN reads as its
``(units, rows)`` matrix, so a CuDNN layer's kernel is *not* the kernel of the equivalent ``LSTM``/``GRU``: the
cell keeps the torch layout (``weight_layouts.CuDNNGateBlocks``), and ``convert_rnn_weights`` converts weight
lists between the two families as Keras 2.3.1's weight loading does (``engine/saving.py _convert_rnn_weights``);
``kerasish.saving`` applies it when weights of one family load into a layer of the other.

Masks: Keras 2.3.1's CuDNN layers refuse them (``supports_masking`` False; their ``call`` raises ValueError).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from kerasish import initializers
from kerasish.layers import weight_layouts
from kerasish.layers.base import InputSpec, Layer, serialize_keras_object
from kerasish.layers.recurrent import RNN, GRUCell, LSTMCell, _cell_attribute, _cell_kwargs, _CellLayer


# ============================================================================================== cells
class _CuDNNCell:
    """What the two CuDNN cells add to LSTMCell/GRUCell: one bias of ``2 * gates * units`` values (input biases,
    then recurrent ones) and Keras's plain initialisation of the whole recurrent kernel."""

    def _bias_shape(self) -> tuple:
        return (2 * self.gates * self.units,)

    def _biases(self):
        """(input bias, recurrent bias) in torch's gate order."""
        return self.bias.chunk(2)

    def _recurrent_initial_value(self, shape, dtype=None):
        # Keras 2.3.1 CuDNN*.build calls the initializer on the whole (units, gates * units) kernel (an identity
        # initializer gives an identity padded with zeros, not one per gate as LSTMCell/GRUCell)
        return initializers.initial_value(self.recurrent_initializer, shape, dtype)

    def fused_weights(self) -> list:
        return [self.kernel, self.recurrent_kernel, *self._biases()]


class _CuDNNLSTMCell(_CuDNNCell, LSTMCell):
    """LSTMCell with cuDNN's weights: ``c = f * c + i * g``, ``h = o * tanh(c)`` with each gate reading
    ``x @ W.T + b_input + h @ R.T + b_recurrent``."""

    kernel_layout = weight_layouts.CUDNN_LSTM_KERNEL
    bias_layout = weight_layouts.SAME  # i, f, c, o in Keras and torch alike

    def _bias_initial_value(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return super()._bias_initial_value(shape, dtype)
        # Keras 2.3.1 CuDNNLSTM.build: the initializer for 5 blocks, ones for the 6th (the recurrent forget
        # bias), the initializer for the last 2
        units = self.units
        return torch.cat([initializers.initial_value(self.bias_initializer, (5 * units,), dtype),
                          torch.ones(units, dtype=dtype),
                          initializers.initial_value(self.bias_initializer, (2 * units,), dtype)])

    def project(self, inputs, training=None):
        # one step (the cell API); a sequence runs the fused kernel. The two biases always add up in an LSTM.
        input_bias, recurrent_bias = self._biases()
        return F.linear(inputs, self.kernel, input_bias + recurrent_bias)


class _CuDNNGRUCell(_CuDNNCell, GRUCell):
    """GRUCell with ``reset_after=True`` (cuDNN's GRU) and cuDNN's weights."""

    kernel_layout = weight_layouts.CUDNN_GRU_KERNEL
    bias_layout = weight_layouts.CUDNN_GRU_BIAS


# ============================================================================================== layers
class _CuDNNRNN(_CellLayer):
    """Keras 2.3.1 ``_CuDNNRNN``: what CuDNNLSTM and CuDNNGRU share. ``go_backwards`` comes in ``**kwargs``, as
    in Keras (its constructors do not list it). The cell's arguments and weights are the layer's attributes
    (``layer.units``, ``layer.kernel``), as for LSTM and GRU."""

    def __init__(self, cell, activity_regularizer, return_sequences, return_state, stateful, go_backwards=False,
                 **kwargs):
        if "unroll" in kwargs:
            # RNN takes `unroll`; Keras 2.3.1's CuDNN layers pass it to Layer.__init__, which refuses it
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) ['unroll']: cuDNN's kernel "
                            "runs the whole sequence, it cannot be unrolled. Remove `unroll`.")
        super().__init__(cell, activity_regularizer, return_sequences, return_state, go_backwards, stateful,
                         unroll=False, **kwargs)
        self.supports_masking = False

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            raise ValueError("Masking is not supported for CuDNN RNNs.")  # Keras 2.3.1 wording
        if constants is not None:
            # Keras 2.3.1's CuDNN call() has no `constants` argument (a TypeError there too)
            raise TypeError(f"{type(self).__name__} takes no `constants`: cuDNN's cell equations are fixed. Use "
                            "RNN(cell) with a cell whose call takes `constants`.")
        return super().call(inputs, training=training, initial_state=initial_state)

    def _run(self, inputs, states, mask, training, constants):
        # always torch's fused kernel: nothing in these layers' configuration rules it out
        x = inputs.flip(1) if self.go_backwards else inputs
        outputs, final_states = self.cell.run_sequence(x, states, None, training)
        return outputs[:, -1], outputs, list(final_states)

    def _initializers_config(self) -> dict:
        return {"units": self.units,
                "kernel_initializer": serialize_keras_object(self.kernel_initializer),
                "recurrent_initializer": serialize_keras_object(self.recurrent_initializer),
                "bias_initializer": serialize_keras_object(self.bias_initializer)}

    def _penalties_config(self) -> dict:
        return {"kernel_regularizer": serialize_keras_object(self.kernel_regularizer),
                "recurrent_regularizer": serialize_keras_object(self.recurrent_regularizer),
                "bias_regularizer": serialize_keras_object(self.bias_regularizer),
                "activity_regularizer": serialize_keras_object(self.activity_regularizer),
                "kernel_constraint": serialize_keras_object(self.kernel_constraint),
                "recurrent_constraint": serialize_keras_object(self.recurrent_constraint),
                "bias_constraint": serialize_keras_object(self.bias_constraint)}

    def get_config(self):
        """Keras 2.3.1's keys and order: the base layer's, ``return_sequences``, ``return_state``,
        ``go_backwards``, ``stateful``, then the layer's own."""
        return {**Layer.get_config(self), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards, "stateful": self.stateful,
                **self._initializers_config(), **self._penalties_config()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)  # Keras 2.3.1 (no `implementation` to map, unlike LSTM/GRU)


class CuDNNLSTM(_CuDNNRNN):
    """Keras 2.3.1 ``CuDNNLSTM``: an LSTM with cuDNN's equations and weights (see the module docstring), on any
    device. States ``[h, c]``."""

    unit_forget_bias = _cell_attribute("unit_forget_bias")

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences=False, return_state=False, stateful=False, **kwargs):
        # cuDNN's fixed equations (tanh, sigmoid, biases, no dropout) are the cell's defaults
        cell = _CuDNNLSTMCell(units, kernel_initializer=kernel_initializer,
                              recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                              unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
                              recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                              kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                              bias_constraint=bias_constraint, **_cell_kwargs(kwargs))
        super().__init__(cell, activity_regularizer, return_sequences, return_state, stateful, **kwargs)

    def _initializers_config(self):
        return {**super()._initializers_config(), "unit_forget_bias": self.unit_forget_bias}


class CuDNNGRU(_CuDNNRNN):
    """Keras 2.3.1 ``CuDNNGRU``: a GRU with cuDNN's equations (``GRU(reset_after=True)``'s) and weights (see the
    module docstring), on any device."""

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 return_sequences=False, return_state=False, stateful=False, **kwargs):
        cell = _CuDNNGRUCell(units, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             reset_after=True, **_cell_kwargs(kwargs))
        super().__init__(cell, activity_regularizer, return_sequences, return_state, stateful, **kwargs)


# ============================================================================================== weight conversion
def convert_rnn_weights(layer, weights: list) -> list:
    """Keras 2.3.1 ``engine/saving.py _convert_rnn_weights``, as its weight loading applies it: ``weights`` (a
    Keras-layout list: kernel, recurrent kernel, bias) converted for ``layer``, the layer they will be set into.

    * ``CuDNNLSTM`` weights (bias ``(8 * units,)``) for an ``LSTM``: the same outputs from an ``LSTM`` with
      ``recurrent_activation='sigmoid'`` (Keras 2.3's default); the two biases are summed. ``LSTM`` weights for a
      ``CuDNNLSTM``: the bias split into two halves.
    * ``CuDNNGRU`` weights (bias ``(6 * units,)``) for a ``GRU(reset_after=True)`` (bias ``(2, 3 * units)``), and
      back; ``GRU(reset_after=False)`` is compatible with neither (ValueError).
    * A ``Bidirectional`` converts each half for its layer, a ``TimeDistributed`` for the layer it wraps.

    Anything else, weights already in the layer's family, and layers without biases: ``weights`` unchanged (the
    same list). The kernels of each gate are converted as the layouts require (the module docstring).
    """
    kind = type(layer).__name__  # Keras decides by class name: subclasses are not converted
    if kind == "Bidirectional":
        half = len(weights) // 2
        converted = (convert_rnn_weights(layer.forward_layer, weights[:half])
                     + convert_rnn_weights(layer.backward_layer, weights[half:]))
        return weights if all(a is b for a, b in zip(converted, weights)) else converted
    if kind == "TimeDistributed":
        return convert_rnn_weights(layer.layer, weights)
    if kind in ("LSTM", "CuDNNLSTM") and len(weights) == 3:
        return _converted_lstm_weights(kind, weights)
    if kind in ("GRU", "CuDNNGRU") and len(weights) == 3:
        target = "CuDNNGRU" if kind == "CuDNNGRU" else f"GRU(reset_after={bool(layer.reset_after)})"
        return _converted_gru_weights(target, weights)
    return weights


def _converted_lstm_weights(target: str, weights: list) -> list:
    units, bias_shape = tuple(weights[1].shape)[0], tuple(weights[2].shape)
    if bias_shape == (8 * units,):
        source = "CuDNNLSTM"
    elif bias_shape == (4 * units,):
        source = "LSTM"
    else:
        raise ValueError(f"Invalid bias shape: {bias_shape}")  # Keras 2.3.1 wording
    if source == target:
        return weights
    kernel, recurrent_kernel, bias = (_array(w) for w in weights)
    if source == "CuDNNLSTM":
        return [*_kernels_from_cudnn(kernel, recurrent_kernel, 4), bias[:4 * units] + bias[4 * units:]]
    # any split of the bias into two that keeps the sum will do; Keras takes halves
    return [*_kernels_to_cudnn(kernel, recurrent_kernel, 4), np.concatenate([bias / 2, bias / 2])]


def _converted_gru_weights(target: str, weights: list) -> list:
    units, bias_shape = tuple(weights[1].shape)[0], tuple(weights[2].shape)
    sources = {(6 * units,): "CuDNNGRU", (2, 3 * units): "GRU(reset_after=True)",
               (3 * units,): "GRU(reset_after=False)"}
    source = sources.get(bias_shape)
    if source is None:
        raise ValueError(f"Invalid bias shape: {bias_shape}")  # Keras 2.3.1 wording
    if source == target:
        return weights
    if "GRU(reset_after=False)" in (source, target):
        raise ValueError(f"{source} is not compatible with {target}")  # Keras 2.3.1 wording
    kernel, recurrent_kernel, bias = (_array(w) for w in weights)
    if source == "CuDNNGRU":
        return [*_kernels_from_cudnn(kernel, recurrent_kernel, 3), bias.reshape(2, -1)]
    return [*_kernels_to_cudnn(kernel, recurrent_kernel, 3), bias.reshape(-1)]


def _kernels_from_cudnn(kernel, recurrent_kernel, gates: int) -> list:
    # cuDNN reads a Keras block (rows, units) as its matrix W (units, rows) and computes x @ W.T; a plain
    # Keras kernel block is that W.T
    return [_per_gate(k, lambda block: block.reshape(block.shape[1], -1).T, gates) for k in (kernel, recurrent_kernel)]


def _kernels_to_cudnn(kernel, recurrent_kernel, gates: int) -> list:
    # the inverse: the plain block's transpose (W), its memory read back into the Keras block's shape
    return [_per_gate(k, lambda block: block.T.reshape(block.shape), gates) for k in (kernel, recurrent_kernel)]


def _per_gate(kernel: np.ndarray, transform, gates: int) -> np.ndarray:
    return np.concatenate([transform(block) for block in np.split(kernel, gates, axis=1)], axis=1)


def _array(weight) -> np.ndarray:
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu()
        return (weight.float() if weight.dtype == torch.bfloat16 else weight).numpy()
    return np.asarray(weight)


__all__ = ["CuDNNLSTM", "CuDNNGRU", "convert_rnn_weights"]
# also importable from this module, as from Keras 2.3.1's
__all__ += ["RNN", "InputSpec"]
