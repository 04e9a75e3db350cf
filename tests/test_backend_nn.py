"""kerasish.backend.nn against NumPy written here: activations, crossentropies, dropout, normalisation,
bias_add, convolutions and pooling with TensorFlow's padding, locally connected products and CTC.

Convolution and pooling references are direct loops over output positions with TF's 'same' padding
(``max((out - 1) * stride + dilated_kernel - in, 0)`` cells, the odd one at the end); the transposed
convolution is checked as the adjoint of the convolution, which is how TensorFlow defines it.
"""
import itertools

import numpy as np
import pytest
import torch

from kerasish import backend as K

RNG = np.random.default_rng(0)
EPS = 1e-7


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype="float32"))


# ---------------------------------------------------------------- activations
X = RNG.standard_normal((3, 5)).astype("float32") * 3


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "relu": lambda x: np.maximum(x, 0),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "softmax": np_softmax,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_match_numpy(name):
    np.testing.assert_allclose(getattr(K, name)(t(X)).numpy(), ACTIVATIONS[name](X), rtol=1e-5, atol=1e-6)


def test_relu_with_alpha_max_value_and_threshold_follows_keras():
    x = np.array([-2.0, 0.5, 1.0, 1.5, 8.0], dtype="float32")
    # Keras 2.3.1: x * (x > threshold), clipped to [0, max_value], minus alpha * relu(threshold - x)
    expected = np.clip(x * (x > 1.0), 0, 6.0) - 0.1 * np.maximum(1.0 - x, 0)
    np.testing.assert_allclose(K.relu(t(x), alpha=0.1, max_value=6.0, threshold=1.0).numpy(), expected, rtol=1e-6)


def test_elu_scales_the_negative_part_by_alpha():
    np.testing.assert_allclose(K.elu(t(X), alpha=0.5).numpy(), np.where(X > 0, X, 0.5 * (np.exp(X) - 1)), rtol=1e-5)


def test_softmax_takes_an_axis_and_accepts_1d_inputs():
    np.testing.assert_allclose(K.softmax(t(X), axis=0).numpy(), np_softmax(X, axis=0), rtol=1e-5)
    np.testing.assert_allclose(K.softmax(t(X[0])).numpy(), np_softmax(X[0]), rtol=1e-5)


# ---------------------------------------------------------------- crossentropies
def test_categorical_crossentropy_renormalises_and_clips_the_output():
    target = np.eye(4, dtype="float32")[[0, 3, 1]]
    output = RNG.uniform(0, 2, (3, 4)).astype("float32")
    output[0, 0] = 0.0
    probs = np.clip(output / output.sum(-1, keepdims=True), EPS, 1 - EPS)
    expected = -(target * np.log(probs)).sum(-1)
    np.testing.assert_allclose(K.categorical_crossentropy(t(target), t(output)).numpy(), expected, rtol=1e-5)


def test_categorical_crossentropy_from_logits_and_along_another_axis():
    target = np.eye(3, dtype="float32")[RNG.integers(0, 3, (2, 4))].transpose(0, 2, 1)  # (batch, classes, time)
    logits = RNG.standard_normal((2, 3, 4)).astype("float32")
    expected = -(target * np.log(np_softmax(logits, axis=1))).sum(1)
    out = K.categorical_crossentropy(t(target), t(logits), from_logits=True, axis=1)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_sparse_categorical_crossentropy_with_integer_targets_and_a_class_axis():
    labels = np.array([[0, 2], [1, 1]])
    probs = np_softmax(RNG.standard_normal((2, 3, 2)).astype("float32"), axis=1)  # (batch, classes, time)
    expected = -np.log(np.take_along_axis(probs, labels[:, None, :], axis=1)[:, 0, :])
    out = K.sparse_categorical_crossentropy(torch.from_numpy(labels), t(probs), axis=1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_binary_crossentropy_is_elementwise():
    target = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype="float32")
    output = np.array([[0.9, 0.2, 1.0], [0.0, 0.5, 0.3]], dtype="float32")
    p = np.clip(output, EPS, 1 - EPS)
    expected = -(target * np.log(p + EPS) + (1 - target) * np.log(1 - p + EPS))
    out = K.binary_crossentropy(t(target), t(output))
    assert out.shape == target.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_binary_crossentropy_from_logits():
    target = np.array([1.0, 0.0, 1.0], dtype="float32")
    logits = np.array([2.0, -1.0, -3.0], dtype="float32")
    expected = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    np.testing.assert_allclose(K.binary_crossentropy(t(target), t(logits), from_logits=True).numpy(), expected,
                               rtol=1e-5)


# ---------------------------------------------------------------- dropout, l2_normalize, in_top_k
def test_dropout_keeps_units_with_probability_one_minus_level_and_rescales_them():
    x = torch.ones(200, 100)
    out = K.dropout(x, 0.25, seed=1)
    assert set(out.unique().tolist()) == {0.0, float(np.float32(1.0 / 0.75))}
    assert abs(float((out == 0).float().mean()) - 0.25) < 0.02
    assert torch.equal(out, K.dropout(x, 0.25, seed=1))


def test_dropout_noise_shape_drops_whole_broadcast_slices():
    out = K.dropout(torch.ones(50, 6), 0.5, noise_shape=(50, 1), seed=0)
    assert torch.equal(out, out[:, :1].expand(50, 6))
    out = K.dropout(torch.ones(50, 6), 0.5, noise_shape=(None, 1), seed=0)
    assert torch.equal(out, out[:, :1].expand(50, 6))


def test_dropout_level_must_be_a_fraction():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        K.dropout(torch.ones(3), 1.0)


@pytest.mark.parametrize("axis", [None, 0, -1, [0, 1]])
def test_l2_normalize_divides_by_the_norm_over_axis(axis):
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = X / np.sqrt(np.maximum((X ** 2).sum(axis=np_axis, keepdims=True), 1e-12))
    np.testing.assert_allclose(K.l2_normalize(t(X), axis=axis).numpy(), expected, rtol=1e-5)


def test_in_top_k_counts_ties_at_the_boundary_as_in_and_non_finite_rows_as_out():
    predictions = t([[0.1, 0.5, 0.5, 0.2], [0.4, 0.3, 0.2, 0.1], [np.nan, 0.9, 0.1, 0.0], [0.1, 0.2, 0.3, 0.4]])
    targets = np.array([2, 2, 1, 0])
    assert K.in_top_k(predictions, targets, 1).tolist() == [True, False, False, False]
    assert K.in_top_k(predictions, targets, 3).tolist() == [True, True, False, False]


# ---------------------------------------------------------------- normalisation and bias
def test_normalize_batch_in_training_over_all_but_the_last_axis():
    x = RNG.standard_normal((6, 3)).astype("float32")
    gamma, beta = np.array([1.0, 2.0, 0.5], "float32"), np.array([0.0, 1.0, -1.0], "float32")
    normed, mean, var = K.normalize_batch_in_training(t(x), t(gamma), t(beta), [0], epsilon=1e-3)
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var.numpy(), x.var(0), rtol=1e-5)
    np.testing.assert_allclose(normed.numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * gamma + beta,
                               rtol=1e-4, atol=1e-5)


def test_normalize_batch_in_training_over_channels_first_images_broadcasts_gamma_and_beta():
    x = RNG.standard_normal((4, 3, 2, 2)).astype("float32")
    gamma, beta = np.array([1.0, 2.0, 0.5], "float32"), np.array([0.0, 1.0, -1.0], "float32")
    normed, mean, var = K.normalize_batch_in_training(t(x), t(gamma), t(beta), [0, 2, 3])
    m, v = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    assert mean.shape == (3,) and var.shape == (3,)
    expected = (x - m) / np.sqrt(v + 1e-3) * gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(normed.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_batch_normalization_applies_1d_statistics_along_axis():
    x = RNG.standard_normal((2, 3, 4, 4)).astype("float32")
    mean, var = np.array([0.1, 0.2, 0.3], "float32"), np.array([1.0, 2.0, 3.0], "float32")
    beta, gamma = np.array([0.0, 1.0, 2.0], "float32"), np.array([2.0, 1.0, 0.5], "float32")
    shape = (1, 3, 1, 1)
    expected = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-3) * gamma.reshape(shape) + beta.reshape(
        shape)
    out = K.batch_normalization(t(x), t(mean), t(var), t(beta), t(gamma), axis=1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)
    out = K.batch_normalization(t(x.transpose(0, 2, 3, 1)), t(mean), t(var), None, None, epsilon=0.0)
    np.testing.assert_allclose(out.numpy(), ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape))).transpose(
        0, 2, 3, 1), rtol=1e-5, atol=1e-5)


def test_bias_add_along_the_channel_axis_of_each_layout():
    x = RNG.standard_normal((2, 3, 4, 5)).astype("float32")
    bias = np.arange(5, dtype="float32")
    np.testing.assert_allclose(K.bias_add(t(x), t(bias)).numpy(), x + bias)
    bias3 = np.arange(3, dtype="float32")
    np.testing.assert_allclose(K.bias_add(t(x), t(bias3), data_format="channels_first").numpy(),
                               x + bias3.reshape(1, 3, 1, 1))


def test_bias_add_of_a_full_bias_reshapes_it_for_channels_first_as_keras_231_does():
    x = np.zeros((1, 2, 3, 4), dtype="float32")       # channels_first (batch, channels=2, 3, 4)
    bias = np.arange(24, dtype="float32").reshape(3, 4, 2)  # (*spatial, channels), as LocallyConnected2D holds it
    np.testing.assert_array_equal(K.bias_add(t(x), t(bias), data_format="channels_first").numpy(),
                                  bias.reshape(1, 2, 3, 4))
    x_last = np.zeros((1, 3, 4, 2), dtype="float32")
    np.testing.assert_array_equal(K.bias_add(t(x_last), t(bias)).numpy(), bias[None])


def test_bias_add_rejects_a_bias_of_another_rank():
    with pytest.raises(ValueError, match="Unexpected bias dimensions 2, expect to be 1 or 3 dimensions"):
        K.bias_add(torch.zeros(2, 3, 4, 5), torch.zeros(4, 5))


# ---------------------------------------------------------------- convolutions and pooling
def tf_pads(length, kernel, stride, dilation, padding):
    dilated = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return dilated - 1, 0
    out = -(-length // stride)
    total = max((out - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2


def np_conv(x, kernel, strides, padding, dilation, depthwise=False):
    """x (batch, *spatial, in), kernel (*k, in, out) or, depthwise, (*k, in, multiplier): TF semantics."""
    rank = x.ndim - 2
    pads = [tf_pads(x.shape[1 + i], kernel.shape[i], strides[i], dilation[i], padding) for i in range(rank)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    dilated = [(kernel.shape[i] - 1) * dilation[i] + 1 for i in range(rank)]
    out_sizes = [(xp.shape[1 + i] - dilated[i]) // strides[i] + 1 for i in range(rank)]
    channels = kernel.shape[-2] * kernel.shape[-1] if depthwise else kernel.shape[-1]
    out = np.zeros((x.shape[0], *out_sizes, channels))
    for pos in np.ndindex(*out_sizes):
        for offset in np.ndindex(*kernel.shape[:rank]):
            cell = xp[(slice(None),) + tuple(pos[i] * strides[i] + offset[i] * dilation[i] for i in range(rank))]
            if depthwise:
                out[(slice(None),) + pos] += (cell[:, :, None] * kernel[offset]).reshape(len(x), -1)
            else:
                out[(slice(None),) + pos] += cell @ kernel[offset]
    return out


CONV_CASES = [
    # rank, input spatial, kernel size, strides, padding, dilation
    (1, (7,), (3,), (1,), "valid", (1,)),
    (1, (7,), (3,), (2,), "same", (1,)),
    (1, (7,), (2,), (1,), "causal", (2,)),
    (2, (5, 6), (3, 2), (1, 1), "valid", (1, 1)),
    (2, (5, 6), (3, 3), (2, 2), "same", (1, 1)),
    (2, (6, 6), (2, 2), (2, 1), "same", (1, 1)),
    (2, (7, 7), (3, 3), (1, 1), "same", (2, 2)),
    (3, (4, 5, 3), (2, 3, 2), (1, 2, 1), "same", (1, 1, 1)),
]


@pytest.mark.parametrize("rank, spatial, kernel_size, strides, padding, dilation", CONV_CASES)
def test_conv_matches_a_loop_with_tf_padding(rank, spatial, kernel_size, strides, padding, dilation):
    x = RNG.standard_normal((2, *spatial, 3)).astype("float32")
    kernel = RNG.standard_normal((*kernel_size, 3, 4)).astype("float32")
    conv = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}[rank]
    unpack = (lambda v: v[0]) if rank == 1 else (lambda v: v)
    out = conv(t(x), t(kernel), strides=unpack(strides), padding=padding, data_format="channels_last",
               dilation_rate=unpack(dilation))
    np.testing.assert_allclose(out.numpy(), np_conv(x, kernel, strides, padding, dilation), rtol=1e-4, atol=1e-4)


def test_conv2d_channels_first_is_the_channels_last_result_transposed():
    x = RNG.standard_normal((2, 5, 6, 3)).astype("float32")
    kernel = RNG.standard_normal((3, 3, 3, 4)).astype("float32")
    out = K.conv2d(t(x.transpose(0, 3, 1, 2)), t(kernel), strides=(2, 2), padding="same",
                   data_format="channels_first")
    expected = np_conv(x, kernel, (2, 2), "same", (1, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_conv_padding_errors_use_keras_messages():
    with pytest.raises(ValueError, match="Invalid padding: full"):
        K.conv2d(torch.zeros(1, 3, 3, 1), torch.zeros(2, 2, 1, 1), padding="full")
    with pytest.raises(ValueError, match="causal padding in `conv1d`"):
        K.conv1d(torch.zeros(1, 1, 5), torch.zeros(2, 1, 1), padding="causal", data_format="channels_first")


@pytest.mark.parametrize("spatial, out_spatial, strides, padding", [
    ((3, 4), (6, 8), (2, 2), "same"),
    ((3, 4), (5, 7), (2, 2), "same"),
    ((3, 3), (7, 7), (2, 2), "valid"),
    ((4, 4), (6, 6), (1, 1), "valid"),
])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(spatial, out_spatial, strides, padding):
    # TF defines conv2d_transpose(x, k, output_shape) as the gradient of conv2d(y, k) with y of output_shape:
    # <conv2d(y, k), x> == <y, conv2d_transpose(x, k, y.shape)>
    kernel = t(RNG.standard_normal((3, 3, 2, 5)))   # (rows, cols, out channels of the transpose, in channels)
    y = t(RNG.standard_normal((2, *out_spatial, 2)))
    x = t(RNG.standard_normal((2, *spatial, 5)))
    assert K.conv2d(y, kernel, strides, padding).shape == x.shape
    transposed = K.conv2d_transpose(x, kernel, (None, *out_spatial, 2), strides, padding)
    assert transposed.shape == y.shape
    np.testing.assert_allclose(float((K.conv2d(y, kernel, strides, padding) * x).sum()),
                               float((y * transposed).sum()), rtol=1e-4)


def test_conv2d_transpose_of_a_single_pixel_paints_the_kernel():
    kernel = np.arange(4, dtype="float32").reshape(2, 2, 1, 1)
    out = K.conv2d_transpose(torch.ones(1, 1, 1, 1), t(kernel), (1, 2, 2, 1), strides=(2, 2))
    np.testing.assert_array_equal(out.numpy().reshape(2, 2), kernel.reshape(2, 2))
    out = K.conv2d_transpose(torch.ones(1, 1, 1, 1), t(kernel), (1, 1, 2, 2), strides=(2, 2),
                             data_format="channels_first")
    np.testing.assert_array_equal(out.numpy().reshape(2, 2), kernel.reshape(2, 2))


def test_conv3d_transpose_is_the_adjoint_of_conv3d():
    kernel = t(RNG.standard_normal((2, 2, 2, 2, 3)))
    y = t(RNG.standard_normal((1, 4, 4, 4, 2)))
    x = t(RNG.standard_normal((1, 2, 2, 2, 3)))
    transposed = K.conv3d_transpose(x, kernel, (1, 4, 4, 4, 2), strides=(2, 2, 2), padding="same")
    np.testing.assert_allclose(float((K.conv3d(y, kernel, (2, 2, 2), "same") * x).sum()),
                               float((y * transposed).sum()), rtol=1e-4)


def test_depthwise_conv2d_gives_multiplier_outputs_per_input_channel():
    x = RNG.standard_normal((2, 5, 5, 3)).astype("float32")
    kernel = RNG.standard_normal((3, 3, 3, 2)).astype("float32")
    out = K.depthwise_conv2d(t(x), t(kernel), strides=(2, 2), padding="same")
    np.testing.assert_allclose(out.numpy(), np_conv(x, kernel, (2, 2), "same", (1, 1), depthwise=True),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rank", [1, 2])
def test_separable_conv_is_depthwise_then_pointwise(rank):
    spatial, k = ((7,), (3,)) if rank == 1 else ((5, 6), (3, 3))
    x = RNG.standard_normal((2, *spatial, 3)).astype("float32")
    depthwise = RNG.standard_normal((*k, 3, 2)).astype("float32")
    pointwise = RNG.standard_normal((*(1,) * rank, 6, 4)).astype("float32")
    strides, dilation = (1,) * rank, (2,) * rank
    fn = K.separable_conv1d if rank == 1 else K.separable_conv2d
    unpack = (lambda v: v[0]) if rank == 1 else (lambda v: v)
    out = fn(t(x), t(depthwise), t(pointwise), strides=unpack(strides), padding="same",
             dilation_rate=unpack(dilation))
    expected = np_conv(np_conv(x, depthwise, strides, "same", dilation, depthwise=True), pointwise, strides,
                       "valid", (1,) * rank)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-4)


def np_pool(x, pool_size, strides, padding, mode):
    """Pooling of (batch, *spatial, channels): windows cover only real cells (TF 'same' averages)."""
    rank = x.ndim - 2
    pads = [tf_pads(x.shape[1 + i], pool_size[i], strides[i], 1, padding) for i in range(rank)]
    out_sizes = [(x.shape[1 + i] + sum(pads[i]) - pool_size[i]) // strides[i] + 1 for i in range(rank)]
    out = np.zeros((x.shape[0], *out_sizes, x.shape[-1]))
    for pos in np.ndindex(*out_sizes):
        starts = [pos[i] * strides[i] - pads[i][0] for i in range(rank)]
        window = x[(slice(None),) + tuple(slice(max(s, 0), min(s + p, n)) for s, p, n in
                                          zip(starts, pool_size, x.shape[1:-1]))]
        axes = tuple(range(1, rank + 1))
        out[(slice(None),) + pos] = window.max(axis=axes) if mode == "max" else window.mean(axis=axes)
    return out


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("spatial, pool_size, strides, padding", [
    ((4, 4), (2, 2), (2, 2), "valid"),
    ((5, 5), (2, 2), (2, 2), "same"),
    ((5, 6), (3, 3), (2, 1), "same"),
    ((5, 5), (3, 3), (1, 1), "valid"),
])
def test_pool2d_matches_a_loop_with_tf_padding(mode, spatial, pool_size, strides, padding):
    x = RNG.standard_normal((2, *spatial, 3)).astype("float32")
    out = K.pool2d(t(x), pool_size, strides, padding, "channels_last", pool_mode=mode)
    np.testing.assert_allclose(out.numpy(), np_pool(x, pool_size, strides, padding, mode), rtol=1e-5, atol=1e-6)
    out = K.pool2d(t(x.transpose(0, 3, 1, 2)), pool_size, strides, padding, "channels_first", pool_mode=mode)
    np.testing.assert_allclose(out.numpy(), np_pool(x, pool_size, strides, padding, mode).transpose(0, 3, 1, 2),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool3d_matches_a_loop_with_tf_padding(mode):
    x = RNG.standard_normal((1, 3, 4, 5, 2)).astype("float32")
    out = K.pool3d(t(x), (2, 2, 2), (2, 2, 2), "same", pool_mode=mode)
    np.testing.assert_allclose(out.numpy(), np_pool(x, (2, 2, 2), (2, 2, 2), "same", mode), rtol=1e-5, atol=1e-6)


def test_pool2d_rejects_an_unknown_pool_mode():
    with pytest.raises(ValueError, match="Invalid pool_mode: median"):
        K.pool2d(torch.zeros(1, 2, 2, 1), (2, 2), pool_mode="median")


# ---------------------------------------------------------------- locally connected
def test_local_conv1d_applies_one_kernel_per_output_step():
    x = RNG.standard_normal((2, 7, 3)).astype("float32")
    steps, width, stride = 3, 3, 2
    kernel = RNG.standard_normal((steps, width * 3, 4)).astype("float32")
    expected = np.stack([x[:, i * stride:i * stride + width, :].reshape(2, -1) @ kernel[i] for i in range(steps)], 1)
    out = K.local_conv1d(t(x), t(kernel), (width,), (stride,))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_local_conv2d_applies_one_kernel_per_output_position(data_format):
    x = RNG.standard_normal((2, 5, 4, 3)).astype("float32")
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    (kh, kw), (sh, sw), (rows, cols) = (2, 2), (2, 1), (2, 3)
    kernel = RNG.standard_normal((rows * cols, kh * kw * 3, 4)).astype("float32")
    expected = np.zeros((2, rows, cols, 4))
    for i, j in itertools.product(range(rows), range(cols)):
        if data_format == "channels_first":
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
        else:
            window = x[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
        expected[:, i, j] = window.reshape(2, -1) @ kernel[i * cols + j]
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    out = K.local_conv2d(t(x), t(kernel), (kh, kw), (sh, sw), (rows, cols), data_format)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- CTC
def np_ctc_loss(probs, label):
    """-log of the summed probability of every path that collapses (merge repeats, drop blanks) to label."""
    steps, classes = probs.shape
    blank = classes - 1
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(label):
            total += np.prod([probs[i, c] for i, c in enumerate(path)])
    return -np.log(total)


def test_ctc_batch_cost_sums_over_alignments_within_each_input_length():
    y_pred = np_softmax(RNG.standard_normal((2, 5, 3)))
    y_true = np.array([[0, 1], [1, 1]])
    input_length, label_length = np.array([[5], [4]]), np.array([[2], [1]])
    # TF reads log(y_pred + eps) as logits and softmaxes them
    softened = (y_pred + EPS) / (y_pred + EPS).sum(-1, keepdims=True)
    expected = [np_ctc_loss(softened[0, :5], [0, 1]), np_ctc_loss(softened[1, :4], [1])]
    out = K.ctc_batch_cost(torch.from_numpy(y_true), t(y_pred), torch.from_numpy(input_length),
                           torch.from_numpy(label_length))
    assert out.shape == (2, 1)
    np.testing.assert_allclose(out.numpy()[:, 0], expected, rtol=1e-4)


def test_ctc_decode_greedy_merges_repeats_drops_blanks_and_pads_with_minus_one():
    blank = 2
    best = np.array([[0, 0, blank, 0, 1, 1], [1, blank, blank, 1, 0, 0]])
    y_pred = np.full((2, 6, 3), 0.1, dtype="float32")
    np.put_along_axis(y_pred, best[..., None], 0.8, axis=-1)
    (decoded,), log_prob = K.ctc_decode(t(y_pred), np.array([6, 2]))
    assert decoded.dtype == torch.int64
    assert decoded.tolist() == [[0, 0, 1], [1, -1, -1]]
    np.testing.assert_allclose(log_prob.numpy(), [[-6 * np.log(0.8 + EPS)], [-2 * np.log(0.8 + EPS)]], rtol=1e-5)


def test_ctc_decode_beam_search_raises_and_names_the_alternative():
    with pytest.raises(NotImplementedError, match="greedy=True"):
        K.ctc_decode(torch.ones(1, 2, 3) / 3, np.array([2]), greedy=False)


def test_ctc_label_dense_to_sparse_keeps_the_first_label_length_labels():
    labels = torch.tensor([[3, 1, 0], [2, 0, 0]])
    sparse = K.ctc_label_dense_to_sparse(labels, torch.tensor([2, 1]))
    assert K.is_sparse(sparse)
    assert sparse.coalesce().indices().t().tolist() == [[0, 0], [0, 1], [1, 0]]
    assert sparse.coalesce().values().tolist() == [3, 1, 2]
