"""Shape arithmetic and argument checks of the windowed layers (convolutions, pooling, locally-connected,
convolutional-recurrent): Keras 2.3.1 ``keras/utils/conv_utils.py`` lengths and the checks each layer makes on its
arguments, in one place below all of them (``convolutional`` re-exports the pooling layers, as Keras's does, so
the pooling module cannot take them from there)."""
from __future__ import annotations


from kerasish.backend.window_ops import dilated_size
from kerasish.layers.base import CHANNELS_FIRST, KERAS, Layer, normalize_tuple
from kerasish.utils.validation import check_number


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
    return check_number(value, arg_name, layer_type, low=1, integer=True)
