"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D,
GlobalAveragePooling1D/2D/3D.

Like the convolutions, every layer computes on channel-first tensors ``(n, c, *spatial)`` (see
``convolutional.py``). 'same' pooling uses TensorFlow's padding (the odd cell at the end); padded cells
never win a max and are left out of an average's count (TF ``avg_pool``), as in Keras 2.3.1.
"""
from __future__ import annotations

from kerasish import backend
from kerasish.backend.window_ops import pool
from kerasish.layers.base import InputSpec, Layer
from kerasish.layers.window_shapes import (channel_first_shape, check_ndim, check_output_lengths, conv_output_length,
                                           keras_shape_from_channel_first, layout_for, normalize_padding_arg,
                                           positive_tuple)


class _Pooling(Layer):
    """Keras 2.3.1 ``_Pooling1D``/``2D``/``3D``: ``strides=None`` means ``strides = pool_size``."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        layer_type = type(self).__name__
        self.pool_size = positive_tuple(pool_size, self.rank, "pool_size", layer_type)
        self.strides = positive_tuple(pool_size if strides is None else strides, self.rank, "strides", layer_type)
        self.padding = normalize_padding_arg(padding, ("valid", "same"), layer_type)
        self.data_format = backend.normalize_data_format(data_format)
        self.input_layout = layout_for(self.data_format)

    def _output_spatial(self, spatial):
        return tuple(conv_output_length(n, k, self.padding, s)
                     for n, k, s in zip(spatial, self.pool_size, self.strides))

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2)
        spatial = channel_first_shape(tuple(input_shape), self.data_format)[2:]
        check_output_lengths(self, input_shape, spatial, self.pool_size, (1,) * self.rank,
                             self._output_spatial(spatial))

    def compute_output_shape(self, input_shape):
        batch, channels, *spatial = channel_first_shape(tuple(input_shape), self.data_format)
        out = (batch, channels) + self._output_spatial(tuple(spatial))
        return keras_shape_from_channel_first(out, self.data_format)

    def call(self, x):
        # x: (n, c, *spatial) -> (n, c, *pooled)
        return pool(x, self.pool_size, self.strides, self.padding, self.mode)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """``MaxPooling1D(pool_size=2, strides=None, padding='valid', data_format='channels_last')``."""

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """``AveragePooling1D(pool_size=2, strides=None, padding='valid', data_format='channels_last')``."""

    rank, mode = 1, "avg"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """``MaxPooling2D(pool_size=(2, 2), strides=None, padding='valid', data_format=None)``."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """``AveragePooling2D(pool_size=(2, 2), strides=None, padding='valid', data_format=None)``."""

    rank, mode = 2, "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling):
    """``MaxPooling3D(pool_size=(2, 2, 2), strides=None, padding='valid', data_format=None)``."""

    rank, mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
    """``AveragePooling3D(pool_size=(2, 2, 2), strides=None, padding='valid', data_format=None)``."""

    rank, mode = 3, "avg"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """Reduces every spatial axis: ``(batch, *spatial, channels)`` -> ``(batch, channels)``."""

    rank = 2
    mode = "max"

    def __init__(self, data_format, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.normalize_data_format(data_format)
        self.input_layout = layout_for(self.data_format)

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank + 2)

    def compute_output_shape(self, input_shape):
        batch, channels = channel_first_shape(tuple(input_shape), self.data_format)[:2]
        return (batch, channels)

    def call(self, x):
        # x: (n, c, *spatial) -> (n, c)
        spatial_dims = tuple(range(2, x.dim()))
        if self.mode == "max":
            return x.amax(dim=spatial_dims)
        return x.mean(dim=spatial_dims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class GlobalMaxPooling1D(_GlobalPooling):
    """``GlobalMaxPooling1D(data_format='channels_last')``."""

    rank, mode = 1, "max"

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(data_format, **kwargs)


class GlobalAveragePooling1D(_GlobalPooling):
    """``GlobalAveragePooling1D(data_format='channels_last')``. With a ``(batch, steps)`` mask, the mean over the
    unmasked steps only, ``sum(x * mask) / sum(mask)`` (Keras 2.3.1; a sample with every step masked gives NaN,
    0 / 0, as there); the output carries no mask."""

    rank, mode = 1, "avg"
    supports_masking = True

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(data_format, **kwargs)

    def call(self, x, mask=None):
        if mask is None:
            return super().call(x)
        # x: (n, c, steps) in either data_format (see input_layout); mask: (n, steps). Keras 2.3.1 reshapes the
        # mask to (n, steps, 1), right for channels_last only: channels_first inputs are weighted per step here.
        weights = mask.to(x.dtype).unsqueeze(1)
        return (x * weights).sum(dim=2) / weights.sum(dim=2)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling2D(_GlobalPooling):
    """``GlobalMaxPooling2D(data_format=None)``."""

    rank, mode = 2, "max"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)


class GlobalAveragePooling2D(_GlobalPooling):
    """``GlobalAveragePooling2D(data_format=None)``."""

    rank, mode = 2, "avg"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)


class GlobalMaxPooling3D(_GlobalPooling):
    """``GlobalMaxPooling3D(data_format=None)``."""

    rank, mode = 3, "max"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)


class GlobalAveragePooling3D(_GlobalPooling):
    """``GlobalAveragePooling3D(data_format=None)``."""

    rank, mode = 3, "avg"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)


# Keras 2.3.1 aliases
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
           "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "MaxPool1D", "MaxPool2D",
           "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D"]
# also importable from this module, as from Keras 2.3.1's
__all__ += ["Layer", "InputSpec"]
