"""Neural-network functions: activations, crossentropies, dropout, normalisation, convolutions, pooling, CTC.

The crossentropies, ``l2_normalize`` and ``in_top_k`` here are the formulas ``kerasish.losses`` and
``kerasish.metrics`` call, as Keras's losses call its backend; activations come from ``kerasish.activations``;
convolutions and pooling run the kernels of ``window_ops`` (which the layers run too) with kernels converted
by ``layers.weight_layouts``. Kernels arrive in Keras layout (``(*kernel_size, in, out)``) and inputs in
``data_format`` (default ``image_data_format()``); the work happens channel-first in torch.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from kerasish import activations
from kerasish.backend.config import epsilon, normalize_data_format
from kerasish.backend.random_ops import generator
from kerasish.backend.variables import int_shape, to_tensor
from kerasish.backend.window_ops import conv_transpose, explicit_padding, pad_for_window_op, pool


# ---------------------------------------------------------------- activations
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    return activations.relu(to_tensor(x), alpha=alpha, max_value=max_value, threshold=threshold)


def elu(x, alpha=1.0):
    return activations.elu(to_tensor(x), alpha=alpha)


def softmax(x, axis=-1):
    # tf.nn.softmax: any rank (the 1-D check belongs to the softmax activation, not to the backend)
    return torch.softmax(to_tensor(x), dim=axis)


def softplus(x):
    return activations.softplus(to_tensor(x))


def softsign(x):
    return activations.softsign(to_tensor(x))


def sigmoid(x):
    return activations.sigmoid(to_tensor(x))


def hard_sigmoid(x):
    return activations.hard_sigmoid(to_tensor(x))


def tanh(x):
    return activations.tanh(to_tensor(x))


# ---------------------------------------------------------------- crossentropies
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-sum(target * log(output))`` over the class ``axis``."""
    output = to_tensor(output)
    target = to_tensor(target, device=output.device).to(output.dtype)
    if from_logits:
        return -(target * F.log_softmax(output, dim=axis)).sum(axis)
    # tf.keras backend.categorical_crossentropy: renormalise, clip to [eps, 1 - eps], -sum(y * log(p))
    eps = epsilon()
    probs = (output / output.sum(axis, keepdim=True)).clamp(eps, 1.0 - eps)
    return -(target * torch.log(probs)).sum(axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy with integer class indices ``target`` for the class ``axis`` of ``output``."""
    output = to_tensor(output)
    if axis % output.dim() != output.dim() - 1:
        output = output.movedim(axis, -1)
    num_classes = output.shape[-1]
    out_shape = output.shape[:-1]
    labels = sparse_labels(target, output.shape, output.device)
    if from_logits:
        logits = output
    else:
        # tf.keras backend.sparse_categorical_crossentropy: clip to [eps, 1 - eps], log, then the softmax
        # crossentropy of those logs -- which renormalises the clipped probabilities.
        eps = epsilon()
        logits = torch.log(output.clamp(eps, 1.0 - eps))
    # Class axis last, flattened to (M, C) as tf.keras does: a view, not a transpose copy.
    per_value = F.cross_entropy(logits.reshape(-1, num_classes), labels.reshape(-1), reduction="none")
    return per_value.reshape(out_shape)


def sparse_labels(target, pred_shape: torch.Size, device) -> torch.Tensor:
    target = torch.as_tensor(target, device=device)
    out_shape = pred_shape[:-1]
    if target.numel() != math.prod(out_shape):
        raise ValueError(
            f"sparse_categorical_crossentropy: expected class indices of shape {tuple(out_shape)} or "
            f"{tuple(out_shape) + (1,)} for predictions of shape {tuple(pred_shape)}; received targets "
            f"of shape {tuple(target.shape)}. Pass one integer class index per prediction.")
    # Keras casts labels to int (float labels truncate toward zero) and flattens them. (Each no-op reshape or
    # cast skipped here is a dispatch less in every training step.)
    if target.shape != out_shape:
        target = target.reshape(out_shape)
    return target if target.dtype == torch.int64 else target.long()


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary crossentropy (the loss of that name is its mean over the last axis)."""
    output = to_tensor(output)
    target = to_tensor(target, device=output.device).to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    # tf.keras backend.binary_crossentropy (TF >= 1.14, which Keras 2.3.1's TF backend calls): clip to
    # [eps, 1 - eps], then -(y log(p + eps) + (1 - y) log(1 - p + eps)); no detour through logits.
    eps = epsilon()
    probs = output.clamp(eps, 1.0 - eps)
    return -(target * torch.log(probs + eps) + (1.0 - target) * torch.log(1.0 - probs + eps))


# ---------------------------------------------------------------- dropout, normalisation, ranking
def dropout(x, level, noise_shape=None, seed=None):
    """Inverted dropout (always applied, as ``tf.nn.dropout``): each unit, or each cell of ``noise_shape``
    broadcast over ``x``, is kept where a uniform draw is ``>= level`` and scaled by ``1 / (1 - level)``."""
    if not 0.0 <= float(level) < 1.0:
        raise ValueError(f"dropout: level (the fraction of units to drop) must be in [0, 1); received {level!r}.")
    x = to_tensor(x)
    g = generator(seed, x.device)
    if noise_shape is None:
        uniform = torch.empty_like(x).uniform_(generator=g)
    else:
        sizes = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
        uniform = torch.empty(sizes, dtype=x.dtype, device=x.device).uniform_(generator=g)
    return x * (1.0 / (1.0 - level)) * (uniform >= level)


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x ** 2, axis), 1e-12))`` (``tf.nn.l2_normalize``); ``axis=None``: over all of ``x``."""
    x = to_tensor(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    return x * torch.rsqrt(x.square().sum(axis, keepdim=True).clamp_min(1e-12))


def in_top_k(predictions, targets, k):
    """Per row, whether the target class is among the ``k`` highest predictions: fewer than ``k`` strictly
    higher scores, so ties at the boundary all count as in; False for a row with a non-finite score or a
    target outside ``[0, classes)`` (``tf.nn.in_top_k``)."""
    predictions = to_tensor(predictions)
    targets = to_tensor(targets, device=predictions.device).long()
    num_classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < num_classes)
    target_score = predictions.gather(-1, targets.clamp(0, num_classes - 1).unsqueeze(-1))
    higher = (predictions > target_score).sum(-1)
    return (higher < k) & valid & torch.isfinite(predictions).all(-1)


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """Normalises ``x`` by its mean and (population) variance over ``reduction_axes``; returns
    ``(normalized, mean, variance)`` with the reduced axes removed from the statistics. ``gamma``/``beta``
    hold one value per position of the kept axes (or ``None``)."""
    x = to_tensor(x)
    axes = tuple(int(a) for a in reduction_axes)
    mean = torch.mean(x, dim=axes, keepdim=True)
    variance = torch.var(x, dim=axes, correction=0, keepdim=True)
    gamma = None if gamma is None else to_tensor(gamma, device=x.device).reshape_as(mean)
    beta = None if beta is None else to_tensor(beta, device=x.device).reshape_as(mean)
    normed = batch_normalization(x, mean, variance, beta, gamma, epsilon=epsilon)
    return normed, mean.squeeze(axes), variance.squeeze(axes)


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` (``tf.nn.batch_normalization``). 1-D statistics
    apply along ``axis`` (the channel axis), so ``axis=1`` serves channels-first inputs."""
    x = to_tensor(x)
    channel = axis % x.dim()

    def along_axis(t):
        if t is None:
            return None
        t = to_tensor(t, device=x.device)
        if t.dim() == 1 and x.dim() > 2 and channel != x.dim() - 1:
            t = t.reshape([-1 if i == channel else 1 for i in range(x.dim())])
        return t

    mean, var, beta, gamma = along_axis(mean), along_axis(var), along_axis(beta), along_axis(gamma)
    inv = torch.rsqrt(var + epsilon)
    if gamma is not None:
        inv = inv * gamma
    return x * inv + (beta - mean * inv if beta is not None else -mean * inv)


def bias_add(x, bias, data_format=None):
    """``x + bias`` with ``bias`` of shape ``(channels,)`` or ``x.shape[1:]`` (in Keras layout), along the
    channel axis of ``data_format`` for 3-D to 5-D ``x``."""
    data_format = normalize_data_format(data_format)
    x = to_tensor(x)
    bias = to_tensor(bias, device=x.device)
    bias_shape, rank = int_shape(bias), x.dim()
    if len(bias_shape) != 1 and len(bias_shape) != rank - 1:
        raise ValueError(f"Unexpected bias dimensions {len(bias_shape)}, expect to be 1 or {rank - 1} dimensions")
    if data_format == "channels_first" and rank in (3, 4, 5):
        if len(bias_shape) == 1:
            return x + bias.reshape((-1,) + (1,) * (rank - 2))
        # Keras 2.3.1 reshapes (does not transpose) a (*spatial, channels) bias to (channels, *spatial)
        return x + bias.reshape((bias_shape[-1],) + bias_shape[:-1])
    return x + bias


# ---------------------------------------------------------------- convolutions and pooling
def _check_padding(padding, allowed=("same", "valid")) -> str:
    if padding not in allowed:
        raise ValueError(f"Invalid padding: {padding}")
    return padding


def _ints(value, n: int) -> tuple[int, ...]:
    return (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)


def _channels_first(x, data_format: str):
    return x.movedim(-1, 1) if data_format == "channels_last" else x


def _channels_last_again(y, data_format: str):
    return y.movedim(1, -1) if data_format == "channels_last" else y


def _padded(x, window: tuple, strides: tuple, padding: str, dilation: tuple):
    """``(x, padding argument)`` for a torch window op on channel-first ``x`` under TF's padding rules."""
    return pad_for_window_op(x, explicit_padding(tuple(x.shape[2:]), window, strides, padding, dilation))


def _conv(x, kernel, strides, padding, data_format, dilation_rate, rank: int):
    from kerasish.layers.weight_layouts import CONV_KERNEL
    strides, dilation = _ints(strides, rank), _ints(dilation_rate, rank)
    kernel = to_tensor(kernel)
    x, pad = _padded(_channels_first(to_tensor(x), data_format), tuple(kernel.shape[:rank]), strides, padding,
                     dilation)
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return _channels_last_again(conv(x, CONV_KERNEL.from_keras(kernel), None, strides, pad, dilation), data_format)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution; ``kernel`` is ``(width, in, out)``; 'causal' pads ``dilation * (width - 1)`` on the left."""
    data_format = normalize_data_format(data_format)
    if padding == "causal" and data_format != "channels_last":
        raise ValueError('When using causal padding in `conv1d`, `data_format` must be "channels_last" '
                         "(temporal data).")
    _check_padding(padding, ("same", "valid", "causal"))
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 1)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution; ``kernel`` is ``(rows, cols, in, out)``."""
    data_format = normalize_data_format(data_format)
    return _conv(x, kernel, strides, _check_padding(padding), data_format, dilation_rate, 2)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    data_format = normalize_data_format(data_format)
    return _conv(x, kernel, strides, _check_padding(padding), data_format, dilation_rate, 3)


def _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate, rank: int):
    from kerasish.layers.weight_layouts import CONV_KERNEL
    data_format = normalize_data_format(data_format)
    _check_padding(padding)
    output_shape = tuple(output_shape)
    out_spatial = output_shape[1:1 + rank] if data_format == "channels_last" else output_shape[2:2 + rank]
    # Keras kernel (*k, out, in) -> torch's transposed layout (in, out, *k): the conv permutation
    y = conv_transpose(_channels_first(to_tensor(x), data_format), CONV_KERNEL.from_keras(to_tensor(kernel)), None,
                       _ints(strides, rank), padding, _ints(dilation_rate, rank), tuple(int(n) for n in out_spatial))
    return _channels_last_again(y, data_format)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Transposed 2-D convolution to ``output_shape`` (in ``data_format``; its batch entry may be None);
    ``kernel`` is ``(rows, cols, out, in)``."""
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate, 2)


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None):
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, 1, 3)


def _depthwise(x, depthwise_kernel, strides, padding, dilation, rank: int):
    """Per-channel convolution of channel-first ``x``; ``depthwise_kernel`` is ``(*k, in, multiplier)``."""
    from kerasish.layers.weight_layouts import DepthwiseKernel
    kernel = to_tensor(depthwise_kernel)
    x, pad = _padded(x, tuple(kernel.shape[:rank]), strides, padding, dilation)
    conv = (F.conv1d, F.conv2d)[rank - 1]
    return conv(x, DepthwiseKernel(kernel.shape[-1]).from_keras(kernel), None, strides, pad, dilation,
                groups=kernel.shape[-2])


def _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate, rank: int):
    from kerasish.layers.weight_layouts import CONV_KERNEL
    data_format = normalize_data_format(data_format)
    _check_padding(padding)
    x = _channels_first(to_tensor(x), data_format)
    y = _depthwise(x, depthwise_kernel, _ints(strides, rank), padding, _ints(dilation_rate, rank), rank)
    conv = (F.conv1d, F.conv2d)[rank - 1]
    return _channels_last_again(conv(y, CONV_KERNEL.from_keras(to_tensor(pointwise_kernel))), data_format)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1):
    """Depthwise ``(width, in, multiplier)`` then pointwise ``(1, in * multiplier, out)`` convolution."""
    return _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate, 1)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Depthwise ``(rows, cols, in, multiplier)`` then pointwise ``(1, 1, in * multiplier, out)`` convolution."""
    return _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate, 2)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """Per-channel 2-D convolution; ``depthwise_kernel`` is ``(rows, cols, in, multiplier)``."""
    data_format = normalize_data_format(data_format)
    _check_padding(padding)
    y = _depthwise(_channels_first(to_tensor(x), data_format), depthwise_kernel, _ints(strides, 2), padding,
                   _ints(dilation_rate, 2), 2)
    return _channels_last_again(y, data_format)


def _pool(x, pool_size, strides, padding, data_format, pool_mode, rank: int):
    data_format = normalize_data_format(data_format)
    _check_padding(padding)
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"Invalid pool_mode: {pool_mode}")
    y = pool(_channels_first(to_tensor(x), data_format), _ints(pool_size, rank), _ints(strides, rank), padding,
             pool_mode)
    return _channels_last_again(y, data_format)


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """Max or average ('avg') pooling; 'same' averages count only the cells inside the input (TF)."""
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 2)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 3)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """Unshared 1-D convolution of ``(batch, steps, in)``: ``kernel`` is ``(out_steps, width * in, filters)``,
    one weight matrix per output step, applied to that window flattened width-major. ``data_format`` is
    checked, then the steps are read from axis 1 whatever it says, as Keras 2.3.1 does."""
    normalize_data_format(data_format)
    x = to_tensor(inputs)
    windows = x.unfold(1, kernel_size[0], strides[0])        # (batch, out_steps, in, width)
    windows = windows.transpose(2, 3).flatten(2)              # (batch, out_steps, width * in)
    return torch.einsum("blf,lfo->blo", windows, to_tensor(kernel))


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """Unshared 2-D convolution: ``kernel`` is ``(rows * cols, window_size, filters)`` for the
    ``output_shape = (rows, cols)`` positions, each window flattened as Keras slices it (channels first or
    last, by ``data_format``)."""
    data_format = normalize_data_format(data_format)
    x = _channels_first(to_tensor(inputs), data_format)
    windows = x.unfold(2, kernel_size[0], strides[0]).unfold(3, kernel_size[1], strides[1])  # (b, c, R, C, kh, kw)
    order = (0, 2, 3, 1, 4, 5) if data_format == "channels_first" else (0, 2, 3, 4, 5, 1)
    windows = windows.permute(*order).flatten(3).flatten(1, 2)  # (batch, R * C, window_size)
    out = torch.einsum("bpf,pfo->bpo", windows, to_tensor(kernel)).unflatten(1, tuple(output_shape))
    return out.permute(0, 3, 1, 2) if data_format == "channels_first" else out


# ---------------------------------------------------------------- CTC
def ctc_label_dense_to_sparse(labels, label_lengths):
    """Padded ``(batch, max_length)`` labels -> a sparse COO tensor holding the first ``label_lengths[i]``
    labels of each row."""
    labels = to_tensor(labels)
    lengths = to_tensor(label_lengths, device=labels.device).reshape(-1)
    present = torch.arange(labels.shape[1], device=labels.device).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.sparse_coo_tensor(present.nonzero().t(), labels[present], tuple(labels.shape),
                                   check_invariants=True)


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Per-sample CTC loss ``(batch, 1)``: ``y_pred`` ``(batch, time, classes)`` softmax outputs whose last class
    is the blank, ``y_true`` padded labels, ``input_length``/``label_length`` ``(batch, 1)``."""
    y_pred = to_tensor(y_pred)
    device = y_pred.device
    # TF's ctc_loss reads log(y_pred + eps) as logits and softmaxes them; torch's takes log-probabilities.
    log_probs = torch.log_softmax(torch.log(y_pred.transpose(0, 1).float() + epsilon()), dim=-1)
    targets = to_tensor(y_true, device=device).long().clamp_min(0)  # the padding past label_length is unread
    loss = F.ctc_loss(log_probs, targets, to_tensor(input_length, device=device).long().reshape(-1),
                      to_tensor(label_length, device=device).long().reshape(-1), blank=y_pred.shape[-1] - 1,
                      reduction="none")
    return loss.unsqueeze(1).to(y_pred.dtype)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    """Greedy CTC decoding (``tf.nn.ctc_greedy_decoder``): the best class per step within ``input_length``,
    repeats merged, blanks (the last class) dropped. Returns ``([decoded], log_prob)``: ``decoded`` is
    ``(batch, longest)`` int64 padded with -1, ``log_prob`` ``(batch, 1)`` minus the sum of the best
    ``log(y_pred + eps)`` per step."""
    if not greedy:
        raise NotImplementedError("ctc_decode: beam search (greedy=False) is not available in kerasish; use "
                                  "greedy=True, or torchaudio.models.decoder.ctc_decoder for a beam search.")
    y_pred = to_tensor(y_pred)
    logits = torch.log(y_pred + epsilon())
    batch, steps, classes = logits.shape
    lengths = to_tensor(input_length, device=logits.device).long().reshape(-1)
    best_logit, best = logits.max(dim=-1)
    in_sequence = torch.arange(steps, device=logits.device).unsqueeze(0) < lengths.unsqueeze(1)
    log_prob = -(best_logit * in_sequence).sum(dim=1, keepdim=True)
    previous = torch.cat([torch.full_like(best[:, :1], -1), best[:, :-1]], dim=1)
    keep = in_sequence & (best != classes - 1) & (best != previous)
    slot = keep.cumsum(dim=1) - 1
    width = int(keep.sum(dim=1).max()) if batch else 0  # the output's size depends on the data: one host read
    decoded = torch.full((batch, width), -1, dtype=torch.int64, device=logits.device)
    rows = torch.arange(batch, device=logits.device).unsqueeze(1).expand_as(keep)
    decoded[rows[keep], slot[keep]] = best[keep]
    return [decoded], log_prob
