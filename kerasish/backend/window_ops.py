"""Sliding-window ops on channel-first tensors ``(n, c, *spatial)`` with TensorFlow's padding rules: the
arithmetic ('same' puts the odd cell at the end) and the kernels that both the layers (``layers/convolutional.py``,
``layers/pooling.py``) and ``K.conv*``/``K.pool*``/``K.resize_images`` run.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def dilated_size(kernel_size: int, dilation: int) -> int:
    return (kernel_size - 1) * dilation + 1


def same_padding(length: int, kernel_size: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding ``(before, after)``: the odd cell goes at the end (asymmetric)."""
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + dilated_size(kernel_size, dilation) - length, 0)
    return total // 2, total - total // 2


def explicit_padding(spatial: tuple[int, ...], kernel_size: tuple, strides: tuple, padding: str,
                     dilation: tuple | None = None) -> list[tuple[int, int]]:
    """``(before, after)`` per spatial dim for 'valid', 'same' or 'causal' (Keras 2.3.1 ``K.conv1d``:
    causal pads ``dilation * (kernel - 1)`` on the left and then convolves 'valid')."""
    dilation = dilation or (1,) * len(spatial)
    if padding == "same":
        return [same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel_size, strides, dilation)]
    if padding == "causal":
        return [(d * (k - 1), 0) for k, d in zip(kernel_size, dilation)]
    return [(0, 0)] * len(spatial)


def torch_pad_arg(pads: list[tuple[int, int]]) -> tuple[int, ...]:
    """``[(before, after)]`` from the first spatial dim -> ``F.pad``'s order (last dim first)."""
    return tuple(v for before, after in reversed(pads) for v in (before, after))


def pad_for_window_op(x: torch.Tensor, pads: list[tuple[int, int]]):
    """Symmetric zero padding goes to the torch op's ``padding`` argument (no copy); asymmetric padding is
    applied here with ``F.pad`` and the op then runs with ``padding=0``. Returns ``(x, padding)``."""
    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    return F.pad(x, torch_pad_arg(pads)), 0


def pad_for_conv(x: torch.Tensor, kernel: torch.Tensor, pads: list[tuple[int, int]], dilation: tuple,
                 groups: int = 1):
    """``pad_for_window_op`` for a convolution: ``(x, kernel, padding)``. A depthwise kernel (one input channel
    per group) with asymmetric zero padding is widened with zero taps instead of padding ``x``: with ``p =
    max(before, after)`` the op pads ``p`` on both sides and the kernel gets ``p - before`` zero taps in front
    and ``p - after`` behind, which gives every output the same inputs and weights as the padded ``x`` would,
    and as many outputs. A depthwise convolution reads memory more than it computes, so the wider kernel costs
    little, while ``F.pad`` writes and fills a whole new copy of ``x`` (on 2 CPU cores, MobileNetV2's stride-2
    blocks: 12 ms instead of 61 ms for a (32, 96, 112, 112) batch). Dense kernels, and dilated kernels (a tap
    spans several cells), keep ``F.pad``."""
    if all(before == after for before, after in pads):
        return x, kernel, tuple(before for before, _ in pads)
    if groups == 1 or kernel.shape[1] != 1 or any(d != 1 for d in dilation):
        return F.pad(x, torch_pad_arg(pads)), kernel, 0
    widest = [max(before, after) for before, after in pads]
    taps = [(p - before, p - after) for p, (before, after) in zip(widest, pads)]
    return x, F.pad(kernel, torch_pad_arg(taps)), tuple(widest)


def conv_transpose(x, kernel, bias, strides: tuple, padding: str, dilation: tuple, out_sizes: tuple):
    """TensorFlow's ``conv{1,2,3}d_transpose`` to the spatial sizes ``out_sizes``, on a channel-first
    ``(n, in, *spatial)`` tensor with a torch-layout kernel ``(in, out, *k)``.

    TF's transposed convolution is the gradient of a convolution from the output size to the input size: the
    full scatter of length ``(in - 1) * stride + dilated_kernel``, read from offset ``before`` (that
    convolution's 'same' padding), zeros past its end. torch's ``padding`` crops ``before`` cells from both
    ends and its ``output_padding`` gives back cells at the end; for every output size deconv_length allows,
    the cells still missing are fewer than the stride, and any surplus sits at the end.
    """
    crops, out_pads = [], []
    for n, s, k, d, out in zip(x.shape[2:], strides, kernel.shape[2:], dilation, out_sizes):
        full = (n - 1) * s + dilated_size(k, d)
        crops.append(max(full - out, 0) // 2 if padding == "same" else 0)
        out_pads.append(max(out - (full - 2 * crops[-1]), 0))
    conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[x.dim() - 3]
    y = conv(x, kernel, bias, tuple(strides), tuple(crops), tuple(out_pads), 1, tuple(dilation))
    return y[(slice(None), slice(None)) + tuple(slice(0, out) for out in out_sizes)]


def pool(x, pool_size: tuple, strides: tuple, padding: str, mode: str):
    """Max ('max') or average ('avg') pooling of a channel-first ``(n, c, *spatial)`` tensor, 1 to 3 spatial
    axes, with TensorFlow's 'valid'/'same' padding."""
    rank = x.dim() - 2
    pads = explicit_padding(tuple(x.shape[2:]), pool_size, strides, padding)
    symmetric = all(before == after for before, after in pads)
    if mode == "max":
        max_pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1]
        if symmetric:
            return max_pool(x, pool_size, strides, tuple(p for p, _ in pads))
        return max_pool(F.pad(x, torch_pad_arg(pads), value=float("-inf")), pool_size, strides)
    avg_pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
    if symmetric:
        return avg_pool(x, pool_size, strides, tuple(p for p, _ in pads), count_include_pad=False)
    # Asymmetric 'same': average over zero-padded windows, then rescale by the fraction of real cells.
    pad = torch_pad_arg(pads)
    ones = x.new_ones((1, 1) + tuple(x.shape[2:]))
    real_fraction = avg_pool(F.pad(ones, pad), pool_size, strides)
    return avg_pool(F.pad(x, pad), pool_size, strides) / real_fraction


def upsample_linear(x: torch.Tensor, dim: int, factor: int) -> torch.Tensor:
    """Linear interpolation along ``dim`` at source coordinates ``i / factor`` (TF1 resize_bilinear)."""
    if factor == 1:
        return x
    length = x.shape[dim]
    target = torch.arange(length * factor, device=x.device)
    lower = torch.div(target, factor, rounding_mode="floor")
    upper = (lower + 1).clamp(max=length - 1)
    shape = [1] * x.dim()
    shape[dim] = -1
    weight = ((target % factor).to(x.dtype) / factor).view(shape)
    low, high = x.index_select(dim, lower), x.index_select(dim, upper)
    return low + (high - low) * weight
