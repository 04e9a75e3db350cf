"""Conv3D, Conv3DTranspose, DepthwiseConv2D, SeparableConv1D and the 1D/3D reshaping layers (UpSampling,
ZeroPadding, Cropping) against NumPy references of Keras 2.3.1 / TensorFlow semantics.

Weights go in through ``set_weights`` in Keras layout, so every value test also pins the weight layout; the
references are in layer_references.py. Parameter counts are Keras 2.3.1's formulas worked by hand in each test.
"""
import numpy as np
import pytest
import torch

import kerasish.layers as L
from kerasish import backend, regularizers
from kerasish.layers.convolutional import (Conv3D, Conv3DTranspose, Cropping1D, Cropping2D, Cropping3D,
                                           DepthwiseConv2D, SeparableConv1D, UpSampling1D, UpSampling3D,
                                           ZeroPadding1D, ZeroPadding3D)
from kerasish.models import Sequential
from kerasish.optimizers import SGD
from layer_references import (apply, keras_deconv_length, random_weights, reference_conv, reference_conv_transpose,
                              reference_depthwise, to_channels_first, window_pads)

RNG = np.random.default_rng(12)


# ------------------------------------------------------------------------------------------ Conv3D
def test_conv3d_param_count_keras_kernel_shape_and_alias():
    layer = L.Convolution3D(8, 3)
    layer._build_once((None, 5, 6, 7, 4))
    assert type(layer) is Conv3D and L.Conv3D is Conv3D
    assert layer.count_params() == 3 * 3 * 3 * 4 * 8 + 8 == 872
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 3, 4, 8), (8,)]
    assert layer.compute_output_shape((None, 5, 6, 7, 4)) == (None, 3, 4, 5, 8)


@pytest.mark.parametrize("size, kernel, strides, padding, dilation", [
    ((5, 6, 4), (3, 3, 3), (1, 1, 1), "valid", (1, 1, 1)),
    ((5, 6, 4), (3, 2, 3), (1, 1, 1), "same", (1, 1, 1)),
    ((6, 5, 7), (3, 3, 2), (2, 2, 3), "same", (1, 1, 1)),   # asymmetric 'same'
    ((7, 6, 5), (2, 3, 3), (2, 1, 2), "valid", (1, 1, 1)),
    ((6, 6, 5), (2, 3, 2), (1, 1, 1), "same", (2, 1, 2)),   # dilated
])
def test_conv3d_channels_last_matches_reference(size, kernel, strides, padding, dilation):
    layer = Conv3D(3, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    x = RNG.standard_normal((2, *size, 2)).astype(np.float32)
    w, b = random_weights(layer, (None, *size, 2), RNG)
    expected = reference_conv(x, w, b, strides, window_pads(padding, size, kernel, strides, dilation), dilation)
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert out.shape[1:] == layer.compute_output_shape((None, *size, 2))[1:]


def test_conv3d_channels_first_reads_the_same_keras_kernel():
    layer = Conv3D(4, (2, 3, 3), strides=2, padding="same", data_format="channels_first")
    x = RNG.standard_normal((2, 5, 6, 7, 3)).astype(np.float32)
    w, b = random_weights(layer, (None, 3, 5, 6, 7), RNG)
    assert w.shape == (2, 3, 3, 3, 4) and layer.input_layout == "keras"
    expected = reference_conv(x, w, b, (2, 2, 2), window_pads("same", (5, 6, 7), (2, 3, 3), (2, 2, 2), (1, 1, 1)),
                              (1, 1, 1))
    np.testing.assert_allclose(apply(layer, to_channels_first(x)), to_channels_first(expected), rtol=1e-4,
                               atol=1e-4)
    assert layer.compute_output_shape((None, 3, 5, 6, 7)) == (None, 4, 3, 3, 4)


def test_conv3d_default_data_format_follows_backend_and_config_keys():
    backend.set_image_data_format("channels_first")
    assert Conv3D(2, 3).data_format == "channels_first"
    backend.set_image_data_format("channels_last")
    config = Conv3D(8, 3, strides=(1, 2, 1), padding="SAME", activation="relu", kernel_regularizer="l2").get_config()
    assert config["kernel_size"] == (3, 3, 3) and config["strides"] == (1, 2, 1) and config["padding"] == "same"
    assert config["dilation_rate"] == (1, 1, 1) and config["data_format"] == "channels_last"
    assert config["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}
    assert "rank" not in config   # Keras 2.3.1 Conv3D.get_config pops it


def test_a_conv3d_model_trains_with_fit():
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    x = rng.randn(32, 4, 4, 4, 2).astype("float32")
    y = (x[..., 0].mean(axis=(1, 2, 3)) > 0).astype("float32")[:, None]
    model = Sequential([L.Conv3D(4, 3, padding="same", activation="relu", input_shape=(4, 4, 4, 2)),
                        L.MaxPooling3D(), L.GlobalAveragePooling3D(), L.Dense(1, activation="sigmoid")])
    model.compile(SGD(lr=0.5), "binary_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses


# ------------------------------------------------------------------------------------------ Conv3DTranspose
@pytest.mark.parametrize("size, kernel, strides, padding, output_padding", [
    ((3, 4, 2), (3, 3, 3), (1, 1, 1), "valid", None),
    ((3, 4, 2), (3, 2, 3), (2, 2, 2), "valid", None),
    ((3, 4, 2), (3, 4, 3), (2, 2, 1), "same", None),   # even kernel: one more cell cropped at the end
    ((2, 3, 2), (2, 2, 2), (3, 3, 3), "valid", None),  # stride > kernel: trailing zeros (+ bias)
    ((3, 4, 2), (3, 3, 3), (2, 3, 2), "same", (1, 2, 0)),
])
def test_conv3d_transpose_shape_follows_deconv_length_and_values_the_scatter(size, kernel, strides, padding,
                                                                              output_padding):
    layer = L.Deconvolution3D(3, kernel, strides=strides, padding=padding, output_padding=output_padding)
    x = RNG.standard_normal((2, *size, 2)).astype(np.float32)
    w, b = random_weights(layer, (None, *size, 2), RNG)
    assert type(layer) is Conv3DTranspose and w.shape == kernel + (3, 2)
    out_pads = output_padding or (None,) * 3
    expected_shape = tuple(keras_deconv_length(n, s, k, padding, p)
                           for n, s, k, p in zip(size, strides, kernel, out_pads))
    assert layer.compute_output_shape((None, *size, 2)) == (None, *expected_shape, 3)
    out = apply(layer, x)
    assert out.shape == (2, *expected_shape, 3)
    np.testing.assert_allclose(out, reference_conv_transpose(x, w, b, strides, padding, output_padding),
                               rtol=1e-4, atol=1e-4)


def test_conv3d_transpose_channels_first_params_and_config():
    layer = Conv3DTranspose(6, (2, 3, 3), strides=2, padding="same", data_format="channels_first")
    x = RNG.standard_normal((1, 3, 2, 3, 4)).astype(np.float32)
    w, b = random_weights(layer, (None, 4, 3, 2, 3), RNG)
    assert layer.count_params() == 2 * 3 * 3 * 6 * 4 + 6 == 438
    expected = reference_conv_transpose(x, w, b, (2, 2, 2), "same", None)
    np.testing.assert_allclose(apply(layer, to_channels_first(x)), to_channels_first(expected), rtol=1e-4,
                               atol=1e-4)
    config = Conv3DTranspose(2, 3, output_padding=0).get_config()
    assert config["output_padding"] == (0, 0, 0) and "dilation_rate" not in config   # Keras 2.3.1 pops it
    with pytest.raises(ValueError, match=r"Stride \(2, 2, 2\) must be greater than output padding \(2, 2, 2\)"):
        Conv3DTranspose(2, 3, strides=2, output_padding=2)
    # Keras 2.3.1: a dilation_rate keyword reaches Conv3D.__init__ and K.conv3d_transpose then ignores it
    with pytest.warns(UserWarning, match="dilation_rate=2 is ignored"):
        dilated = Conv3DTranspose(6, (2, 3, 3), strides=2, padding="same", data_format="channels_first",
                                  dilation_rate=2)
    dilated._build_once((None, 4, 3, 2, 3))
    dilated.set_weights([w, b])
    np.testing.assert_allclose(apply(dilated, to_channels_first(x)), to_channels_first(expected), rtol=1e-4,
                               atol=1e-4)


# ------------------------------------------------------------------------------------------ DepthwiseConv2D
@pytest.mark.parametrize("strides, padding, multiplier, dilation", [
    ((1, 1), "valid", 1, (1, 1)), ((2, 2), "same", 2, (1, 1)), ((1, 2), "same", 3, (1, 1)),
    ((1, 1), "same", 2, (2, 2)),
])
def test_depthwise_conv2d_matches_reference(strides, padding, multiplier, dilation):
    layer = DepthwiseConv2D(3, strides=strides, padding=padding, depth_multiplier=multiplier, dilation_rate=dilation)
    x = RNG.standard_normal((2, 6, 7, 3)).astype(np.float32)
    depthwise, bias = random_weights(layer, (None, 6, 7, 3), RNG)
    assert depthwise.shape == (3, 3, 3, multiplier) and bias.shape == (3 * multiplier,)
    pads = window_pads(padding, (6, 7), (3, 3), strides, dilation)
    expected = reference_depthwise(x, depthwise, strides, pads, dilation) + bias
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert out.shape[1:] == layer.compute_output_shape((None, 6, 7, 3))[1:]


@pytest.mark.parametrize("size, kernel, strides, multiplier", [
    ((8, 8), 3, (2, 2), 1),   # MobileNetV2's stride-2 blocks: 'same' pads (0, 1)
    ((8, 10), 5, (2, 2), 2),  # a 5-wide kernel: pads (1, 2) in both dims, two depthwise channels per input
    ((6, 7), 4, (1, 1), 1),   # an even kernel at stride 1: (1, 2)
])
def test_asymmetric_same_depthwise_conv_gives_the_padded_inputs_values_and_gradients(size, kernel, strides,
                                                                                    multiplier):
    """Asymmetric 'same' padding of a depthwise convolution widens the kernel with zero taps instead of padding
    the input (window_ops.pad_for_conv); outputs and gradients of input and kernel must be those of the
    zero-padded input convolved as TensorFlow does, computed here with F.pad on the same weights."""
    import torch.nn.functional as F
    layer = DepthwiseConv2D(kernel, strides=strides, padding="same", depth_multiplier=multiplier,
                            data_format="channels_first")
    layer._build_once((None, 3) + size)
    x = torch.randn((2, 3) + size, generator=torch.Generator().manual_seed(0), requires_grad=True)
    out = layer(x)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    x_grad, kernel_grad = torch.autograd.grad((out * upstream).sum(), [x, layer.depthwise_kernel])

    pads = window_pads("same", size, (kernel, kernel), strides, (1, 1))
    assert any(before != after for before, after in pads)
    x_ref = x.detach().clone().requires_grad_(True)
    kernel_ref = layer.depthwise_kernel.detach().clone().requires_grad_(True)  # torch layout (3 * m, 1, k, k)
    padded = F.pad(x_ref, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    expected = F.conv2d(padded, kernel_ref, layer.bias.detach(), strides, 0, 1, 3)
    x_grad_ref, kernel_grad_ref = torch.autograd.grad((expected * upstream).sum(), [x_ref, kernel_ref])
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x_grad, x_grad_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kernel_grad, kernel_grad_ref, rtol=1e-5, atol=1e-5)


def test_pad_for_conv_widens_depthwise_kernels_only():
    """No padded copy of the input for a depthwise kernel; dense and dilated kernels pad the input."""
    from kerasish.backend.window_ops import pad_for_conv
    x = torch.zeros(1, 4, 8, 8)
    depthwise = torch.ones(4, 1, 3, 3)
    same_x, wide, padding = pad_for_conv(x, depthwise, [(0, 1), (1, 2)], (1, 1), groups=4)
    # both sides pad max(before, after); the kernel gets max - before zero taps in front, max - after behind
    assert same_x is x and padding == (1, 2) and wide.shape == (4, 1, 4, 4)
    assert wide[:, :, 0].abs().sum() == 0 and wide[:, :, :, 0].abs().sum() == 0
    assert torch.equal(wide[:, :, 1:, 1:], depthwise)
    padded, dense, padding = pad_for_conv(x, torch.ones(2, 4, 3, 3), [(0, 1), (0, 1)], (1, 1), groups=1)
    assert padded.shape == (1, 4, 9, 9) and dense.shape == (2, 4, 3, 3) and padding == 0
    padded, _, padding = pad_for_conv(x, depthwise, [(1, 2), (1, 2)], (2, 2), groups=4)
    assert padded.shape == (1, 4, 11, 11) and padding == 0


def test_depthwise_conv2d_channels_first_params_and_config():
    layer = DepthwiseConv2D((3, 3), depth_multiplier=2, use_bias=True, data_format="channels_first",
                            depthwise_regularizer=regularizers.l1(0.5))
    x = RNG.standard_normal((2, 6, 6, 5)).astype(np.float32)
    depthwise, bias = random_weights(layer, (None, 5, 6, 6), RNG)
    assert layer.count_params() == 3 * 3 * 5 * 2 + 5 * 2 == 100
    assert layer.compute_output_shape((None, 5, 6, 6)) == (None, 10, 4, 4)
    expected = reference_depthwise(x, depthwise, (1, 1), [(0, 0)] * 2, (1, 1)) + bias
    np.testing.assert_allclose(apply(layer, to_channels_first(x)), to_channels_first(expected), rtol=1e-4,
                               atol=1e-4)
    [penalty] = layer.regularization_losses()
    np.testing.assert_allclose(penalty.item(), 0.5 * np.abs(depthwise).sum(), rtol=1e-5)
    config = layer.get_config()
    for key in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
        assert key not in config   # Keras 2.3.1 DepthwiseConv2D.get_config pops them
    assert config["depth_multiplier"] == 2 and config["depthwise_regularizer"]["config"]["l1"] == 0.5
    assert config["depthwise_initializer"]["class_name"] == "VarianceScaling"
    assert {"bias_initializer", "bias_regularizer", "bias_constraint", "depthwise_constraint"} <= set(config)
    assert isinstance(layer, L.Conv2D)   # a Conv2D subclass in Keras 2.3.1 too


# ------------------------------------------------------------------------------------------ SeparableConv1D
@pytest.mark.parametrize("strides, padding, multiplier, dilation", [
    (1, "valid", 1, 1), (2, "same", 2, 1), (1, "same", 3, 2), (3, "valid", 2, 1),
])
def test_separable_conv1d_matches_reference(strides, padding, multiplier, dilation):
    layer = L.SeparableConvolution1D(4, 3, strides=strides, padding=padding, depth_multiplier=multiplier,
                                     dilation_rate=dilation)
    x = RNG.standard_normal((2, 11, 3)).astype(np.float32)
    depthwise, pointwise, bias = random_weights(layer, (None, 11, 3), RNG)
    assert type(layer) is SeparableConv1D
    assert depthwise.shape == (3, 3, multiplier) and pointwise.shape == (1, 3 * multiplier, 4)
    pads = window_pads(padding, (11,), (3,), (strides,), (dilation,))
    expected = reference_depthwise(x, depthwise, (strides,), pads, (dilation,)) @ pointwise[0] + bias
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert out.shape[1:] == layer.compute_output_shape((None, 11, 3))[1:]


def test_separable_conv1d_channels_first_params_and_config():
    layer = SeparableConv1D(16, 5, depth_multiplier=3, data_format="channels_first")
    x = RNG.standard_normal((2, 9, 4)).astype(np.float32)
    depthwise, pointwise, bias = random_weights(layer, (None, 4, 9), RNG)
    assert layer.count_params() == 5 * 4 * 3 + 1 * 12 * 16 + 16 == 268
    expected = reference_depthwise(x, depthwise, (1,), [(0, 0)], (1,)) @ pointwise[0] + bias
    np.testing.assert_allclose(apply(layer, to_channels_first(x)), to_channels_first(expected), rtol=1e-4,
                               atol=1e-4)
    config = SeparableConv1D(4, 3, pointwise_regularizer="l2").get_config()
    assert config["data_format"] == "channels_last" and config["kernel_size"] == (3,)
    assert "kernel_initializer" not in config and "kernel_regularizer" not in config
    assert config["pointwise_regularizer"]["class_name"] == "L1L2" and config["depth_multiplier"] == 1
    with pytest.raises(ValueError, match="padding"):
        SeparableConv1D(4, 3, padding="causal")   # Keras 2.3.1's K.separable_conv1d refuses it


# ------------------------------------------------------------------------------------------ UpSampling
def test_upsampling1d_repeats_steps_and_keeps_size_an_int_in_config():
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    layer = UpSampling1D(3)
    np.testing.assert_array_equal(apply(layer, x), np.repeat(x, 3, axis=1))
    assert layer.compute_output_shape((None, 4, 3)) == (None, 12, 3)
    config = UpSampling1D().get_config()
    assert config["size"] == 2 and "data_format" not in config
    with pytest.raises(ValueError, match="size"):
        UpSampling1D(0)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling3d_repeats_each_spatial_axis(data_format):
    x = RNG.standard_normal((2, 2, 3, 4, 3)).astype(np.float32)   # channels_last
    expected = x.repeat(2, axis=1).repeat(1, axis=2).repeat(3, axis=3)
    layer = UpSampling3D((2, 1, 3), data_format=data_format)
    if data_format == "channels_first":
        np.testing.assert_array_equal(apply(layer, to_channels_first(x)), to_channels_first(expected))
        assert layer.compute_output_shape((None, 3, 2, 3, 4)) == (None, 3, 4, 3, 12)
    else:
        np.testing.assert_array_equal(apply(layer, x), expected)
    assert UpSampling3D().get_config()["size"] == (2, 2, 2)
    assert UpSampling3D(2).size == (2, 2, 2)


# ------------------------------------------------------------------------------------------ ZeroPadding
def test_zero_padding1d_forms_values_and_config():
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(apply(ZeroPadding1D(), x), np.pad(x, [(0, 0), (1, 1), (0, 0)]))
    layer = ZeroPadding1D((2, 0))
    np.testing.assert_array_equal(apply(layer, x), np.pad(x, [(0, 0), (2, 0), (0, 0)]))
    assert layer.compute_output_shape((None, 4, 3)) == (None, 6, 3)
    config = layer.get_config()
    assert config["padding"] == (2, 0) and "data_format" not in config


@pytest.mark.parametrize("padding, pairs", [
    (2, ((2, 2), (2, 2), (2, 2))),
    ((1, 0, 2), ((1, 1), (0, 0), (2, 2))),
    (((1, 0), (0, 2), (3, 1)), ((1, 0), (0, 2), (3, 1))),
])
def test_zero_padding3d_forms_and_values(padding, pairs):
    x = RNG.standard_normal((2, 2, 3, 2, 2)).astype(np.float32)
    layer = ZeroPadding3D(padding)
    assert layer.padding == pairs and layer.get_config()["padding"] == pairs
    expected = np.pad(x, [(0, 0), *pairs, (0, 0)])
    np.testing.assert_array_equal(apply(layer, x), expected)
    first = ZeroPadding3D(padding, data_format="channels_first")
    np.testing.assert_array_equal(apply(first, to_channels_first(x)), to_channels_first(expected))


# ------------------------------------------------------------------------------------------ Cropping
def test_cropping1d_values_and_config():
    x = RNG.standard_normal((2, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(apply(Cropping1D(), x), x[:, 1:-1])
    layer = Cropping1D((2, 0))
    np.testing.assert_array_equal(apply(layer, x), x[:, 2:])
    assert layer.compute_output_shape((None, 7, 3)) == (None, 5, 3)
    config = layer.get_config()
    assert config["cropping"] == (2, 0) and "data_format" not in config
    assert Cropping1D.supports_masking is False   # Keras 2.3.1 leaves it at the base's False


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping2d_and_3d_values(data_format):
    x2 = RNG.standard_normal((2, 6, 7, 3)).astype(np.float32)
    x3 = RNG.standard_normal((2, 5, 6, 7, 2)).astype(np.float32)
    cases = [(Cropping2D(((1, 2), (0, 3)), data_format=data_format), x2, x2[:, 1:-2, 0:-3]),
             (Cropping2D(1, data_format=data_format), x2, x2[:, 1:-1, 1:-1]),
             (Cropping3D(data_format=data_format), x3, x3[:, 1:-1, 1:-1, 1:-1]),
             (Cropping3D((0, 1, 2), data_format=data_format), x3, x3[:, :, 1:-1, 2:-2])]
    for layer, x, expected in cases:
        if data_format == "channels_first":
            x, expected = to_channels_first(x), to_channels_first(expected)
        out = apply(layer, x)
        np.testing.assert_array_equal(out, expected)
        assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + expected.shape[1:]


def test_cropping_defaults_and_config():
    assert Cropping2D().cropping == ((0, 0), (0, 0))
    assert Cropping3D().get_config()["cropping"] == ((1, 1), (1, 1), (1, 1))
    assert Cropping2D((1, 2)).get_config()["cropping"] == ((1, 1), (2, 2))
    with pytest.raises(ValueError, match=r"leaves nothing of spatial axis 1 \(length 4"):
        Cropping2D(((0, 0), (2, 2)))._build_once((None, 5, 4, 1))


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, match", [
    (lambda: Conv3D(0, 3), "filters"),
    (lambda: Conv3D(2, (3, 3)), "kernel_size"),
    (lambda: Conv3D(2, 3, padding="causal"), "padding"),
    (lambda: Conv3D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: Conv3D(2, 3, data_format="ndhwc"), "data_format"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: SeparableConv1D(2, 3, depth_multiplier=-1), "depth_multiplier"),
    (lambda: UpSampling3D((2, 2)), "size"),
    (lambda: ZeroPadding3D((1, 2)), r"ZeroPadding3D: `padding` should have 3 elements. Found: \(1, 2\)"),
    (lambda: ZeroPadding3D(1.5), r"`padding` should be either an int, a tuple of 3 ints \(symmetric_dim1_pad"),
    (lambda: ZeroPadding1D((1, 2, 3)), "padding"),
    (lambda: ZeroPadding1D(-1), "non-negative"),
    (lambda: Cropping2D((1, 2, 3)), r"Cropping2D: `cropping` should have two elements"),
    (lambda: Cropping2D(((1, 2), (1, 2, 3))), r"2nd entry of cropping"),
    (lambda: Cropping2D(None), r"a tuple of 2 tuples of 2 ints \(\(top_crop, bottom_crop\), \(left_crop"),
    (lambda: Cropping3D(-1), "non-negative"),
])
def test_invalid_arguments_are_refused_in_the_constructor(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_wrong_input_rank_and_too_large_window_use_keras_messages():
    with pytest.raises(ValueError, match="Input 0 is incompatible with layer c3: expected ndim=5, found ndim=4"):
        Conv3D(2, 3, name="c3")._build_once((None, 5, 5, 2))
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        Conv3D(2, 3)._build_once((None, 5, 2, 5, 1))
    with pytest.raises(ValueError, match="expected ndim=3"):
        Cropping1D()._build_once((None, 5, 5, 2))


@pytest.mark.parametrize("make", [lambda: Conv3D(2, 1), lambda: DepthwiseConv2D(1), lambda: UpSampling1D(),
                                  lambda: ZeroPadding1D(), lambda: Cropping1D(), lambda: Cropping3D(0)])
def test_these_layers_refuse_a_mask_as_keras_does(make):
    layer = make()
    with pytest.raises(TypeError, match="does not support masking"):
        layer.compute_mask(torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool))
