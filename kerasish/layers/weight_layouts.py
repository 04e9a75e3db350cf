"""Conversion between Keras weight layouts and torch weight layouts: the one place that knows both.

Keras stores a Dense kernel as ``(in, out)`` and a Conv kernel as ``(*kernel_size, in, out)``; torch's
``F.linear`` and ``F.conv*d`` want ``(out, in)`` and ``(out, in, *kernel_size)``. Layers keep the torch
layout (so the forward pass never permutes) and declare, per weight, which layout its Keras twin uses;
``get_weights``/``set_weights`` and Keras-style initialisation go through the functions here.
"""
from __future__ import annotations

import torch


class WeightLayout:
    """A pair of inverse maps between a weight's torch layout and its Keras layout."""

    name = "same"

    def to_keras(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def from_keras(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def keras_shape(self, torch_shape: tuple) -> tuple:
        return tuple(self.to_keras(torch.empty(torch_shape, device="meta")).shape)


class Same(WeightLayout):
    pass


class DenseKernel(WeightLayout):
    """torch ``(out, in)`` <-> Keras ``(in, out)``."""

    name = "dense_kernel"

    def to_keras(self, t):
        return t.t()

    def from_keras(self, t):
        return t.t()


class ConvKernel(WeightLayout):
    """torch ``(out, in, *k)`` <-> Keras ``(*k, in, out)``.

    The same permutation maps a transposed convolution's torch ``(in, out, *k)`` to Keras's
    ``(*k, out, in)``, so Conv*DTranspose uses this layout too.
    """

    name = "conv_kernel"

    def to_keras(self, t):
        spatial = list(range(2, t.dim()))
        return t.permute(*spatial, 1, 0)

    def from_keras(self, t):
        n_spatial = t.dim() - 2
        return t.permute(n_spatial + 1, n_spatial, *range(n_spatial))


class DepthwiseKernel(WeightLayout):
    """torch grouped conv ``(in * multiplier, 1, *k)`` <-> Keras ``(*k, in, multiplier)``.

    torch's output channel ``i * multiplier + j`` reads input channel ``i``; Keras indexes it ``[..., i, j]``.
    """

    name = "depthwise_kernel"

    def __init__(self, depth_multiplier: int):
        self.depth_multiplier = int(depth_multiplier)

    def to_keras(self, t):
        channels = t.shape[0] // self.depth_multiplier
        kernel = t.reshape(channels, self.depth_multiplier, *t.shape[2:])
        spatial = list(range(2, kernel.dim()))
        return kernel.permute(*spatial, 0, 1)

    def from_keras(self, t):
        n_spatial = t.dim() - 2
        channels, multiplier = t.shape[-2], t.shape[-1]
        kernel = t.permute(n_spatial, n_spatial + 1, *range(n_spatial))
        return kernel.reshape(channels * multiplier, 1, *t.shape[:n_spatial])


class GateBlocks(WeightLayout):
    """A recurrent weight whose last Keras axis stacks one block of ``units`` per gate, kept in torch's layout.

    torch's fused RNN kernels want ``weight_ih (gates * units, in)``, ``weight_hh (gates * units, units)`` and
    biases ``(gates * units,)`` with the gates in torch's order; Keras stores ``kernel (in, gates * units)``,
    ``recurrent_kernel (units, gates * units)`` and ``bias (gates * units,)`` (GRU ``reset_after``: ``(2, gates *
    units)``) in Keras's order. ``keras_order[k]`` is the torch block that holds Keras block ``k``: LSTM's gates
    are i, f, c, o in both (identity), GRU's are z, r, h in Keras and r, z, n in torch (``(1, 0, 2)``).
    ``transpose``: kernels swap their two axes; biases do not.
    """

    name = "gate_blocks"

    def __init__(self, keras_order: tuple, transpose: bool):
        self.keras_order = tuple(keras_order)
        self.torch_order = tuple(sorted(range(len(keras_order)), key=self.keras_order.__getitem__))
        self.transpose = transpose

    @staticmethod
    def _reorder(t, order: tuple, axis: int):
        if order == tuple(range(len(order))):
            return t
        return torch.cat([block for block in (t.chunk(len(order), dim=axis)[i] for i in order)], dim=axis)

    def to_keras(self, t):
        if self.transpose:
            return self._reorder(t, self.keras_order, 0).t()
        return self._reorder(t, self.keras_order, -1)

    def from_keras(self, t):
        if self.transpose:
            return self._reorder(t.t(), self.torch_order, 0)
        return self._reorder(t, self.torch_order, -1)


class CuDNNGateBlocks(GateBlocks):
    """A kernel or recurrent kernel of Keras 2.3.1's ``CuDNNLSTM``/``CuDNNGRU``, kept in torch's layout.

    Keras stores ``(rows, gates * units)`` (``rows``: the input dimension, or ``units``) and hands each gate's
    ``(rows, units)`` block to cuDNN as its raw row-major memory, which cuDNN reads as its ``(units, rows)``
    matrix ``W`` (``W @ x``). So torch's block, which ``F.linear`` uses the same way, is the Keras block
    *reshaped* (not transposed) to ``(units, rows)``; for the square recurrent blocks that is the block itself
    (Keras 2.3.1 ``engine/saving.py _convert_rnn_weights`` transposes them to get LSTM's). Gate orders as in
    ``GateBlocks``.
    """

    name = "cudnn_gate_blocks"

    def __init__(self, keras_order: tuple):
        super().__init__(keras_order, transpose=True)

    def to_keras(self, t):
        rows = t.shape[1]
        blocks = self._reorder(t, self.keras_order, 0).chunk(len(self.keras_order), dim=0)
        return torch.cat([block.reshape(rows, -1) for block in blocks], dim=1)

    def from_keras(self, t):
        rows = t.shape[0]
        blocks = [block.reshape(-1, rows) for block in t.chunk(len(self.keras_order), dim=1)]
        return self._reorder(torch.cat(blocks, dim=0), self.torch_order, 0)


SAME = Same()
DENSE_KERNEL = DenseKernel()
CONV_KERNEL = ConvKernel()
GRU_KERNEL = GateBlocks((1, 0, 2), transpose=True)
GRU_BIAS = GateBlocks((1, 0, 2), transpose=False)
CUDNN_LSTM_KERNEL = CuDNNGateBlocks((0, 1, 2, 3))
CUDNN_GRU_KERNEL = CuDNNGateBlocks((1, 0, 2))
CUDNN_GRU_BIAS = GateBlocks((1, 0, 2, 4, 3, 5), transpose=False)  # input biases z, r, h, then recurrent ones
