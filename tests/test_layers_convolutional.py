"""Convolutional layers against NumPy loop references of Keras 2.3.1 / TensorFlow semantics.

Weights go in through ``set_weights`` in Keras layout, so every value test also pins the weight layout.
"""
import numpy as np
import pytest

from kerasish import backend, regularizers
from kerasish.layers.convolutional import (Conv1D, Conv2D, Conv2DTranspose, Deconvolution2D, SeparableConv2D,
                                           UpSampling2D, ZeroPadding2D)
from layer_references import (apply, keras_deconv_length, random_weights, reference_conv, reference_conv_transpose,
                              reference_depthwise, tf_same_pads)

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------------------------ Conv2D
def test_conv2d_param_count_and_keras_kernel_shape():
    layer = Conv2D(32, (3, 3))
    layer._build_once((None, 28, 28, 1))
    assert layer.count_params() == 320
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 1, 32), (32,)]
    assert layer.compute_output_shape((None, 28, 28, 1)) == (None, 26, 26, 32)


@pytest.mark.parametrize("size, kernel, strides, padding, dilation", [
    ((6, 7), (3, 3), (1, 1), "valid", (1, 1)),
    ((6, 7), (3, 3), (1, 1), "same", (1, 1)),
    ((6, 7), (3, 2), (2, 2), "same", (1, 1)),    # asymmetric 'same' in both dims
    ((7, 8), (3, 3), (2, 3), "valid", (1, 1)),
    ((7, 7), (2, 3), (1, 1), "same", (2, 2)),    # dilated, even kernel -> asymmetric
    ((8, 8), (4, 4), (2, 2), "same", (1, 1)),
])
def test_conv2d_channels_last_matches_reference(size, kernel, strides, padding, dilation):
    layer = Conv2D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    x = RNG.standard_normal((2, *size, 3)).astype(np.float32)
    w, b = random_weights(layer, (None, *size, 3), RNG)
    pads = ([tf_same_pads(n, k, s, d) for n, k, s, d in zip(size, kernel, strides, dilation)]
            if padding == "same" else [(0, 0), (0, 0)])
    expected = reference_conv(x, w, b, strides, pads, dilation)
    np.testing.assert_allclose(apply(layer, x), expected, rtol=1e-4, atol=1e-4)
    assert apply(layer, x).shape[1:] == layer.compute_output_shape((None, *size, 3))[1:]


def test_conv2d_channels_first_uses_the_same_keras_kernel():
    kernel = RNG.standard_normal((3, 3, 2, 5)).astype(np.float32)
    bias = RNG.standard_normal(5).astype(np.float32)
    x_last = RNG.standard_normal((2, 7, 6, 2)).astype(np.float32)
    first = Conv2D(5, 3, strides=2, padding="same", data_format="channels_first")
    first._build_once((None, 2, 7, 6))
    first.set_weights([kernel, bias])
    assert first.input_layout == "keras"
    out = apply(first, x_last.transpose(0, 3, 1, 2))
    expected = reference_conv(x_last, kernel, bias, (2, 2), [tf_same_pads(7, 3, 2), tf_same_pads(6, 3, 2)], (1, 1))
    np.testing.assert_allclose(out, expected.transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-4)
    assert first.compute_output_shape((None, 2, 7, 6)) == (None, 5, 4, 3)


def test_conv2d_default_data_format_follows_backend():
    backend.set_image_data_format("channels_first")
    try:
        assert Conv2D(2, 3).data_format == "channels_first"
    finally:
        backend.set_image_data_format("channels_last")
    assert Conv2D(2, 3).data_format == "channels_last"


def test_conv2d_softmax_activation_normalises_channels():
    layer = Conv2D(3, 1, activation="softmax")
    x = RNG.standard_normal((2, 4, 4, 2)).astype(np.float32)
    out = apply(layer, x)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)


def test_conv2d_kernel_regularizer_sees_keras_layout_weight():
    layer = Conv2D(2, 3, kernel_regularizer=regularizers.l1(0.5))
    w, _ = random_weights(layer, (None, 5, 5, 1), RNG)
    [penalty] = layer.regularization_losses()
    np.testing.assert_allclose(penalty.item(), 0.5 * np.abs(w).sum(), rtol=1e-5)


# ------------------------------------------------------------------------------------------ Conv1D
@pytest.mark.parametrize("length, kernel, strides, padding, dilation", [
    (9, 3, 1, "valid", 1), (9, 3, 1, "same", 1), (8, 3, 2, "same", 1), (9, 4, 3, "valid", 1),
    (10, 2, 1, "same", 1), (9, 3, 1, "causal", 2), (8, 3, 2, "causal", 1), (9, 3, 1, "same", 3),
])
def test_conv1d_matches_reference(length, kernel, strides, padding, dilation):
    layer = Conv1D(3, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    x = RNG.standard_normal((2, length, 2)).astype(np.float32)
    w, b = random_weights(layer, (None, length, 2), RNG)
    assert w.shape == (kernel, 2, 3)
    pad = {"valid": (0, 0), "same": tf_same_pads(length, kernel, strides, dilation),
           "causal": (dilation * (kernel - 1), 0)}[padding]
    expected = reference_conv(x, w, b, (strides,), [pad], (dilation,))
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert out.shape[1:] == layer.compute_output_shape((None, length, 2))[1:]


def test_conv1d_same_with_stride_pads_the_end_not_the_start():
    # length 4, kernel 3, stride 2: TF pads one zero after -> windows [1,2,3] and [3,4,0]
    layer = Conv1D(1, 3, strides=2, padding="same", use_bias=False)
    layer._build_once((None, 4, 1))
    layer.set_weights([np.ones((3, 1, 1), np.float32)])
    out = apply(layer, np.array([[[1.0], [2.0], [3.0], [4.0]]], np.float32))
    np.testing.assert_allclose(out.ravel(), [6.0, 7.0])


def test_conv1d_causal_output_does_not_see_the_future():
    layer = Conv1D(1, 3, padding="causal", use_bias=False)
    layer._build_once((None, 4, 1))
    layer.set_weights([np.array([1.0, 10.0, 100.0], np.float32).reshape(3, 1, 1)])
    out = apply(layer, np.array([[[1.0], [2.0], [3.0], [4.0]]], np.float32))
    np.testing.assert_allclose(out.ravel(), [100.0, 210.0, 321.0, 432.0])


def test_conv1d_channels_first():
    layer = Conv1D(3, 3, padding="same", data_format="channels_first")
    x = RNG.standard_normal((2, 9, 2)).astype(np.float32)
    layer._build_once((None, 2, 9))
    w, b = random_weights(layer, (None, 2, 9), RNG)
    expected = reference_conv(x, w, b, (1,), [(1, 1)], (1,))
    np.testing.assert_allclose(apply(layer, x.transpose(0, 2, 1)), expected.transpose(0, 2, 1), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------ Conv2DTranspose
@pytest.mark.parametrize("size, kernel, strides, padding, output_padding", [
    ((4, 5), (3, 3), (1, 1), "valid", None),
    ((4, 5), (3, 3), (2, 2), "valid", None),
    ((4, 5), (3, 3), (2, 2), "same", None),
    ((4, 5), (4, 4), (2, 2), "same", None),     # even kernel: crop one more at the end
    ((3, 4), (2, 2), (3, 3), "valid", None),    # stride > kernel: trailing zeros (+ bias)
    ((4, 5), (3, 3), (2, 2), "valid", (1, 1)),
    ((4, 5), (3, 3), (2, 3), "same", (1, 2)),
    ((4, 5), (5, 3), (3, 2), "same", (0, 1)),
])
def test_conv2d_transpose_shape_follows_deconv_length_and_values_the_scatter(size, kernel, strides, padding,
                                                                              output_padding):
    layer = Conv2DTranspose(3, kernel, strides=strides, padding=padding, output_padding=output_padding)
    x = RNG.standard_normal((2, *size, 2)).astype(np.float32)
    w, b = random_weights(layer, (None, *size, 2), RNG)
    assert w.shape == kernel + (3, 2)
    out_pads = output_padding or (None, None)
    expected_shape = tuple(keras_deconv_length(n, s, k, padding, p) for n, s, k, p
                           in zip(size, strides, kernel, out_pads))
    assert layer.compute_output_shape((None, *size, 2)) == (None, *expected_shape, 3)
    out = apply(layer, x)
    assert out.shape == (2, *expected_shape, 3)
    np.testing.assert_allclose(out, reference_conv_transpose(x, w, b, strides, padding, output_padding),
                               rtol=1e-4, atol=1e-4)


def test_conv2d_transpose_dilated_same():
    layer = Conv2DTranspose(2, 3, padding="same", dilation_rate=2)
    x = RNG.standard_normal((1, 5, 5, 2)).astype(np.float32)
    w, b = random_weights(layer, (None, 5, 5, 2), RNG)
    np.testing.assert_allclose(apply(layer, x), reference_conv_transpose(x, w, b, (1, 1), "same", None, (2, 2)),
                               rtol=1e-4, atol=1e-4)


def test_conv2d_transpose_params_and_alias():
    layer = Deconvolution2D(16, (3, 3))
    layer._build_once((None, 8, 8, 4))
    assert layer.count_params() == 3 * 3 * 16 * 4 + 16
    with pytest.raises(ValueError, match="must be greater than output padding"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)


# ------------------------------------------------------------------------------------------ SeparableConv2D
@pytest.mark.parametrize("strides, padding, multiplier", [((1, 1), "valid", 1), ((2, 2), "same", 2),
                                                          ((1, 1), "same", 3)])
def test_separable_conv2d_matches_reference(strides, padding, multiplier):
    layer = SeparableConv2D(4, 3, strides=strides, padding=padding, depth_multiplier=multiplier)
    x = RNG.standard_normal((2, 6, 7, 3)).astype(np.float32)
    depthwise, pointwise, bias = random_weights(layer, (None, 6, 7, 3), RNG)
    assert depthwise.shape == (3, 3, 3, multiplier) and pointwise.shape == (1, 1, 3 * multiplier, 4)
    pads = [tf_same_pads(6, 3, strides[0]), tf_same_pads(7, 3, strides[1])] if padding == "same" else [(0, 0)] * 2
    expected = reference_depthwise(x, depthwise, strides, pads, (1, 1)) @ pointwise[0, 0] + bias
    np.testing.assert_allclose(apply(layer, x), expected, rtol=1e-4, atol=1e-4)


def test_separable_conv2d_param_count_and_config():
    layer = SeparableConv2D(64, (3, 3), depth_multiplier=2)
    layer._build_once((None, 16, 16, 32))
    assert layer.count_params() == 3 * 3 * 32 * 2 + 32 * 2 * 64 + 64
    config = layer.get_config()
    assert config["depth_multiplier"] == 2 and "kernel_initializer" not in config
    assert config["depthwise_initializer"]["class_name"] == "VarianceScaling"


# ------------------------------------------------------------------------------------------ padding, upsampling
def test_zero_padding2d_forms_and_values():
    assert ZeroPadding2D(2).padding == ((2, 2), (2, 2))
    assert ZeroPadding2D((1, 3)).padding == ((1, 1), (3, 3))
    layer = ZeroPadding2D(((1, 2), (0, 3)))
    x = RNG.standard_normal((2, 3, 4, 2)).astype(np.float32)
    expected = np.pad(x, [(0, 0), (1, 2), (0, 3), (0, 0)])
    np.testing.assert_array_equal(apply(layer, x), expected)
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None, 6, 7, 2)
    cf = ZeroPadding2D(((1, 2), (0, 3)), data_format="channels_first")
    np.testing.assert_array_equal(apply(cf, x.transpose(0, 3, 1, 2)), expected.transpose(0, 3, 1, 2))


def test_upsampling2d_nearest_repeats_rows_and_columns():
    x = RNG.standard_normal((2, 3, 4, 2)).astype(np.float32)
    layer = UpSampling2D((2, 3))
    out = apply(layer, x)
    np.testing.assert_array_equal(out, x.repeat(2, axis=1).repeat(3, axis=2))
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None, 6, 12, 2)


def test_upsampling2d_bilinear_samples_at_i_over_size_clamped():
    # TF1 resize_bilinear (align_corners=False, no half-pixel): column j samples input column j / 2
    x = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32).reshape(1, 2, 2, 1)
    out = apply(UpSampling2D(2, interpolation="bilinear"), x)
    expected = np.array([[0.0, 0.5, 1.0, 1.0],
                         [1.0, 1.5, 2.0, 2.0],
                         [2.0, 2.5, 3.0, 3.0],
                         [2.0, 2.5, 3.0, 3.0]], np.float32)
    np.testing.assert_allclose(out[0, :, :, 0], expected)
    bigger = apply(UpSampling2D((3, 2), interpolation="bilinear"), RNG.standard_normal((2, 4, 5, 3)))
    assert bigger.shape == (2, 12, 10, 3)


# ------------------------------------------------------------------------------------------ errors and config
def test_wrong_input_rank_uses_keras_message():
    layer = Conv2D(2, 3, name="conv2d_1")
    with pytest.raises(ValueError, match="Input 0 is incompatible with layer conv2d_1: expected ndim=4, found ndim=3"):
        layer._build_once((None, 28, 28))


@pytest.mark.parametrize("make, match", [
    (lambda: Conv2D(0, 3), "filters"),
    (lambda: Conv2D(2, (3, 3, 3)), "kernel_size"),
    (lambda: Conv2D(2, 3, padding="full"), "padding"),
    (lambda: Conv2D(2, 3, padding="causal"), "padding"),
    (lambda: Conv2D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: Conv1D(2, 3, padding="causal", data_format="channels_first"), "causal"),
    (lambda: Conv2D(2, 3, data_format="nhwc"), "data_format"),
    (lambda: UpSampling2D(interpolation="bicubic"), "interpolation"),
    (lambda: ZeroPadding2D((1, 2, 3)), "padding"),
])
def test_invalid_arguments_are_refused_in_the_constructor(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_valid_window_larger_than_input_is_refused_at_build():
    with pytest.raises(ValueError, match="Negative dimension size"):
        Conv2D(2, 5)._build_once((None, 4, 4, 1))


def test_conv_config_has_keras_arguments():
    layer = Conv2D(8, 3, strides=2, padding="SAME", activation="relu", kernel_regularizer="l2")
    config = layer.get_config()
    assert config["filters"] == 8 and config["kernel_size"] == (3, 3) and config["strides"] == (2, 2)
    assert config["padding"] == "same" and config["activation"] == "relu" and config["dilation_rate"] == (1, 1)
    assert config["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}
    assert config["bias_constraint"] is None and config["data_format"] == "channels_last"
    assert Conv1D(4, 3).get_config()["data_format"] == "channels_last"
    assert Conv2DTranspose(4, 3, output_padding=0).get_config()["output_padding"] == (0, 0)
    assert UpSampling2D(interpolation="bilinear").get_config()["interpolation"] == "bilinear"
