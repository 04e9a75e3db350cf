"""NumPy references of Keras 2.3.1 / TensorFlow window operations, shared by the layer tests, and the two ways
the tests drive a layer (Keras layout in and out, random Keras-layout weights).

The references take channels_last arrays and Keras-layout weights and know nothing of torch: each is a sum over
kernel offsets of strided slices of the padded input (or a loop over output windows for pooling), with TF's
'SAME' padding (the odd cell at the end).
"""
import itertools

import numpy as np
import torch


# ------------------------------------------------------------------------------------------ padding arithmetic
def tf_same_pads(length, kernel, stride, dilation=1):
    """TensorFlow 'SAME': out = ceil(length / stride); the odd padding cell goes after."""
    out = -(-length // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def window_pads(padding, spatial, kernel, strides, dilation=None):
    """``(before, after)`` per spatial axis for 'valid' or 'same'."""
    dilation = dilation or (1,) * len(spatial)
    if padding == "same":
        return [tf_same_pads(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation)]
    return [(0, 0)] * len(spatial)


def keras_deconv_length(length, stride, kernel, padding, output_padding, dilation=1):
    """Keras 2.3.1 conv_utils.deconv_length, restated."""
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


# ------------------------------------------------------------------------------------------ references
def reference_conv(x, kernel, bias, strides, pads, dilation):
    """x (n, *spatial, c) channels_last; kernel (*k, c, filters); pads [(before, after)] per spatial axis."""
    rank = kernel.ndim - 2
    padded = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    ksize = kernel.shape[:rank]
    out_spatial = [(padded.shape[1 + i] - (ksize[i] - 1) * dilation[i] - 1) // strides[i] + 1 for i in range(rank)]
    out = np.zeros((x.shape[0], *out_spatial, kernel.shape[-1]))
    for offset in itertools.product(*[range(k) for k in ksize]):
        window = tuple(slice(offset[i] * dilation[i], offset[i] * dilation[i] + (out_spatial[i] - 1) * strides[i] + 1,
                             strides[i]) for i in range(rank))
        out += padded[(slice(None),) + window] @ kernel[offset]
    return out + bias


def reference_conv_transpose(x, kernel, bias, strides, padding, output_padding, dilation=None):
    """x (n, *spatial, in); kernel (*k, filters, in). Every input cell scattered through the kernel, then the
    window TF's conv*d_transpose returns: from the forward conv's 'same' offset, zeros beyond the scatter."""
    rank = x.ndim - 2
    dilation = dilation or (1,) * rank
    spatial, ksize = x.shape[1:-1], kernel.shape[:rank]
    eff = [(k - 1) * d + 1 for k, d in zip(ksize, dilation)]
    full = np.zeros((x.shape[0], *[(n - 1) * s + e for n, s, e in zip(spatial, strides, eff)], kernel.shape[-2]))
    for offset in itertools.product(*[range(k) for k in ksize]):
        target = tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                       for o, d, n, s in zip(offset, dilation, spatial, strides))
        full[(slice(None),) + target] += x @ kernel[offset].T
    out_pads = output_padding or (None,) * rank
    outs = [keras_deconv_length(n, s, k, padding, p, d)
            for n, s, k, p, d in zip(spatial, strides, ksize, out_pads, dilation)]
    starts = [max(full.shape[1 + i] - outs[i], 0) // 2 if padding == "same" else 0 for i in range(rank)]
    out = np.zeros((x.shape[0], *outs, kernel.shape[-2]))
    kept = full[(slice(None),) + tuple(slice(a, a + n) for a, n in zip(starts, outs))]
    out[(slice(None),) + tuple(slice(0, n) for n in kept.shape[1:-1])] = kept
    return out + bias


def reference_depthwise(x, depthwise, strides, pads, dilation):
    """x (n, *spatial, c); depthwise (*k, c, dm) -> output channel c * dm + m (TensorFlow's order)."""
    channels, multiplier = depthwise.shape[-2:]
    outs = [reference_conv(x[..., c:c + 1], depthwise[..., c:c + 1, m:m + 1], 0.0, strides, pads, dilation)
            for c in range(channels) for m in range(multiplier)]
    return np.concatenate(outs, axis=-1)


def reference_pool(x, pool, strides, padding, mode):
    """x (n, *spatial, c). Padded cells (NaN) never win a max and are not counted in an average (TF)."""
    rank = len(pool)
    values = np.pad(x, [(0, 0)] + window_pads(padding, x.shape[1:-1], pool, strides) + [(0, 0)],
                    constant_values=np.nan)
    out_spatial = [(values.shape[1 + i] - pool[i]) // strides[i] + 1 for i in range(rank)]
    out = np.zeros((x.shape[0], *out_spatial, x.shape[-1]))
    for o in itertools.product(*[range(n) for n in out_spatial]):
        window = values[(slice(None),) + tuple(slice(o[i] * strides[i], o[i] * strides[i] + pool[i])
                                               for i in range(rank))]
        window = window.reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None),) + o] = np.nanmax(window, axis=1) if mode == "max" else np.nanmean(window, axis=1)
    return out


# ------------------------------------------------------------------------------------------ driving a layer
def apply(layer, x_keras):
    """Build on the Keras-layout shape, call as Keras users do (layer(x) takes and returns Keras's layout,
    whatever layout the layer computes in), return a Keras-layout array."""
    layer._build_once((None,) + x_keras.shape[1:])
    with torch.no_grad():
        return layer(torch.as_tensor(x_keras, dtype=torch.float32)).numpy()


def random_weights(layer, input_shape, rng):
    """Build the layer and give it standard-normal weights in Keras layout; returns them."""
    layer._build_once(input_shape)
    weights = [rng.standard_normal(w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def to_channels_first(x):
    return np.moveaxis(x, -1, 1)
