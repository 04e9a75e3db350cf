"""Convolutional-recurrent layers (Keras 2.3.1 ``keras/layers/convolutional_recurrent.py``): ``ConvRNN2D``, the
base of recurrent layers over image sequences, ``ConvLSTM2DCell`` and ``ConvLSTM2D``.

``ConvRNN2D`` is the ``RNN`` of recurrent.py for 5-D inputs ``(batch, time, rows, cols, channels)``
(``channels_last``) or ``(batch, time, channels, rows, cols)`` (``channels_first``): its states are images, in the
same layout (``(batch, new_rows, new_cols, filters)``), and so are ``initial_state``, ``return_state``'s states and
a stateful layer's ``states``. Everything else (``__call__`` folding initial states into the inputs, masks with
``K.rnn`` semantics, ``stateful`` and ``reset_states``, ``return_state``, ``go_backwards``) is ``RNN``'s; this
class changes only the shapes (``build``, ``get_initial_state``, ``compute_output_shape``, the ``_state_shapes``
hook) and the loop of a ``ConvLSTM2DCell``.

Weights, in the cell, in torch's layout: ``kernel (4 * filters, in, kh, kw)``, ``recurrent_kernel (4 * filters,
filters, kh, kw)``, ``bias (4 * filters,)``, gates i, f, c, o in both torch and Keras. ``get_weights`` gives
Keras's ``(kh, kw, in, 4 * filters)``, ``(kh, kw, filters, 4 * filters)`` and ``(4 * filters,)`` through
``weight_layouts.CONV_KERNEL``.

How a sequence runs: the cell computes channels-first. The input convolution of every time step is one
convolution over the ``batch * time`` frames (with the layer's strides, padding and dilation), and only the
recurrent convolution (always 'same' padding and stride 1, as Keras; TensorFlow puts the odd padding cell of an
even kernel at the end) runs per step, through ``K.rnn``'s loop. Keras's dropout draws one mask per gate, each
shaped like the step's input (or state), fixed across the sequence and only in training: the four masked copies
then go through one grouped convolution (``groups=4``, one group per gate) instead of four.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import activations, backend, initializers
from kerasish.backend.control import rnn as backend_rnn
from kerasish.backend.window_ops import explicit_padding, pad_for_window_op
from kerasish.layers import weight_layouts
from kerasish.layers.base import InputSpec, Layer, penalties_config, serialize_keras_object
from kerasish.layers.window_shapes import (check_output_lengths, conv_output_length, normalize_padding_arg,
                                           positive_int, positive_tuple)
from kerasish.layers.legacy import ConvRecurrent2D, Recurrent
from kerasish.layers.recurrent import RNN, _cell_attribute, _cell_kwargs, _state_sizes, config_with_cell_arguments
from kerasish.utils.validation import check_number

GATES = 4  # i, f, c, o


# ============================================================================================== layout helpers
def _channel_axis(data_format: str, rank: int) -> int:
    """The channel axis of a Keras-layout image ``(batch, ...)`` of ``rank`` dims; a sequence has time at 1."""
    return rank - 1 if data_format == "channels_last" else rank - 3


def _to_channels_first(t: torch.Tensor, data_format: str) -> torch.Tensor:
    """A Keras-layout image ``(batch, rows, cols, ch)`` or sequence ``(batch, time, rows, cols, ch)`` as
    ``(..., ch, rows, cols)`` (a view)."""
    return t.movedim(-1, -3) if data_format == "channels_last" else t


def _to_keras(t: torch.Tensor, data_format: str) -> torch.Tensor:
    return t.movedim(-3, -1) if data_format == "channels_last" else t


def _image_shape(batch, rows, cols, channels, data_format: str) -> tuple:
    return (batch, rows, cols, channels) if data_format == "channels_last" else (batch, channels, rows, cols)


def _output_rows_cols(cell, rows, cols) -> tuple:
    """Keras 2.3.1 ``conv_output_length`` of the cell's input convolution, per spatial axis."""
    return tuple(conv_output_length(n, k, cell.padding, s, d) for n, k, s, d
                 in zip((rows, cols), cell.kernel_size, cell.strides, cell.dilation_rate))


def _rows_cols(shape: tuple, data_format: str) -> tuple:
    """``(rows, cols)`` of a Keras-layout image shape (``(batch, ...)``) or sequence shape (``(batch, time, ...)``)."""
    return tuple(shape[-3:-1]) if data_format == "channels_last" else tuple(shape[-2:])


def _penalty_property(weight: str, index: int) -> property:
    return property(lambda self: self._weight_penalties.get(weight, (None, None))[index])


# ============================================================================================== the cell
class ConvLSTM2DCell(Layer):
    """Keras 2.3.1 ``ConvLSTM2DCell``: one step of a convolutional LSTM. ``call(inputs, states)`` takes a
    Keras-layout image ``(batch, rows, cols, channels)`` (``channels_first``: ``(batch, channels, rows, cols)``)
    and the states ``[h, c]`` (images of ``filters`` channels), and returns ``(h, [h, c])``::

        i = recurrent_activation(x * W_i + b_i + h * U_i)      (* convolution: the input one with the strides,
        f = recurrent_activation(x * W_f + b_f + h * U_f)       padding and dilation given, the recurrent one
        c = f c + i activation(x * W_c + b_c + h * U_c)          'same' with stride 1)
        o = recurrent_activation(x * W_o + b_o + h * U_o)
        h = o activation(c)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = positive_int(filters, "filters", owner)
        self.kernel_size = positive_tuple(kernel_size, 2, "kernel_size", owner)
        self.strides = positive_tuple(strides, 2, "strides", owner)
        self.padding = normalize_padding_arg(padding, ("valid", "same"), owner)
        self.data_format = backend.normalize_data_format(data_format)
        self.dilation_rate = positive_tuple(dilation_rate, 2, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # Keras 2.3.1 docstring: "Specifying any stride value != 1 is incompatible with specifying any
            # dilation_rate value != 1" (TensorFlow's conv2d raises for it)
            raise ValueError(f"{owner}: strides > 1 is incompatible with dilation_rate > 1 in Keras; received "
                             f"strides={self.strides}, dilation_rate={self.dilation_rate}.")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.set_weight_penalties(kernel=(kernel_regularizer, kernel_constraint),
                                  recurrent_kernel=(recurrent_regularizer, recurrent_constraint),
                                  bias=(bias_regularizer, bias_constraint))
        # Keras 2.3.1 clips the rates into [0, 1]; a rate outside it is a mistake, refused (issue 15)
        self.dropout = check_number(dropout, "dropout", owner, low=0, high=1)
        self.recurrent_dropout = check_number(recurrent_dropout, "recurrent_dropout", owner, low=0, high=1)
        self.state_size = (self.filters, self.filters)
        # TensorFlow's 'same' padding at stride 1 pads kernel - 1 cells, the odd one at the end
        self._recurrent_pads = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in self.kernel_size]
        self._dropout_mask = None  # per sequence: GATES masks, drawn at its first step, fixed across its steps
        self._recurrent_dropout_mask = None

    kernel_regularizer = _penalty_property("kernel", 0)
    recurrent_regularizer = _penalty_property("recurrent_kernel", 0)
    bias_regularizer = _penalty_property("bias", 0)
    kernel_constraint = _penalty_property("kernel", 1)
    recurrent_constraint = _penalty_property("recurrent_kernel", 1)
    bias_constraint = _penalty_property("bias", 1)

    # ------------------------------------------------------------ weights
    def build(self, input_shape):
        input_shape = tuple(input_shape)
        input_dim = input_shape[_channel_axis(self.data_format, len(input_shape))]
        if input_dim is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        rows_cols = _rows_cols(input_shape, self.data_format)
        check_output_lengths(self, input_shape, rows_cols, self.kernel_size, self.dilation_rate,
                             _output_rows_cols(self, *rows_cols))
        self.kernel_shape = self.kernel_size + (input_dim, GATES * self.filters)  # Keras's attribute
        recurrent_shape = self.kernel_size + (self.filters, GATES * self.filters)
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, self.kernel_shape,
                                                      weight_layouts.CONV_KERNEL))
        self.recurrent_kernel = nn.Parameter(self.initial_value(self.recurrent_initializer, recurrent_shape,
                                                                weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self._bias_initial_value, (GATES * self.filters,))) \
            if self.use_bias else None

    def _bias_initial_value(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return initializers.initial_value(self.bias_initializer, shape, dtype)
        filters = self.filters  # Keras 2.3.1: the forget gate's block starts at ones
        return torch.cat([initializers.initial_value(self.bias_initializer, (filters,), dtype),
                          torch.ones(filters, dtype=dtype),
                          initializers.initial_value(self.bias_initializer, (2 * filters,), dtype)])

    def keras_weight_specs(self):
        specs = [("kernel", weight_layouts.CONV_KERNEL), ("recurrent_kernel", weight_layouts.CONV_KERNEL)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    # ------------------------------------------------------------ dropout masks (Keras _generate_dropout_mask)
    def reset_dropout_mask(self) -> None:
        """Forget the input dropout masks: the next step draws new ones (the layer does this per sequence)."""
        if self._dropout_mask is not None:
            self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        if self._recurrent_dropout_mask is not None:
            self._recurrent_dropout_mask = None

    def _in_training(self, training) -> bool:
        return self.training if training is None else bool(training)

    def _input_masks(self, step_shape: tuple, like: torch.Tensor, training):
        """GATES inverted-dropout masks shaped as one channels-first step of the inputs, or None."""
        if not 0.0 < self.dropout < 1.0 or not self._in_training(training):
            return None
        if self._dropout_mask is None:
            self._dropout_mask = _dropout_masks(like.new_ones(step_shape), self.dropout)
        return self._dropout_mask

    def _recurrent_masks(self, state: torch.Tensor, training):
        """GATES masks shaped as the carry state (Keras: ``K.ones_like(states[1])``), or None."""
        if not 0.0 < self.recurrent_dropout < 1.0 or not self._in_training(training):
            return None
        if self._recurrent_dropout_mask is None:
            self._recurrent_dropout_mask = _dropout_masks(torch.ones_like(state), self.recurrent_dropout)
        return self._recurrent_dropout_mask

    # ------------------------------------------------------------ the two convolutions (channels-first)
    def project(self, x: torch.Tensor, masks=None) -> torch.Tensor:
        """The input convolution with the bias: ``x`` ``(..., in, rows, cols)`` (one step, or a sequence
        ``(batch, time, in, rows, cols)`` as one batch of frames) -> ``(..., 4 * filters, new_rows, new_cols)``.
        ``masks``: GATES dropout masks ``(batch, in, rows, cols)``, one per gate, fixed over time."""
        lead = x.shape[:-3]
        groups = 1
        if masks is not None:
            x = torch.cat([x * (m if x.dim() == 4 else m.unsqueeze(1)) for m in masks], dim=-3)
            groups = GATES  # gate g reads its own dropped copy (input channels g * in ... (g + 1) * in)
        frames = x.reshape((-1,) + tuple(x.shape[-3:]))
        pads = explicit_padding(tuple(frames.shape[2:]), self.kernel_size, self.strides, self.padding,
                                self.dilation_rate)
        frames, padding = pad_for_window_op(frames, pads)
        out = F.conv2d(frames, self.kernel, self.bias, self.strides, padding, self.dilation_rate, groups)
        return out.reshape(tuple(lead) + tuple(out.shape[1:]))

    def recurrent_step(self, projected: torch.Tensor, states: list, training=None):
        """One step from the input projection ``(batch, 4 * filters, rows, cols)`` and channels-first ``[h, c]``."""
        h, c = states[0], states[1]
        masks = self._recurrent_masks(c, training)
        groups = 1
        if masks is not None:
            h = torch.cat([h * m for m in masks], dim=1)
            groups = GATES
        h, padding = pad_for_window_op(h, self._recurrent_pads)
        z = projected + F.conv2d(h, self.recurrent_kernel, None, 1, padding, 1, groups)
        i, f, g, o = z.chunk(GATES, dim=1)
        act, recurrent_act = self.activation, self.recurrent_activation
        c = recurrent_act(f) * c + recurrent_act(i) * act(g)
        h = recurrent_act(o) * act(c)
        return h, [h, c]

    # ------------------------------------------------------------ Keras's cell API and whole sequences
    def call(self, inputs, states, training=None):
        """One Keras step on Keras-layout tensors -> ``(h, [h, c])``."""
        x = _to_channels_first(inputs, self.data_format)
        masks = self._input_masks(tuple(x.shape), x, training)
        h, c = (_to_channels_first(s, self.data_format) for s in states)
        output, new_states = self.recurrent_step(self.project(x, masks), [h, c], training)
        return _to_keras(output, self.data_format), [_to_keras(s, self.data_format) for s in new_states]

    def run_sequence(self, inputs, states: list, mask=None, training=None, go_backwards: bool = False):
        """``(last_output, outputs, final_states)`` over a Keras-layout sequence, Keras's ``K.rnn`` semantics;
        outputs in processing order, all in Keras's layout. The input convolution runs once for all steps."""
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()
        x = _to_channels_first(inputs, self.data_format)  # (batch, time, in, rows, cols)
        masks = self._input_masks((x.shape[0],) + tuple(x.shape[2:]), x, training)
        projected = self.project(x, masks)  # (batch, time, 4 * filters, new_rows, new_cols)
        states = [_to_channels_first(s, self.data_format) for s in states]
        last, outputs, final = backend_rnn(lambda p, s: self.recurrent_step(p, s, training), projected, states,
                                           go_backwards=go_backwards, mask=mask)
        keras = lambda t: _to_keras(t, self.data_format)  # noqa: E731
        return keras(last), keras(outputs), [keras(s) for s in final]

    # ------------------------------------------------------------ config
    def _cell_config(self) -> dict:
        """The cell's arguments in Keras 2.3.1's order."""
        penalties = penalties_config(self, ("kernel", "recurrent_kernel", "bias"), activity=False)
        return {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_keras_object(self.kernel_initializer),
                "recurrent_initializer": serialize_keras_object(self.recurrent_initializer),
                "bias_initializer": serialize_keras_object(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
                **{f"{kind}_regularizer": penalties[f"{kind}_regularizer"] for kind in ("kernel", "recurrent", "bias")},
                **{f"{kind}_constraint": penalties[f"{kind}_constraint"] for kind in ("kernel", "recurrent", "bias")},
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}

    def get_config(self):
        return {**super().get_config(), **self._cell_config()}


def _dropout_masks(ones: torch.Tensor, rate: float) -> list:
    """GATES inverted-dropout masks shaped as ``ones`` (Keras ``K.dropout(ones, rate)``, ``count=4``)."""
    return [F.dropout(ones, rate, training=True) for _ in range(GATES)]


# ============================================================================================== ConvRNN2D
class ConvRNN2D(RNN):
    """Keras 2.3.1 ``ConvRNN2D(cell, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False, unroll=False)``: an ``RNN`` over 5-D inputs whose cell convolves (it has ``filters``,
    ``kernel_size``, ``strides``, ``padding``, ``dilation_rate`` and ``data_format``). ``unroll`` and stacked
    cells are refused, as in Keras."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, **kwargs):
        if unroll:
            raise TypeError("Unrolling isn't possible with convolutional RNNs.")
        if isinstance(cell, (list, tuple)):
            raise TypeError("It is not possible at the moment to stack convolutional cells.")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.input_spec = [InputSpec(ndim=5)]

    # ------------------------------------------------------------ shapes
    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        cell = self.cell
        rows, cols = _output_rows_cols(cell, *_rows_cols(input_shape, cell.data_format))
        image = _image_shape(input_shape[0], rows, cols, cell.filters, cell.data_format)
        output_shape = image[:1] + (input_shape[1],) + image[1:] if self.return_sequences else image
        if self.return_state:
            return [output_shape] + [image for _ in _state_sizes(cell)]
        return output_shape

    def get_initial_state(self, inputs) -> list:
        """Zeros shaped as the cell's output image, one per state (Keras 2.3.1 convolves zeros to get it)."""
        cell = self.cell
        rows, cols = _output_rows_cols(cell, *_rows_cols(tuple(inputs.shape), cell.data_format))
        return [inputs.new_zeros(_image_shape(inputs.shape[0], rows, cols, size, cell.data_format))
                for size in _state_sizes(cell)]

    def _state_shapes(self) -> list:
        """A stateful layer's states: its output images, for the batch size and image size it was built for."""
        input_shape = self.input_spec[0].shape  # None until build
        image = None
        if input_shape is not None:
            image = self.compute_output_shape(input_shape)
            image = image[0] if self.return_state else image
            image = image[:1] + image[2:] if self.return_sequences else image
        if image is None or None in image:
            raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch size of your "
                             "input tensors: \n- If using a Sequential model, specify the batch size by passing a "
                             "`batch_input_shape` argument to your first layer.\n- If using the functional API, "
                             "specify the time dimension by passing a `batch_shape` argument to your Input layer.\n"
                             "The same thing goes for the number of rows and columns.")
        axis = _channel_axis(self.cell.data_format, 4)
        return [image[:axis] + (size,) + image[axis + 1:] for size in _state_sizes(self.cell)]

    # ------------------------------------------------------------ building
    def build(self, input_shape):
        constants_shape = None
        if isinstance(input_shape, list):
            if self._num_constants:
                constants_shape = [tuple(s) for s in input_shape[-self._num_constants:]]
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._batch_size = input_shape[0] if self.stateful else None
        self.input_spec[0] = InputSpec(shape=(self._batch_size, None) + input_shape[2:5])
        step_input_shape = (input_shape[0],) + input_shape[2:]
        if isinstance(self.cell, Layer):
            self.cell._build_once([step_input_shape] + constants_shape if constants_shape else step_input_shape)
        state_size = list(_state_sizes(self.cell))
        axis = _channel_axis(self.cell.data_format, 4)
        if self.state_spec is not None:
            if [spec.shape[axis] for spec in self.state_spec] != state_size:
                raise ValueError(f"An initial_state was passed that is not compatible with `cell.state_size`. "
                                 f"Received `state_spec`={[spec.shape for spec in self.state_spec]}; However "
                                 f"`cell.state_size` is {self.cell.state_size}")
        else:
            self.state_spec = [InputSpec(shape=_image_shape(None, None, None, size, self.cell.data_format))
                               for size in state_size]
        if self.stateful:
            self.reset_states()

    # ------------------------------------------------------------ the loop
    def _run(self, inputs, states, mask, training, constants):
        if type(self.cell) is ConvLSTM2DCell and constants is None:
            return self.cell.run_sequence(inputs, states, mask, training, go_backwards=self.go_backwards)
        return super()._run(inputs, states, mask, training, constants)


# ============================================================================================== ConvLSTM2D
class ConvLSTM2D(ConvRNN2D):
    """Keras 2.3.1 ``ConvLSTM2D``: an LSTM whose input and recurrent transformations are convolutions, over
    sequences of images. ``recurrent_activation='hard_sigmoid'`` is Keras 2.3.1's default here (LSTM's changed to
    'sigmoid', ConvLSTM2D's did not). ``return_state`` and ``unroll`` (refused) go through ``**kwargs`` as in
    Keras."""

    filters = _cell_attribute("filters")
    kernel_size = _cell_attribute("kernel_size")
    strides = _cell_attribute("strides")
    padding = _cell_attribute("padding")
    data_format = _cell_attribute("data_format")
    dilation_rate = _cell_attribute("dilation_rate")
    activation = _cell_attribute("activation")
    recurrent_activation = _cell_attribute("recurrent_activation")
    use_bias = _cell_attribute("use_bias")
    kernel_initializer = _cell_attribute("kernel_initializer")
    recurrent_initializer = _cell_attribute("recurrent_initializer")
    bias_initializer = _cell_attribute("bias_initializer")
    unit_forget_bias = _cell_attribute("unit_forget_bias")
    kernel_regularizer = _cell_attribute("kernel_regularizer")
    recurrent_regularizer = _cell_attribute("recurrent_regularizer")
    bias_regularizer = _cell_attribute("bias_regularizer")
    kernel_constraint = _cell_attribute("kernel_constraint")
    recurrent_constraint = _cell_attribute("recurrent_constraint")
    bias_constraint = _cell_attribute("bias_constraint")
    dropout = _cell_attribute("dropout")
    recurrent_dropout = _cell_attribute("recurrent_dropout")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 return_sequences=False, go_backwards=False, stateful=False, dropout=0.0, recurrent_dropout=0.0,
                 **kwargs):
        cell = ConvLSTM2DCell(filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                              data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                              recurrent_activation=recurrent_activation, use_bias=use_bias,
                              kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                              bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                              kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                              bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                              recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                              dropout=dropout, recurrent_dropout=recurrent_dropout, **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, go_backwards=go_backwards, stateful=stateful,
                         **kwargs)
        self.set_weight_penalties(activity=activity_regularizer)

    def get_config(self):
        return config_with_cell_arguments(self, super().get_config())

    @classmethod
    def from_config(cls, config):
        return cls(**config)


__all__ = ["ConvRNN2D", "ConvLSTM2DCell", "ConvLSTM2D"]
# also importable from this module, as from Keras 2.3.1's
__all__ += ["Recurrent", "ConvRecurrent2D", "RNN", "Layer", "InputSpec"]
