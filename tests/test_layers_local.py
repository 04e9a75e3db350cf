"""LocallyConnected1D/2D against a NumPy loop over output positions, Keras 2.3.1's ``K.local_conv1d``/
``K.local_conv2d`` restated: the input slice of each position, flattened in the input's own layout order,
times that position's ``kernel[position]``, plus ``bias[position]``.

Parameter counts are Keras 2.3.1's formulas worked by hand: kernel ``positions * (prod(kernel_size) * channels)
* filters`` plus bias ``positions * filters``.
"""
import numpy as np
import pytest
import torch

import kerasish.layers as L
from kerasish import regularizers
from kerasish.layers.local import LocallyConnected1D, LocallyConnected2D
from kerasish.models import Sequential, load_model
from kerasish.optimizers import SGD
from layer_references import apply, random_weights, to_channels_first

RNG = np.random.default_rng(7)


def reference_local1d(x, kernel, bias, kernel_size, stride):
    """x (n, steps, c); kernel (out, k * c, filters); bias (out, filters)."""
    out_length = kernel.shape[0]
    out = np.zeros((x.shape[0], out_length, kernel.shape[-1]))
    for i in range(out_length):
        patch = x[:, i * stride:i * stride + kernel_size].reshape(x.shape[0], -1)   # (k, c) order
        out[:, i] = patch @ kernel[i] + (0 if bias is None else bias[i])
    return out


def reference_local2d(x, kernel, bias, kernel_size, strides, out_shape, data_format):
    """x in ``data_format``; kernel (rows * cols, kh * kw * c, filters); bias (rows, cols, filters)."""
    (kh, kw), (sh, sw), (rows, cols) = kernel_size, strides, out_shape
    out = np.zeros((x.shape[0], rows, cols, kernel.shape[-1]))
    for i in range(rows):
        for j in range(cols):
            if data_format == "channels_last":
                patch = x[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]     # flattened (kh, kw, c)
            else:
                patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]     # flattened (c, kh, kw)
            out[:, i, j] = patch.reshape(x.shape[0], -1) @ kernel[i * cols + j] + (0 if bias is None else bias[i, j])
    return out if data_format == "channels_last" else to_channels_first(out)


# ------------------------------------------------------------------------------------------ 1D
@pytest.mark.parametrize("steps, kernel_size, stride, use_bias", [
    (10, 3, 1, True), (10, 3, 2, True), (9, 4, 3, False), (5, 1, 1, True), (6, 6, 1, True),
])
def test_locally_connected1d_matches_reference(steps, kernel_size, stride, use_bias):
    layer = LocallyConnected1D(5, kernel_size, strides=stride, use_bias=use_bias)
    x = RNG.standard_normal((3, steps, 4)).astype(np.float32)
    weights = random_weights(layer, (None, steps, 4), RNG)
    out_length = (steps - kernel_size) // stride + 1
    assert weights[0].shape == (out_length, kernel_size * 4, 5)
    bias = weights[1] if use_bias else None
    if use_bias:
        assert bias.shape == (out_length, 5)
    out = apply(layer, x)
    np.testing.assert_allclose(out, reference_local1d(x, weights[0], bias, kernel_size, stride), rtol=1e-4,
                               atol=1e-4)
    assert out.shape[1:] == layer.compute_output_shape((None, steps, 4))[1:] == (out_length, 5)


def test_locally_connected1d_param_count_and_config():
    layer = LocallyConnected1D(6, 3)
    layer._build_once((None, 10, 4))
    # output_length 8: kernel 8 * (3 * 4) * 6 = 576, bias 8 * 6 = 48
    assert layer.count_params() == 8 * 12 * 6 + 8 * 6 == 624
    config = LocallyConnected1D(6, 3, strides=2, activation="relu", kernel_regularizer="l1").get_config()
    assert config["kernel_size"] == (3,) and config["strides"] == (2,) and config["padding"] == "valid"
    assert config["activation"] == "relu" and config["kernel_regularizer"]["config"]["l1"] == 0.01
    assert "data_format" not in config and "implementation" not in config   # Keras 2.3.1 keys


def test_locally_connected1d_reads_channels_last_whatever_data_format_says():
    # Keras 2.3.1 checks data_format but calls K.local_conv1d without it: inputs are always (batch, steps, c)
    layer = LocallyConnected1D(2, 3, data_format="channels_first")
    x = RNG.standard_normal((2, 7, 3)).astype(np.float32)
    kernel, bias = random_weights(layer, (None, 7, 3), RNG)
    assert kernel.shape == (5, 9, 2)
    np.testing.assert_allclose(apply(layer, x), reference_local1d(x, kernel, bias, 3, 1), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="data_format"):
        LocallyConnected1D(2, 3, data_format="ncw")


# ------------------------------------------------------------------------------------------ 2D
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("size, kernel_size, strides, use_bias", [
    ((6, 7), (3, 3), (1, 1), True), ((7, 6), (2, 3), (2, 2), True), ((6, 6), (3, 2), (3, 1), False),
])
def test_locally_connected2d_matches_reference(data_format, size, kernel_size, strides, use_bias):
    layer = LocallyConnected2D(4, kernel_size, strides=strides, data_format=data_format, use_bias=use_bias)
    x = RNG.standard_normal((2, *size, 3)).astype(np.float32)
    if data_format == "channels_first":
        x = to_channels_first(x)
    weights = random_weights(layer, (None,) + x.shape[1:], RNG)
    out_shape = tuple((n - k) // s + 1 for n, k, s in zip(size, kernel_size, strides))
    assert weights[0].shape == (out_shape[0] * out_shape[1], kernel_size[0] * kernel_size[1] * 3, 4)
    bias = weights[1] if use_bias else None
    if use_bias:
        assert bias.shape == out_shape + (4,)
    expected = reference_local2d(x, weights[0], bias, kernel_size, strides, out_shape, data_format)
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert out.shape[1:] == layer.compute_output_shape((None,) + x.shape[1:])[1:]


def test_locally_connected2d_param_count_config_and_regularizer():
    layer = LocallyConnected2D(5, (3, 3), kernel_regularizer=regularizers.l2(0.1))
    kernel, _ = random_weights(layer, (None, 6, 7, 2), RNG)
    # 4 x 5 = 20 positions: kernel 20 * (3 * 3 * 2) * 5 = 1800, bias 4 * 5 * 5 = 100
    assert layer.count_params() == 20 * 18 * 5 + 4 * 5 * 5 == 1900
    [penalty] = layer.regularization_losses()
    np.testing.assert_allclose(penalty.item(), 0.1 * np.square(kernel).sum(), rtol=1e-5)
    config = LocallyConnected2D(5, 3, data_format="channels_first").get_config()
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1)
    assert config["data_format"] == "channels_first" and "implementation" not in config


def test_locally_connected_softmax_normalises_the_last_keras_axis():
    for layer, shape in ((LocallyConnected2D(3, 2, activation="softmax"), (2, 4, 4, 2)),
                         (LocallyConnected1D(3, 2, activation="softmax"), (2, 5, 2))):
        out = apply(layer, RNG.standard_normal(shape).astype(np.float32))
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, error, match", [
    (lambda: LocallyConnected1D(2, 3, padding="same"), ValueError,
     r'Invalid border mode for LocallyConnected1D \(only "valid" is supported\): same'),
    (lambda: LocallyConnected2D(2, 3, padding="causal"), ValueError,
     r'Invalid border mode for LocallyConnected2D \(only "valid" is supported\): causal'),
    (lambda: LocallyConnected2D(2, 3, padding="full"), ValueError, "padding"),
    (lambda: LocallyConnected2D(0, 3), ValueError, "filters"),
    (lambda: LocallyConnected2D(2, (3, 3, 3)), ValueError, "kernel_size"),
    (lambda: LocallyConnected1D(2, 3, strides=0), ValueError, "strides"),
    (lambda: LocallyConnected2D(2, 3, implementation=1), TypeError, "implementation"),   # not in Keras 2.3.1
])
def test_invalid_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_undefined_or_too_small_inputs_are_refused_at_build():
    with pytest.raises(ValueError, match="should be fully-defined, but layer received the inputs shape"):
        LocallyConnected2D(2, 3)._build_once((None, None, 5, 2))
    with pytest.raises(ValueError, match="should be fully-defined"):
        LocallyConnected1D(2, 3)._build_once((None, None, 2))
    with pytest.raises(ValueError, match="channel dimension"):
        LocallyConnected1D(2, 3)._build_once((None, 5, None))
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        LocallyConnected2D(2, 3)._build_once((None, 2, 5, 1))
    with pytest.raises(ValueError, match="expected ndim=3"):
        LocallyConnected1D(2, 3)._build_once((None, 5, 5, 1))
    with pytest.raises(TypeError, match="does not support masking"):
        LocallyConnected1D(2, 3).compute_mask(torch.zeros(1, 2), torch.ones(1, 2, dtype=torch.bool))


# ------------------------------------------------------------------------------------------ in a model
def test_a_locally_connected_model_trains_and_round_trips(tmp_path):
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    x = rng.randn(48, 6, 6, 2).astype("float32")
    y = (x[:, :3, :, 0].mean(axis=(1, 2)) > x[:, 3:, :, 1].mean(axis=(1, 2))).astype("float32")[:, None]
    model = Sequential([L.LocallyConnected2D(3, 3, activation="tanh", input_shape=(6, 6, 2)), L.Flatten(),
                        L.Dense(1, activation="sigmoid")])
    model.compile(SGD(lr=0.5), "binary_crossentropy")
    losses = model.fit(x, y, batch_size=16, epochs=10, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    model.save(tmp_path / "local.h5")
    loaded = load_model(tmp_path / "local.h5")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
