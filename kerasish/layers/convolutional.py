"""Convolutional layers: Conv1D, Conv2D, Conv2DTranspose, SeparableConv2D, ZeroPadding2D, UpSampling2D.

Every layer here computes on channel-first tensors ``(n, c, *spatial)``: a ``channels_last`` layer declares
``input_layout = CHANNELS_FIRST`` (the model moves Keras's last axis to dim 1 for it), a ``channels_first``
layer declares ``KERAS`` (its Keras layout already is channel-first). Kernels are kept in torch layout and
converted to Keras layout by ``weight_layouts`` for get/set_weights, initialisation and regularisation.

Shape rules and padding follow Keras 2.3.1 ``keras/utils/conv_utils.py`` and the TensorFlow backend: 'same'
pads ``max((out - 1) * stride + dilated_kernel - in, 0)`` cells, the odd one at the end, so with strides
> 1 the padding is often asymmetric; we then pad with ``F.pad`` and convolve with ``padding=0``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import backend, initializers
from kerasish.backend.window_ops import (conv_transpose, dilated_size, explicit_padding, pad_for_window_op,
                                         upsample_linear)
from kerasish.layers import weight_layouts
from kerasish.layers.base import (CHANNELS_FIRST, KERAS, InputSpec, Layer, normalize_tuple, penalties_config,
                                  serialize_keras_object)
from kerasish.layers.core import ActivatedLayer


# ---------------------------------------------------------------------------------------------- shape helpers
def conv_output_length(length: int | None, kernel_size: int, padding: str, stride: int,
                       dilation: int = 1) -> int | None:
    """Keras 2.3.1 ``conv_utils.conv_output_length`` (padding 'valid', 'same' or 'causal')."""
    if length is None:
        return None
    kernel = dilated_size(kernel_size, dilation)
    covered = length - kernel + 1 if padding == "valid" else length
    return (covered + stride - 1) // stride


def deconv_length(length: int | None, stride: int, kernel_size: int, padding: str,
                  output_padding: int | None, dilation: int = 1) -> int | None:
    """Keras 2.3.1 ``conv_utils.deconv_length``: the output length of a transposed convolution."""
    if length is None:
        return None
    kernel = dilated_size(kernel_size, dilation)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def check_ndim(layer: Layer, input_shape: tuple, ndim: int) -> None:
    """Keras 2.3.1 ``Layer.assert_input_compatibility`` wording (engine/base_layer.py)."""
    if len(input_shape) != ndim:
        raise ValueError(f"Input 0 is incompatible with layer {layer.name}: expected ndim={ndim}, "
                         f"found ndim={len(input_shape)} (input shape {tuple(input_shape)}).")


def check_output_lengths(layer: Layer, input_shape: tuple, spatial: tuple, kernel_size: tuple,
                         dilation: tuple, outputs: tuple) -> None:
    """A 'valid' window larger than its input fails in TensorFlow with "Negative dimension size"; we
    raise the same at build time, naming the layer and what to change."""
    for length, k, d, out in zip(spatial, kernel_size, dilation, outputs):
        if out is not None and out < 1:
            raise ValueError(f"Negative dimension size caused by subtracting {dilated_size(k, d)} from {length} "
                             f"in layer {layer.name} (input shape {tuple(input_shape)}); use a smaller "
                             "window, padding='same', or larger inputs.")


def channel_first_shape(input_shape: tuple, data_format: str) -> tuple:
    """Keras-layout shape -> ``(batch, channels, *spatial)``."""
    if data_format == "channels_last":
        return (input_shape[0], input_shape[-1]) + tuple(input_shape[1:-1])
    return tuple(input_shape)


def keras_shape_from_channel_first(shape: tuple, data_format: str) -> tuple:
    if data_format == "channels_last":
        return (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return tuple(shape)


def layout_for(data_format: str) -> str:
    # channels_last inputs arrive with the channel axis moved to dim 1; channels_first ones already have it
    return CHANNELS_FIRST if data_format == "channels_last" else KERAS


def positive_tuple(value, n: int, arg_name: str, layer_type: str) -> tuple:
    values = normalize_tuple(value, n, f"{layer_type}: {arg_name}")
    if any(v < 1 for v in values):
        raise ValueError(f"{layer_type}: {arg_name} must be positive integers; received {value!r}.")
    return values


def normalize_padding_arg(padding, allowed: tuple[str, ...], layer_type: str) -> str:
    value = str(padding).lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"{layer_type}: padding must be one of {', '.join(repr(a) for a in allowed)} "
                         f"(case-insensitive); received {padding!r}.")
    return value


def positive_int(value, arg_name: str, layer_type: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer_type}: {arg_name} must be a positive integer; received {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------------------------- convolutions
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
        self.filters = positive_int(filters, "filters", layer_type)
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
    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self._check_output(input_shape)
        channel_axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={channel_axis: in_channels})
        kernel_shape = self.kernel_size + (in_channels, self.filters)
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, kernel_shape,
                                                      weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.filters,))) if self.use_bias else None

    def keras_weight_specs(self):
        specs = [("kernel", weight_layouts.CONV_KERNEL)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    # -------------------------------------------------------------- forward
    def call_pre_activation(self, x):
        # x: (n, in, *spatial) -> (n, filters, *out_spatial)
        pads = explicit_padding(tuple(x.shape[2:]), self.kernel_size, self.strides, self.padding,
                                self.dilation_rate)
        x, padding = pad_for_window_op(x, pads)
        conv = F.conv1d if self.rank == 1 else F.conv2d
        return conv(x, self.kernel, self.bias, self.strides, padding, self.dilation_rate)

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


class Conv2DTranspose(Conv2D):
    """``Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding='valid', output_padding=None,
    data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True, ...)``.

    Output sizes follow ``deconv_length``; the kernel's Keras layout is ``(kh, kw, filters, in)`` and its torch
    layout ``(in, filters, kh, kw)`` (``conv_transpose2d``'s), the same permutation as ``CONV_KERNEL``.
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
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, 2, "Conv2DTranspose: output_padding")
            if any(p < 0 for p in self.output_padding):
                raise ValueError(f"Conv2DTranspose: output_padding must be non-negative; received {output_padding!r}.")
            for stride, out_pad in zip(self.strides, self.output_padding):
                if out_pad >= stride:
                    # Keras 2.3.1 Conv2DTranspose.__init__ message
                    raise ValueError(f"Stride {self.strides} must be greater than output padding "
                                     f"{self.output_padding}.")

    def _output_spatial(self, spatial):
        out_pads = self.output_padding or (None, None)
        return tuple(deconv_length(n, s, k, self.padding, p, d) for n, s, k, p, d
                     in zip(spatial, self.strides, self.kernel_size, out_pads, self.dilation_rate))

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        kernel_shape = self.kernel_size + (self.filters, in_channels)
        self.kernel = nn.Parameter(self.initial_value(self.kernel_initializer, kernel_shape,
                                                      weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.filters,))) if self.use_bias else None

    def call_pre_activation(self, x):
        # x: (n, in, h, w) -> (n, filters, out_h, out_w)
        out_sizes = self._output_spatial(tuple(x.shape[2:]))
        return conv_transpose(x, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate, out_sizes)

    def get_config(self):
        return {**super().get_config(), "output_padding": self.output_padding}


class SeparableConv2D(Conv2D):
    """``SeparableConv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
    depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform', bias_initializer='zeros',
    depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None)``.

    A depthwise convolution (``depth_multiplier`` outputs per input channel, strides/padding/dilation apply
    here) then a 1x1 pointwise one. Keras weights: ``[depthwise_kernel (kh, kw, in, dm),
    pointwise_kernel (1, 1, in * dm, filters), bias (filters,)]``.
    """

    _penalized_weights = ("depthwise_kernel", "pointwise_kernel", "bias")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", "SeparableConv2D")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_layout = weight_layouts.DepthwiseKernel(self.depth_multiplier)
        self.set_weight_penalties(depthwise_kernel=(depthwise_regularizer, depthwise_constraint),
                                  pointwise_kernel=(pointwise_regularizer, pointwise_constraint),
                                  bias=(bias_regularizer, bias_constraint), activity=activity_regularizer)

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self._check_output(input_shape)
        depthwise_shape = self.kernel_size + (in_channels, self.depth_multiplier)
        pointwise_shape = (1, 1, in_channels * self.depth_multiplier, self.filters)
        self.depthwise_kernel = nn.Parameter(self.initial_value(self.depthwise_initializer, depthwise_shape,
                                                                self.depthwise_layout))
        self.pointwise_kernel = nn.Parameter(self.initial_value(self.pointwise_initializer, pointwise_shape,
                                                                weight_layouts.CONV_KERNEL))
        self.bias = nn.Parameter(self.initial_value(self.bias_initializer, (self.filters,))) if self.use_bias else None

    def keras_weight_specs(self):
        specs = [("depthwise_kernel", self.depthwise_layout), ("pointwise_kernel", weight_layouts.CONV_KERNEL)]
        return specs + [("bias", weight_layouts.SAME)] if self.use_bias else specs

    def call_pre_activation(self, x):
        pads = explicit_padding(tuple(x.shape[2:]), self.kernel_size, self.strides, self.padding,
                                self.dilation_rate)
        x, padding = pad_for_window_op(x, pads)
        depthwise = F.conv2d(x, self.depthwise_kernel, None, self.strides, padding, self.dilation_rate,
                             groups=x.shape[1])
        return F.conv2d(depthwise, self.pointwise_kernel, self.bias)

    def get_config(self):
        config = super().get_config()
        config.pop("kernel_initializer")   # Keras 2.3.1 _SeparableConv.get_config drops the plain-kernel entries
        config.update({"depth_multiplier": self.depth_multiplier,
                       "depthwise_initializer": serialize_keras_object(self.depthwise_initializer),
                       "pointwise_initializer": serialize_keras_object(self.pointwise_initializer)})
        return config


# ---------------------------------------------------------------------------------------------- reshaping
class ZeroPadding2D(Layer):
    """``ZeroPadding2D(padding=(1, 1), data_format=None)``: ``padding`` is an int, ``(sym_h, sym_w)`` or
    ``((top, bottom), (left, right))``."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.normalize_data_format(data_format)
        self.padding = _zero_padding_2d(padding)
        self.input_layout = layout_for(self.data_format)

    def build(self, input_shape):
        check_ndim(self, input_shape, 4)

    def compute_output_shape(self, input_shape):
        batch, channels, rows, cols = channel_first_shape(tuple(input_shape), self.data_format)
        (top, bottom), (left, right) = self.padding
        out = (batch, channels, None if rows is None else rows + top + bottom,
               None if cols is None else cols + left + right)
        return keras_shape_from_channel_first(out, self.data_format)

    def call(self, x):
        (top, bottom), (left, right) = self.padding
        return F.pad(x, (left, right, top, bottom))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


def _zero_padding_2d(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras 2.3.1 ZeroPadding2D.__init__ normalisation."""
    expected = ("an int, a tuple of 2 ints (symmetric_height_pad, symmetric_width_pad), or a tuple of 2 tuples "
                "of 2 ints ((top_pad, bottom_pad), (left_pad, right_pad))")
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        result = ((int(padding),) * 2,) * 2
    elif hasattr(padding, "__len__") and len(padding) == 2:
        result = (normalize_tuple(padding[0], 2, "ZeroPadding2D: 1st entry of padding"),
                  normalize_tuple(padding[1], 2, "ZeroPadding2D: 2nd entry of padding"))
    else:
        raise ValueError(f"ZeroPadding2D: padding should be {expected}; received {padding!r}.")
    if any(p < 0 for pair in result for p in pair):
        raise ValueError(f"ZeroPadding2D: padding must be non-negative; received {padding!r}.")
    return result


class UpSampling2D(Layer):
    """``UpSampling2D(size=(2, 2), data_format=None, interpolation='nearest')``.

    'nearest' repeats rows and columns; 'bilinear' is TensorFlow 1's ``resize_bilinear`` as Keras 2.3.1's
    ``K.resize_images`` calls it (``align_corners=False``, no half-pixel centres): output pixel ``i`` samples
    input coordinate ``i / size``, clamped at the last row/column.
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.normalize_data_format(data_format)
        self.size = positive_tuple(size, 2, "size", "UpSampling2D")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f'UpSampling2D: interpolation should be one of "nearest" or "bilinear"; '
                             f"received {interpolation!r}.")
        self.interpolation = interpolation
        self.input_layout = layout_for(self.data_format)

    def build(self, input_shape):
        check_ndim(self, input_shape, 4)

    def compute_output_shape(self, input_shape):
        batch, channels, rows, cols = channel_first_shape(tuple(input_shape), self.data_format)
        out = (batch, channels, None if rows is None else rows * self.size[0],
               None if cols is None else cols * self.size[1])
        return keras_shape_from_channel_first(out, self.data_format)

    def call(self, x):
        # x: (n, c, h, w) -> (n, c, h * size_h, w * size_w)
        fh, fw = self.size
        if self.interpolation == "nearest":
            n, c, h, w = x.shape
            return x[:, :, :, None, :, None].expand(n, c, h, fh, w, fw).reshape(n, c, h * fh, w * fw)
        return upsample_linear(upsample_linear(x, 2, fh), 3, fw)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


# Keras 2.3.1 aliases
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D", "ZeroPadding2D", "UpSampling2D",
           "Convolution1D", "Convolution2D", "Convolution2DTranspose", "Deconvolution2D", "Deconv2D",
           "SeparableConvolution2D"]
