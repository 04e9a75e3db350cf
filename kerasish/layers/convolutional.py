"""Convolutional layers (Keras 2.3.1 ``keras/layers/convolutional.py``): Conv1D/2D/3D, Conv2DTranspose,
Conv3DTranspose, SeparableConv1D/2D, DepthwiseConv2D, UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
the Keras 1 factories AtrousConvolution1D/2D, and, as Keras's module has them, the pooling layers and aliases.

Every layer here computes on channel-first tensors ``(n, c, *spatial)``: a ``channels_last`` layer declares
``input_layout = CHANNELS_FIRST`` (the model moves Keras's last axis to dim 1 for it), a ``channels_first``
layer declares ``KERAS`` (its Keras layout already is channel-first). Kernels are kept in torch layout and
converted to Keras layout by ``weight_layouts`` for get/set_weights, initialisation and regularisation.

Shape rules and padding follow Keras 2.3.1 ``keras/utils/conv_utils.py`` and the TensorFlow backend: 'same'
pads ``max((out - 1) * stride + dilated_kernel - in, 0)`` cells, the odd one at the end, so with strides
> 1 the padding is often asymmetric; we then pad with ``F.pad`` and convolve with ``padding=0``, except for
depthwise kernels, which get zero taps instead (``window_ops.pad_for_conv``).

One class per family carries the rank-independent code (``_Conv``, ``_ConvTranspose``, ``_SeparableConv``,
``_UpSampling``, ``_ZeroPadding``, ``_Cropping``); the public classes fix the rank and Keras's defaults.
The 1D reshaping layers (UpSampling1D, ZeroPadding1D, Cropping1D) are always channels_last, as in Keras.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import backend, initializers
from kerasish.backend.window_ops import (conv_transpose, explicit_padding, pad_for_conv, torch_pad_arg,
                                         upsample_linear)
from kerasish.layers import weight_layouts
from kerasish.layers.base import InputSpec, Layer, normalize_tuple, penalties_config, serialize_keras_object
from kerasish.layers.core import ActivatedLayer
# Keras 2.3.1's convolutional module imports the pooling layers, and scripts import them from there
from kerasish.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, MaxPooling1D, MaxPooling2D,
                                     MaxPooling3D)
from kerasish.layers.window_shapes import (channel_first_shape, check_ndim, check_output_lengths, conv_output_length,
                                           deconv_length, keras_shape_from_channel_first, layout_for,
                                           normalize_padding_arg, positive_int, positive_tuple)


# ---------------------------------------------------------------------------------------------- convolutions
CONV_OPS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class _Conv(ActivatedLayer):
    """N-D convolution (Keras 2.3.1 ``_Conv``): kernel torch ``(filters, in, *k)``, Keras ``(*k, in, filters)``."""

    rank = 2
    padding_modes: tuple[str, ...] = ("valid", "same")
    _penalized_weights = ("kernel", "bias")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        layer_type = type(self).__name__
        self.filters = self._normalize_filters(filters)
        self.kernel_size = positive_tuple(kernel_size, self.rank, "kernel_size", layer_type)
        self.strides = positive_tuple(strides, self.rank, "strides", layer_type)
        self.padding = normalize_padding_arg(padding, self.padding_modes, layer_type)
        self.data_format = backend.normalize_data_format(data_format)
        self.dilation_rate = positive_tuple(dilation_rate, self.rank, "dilation_rate", layer_type)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # Keras 2.3.1 docstring: "Specifying any stride value != 1 is incompatible with specifying any
            # dilation_rate value != 1" -- TensorFlow raises for it; we refuse it up front.
            raise ValueError(f"{layer_type}: strides > 1 is incompatible with dilation_rate > 1 in Keras; "
                             f"received strides={self.strides}, dilation_rate={self.dilation_rate}.")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.set_weight_penalties(kernel=(kernel_regularizer, kernel_constraint),
                                  bias=(bias_regularizer, bias_constraint), activity=activity_regularizer)
        self.input_layout = layout_for(self.data_format)
        # Keras's softmax normalises the last Keras axis: channels (dim 1 here) for channels_last,
        # the last spatial axis for channels_first.
        self.channel_axis = 1 if self.data_format == "channels_last" else -1

    def _normalize_filters(self, filters) -> int | None:
        return positive_int(filters, "filters", type(self).__name__)

    # -------------------------------------------------------------- shapes
    def _input_channels(self, input_shape) -> int:
        check_ndim(self, input_shape, self.rank + 2)
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if channels is None:
            raise ValueError(f"{self.name}: the channel dimension of the inputs should be defined. Found `None` "
                             f"(input shape {tuple(input_shape)}, data_format={self.data_format!r}).")
        return int(channels)

    def _output_spatial(self, spatial: tuple) -> tuple:
        return tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d
                     in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        batch, _, *spatial = channel_first_shape(tuple(input_shape), self.data_format)
        out = (batch, self.filters) + self._output_spatial(tuple(spatial))
        return keras_shape_from_channel_first(out, self.data_format)

    def _check_output(self, input_shape) -> None:
        spatial = channel_first_shape(tuple(input_shape), self.data_format)[2:]
        check_output_lengths(self, input_shape, spatial, self.kernel_size, self.dilation_rate,
                             self._output_spatial(spatial))

    # -------------------------------------------------------------- weights
    def _set_input_spec(self, in_channels: int) -> None:
        """Later inputs must keep the rank and channel count (Keras 2.3.1 ``_Conv.build``)."""
        channel_axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={channel_axis: in_channels})

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self._check_output(input_shape)
        self._set_input_spec(in_channels)
        kernel_shape = self.kernel_size + (in_channels, self.filters)
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, kernel_shape,
                                                      weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.filters,))) if self.use_bias else None

    def keras_weight_specs(self):
        specs = [("kernel", weight_layouts.CONV_KERNEL)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    # -------------------------------------------------------------- forward
    def windowed_conv(self, x, kernel, bias=None, groups: int = 1, input_pads=None):
        """``x`` (n, in, *spatial) convolved with a torch-layout ``kernel`` under this layer's strides, padding
        and dilation -> (n, out, *out_spatial). ``input_pads``: ``(before, after)`` zeros per spatial axis that
        ``x`` is to be taken as padded with first (see ``call_zero_padded``)."""
        spatial = tuple(x.shape[2:])
        if input_pads:
            spatial = tuple(n + before + after for n, (before, after) in zip(spatial, input_pads))
        pads = explicit_padding(spatial, self.kernel_size, self.strides, self.padding, self.dilation_rate)
        if input_pads:
            pads = [(before + extra_before, after + extra_after)
                    for (before, after), (extra_before, extra_after) in zip(pads, input_pads)]
        x, kernel, padding = pad_for_conv(x, kernel, pads, self.dilation_rate, groups)
        return CONV_OPS[self.rank](x, kernel, bias, self.strides, padding, self.dilation_rate, groups)

    def call_pre_activation(self, x, input_pads=None):
        # x: (n, in, *spatial) -> (n, filters, *out_spatial)
        return self.windowed_conv(x, self.kernel, self.bias, input_pads=input_pads)

    def call_zero_padded(self, x, input_pads):
        """This layer's output for ``x`` zero-padded by ``input_pads`` (``(before, after)`` per spatial axis, what
        a ``ZeroPadding`` layer before it makes), without making the padded tensor: the zeros join the
        convolution's own padding (a symmetric one costs nothing; see ``window_ops.pad_for_conv``). Models run
        a ZeroPadding layer and the convolution that alone reads it this way (models/graph.py); they call it
        only where ``forward`` would add nothing (no hooks, no activity regularizer, not a user's subclass)."""
        return self.apply_activation(self.call_pre_activation(self.cast_inputs(x), input_pads))

    def get_config(self):
        config = {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                  "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                  "use_bias": self.use_bias,
                  "kernel_initializer": serialize_keras_object(self.kernel_initializer),
                  "bias_initializer": serialize_keras_object(self.bias_initializer)}
        config.update(penalties_config(self, self._penalized_weights))
        return {**super().get_config(), **config}


class Conv1D(_Conv):
    """``Conv1D(filters, kernel_size, strides=1, padding='valid', data_format='channels_last', dilation_rate=1,
    activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Inputs ``(batch, steps, channels)``. ``padding='causal'`` pads ``dilation_rate * (kernel_size - 1)`` steps
    on the left, so ``output[t]`` does not depend on ``input[t + 1:]``.
    """

    rank = 1
    padding_modes = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        if self.padding == "causal" and self.data_format != "channels_last":
            # Keras 2.3.1 Conv1D.__init__ refuses this combination with the same words
            raise ValueError('When using causal padding in `Conv1D`, `data_format` must be "channels_last" '
                             f"(temporal data); received data_format={data_format!r}.")


class Conv2D(_Conv):
    """``Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1),
    activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Kernel in Keras layout ``(kh, kw, in, filters)``; ``data_format`` defaults to
    ``backend.image_data_format()``.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class Conv3D(_Conv):
    """``Conv3D(filters, kernel_size, strides=(1, 1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer='glorot_uniform',
    bias_initializer='zeros', ...)``.

    Inputs ``(batch, dim1, dim2, dim3, channels)`` (channels_last); kernel in Keras layout
    ``(k1, k2, k3, in, filters)``.
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class _ConvTranspose(_Conv):
    """What a transposed convolution changes in its convolution class (Conv2DTranspose is a Conv2D and
    Conv3DTranspose a Conv3D, as in Keras): output sizes by ``deconv_length``, ``output_padding``, and a
    kernel whose Keras layout is ``(*k, filters, in)`` and torch layout ``(in, filters, *k)``
    (``conv_transpose*d``'s), the same permutation as ``CONV_KERNEL``."""

    def _set_output_padding(self, output_padding) -> None:
        layer_type = type(self).__name__
        self.output_padding = None
        if output_padding is None:
            return
        self.output_padding = normalize_tuple(output_padding, self.rank, f"{layer_type}: output_padding")
        if any(p < 0 for p in self.output_padding):
            raise ValueError(f"{layer_type}: output_padding must be non-negative; received {output_padding!r}.")
        for stride, out_pad in zip(self.strides, self.output_padding):
            if out_pad >= stride:
                # Keras 2.3.1 Conv2DTranspose/Conv3DTranspose.__init__ message
                raise ValueError(f"Stride {self.strides} must be greater than output padding "
                                 f"{self.output_padding}.")

    def _output_spatial(self, spatial):
        out_pads = self.output_padding or (None,) * self.rank
        return tuple(deconv_length(n, s, k, self.padding, p, d) for n, s, k, p, d
                     in zip(spatial, self.strides, self.kernel_size, out_pads, self.dilation_rate))

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self._set_input_spec(in_channels)
        kernel_shape = self.kernel_size + (self.filters, in_channels)
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, kernel_shape,
                                                      weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.filters,))) if self.use_bias else None

    call_zero_padded = None  # zeros around a transposed convolution's input are no padding of its output

    def call_pre_activation(self, x):
        # x: (n, in, *spatial) -> (n, filters, *out_spatial)
        out_sizes = self._output_spatial(tuple(x.shape[2:]))
        return conv_transpose(x, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate, out_sizes)

    def get_config(self):
        return {**super().get_config(), "output_padding": self.output_padding}


class Conv2DTranspose(_ConvTranspose, Conv2D):
    """``Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding='valid', output_padding=None,
    data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True, ...)``.

    Kernel in Keras layout ``(kh, kw, filters, in)``.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        self._set_output_padding(output_padding)


class Conv3DTranspose(_ConvTranspose, Conv3D):
    """``Conv3DTranspose(filters, kernel_size, strides=(1, 1, 1), padding='valid', output_padding=None,
    data_format=None, activation=None, use_bias=True, ...)``.

    Kernel in Keras layout ``(k1, k2, k3, filters, in)``. Keras 2.3.1 gives it no ``dilation_rate`` of its own
    (its ``get_config`` drops the key): one passed by keyword reaches Conv3D's and is then ignored by
    ``K.conv3d_transpose``. We ignore it too, with a warning, so the outputs stay Keras's.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        dilation_rate = kwargs.pop("dilation_rate", 1)
        if normalize_tuple(dilation_rate, 3, "Conv3DTranspose: dilation_rate") != (1, 1, 1):
            warnings.warn(f"Conv3DTranspose: dilation_rate={dilation_rate!r} is ignored, as Keras 2.3.1 ignores "
                          "it (its conv3d_transpose has no dilation); remove the argument.", stacklevel=2)
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
        self._set_output_padding(output_padding)

    def get_config(self):
        config = super().get_config()
        config.pop("dilation_rate")
        return config


class _SeparableConv(_Conv):
    """Keras 2.3.1 ``_SeparableConv``: a depthwise convolution (``depth_multiplier`` outputs per input channel;
    strides/padding/dilation apply here) then a pointwise one (kernel size 1). Keras weights:
    ``[depthwise_kernel (*k, in, dm), pointwise_kernel (*(1,) * rank, in * dm, filters), bias (filters,)]``."""

    _penalized_weights = ("depthwise_kernel", "pointwise_kernel", "bias")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", type(self).__name__)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_layout = weight_layouts.DepthwiseKernel(self.depth_multiplier)
        self.set_weight_penalties(depthwise_kernel=(depthwise_regularizer, depthwise_constraint),
                                  pointwise_kernel=(pointwise_regularizer, pointwise_constraint),
                                  bias=(bias_regularizer, bias_constraint), activity=activity_regularizer)

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self._check_output(input_shape)
        self._set_input_spec(in_channels)
        depthwise_shape = self.kernel_size + (in_channels, self.depth_multiplier)
        pointwise_shape = (1,) * self.rank + (in_channels * self.depth_multiplier, self.filters)
        self.depthwise_kernel = nn.Parameter(self.initial_value(self.depthwise_initializer, depthwise_shape,
                                                                self.depthwise_layout))
        self.pointwise_kernel = nn.Parameter(self.initial_value(self.pointwise_initializer, pointwise_shape,
                                                                weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.filters,))) if self.use_bias else None

    def keras_weight_specs(self):
        specs = [("depthwise_kernel", self.depthwise_layout), ("pointwise_kernel", weight_layouts.CONV_KERNEL)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    def call_pre_activation(self, x, input_pads=None):
        depthwise = self.windowed_conv(x, self.depthwise_kernel, groups=x.shape[1], input_pads=input_pads)
        return CONV_OPS[self.rank](depthwise, self.pointwise_kernel, self.bias)

    def get_config(self):
        config = super().get_config()
        config.pop("kernel_initializer")   # Keras 2.3.1 _SeparableConv.get_config drops the plain-kernel entries
        config.update({"depth_multiplier": self.depth_multiplier,
                       "depthwise_initializer": serialize_keras_object(self.depthwise_initializer),
                       "pointwise_initializer": serialize_keras_object(self.pointwise_initializer)})
        return config


class SeparableConv1D(_SeparableConv):
    """``SeparableConv1D(filters, kernel_size, strides=1, padding='valid', data_format='channels_last',
    dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer='glorot_uniform',
    pointwise_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Keras weights ``[depthwise_kernel (k, in, dm), pointwise_kernel (1, in * dm, filters), bias (filters,)]``.
    Padding 'valid' or 'same' (Keras 2.3.1's ``K.separable_conv1d`` refuses 'causal').
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class SeparableConv2D(_SeparableConv):
    """``SeparableConv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
    depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform', bias_initializer='zeros',
    depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None)``.

    Keras weights ``[depthwise_kernel (kh, kw, in, dm), pointwise_kernel (1, 1, in * dm, filters),
    bias (filters,)]``.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class DepthwiseConv2D(Conv2D):
    """``DepthwiseConv2D(kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1, data_format=None,
    dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer='glorot_uniform',
    bias_initializer='zeros', depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    depthwise_constraint=None, bias_constraint=None)``.

    The depthwise step of SeparableConv2D alone: ``in * depth_multiplier`` output channels, output channel
    ``c * depth_multiplier + m`` from input channel ``c`` (TensorFlow's order). Keras weights
    ``[depthwise_kernel (kh, kw, in, depth_multiplier), bias (in * depth_multiplier,)]``. As in Keras 2.3.1 it
    is a Conv2D whose ``filters`` is None (its config has no ``filters`` and no ``kernel_*`` entries).
    """

    _penalized_weights = ("depthwise_kernel", "bias")

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", "DepthwiseConv2D")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_layout = weight_layouts.DepthwiseKernel(self.depth_multiplier)
        self.set_weight_penalties(depthwise_kernel=(depthwise_regularizer, depthwise_constraint),
                                  bias=(bias_regularizer, bias_constraint), activity=activity_regularizer)

    def _normalize_filters(self, filters):
        return None   # the output channel count comes from the input and depth_multiplier

    def compute_output_shape(self, input_shape):
        batch, channels, *spatial = channel_first_shape(tuple(input_shape), self.data_format)
        out_channels = None if channels is None else channels * self.depth_multiplier
        out = (batch, out_channels) + self._output_spatial(tuple(spatial))
        return keras_shape_from_channel_first(out, self.data_format)

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self._check_output(input_shape)
        self._set_input_spec(in_channels)
        kernel_shape = self.kernel_size + (in_channels, self.depth_multiplier)
        self.depthwise_kernel = nn.Parameter(self.initial_value(self.depthwise_initializer, kernel_shape,
                                                                self.depthwise_layout))
        bias_shape = (in_channels * self.depth_multiplier,)
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, bias_shape)) if self.use_bias else None

    def keras_weight_specs(self):
        specs = [("depthwise_kernel", self.depthwise_layout)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    def call_pre_activation(self, x, input_pads=None):
        # x: (n, in, h, w) -> (n, in * depth_multiplier, out_h, out_w)
        return self.windowed_conv(x, self.depthwise_kernel, self.bias, groups=x.shape[1], input_pads=input_pads)

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "kernel_initializer"):   # Keras 2.3.1 DepthwiseConv2D.get_config pops them
            config.pop(key)
        config.update({"depth_multiplier": self.depth_multiplier,
                       "depthwise_initializer": serialize_keras_object(self.depthwise_initializer)})
        return config


# ---------------------------------------------------------------------------------------------- reshaping
def repeat_nearest(x: torch.Tensor, sizes: tuple) -> torch.Tensor:
    """Each cell of a channel-first ``(n, c, *spatial)`` tensor repeated ``sizes[i]`` times along spatial axis
    ``i`` (Keras's ``K.repeat_elements`` per axis), as one broadcast copy: ``(n, c, d1, 1, d2, 1, ...)``
    expanded to ``(n, c, d1, s1, d2, s2, ...)``."""
    n, c, *spatial = x.shape
    paired = [n, c] + [v for d in spatial for v in (d, 1)]
    expanded = [n, c] + [v for d, s in zip(spatial, sizes) for v in (d, s)]
    return x.reshape(paired).expand(expanded).reshape([n, c] + [d * s for d, s in zip(spatial, sizes)])


class _UpSampling(Layer):
    """Keras 2.3.1 ``_UpSampling``: repeats every spatial cell ``size`` times per axis."""

    rank = 2

    def __init__(self, size: tuple, data_format, **kwargs):
        super().__init__(**kwargs)
        self.size = positive_tuple(size, self.rank, "size", type(self).__name__)
        self.data_format = backend.normalize_data_format(data_format)
        self.input_layout = layout_for(self.data_format)

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2)

    def compute_output_shape(self, input_shape):
        batch, channels, *spatial = channel_first_shape(tuple(input_shape), self.data_format)
        out = (batch, channels) + tuple(None if n is None else n * s for n, s in zip(spatial, self.size))
        return keras_shape_from_channel_first(out, self.data_format)

    def call(self, x):
        # x: (n, c, *spatial) -> (n, c, *(spatial * size))
        return repeat_nearest(x, self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling1D(_UpSampling):
    """``UpSampling1D(size=2)``: repeats each step of ``(batch, steps, features)`` ``size`` times. Its
    config has ``size`` as an int and no ``data_format`` (Keras 2.3.1)."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(positive_int(size, "size", "UpSampling1D"), "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return {**config, "size": self.size[0]}


class UpSampling2D(_UpSampling):
    """``UpSampling2D(size=(2, 2), data_format=None, interpolation='nearest')``.

    'nearest' repeats rows and columns; 'bilinear' is TensorFlow 1's ``resize_bilinear`` as Keras 2.3.1's
    ``K.resize_images`` calls it (``align_corners=False``, no half-pixel centres): output pixel ``i`` samples
    input coordinate ``i / size``, clamped at the last row/column.
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f'UpSampling2D: interpolation should be one of "nearest" or "bilinear"; '
                             f"received {interpolation!r}.")
        self.interpolation = interpolation

    def call(self, x):
        # x: (n, c, h, w) -> (n, c, h * size_h, w * size_w)
        if self.interpolation == "nearest":
            return repeat_nearest(x, self.size)
        return upsample_linear(upsample_linear(x, 2, self.size[0]), 3, self.size[1])

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """``UpSampling3D(size=(2, 2, 2), data_format=None)``: repeats the cells of ``(batch, dim1, dim2, dim3,
    channels)`` along the three spatial axes (Keras 2.3.1 ``K.resize_volumes``)."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


# Keras 2.3.1's words for the forms of ZeroPadding2D/3D's padding and Cropping2D/3D's cropping
_PAIR_FORMS = {
    2: ("(symmetric_height_{w}, symmetric_width_{w})", "((top_{w}, bottom_{w}), (left_{w}, right_{w}))"),
    3: ("(symmetric_dim1_{w}, symmetric_dim2_{w}, symmetric_dim3_{w})",
        "((left_dim1_{w}, right_dim1_{w}), (left_dim2_{w}, right_dim2_{w}), (left_dim3_{w}, right_dim3_{w}))"),
}


def spatial_pairs(value, rank: int, arg_name: str, layer_type: str) -> tuple:
    """``(before, after)`` per spatial axis from an int, ``rank`` ints or ``rank`` pairs (Keras 2.3.1
    ZeroPadding2D/3D and Cropping2D/3D ``__init__``; a 1D layer gives one pair). Negative values are refused."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pairs = ((int(value), int(value)),) * rank
    elif rank == 1:
        pairs = (normalize_tuple(value, 2, f"{layer_type}: {arg_name}"),)
    elif hasattr(value, "__len__"):
        if len(value) != rank:
            raise ValueError(f"{layer_type}: `{arg_name}` should have {'two' if rank == 2 else rank} elements. "
                             f"Found: {value!r}")
        ordinals = ("1st", "2nd", "3rd")
        pairs = tuple(normalize_tuple(entry, 2, f"{layer_type}: {ordinals[i]} entry of {arg_name}")
                      for i, entry in enumerate(value))
    else:
        word = "pad" if arg_name == "padding" else "crop"
        symmetric, asymmetric = (form.format(w=word) for form in _PAIR_FORMS[rank])
        raise ValueError(f"{layer_type}: `{arg_name}` should be either an int, a tuple of {rank} ints {symmetric}, "
                         f"or a tuple of {rank} tuples of 2 ints {asymmetric}. Found: {value!r}")
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"{layer_type}: `{arg_name}` must be non-negative; received {value!r}.")
    return pairs


class _ZeroPadding(Layer):
    """Keras 2.3.1 ``_ZeroPadding``: ``padding`` holds ``(before, after)`` zeros per spatial axis."""

    rank = 2

    def __init__(self, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        self.padding = spatial_pairs(padding, self.rank, "padding", type(self).__name__)
        self.data_format = backend.normalize_data_format(data_format)
        self.input_layout = layout_for(self.data_format)

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2)

    def compute_output_shape(self, input_shape):
        batch, channels, *spatial = channel_first_shape(tuple(input_shape), self.data_format)
        out = (batch, channels) + tuple(None if n is None else n + before + after
                                        for n, (before, after) in zip(spatial, self.padding))
        return keras_shape_from_channel_first(out, self.data_format)

    folds_into_convolution = True  # models/graph.py may leave its zeros to the convolution it feeds

    def call(self, x):
        return F.pad(x, torch_pad_arg(self.padding))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """``ZeroPadding1D(padding=1)``: ``padding`` is an int or ``(left_pad, right_pad)`` steps of
    ``(batch, steps, features)``. Config: ``padding`` as the pair, no ``data_format`` (Keras 2.3.1)."""

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return {**config, "padding": self.padding[0]}


class ZeroPadding2D(_ZeroPadding):
    """``ZeroPadding2D(padding=(1, 1), data_format=None)``: ``padding`` is an int, ``(sym_h, sym_w)`` or
    ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """``ZeroPadding3D(padding=(1, 1, 1), data_format=None)``: ``padding`` is an int, 3 ints or 3 pairs
    ``((left_dim1, right_dim1), (left_dim2, right_dim2), (left_dim3, right_dim3))``."""

    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    """Keras 2.3.1 ``_Cropping``: ``cropping`` holds the ``(start, end)`` cells cut per spatial axis. Cropping
    a whole axis away is refused at build (TensorFlow would give an empty or negative-size axis)."""

    rank = 2

    def __init__(self, cropping, data_format, **kwargs):
        super().__init__(**kwargs)
        self.cropping = spatial_pairs(cropping, self.rank, "cropping", type(self).__name__)
        self.data_format = backend.normalize_data_format(data_format)
        self.input_layout = layout_for(self.data_format)

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2)
        spatial = channel_first_shape(tuple(input_shape), self.data_format)[2:]
        for axis, (length, (start, end)) in enumerate(zip(spatial, self.cropping)):
            if length is not None and start + end >= length:
                raise ValueError(f"{self.name}: cropping {(start, end)} leaves nothing of spatial axis {axis} "
                                 f"(length {length}, input shape {tuple(input_shape)}); crop fewer cells.")

    def compute_output_shape(self, input_shape):
        batch, channels, *spatial = channel_first_shape(tuple(input_shape), self.data_format)
        out = (batch, channels) + tuple(None if n is None else n - start - end
                                        for n, (start, end) in zip(spatial, self.cropping))
        return keras_shape_from_channel_first(out, self.data_format)

    def call(self, x):
        # x: (n, c, *spatial) -> (n, c, *(spatial - start - end)), a view
        for axis, (start, end) in enumerate(self.cropping, start=2):
            x = x.narrow(axis, start, x.shape[axis] - start - end)
        return x

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(_Cropping):
    """``Cropping1D(cropping=(1, 1))``: cuts ``(start, end)`` steps of ``(batch, steps, features)``. Config:
    ``cropping`` as the pair, no ``data_format`` (Keras 2.3.1)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return {**config, "cropping": self.cropping[0]}


class Cropping2D(_Cropping):
    """``Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)``: ``cropping`` is an int,
    ``(sym_h, sym_w)`` or ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """``Cropping3D(cropping=((1, 1), (1, 1), (1, 1)), data_format=None)``: an int, 3 ints or 3 pairs."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# ---------------------------------------------------------------------------------------------- atrous convolutions
def _atrous(layer_class, old_name: str, args: tuple, kwargs: dict):
    """Keras 2.3.1 ``AtrousConvolution1D/2D``: ``atrous_rate`` (default 1) becomes ``dilation_rate``, a
    deprecation warning, then the Keras 2 layer, whose constructor converts (and warns about) Keras 1 names
    (legacy_arguments.py)."""
    kwargs = dict(kwargs)
    if "atrous_rate" in kwargs and "dilation_rate" in kwargs:
        raise TypeError(f"{old_name}: received both `atrous_rate` and `dilation_rate`; they are the same "
                        "argument. Pass only `dilation_rate`.")
    # Keras 2.3.1 sets dilation_rate=atrous_rate (1 by default) whatever came; a given dilation_rate is kept here
    # rather than silently replaced by 1
    if "atrous_rate" in kwargs:
        kwargs["dilation_rate"] = kwargs.pop("atrous_rate")
    else:
        kwargs.setdefault("dilation_rate", 1)
    warnings.warn(f"The `{old_name}` layer  has been deprecated. Use instead the `{layer_class.__name__}` layer "
                  "with the `dilation_rate` argument.", stacklevel=3)
    return layer_class(*args, **kwargs)


def AtrousConvolution1D(*args, **kwargs) -> Conv1D:
    """``AtrousConvolution1D(nb_filter, filter_length, atrous_rate=1, border_mode=..., ...)``: a ``Conv1D`` with
    ``dilation_rate=atrous_rate`` (Keras 2.3.1 ``keras/legacy/layers.py``); Keras 1 and Keras 2 names both work."""
    return _atrous(Conv1D, "AtrousConvolution1D", args, kwargs)


def AtrousConvolution2D(*args, **kwargs) -> Conv2D:
    """``AtrousConvolution2D(nb_filter, nb_row, nb_col, atrous_rate=(1, 1), border_mode=..., ...)``: a ``Conv2D``
    with ``dilation_rate=atrous_rate`` (Keras 2.3.1 ``keras/legacy/layers.py``); Keras 1 and Keras 2 names both
    work."""
    return _atrous(Conv2D, "AtrousConvolution2D", args, kwargs)


# Keras 2.3.1 aliases
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
AtrousConv1D, AtrousConv2D = AtrousConvolution1D, AtrousConvolution2D

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D",
           "DepthwiseConv2D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D",
           "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D", "Convolution1D", "Convolution2D",
           "Convolution3D", "Convolution2DTranspose", "Deconvolution2D", "Deconv2D", "Deconvolution3D", "Deconv3D",
           "SeparableConvolution1D", "SeparableConvolution2D", "AtrousConvolution1D", "AtrousConvolution2D",
           "AtrousConv1D", "AtrousConv2D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "MaxPooling1D",
           "MaxPooling2D", "MaxPooling3D"]
