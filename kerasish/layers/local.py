"""Locally-connected layers: LocallyConnected1D and LocallyConnected2D (Keras 2.3.1 ``keras/layers/local.py``).

A convolution whose weights are not shared: every output position has its own kernel. Keras keeps them all in
one kernel ``(positions, patch_size, filters)``, each patch flattened in the order of the input's layout
(``(*kernel_size, channels)`` for channels_last, ``(channels, *kernel_size)`` for channels_first: Keras 2.3.1
``K.local_conv1d``/``K.local_conv2d`` reshape the input slices as they are), and a bias per position and filter
``(*output_spatial, filters)``.

All positions are computed at once: ``Tensor.unfold`` views the channel-first input as its patches
``(n, c, *out, *k)``; one permute + reshape lays them out as ``(positions, n, patch)`` in Keras's patch order
(the one copy, im2col); one ``baddbmm`` multiplies each position's patches by its kernel and adds its bias. So
the weights stay in Keras's layout and no per-position Python loop runs.

Keras 2.3.1 accepts only ``padding='valid'`` and has no ``implementation`` argument (tf.keras added it later).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from kerasish import backend, initializers
from kerasish.layers import weight_layouts
from kerasish.layers.base import InputSpec, Layer, penalties_config, serialize_keras_object
from kerasish.layers.window_shapes import (channel_first_shape, check_ndim, check_output_lengths, conv_output_length,
                                           keras_shape_from_channel_first, layout_for, normalize_padding_arg,
                                           positive_int, positive_tuple)
from kerasish.layers.core import ActivatedLayer


class _LocallyConnected(ActivatedLayer):
    """The rank-independent part of LocallyConnected1D/2D."""

    rank = 2

    def __init__(self, filters, kernel_size, strides, padding, data_format, activation, use_bias,
                 kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, bias_constraint, **kwargs):
        super().__init__(activation=activation, **kwargs)
        layer_type = type(self).__name__
        self.filters = positive_int(filters, "filters", layer_type)
        self.kernel_size = positive_tuple(kernel_size, self.rank, "kernel_size", layer_type)
        self.strides = positive_tuple(strides, self.rank, "strides", layer_type)
        padding = normalize_padding_arg(padding, ("valid", "same", "causal"), layer_type)
        if padding != "valid":
            # Keras 2.3.1 LocallyConnected1D/2D.__init__ message
            raise ValueError(f'Invalid border mode for {layer_type} (only "valid" is supported): {padding}')
        self.padding = padding
        self.data_format = backend.normalize_data_format(data_format)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.set_weight_penalties(kernel=(kernel_regularizer, kernel_constraint),
                                  bias=(bias_regularizer, bias_constraint), activity=activity_regularizer)
        self.input_layout = layout_for(self.input_format)
        # Keras's softmax normalises the last Keras axis: channels (dim 1 here) for channels_last
        self.channel_axis = 1 if self.input_format == "channels_last" else -1
        self.output_spatial: tuple | None = None

    @property
    def input_format(self) -> str:
        """The layout the inputs are read in."""
        return self.data_format

    # -------------------------------------------------------------- shapes
    def _output_spatial(self, spatial) -> tuple:
        return tuple(conv_output_length(n, k, self.padding, s)
                     for n, k, s in zip(spatial, self.kernel_size, self.strides))

    def compute_output_shape(self, input_shape):
        batch, _, *spatial = channel_first_shape(tuple(input_shape), self.input_format)
        out = (batch, self.filters) + self._output_spatial(tuple(spatial))
        return keras_shape_from_channel_first(out, self.input_format)

    # -------------------------------------------------------------- weights
    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2)
        _, channels, *spatial = channel_first_shape(tuple(input_shape), self.input_format)
        if channels is None:
            raise ValueError(f"{self.name}: the channel dimension of the inputs should be defined. Found `None` "
                             f"(input shape {tuple(input_shape)}).")
        if any(n is None for n in spatial):
            # Keras 2.3.1 LocallyConnected2D.build wording: one kernel per position needs every position known
            raise ValueError(f"The spatial dimensions of the inputs to a {type(self).__name__} layer should be "
                             f"fully-defined, but layer received the inputs shape {tuple(input_shape)}")
        self.output_spatial = self._output_spatial(tuple(spatial))
        check_output_lengths(self, input_shape, tuple(spatial), self.kernel_size, (1,) * self.rank,
                             self.output_spatial)
        channel_axis = -1 if self.input_format == "channels_last" else 1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={channel_axis: channels})
        kernel_shape = (math.prod(self.output_spatial), math.prod(self.kernel_size) * channels, self.filters)
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, kernel_shape))
        bias_shape = self.output_spatial + (self.filters,)
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, bias_shape)) if self.use_bias else None

    def keras_weight_specs(self):
        # both weights are kept in Keras's layout (see the module docstring)
        specs = [("kernel", weight_layouts.SAME)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    # -------------------------------------------------------------- forward
    def _patch_rows(self, x: torch.Tensor) -> torch.Tensor:
        """(n, c, *spatial) -> (positions, n, patch_size), each patch flattened in Keras's order."""
        patches = x
        for axis, (k, s) in enumerate(zip(self.kernel_size, self.strides), start=2):
            patches = patches.unfold(axis, k, s)   # (n, c, *out, *k) once every axis is unfolded
        out_dims = list(range(2, 2 + self.rank))
        window_dims = list(range(2 + self.rank, 2 + 2 * self.rank))
        patch_dims = window_dims + [1] if self.input_format == "channels_last" else [1] + window_dims
        positions, patch_size, _ = self.kernel.shape
        return patches.permute(out_dims + [0] + patch_dims).reshape(positions, x.shape[0], patch_size)

    def call_pre_activation(self, x):
        # x: (n, c, *spatial) -> (n, filters, *output_spatial)
        rows = self._patch_rows(x)
        if self.bias is None:
            out = torch.bmm(rows, self.kernel)
        else:
            out = torch.baddbmm(self.bias.reshape(rows.shape[0], 1, self.filters), rows, self.kernel)
        # (positions, n, filters) -> (n, filters, *output_spatial)
        return out.permute(1, 2, 0).reshape(x.shape[0], self.filters, *self.output_spatial)

    def get_config(self):
        config = {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                  "padding": self.padding, "data_format": self.data_format, "use_bias": self.use_bias,
                  "kernel_initializer": serialize_keras_object(self.kernel_initializer),
                  "bias_initializer": serialize_keras_object(self.bias_initializer)}
        config.update(penalties_config(self, ("kernel", "bias")))
        return {**super().get_config(), **config}


class LocallyConnected1D(_LocallyConnected):
    """``LocallyConnected1D(filters, kernel_size, strides=1, padding='valid', data_format=None, activation=None,
    use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None,
    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None)``.

    Inputs ``(batch, steps, input_dim)``; Keras weights ``[kernel (output_length, kernel_size * input_dim,
    filters), bias (output_length, filters)]``. As in Keras 2.3.1, ``data_format`` is checked but the inputs
    are always read channels_last (``K.local_conv1d`` is called without it) and the config leaves it out.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    @property
    def input_format(self) -> str:
        return "channels_last"

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return config


class LocallyConnected2D(_LocallyConnected):
    """``LocallyConnected2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Keras weights ``[kernel (output_row * output_col, kh * kw * input_filter, filters),
    bias (output_row, output_col, filters)]``; positions run row by row, and a patch is flattened as
    ``(kh, kw, channels)`` for channels_last, ``(channels, kh, kw)`` for channels_first.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


__all__ = ["LocallyConnected1D", "LocallyConnected2D"]
# also importable from this module, as from Keras 2.3.1's
__all__ += ["Layer", "InputSpec"]
