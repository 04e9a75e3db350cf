"""MobileNet and MobileNetV2 (issue 14) against Keras 2.3.1 / keras-applications 1.0.8: parameter counts
counted by hand from the papers' tables and equal to Keras's documented values, shapes per ``pooling``, layer
and model names, the weight file names and errors, and outputs from a Keras .h5 file equal to a
torch.nn.functional reference read from the same file with h5py."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from kerasish.applications import MobileNet, MobileNetV2, imagenet_utils, mobilenet, mobilenet_v2
from kerasish.layers import Input
from applications_reference import counts, nchw

F = torch.nn.functional


# ---------------------------------------------------------------------------------------------------------
# parameter counts by hand: (total, trainable, non-trainable); BatchNormalization has 4 weights per channel,
# 2 of them (moving mean and variance) not trainable
# ---------------------------------------------------------------------------------------------------------

def mobilenet_counts_by_hand(classes=1000):
    """Howard et al. 2017, table 1: a 3x3x3x32 stride-2 convolution, then 13 depthwise-separable blocks
    (3x3 depthwise + BN, 1x1 pointwise + BN, no biases), then the 1x1 classifier convolution with bias."""
    widths = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]
    weights, bn_channels = 3 * 3 * 3 * 32, 32
    for c_in, c_out in zip(widths, widths[1:]):
        weights += 9 * c_in + c_in * c_out
        bn_channels += c_in + c_out
    weights += 1024 * classes + classes
    total = weights + 4 * bn_channels
    return total, total - 2 * bn_channels, 2 * bn_channels


def mobilenet_v2_counts_by_hand(classes=1000):
    """Sandler et al. 2018, table 2 (expansion t, channels c, repeats n): a 3x3x3x32 convolution, bottlenecks
    (1x1 expand + BN unless t = 1, 3x3 depthwise + BN, 1x1 project + BN, no biases), 1x1 to 1280 + BN, Dense."""
    table = [(1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1)]
    weights, bn_channels, c_in = 3 * 3 * 3 * 32, 32, 32
    for t, c, n in table:
        for _ in range(n):
            hidden = c_in * t
            if t != 1:
                weights += c_in * hidden
                bn_channels += hidden
            weights += 9 * hidden + hidden * c
            bn_channels += hidden + c
            c_in = c
    weights += c_in * 1280 + 1280 * classes + classes
    bn_channels += 1280
    total = weights + 4 * bn_channels
    return total, total - 2 * bn_channels, 2 * bn_channels


def test_mobilenet_parameter_counts_are_keras_documented_values():
    assert mobilenet_counts_by_hand() == (4_253_864, 4_231_976, 21_888)
    assert counts(MobileNet(weights=None)) == mobilenet_counts_by_hand()


def test_mobilenet_v2_parameter_counts_are_keras_documented_values():
    assert mobilenet_v2_counts_by_hand() == (3_538_984, 3_504_872, 34_112)
    assert counts(MobileNetV2(weights=None)) == mobilenet_v2_counts_by_hand()


def test_alpha_scales_the_widths_as_keras_does():
    # MobileNet: int(filters * alpha); MobileNetV2: multiples of 8, the last 1x1 convolution only widened above 1
    assert MobileNet(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.25).output_shape[-1] == 256
    small = MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)
    assert small.get_layer("Conv1").output_shape[-1] == 16          # _make_divisible(11.2, 8)
    assert small.get_layer("block_16_project").output_shape[-1] == 112  # _make_divisible(int(320 * 0.35), 8)
    assert small.output_shape[-1] == 1280
    wide = MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=1.4)
    assert wide.output_shape[-1] == 1792 and wide.get_layer("Conv1").output_shape[-1] == 48


def test_depth_multiplier_multiplies_the_depthwise_outputs():
    model = MobileNet(weights=None, include_top=False, input_shape=(32, 32, 3), depth_multiplier=2)
    assert model.get_layer("conv_dw_1").output_shape == (None, 16, 16, 64)
    assert model.get_layer("conv_dw_1").count_params() == 9 * 32 * 2


# ---------------------------------------------------------------------------------------------------------
# shapes and names
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("application, channels", [(MobileNet, 1024), (MobileNetV2, 1280)])
@pytest.mark.parametrize("pooling", [None, "avg", "max"])
def test_without_top_output_shapes_per_pooling(application, channels, pooling):
    model = application(weights=None, include_top=False, input_shape=(64, 96, 3), pooling=pooling)
    assert model.output_shape == ((None, 2, 3, channels) if pooling is None else (None, channels))


def test_mobilenet_layer_and_model_names_are_keras_names():
    model = MobileNet(weights=None, include_top=True, classes=10, input_shape=(224, 224, 3))
    names = [layer.name for layer in model.layers]
    assert names[1:5] == ["conv1_pad", "conv1", "conv1_bn", "conv1_relu"]
    assert names[5:11] == ["conv_dw_1", "conv_dw_1_bn", "conv_dw_1_relu", "conv_pw_1", "conv_pw_1_bn",
                           "conv_pw_1_relu"]
    assert names[11:13] == ["conv_pad_2", "conv_dw_2"]
    assert names[-5:] == ["reshape_1", "dropout", "conv_preds", "reshape_2", "act_softmax"]
    assert model.name == "mobilenet_1.00_224"
    assert model.output_shape == (None, 10)
    assert MobileNet(weights=None, include_top=False, input_shape=(64, 64, 3), alpha=0.5).name == \
        "mobilenet_0.50_64"


def test_mobilenet_v2_layer_and_model_names_are_keras_names():
    model = MobileNetV2(weights=None, include_top=True, classes=10)
    names = [layer.name for layer in model.layers]
    assert names[1:5] == ["Conv1_pad", "Conv1", "bn_Conv1", "Conv1_relu"]
    assert names[5:11] == ["expanded_conv_depthwise", "expanded_conv_depthwise_BN",
                           "expanded_conv_depthwise_relu", "expanded_conv_project", "expanded_conv_project_BN",
                           "block_1_expand"]
    assert "block_1_pad" in names and "block_1_add" not in names and "block_2_add" in names
    assert [n for n in names if n.endswith("_add")] == [f"block_{i}_add" for i in (2, 4, 5, 7, 8, 9, 11, 12, 14,
                                                                                     15)]
    assert names[-5:-2] == ["Conv_1", "Conv_1_bn", "out_relu"] and names[-1] == "Logits"
    assert model.name == "mobilenetv2_1.00_224"
    # keras-applications gives MobileNetV2's BatchNormalization momentum 0.999 (MobileNet keeps Keras's 0.99)
    assert (model.get_layer("block_3_expand_BN").momentum, model.get_layer("block_3_expand_BN").epsilon) == \
        (0.999, 1e-3)


def test_mobilenet_v2_correct_pad_is_keras_padding_for_odd_and_even_sizes():
    even = MobileNetV2(weights=None, include_top=False, input_shape=(64, 64, 3))
    odd = MobileNetV2(weights=None, include_top=False, input_shape=(65, 65, 3))
    assert even.get_layer("Conv1_pad").padding == ((0, 1), (0, 1))
    assert odd.get_layer("Conv1_pad").padding == ((1, 1), (1, 1))
    assert odd.get_layer("Conv1").output_shape == (None, 33, 33, 32)


def test_mobilenet_v2_default_size_comes_from_a_keras_input_tensor():
    # a 96x96 tensor: Keras takes 96 as the default size, so include_top=True accepts it and names the model so
    model = MobileNetV2(weights=None, input_tensor=Input((96, 96, 3)))
    assert model.name == "mobilenetv2_1.00_96"
    assert model.input_shape == (None, 96, 96, 3)


def test_mobilenet_v2_input_shape_must_agree_with_input_tensor():
    with pytest.raises(ValueError, match="do not meet the same shape requirements"):
        MobileNetV2(weights=None, include_top=False, input_tensor=Input((64, 64, 3)), input_shape=(96, 96, 3))
    with pytest.raises(ValueError, match="is not a keras tensor"):
        MobileNetV2(weights=None, include_top=False, input_tensor=torch.zeros(1, 64, 64, 3), input_shape=(64, 64, 3))


def test_mobilenet_channels_first_normalises_axis_1():
    from kerasish import backend as K
    K.set_image_data_format("channels_first")
    try:
        model = MobileNet(weights=None, include_top=True, classes=10, input_shape=(3, 224, 224))
        assert model.get_layer("conv_pw_13_bn").axis == 1
        assert model.get_layer("reshape_1").output_shape == (None, 1024, 1, 1)
        v2 = MobileNetV2(weights=None, include_top=False, input_shape=(3, 32, 32))
        assert v2.get_layer("Conv_1_bn").axis == 1 and v2.output_shape == (None, 1280, 1, 1)
    finally:
        K.set_image_data_format("channels_last")


# ---------------------------------------------------------------------------------------------------------
# errors and weight files
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("application, kwargs, message", [
    (MobileNet, dict(depth_multiplier=2), "If imagenet weights are being loaded, depth multiplier must be 1"),
    (MobileNet, dict(alpha=0.35), "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, "
                                  "`0.75` or `1.0` only."),
    (MobileNetV2, dict(alpha=0.25), "If imagenet weights are being loaded, alpha can be one of `0.35`, `0.50`, "
                                    "`0.75`, `1.0`, `1.3` or `1.4` only."),
    (MobileNet, dict(classes=10), 'If using `weights` as `"imagenet"` with `include_top` as true, `classes` '
                                  "should be 1000"),
    (MobileNetV2, dict(input_shape=(64, 64, 3)), "`input_shape` should be (224, 224, 3)"),
    (MobileNet, dict(include_top=False, input_shape=(16, 16, 3)), "Input size must be at least 32x32"),
])
def test_argument_errors_are_keras_messages(keras_home, application, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        application(**kwargs)


@pytest.mark.parametrize("application, kwargs, fname", [
    (MobileNet, dict(include_top=False, alpha=0.5, input_shape=(160, 160, 3)), "mobilenet_5_0_160_tf_no_top.h5"),
    (MobileNet, dict(alpha=0.25, input_shape=(128, 128, 3)), "mobilenet_2_5_128_tf.h5"),
    (MobileNetV2, dict(include_top=False, alpha=0.35, input_shape=(96, 96, 3)),
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"),
    (MobileNetV2, dict(alpha=1.3), "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.3_224.h5"),
])
def test_imagenet_weights_offline_error_names_keras_file_and_url(keras_home, application, kwargs, fname):
    with pytest.raises(OSError) as err:
        application(weights="imagenet", **kwargs)
    module = mobilenet if application is MobileNet else mobilenet_v2
    assert module.BASE_WEIGHT_PATH + fname in str(err.value)
    assert str(keras_home / fname) in str(err.value)


@pytest.mark.parametrize("application, fname", [
    (MobileNet, "mobilenet_1_0_224_tf_no_top.h5"),
    (MobileNetV2, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5")])
def test_non_square_input_warns_and_takes_the_224_file(keras_home, application, fname):
    with warnings.catch_warnings(record=True) as caught, pytest.raises(OSError, match=fname):
        warnings.simplefilter("always")
        application(weights="imagenet", include_top=False, input_shape=(64, 96, 3))
    assert any("Weights for input shape (224, 224) will be loaded as the default." in str(w.message)
               for w in caught)


def test_imagenet_weights_load_from_the_models_cache(keras_home):
    torch.manual_seed(0)
    source = MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    source.save_weights(str(keras_home / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"))
    loaded = MobileNetV2(weights="imagenet", include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    for a, b in zip(source.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_preprocess_input_is_tf_mode():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    for module in (mobilenet, mobilenet_v2):
        np.testing.assert_allclose(module.preprocess_input(x.copy()), x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)
        assert module.decode_predictions is imagenet_utils.decode_predictions


# ---------------------------------------------------------------------------------------------------------
# outputs from a Keras .h5 file equal a torch.nn.functional reference
# ---------------------------------------------------------------------------------------------------------

class KerasFile:
    """A Keras .h5 weights file (h5py) as float64 torch tensors; Keras kernels are (rows, cols, in, out)."""

    def __init__(self, f):
        self.f = f

    def __getitem__(self, layer):
        group = self.f[layer]
        return [torch.from_numpy(np.asarray(group[name])).double() for name in group.attrs["weight_names"]]

    def conv(self, x, layer, stride=1):
        (kernel,) = self[layer]
        return F.conv2d(x, kernel.permute(3, 2, 0, 1), stride=stride)

    def depthwise(self, x, layer, stride=1):
        # (rows, cols, in, multiplier) -> (in * multiplier, 1, rows, cols); output channel c * multiplier + m
        (kernel,) = self[layer]
        rows, cols, c_in, multiplier = kernel.shape
        weight = kernel.permute(2, 3, 0, 1).reshape(c_in * multiplier, 1, rows, cols)
        return F.conv2d(x, weight, stride=stride, groups=c_in)

    def bn(self, x, layer):
        gamma, beta, mean, variance = self[layer]
        return F.batch_norm(x, mean, variance, gamma, beta, training=False, eps=1e-3)


def relu6(x):
    return x.clamp(0, 6)


def randomised_file(model, path, seed):
    """Random BatchNormalization scales and moving statistics too, so that every weight of the file matters."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype("float32") if w.ndim == 1 else w
                       for w in model.get_weights()])
    model.save_weights(str(path))


def torch_mobilenet_avg(path, x):
    """MobileNet as the paper draws it; strided convolutions padded bottom/right by one (TF 'same')."""
    import h5py
    strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    with h5py.File(path, "r") as f:
        w = KerasFile(f)
        x = relu6(w.bn(w.conv(F.pad(x, (0, 1, 0, 1)), "conv1", stride=2), "conv1_bn"))
        for i, stride in enumerate(strides, start=1):
            x = F.pad(x, (0, 1, 0, 1) if stride == 2 else (1, 1, 1, 1))
            x = relu6(w.bn(w.depthwise(x, f"conv_dw_{i}", stride), f"conv_dw_{i}_bn"))
            x = relu6(w.bn(w.conv(x, f"conv_pw_{i}"), f"conv_pw_{i}_bn"))
    return x.mean(dim=(2, 3)).numpy()


def torch_mobilenet_v2_avg(path, x):
    """MobileNetV2 from table 2 of the paper; TF's 'same' padding of a strided 3x3 convolution is one
    row/column at the bottom/right for even sizes, one on each side for odd ones."""
    import h5py
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1)]
    with h5py.File(path, "r") as f:
        w = KerasFile(f)

        def same_pad(x, stride):
            if stride == 1:
                return F.pad(x, (1, 1, 1, 1))
            return F.pad(x, (0, 1, 0, 1) if x.shape[-1] % 2 == 0 else (1, 1, 1, 1))

        x = relu6(w.bn(w.conv(same_pad(x, 2), "Conv1", stride=2), "bn_Conv1"))
        block = 0
        for t, c, n, s in table:
            for repeat in range(n):
                stride = s if repeat == 0 else 1
                prefix = f"block_{block}_" if block else "expanded_conv_"
                y = x
                if t != 1:
                    y = relu6(w.bn(w.conv(y, prefix + "expand"), prefix + "expand_BN"))
                y = relu6(w.bn(w.depthwise(same_pad(y, stride), prefix + "depthwise", stride),
                               prefix + "depthwise_BN"))
                y = w.bn(w.conv(y, prefix + "project"), prefix + "project_BN")
                x = x + y if stride == 1 and x.shape[1] == y.shape[1] else y
                block += 1
        x = relu6(w.bn(w.conv(x, "Conv_1"), "Conv_1_bn"))
    return x.mean(dim=(2, 3)).numpy()


@pytest.mark.parametrize("application, reference, kwargs", [
    (MobileNet, torch_mobilenet_avg, dict(alpha=0.25)),
    (MobileNetV2, torch_mobilenet_v2_avg, dict(alpha=1.0)),
])
def test_outputs_equal_a_torch_reference_computed_from_the_keras_file(tmp_path, application, reference, kwargs):
    path = tmp_path / "weights.h5"
    randomised_file(application(weights=None, include_top=False, input_shape=(32, 32, 3), **kwargs), path, 5)
    x = mobilenet.preprocess_input(np.random.default_rng(6).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32"))
    model = application(weights=str(path), include_top=False, input_shape=(32, 32, 3), pooling="avg", **kwargs)
    expected = reference(path, nchw(x))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
