"""NASNetMobile and NASNetLarge (issue 14) against Keras 2.3.1 / keras-applications 1.0.8: parameter counts
counted by hand from the cell diagrams and equal to Keras's documented values, layer names (in order, the unnamed
layers' automatic names included) equal to keras-applications' (tests/fixtures/keras_applications_layer_names, made
once with tf-keras by scripts/make_application_name_fixtures.py), shapes per ``pooling``, Keras's input-size
rules and errors, the weight file names, and outputs from a Keras .h5 file equal to a torch.nn.functional
reference read from the same file with h5py.

NASNetMobile is built once in full; NASNetLarge's 88.9 million weights take long to initialise, so its cell
structure (layer names, and counts against the same formula) is checked at a small width."""
from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
import torch

from kerasish import backend as K
from kerasish.applications import imagenet_utils, nasnet
from kerasish.applications.nasnet import NASNet, NASNetLarge, NASNetMobile
from kerasish.layers import Input
from applications_reference import counts, keras_layer_names, keras_no_top_file, nchw
from tf_keras_applications import assert_tf_keras_gives, needs_tf_keras

F = torch.nn.functional
LARGE_STRUCTURE = dict(num_blocks=6, stem_block_filters=96, skip_reduction=True)
MOBILE_STRUCTURE = dict(num_blocks=4, stem_block_filters=32, skip_reduction=False)


@pytest.fixture(scope="module")
def nasnet_mobile():
    K.clear_session()  # Keras 2.3.1's automatic names of a fresh session (activation_1, ...)
    return NASNetMobile(weights=None)



# ---------------------------------------------------------------------------------------------------------
# parameter counts by hand: (total, trainable, non-trainable); BatchNormalization has 4 weights per channel,
# 2 of them (moving mean and variance) not trainable
# ---------------------------------------------------------------------------------------------------------

def nasnet_counts_by_hand(penultimate_filters, num_blocks, stem_block_filters, skip_reduction, multiplier=2,
                          include_top=True, classes=1000):
    """Zoph et al. 2018, figure 4 (NASNet-A cells) with Keras's widths: tensors are (resolution level,
    channels); no convolution has a bias; a separable block is twice (depthwise k x k, pointwise, BN)."""
    total = {"weights": 0, "bn": 0}

    def conv(c_in, c_out, k=1):
        total["weights"] += k * k * c_in * c_out

    def bn(c):
        total["bn"] += c

    def separable_block(c_in, filters, k):
        for c in (c_in, filters):
            total["weights"] += k * k * c + c * filters
            bn(filters)

    def adjust(p, ip, filters):
        if p is None:
            return ip
        if p[0] != ip[0]:  # twice the size: two 1x1 halves of filters // 2, concatenated
            conv(p[1], filters // 2)
            conv(p[1], filters // 2)
            bn(2 * (filters // 2))
            return ip[0], 2 * (filters // 2)
        if p[1] != filters:
            conv(p[1], filters)
            bn(filters)
            return ip[0], filters
        return p

    def normal_cell(ip, p, filters):
        p = adjust(p, ip, filters)
        conv(ip[1], filters), bn(filters)
        for c_in, k in ((filters, 5), (p[1], 3), (p[1], 5), (p[1], 3), (filters, 3)):
            separable_block(c_in, filters, k)
        return (ip[0], p[1] + 5 * filters), ip

    def reduction_cell(ip, p, filters):
        p = adjust(p, ip, filters)
        conv(ip[1], filters), bn(filters)
        for c_in, k in ((filters, 5), (p[1], 7), (p[1], 7), (p[1], 5), (filters, 3)):
            separable_block(c_in, filters, k)
        return (ip[0] + 1, 4 * filters), ip

    filters = penultimate_filters // 24
    conv(3, stem_block_filters, 3), bn(stem_block_filters)
    x, p = reduction_cell((1, stem_block_filters), None, filters // multiplier ** 2)
    x, p = reduction_cell(x, p, filters // multiplier)
    for stack in range(3):
        if stack:
            x, before_reduction = reduction_cell(x, p, filters * multiplier ** stack)
            p = p if skip_reduction else before_reduction
        for _ in range(num_blocks):
            x, p = normal_cell(x, p, filters * multiplier ** stack)
    if include_top:
        total["weights"] += x[1] * classes + classes
    params = total["weights"] + 4 * total["bn"]
    return params, params - 2 * total["bn"], 2 * total["bn"]


def test_counts_by_hand_are_keras_documented_values():
    # keras.io/applications: NASNetMobile 5,326,716, NASNetLarge 88,949,818 parameters; the trainable and
    # non-trainable split is tf-keras's count of keras-applications' models (fixture headers)
    assert nasnet_counts_by_hand(1056, **MOBILE_STRUCTURE) == (5_326_716, 5_289_978, 36_738)
    assert nasnet_counts_by_hand(4032, **LARGE_STRUCTURE) == (88_949_818, 88_753_150, 196_668)
    assert nasnet_counts_by_hand(4032, **LARGE_STRUCTURE, include_top=False) == (84_916_818, 84_720_150, 196_668)


def test_nasnet_mobile_parameter_counts_and_layer_names_are_keras(nasnet_mobile):
    assert counts(nasnet_mobile) == nasnet_counts_by_hand(1056, **MOBILE_STRUCTURE)
    assert [layer.name for layer in nasnet_mobile.layers] == keras_layer_names("nasnet_mobile")
    assert nasnet_mobile.name == "NASNet" and nasnet_mobile.input_shape == (None, 224, 224, 3)
    assert nasnet_mobile.output_shape == (None, 1000)
    bn = nasnet_mobile.get_layer("separable_conv_2_bn_normal_left5_12")
    assert (bn.momentum, bn.epsilon) == (0.9997, 1e-3)


def test_nasnet_large_cell_structure_is_keras_at_a_small_width():
    # NASNetLarge's structure (6 @ P, 96 stem filters, skip_reduction) with P = 192 instead of 4032: the same
    # layers in the same order; its count follows the formula that gives Keras's 88,949,818 at P = 4032
    K.clear_session()
    model = NASNet(input_shape=(331, 331, 3), penultimate_filters=192, include_top=False, **LARGE_STRUCTURE)
    assert [layer.name for layer in model.layers] == keras_layer_names("nasnet_large_notop")
    assert counts(model) == nasnet_counts_by_hand(192, **LARGE_STRUCTURE, include_top=False)
    assert model.output_shape == (None, 11, 11, 192)


# ---------------------------------------------------------------------------------------------------------
# shapes, input-size rules and errors
# ---------------------------------------------------------------------------------------------------------

def tiny(**kwargs):
    """NASNet (1 @ 96): the last cell concatenates p and five sums of 4 * 96 // 24 = 16 channels: 96."""
    return NASNet(penultimate_filters=96, num_blocks=1, stem_block_filters=8, **kwargs)


@pytest.mark.parametrize("pooling, input_shape, shape", [
    (None, None, (None, 11, 11, 96)),  # Keras's default size, 331: stem 165 -> 83 -> 42 -> 21 -> 11
    ("max", (64, 96, 3), (None, 96)),   # ('avg': the reference test below)
])
def test_without_top_output_shapes_per_pooling(pooling, input_shape, shape):
    model = tiny(input_shape=input_shape, include_top=False, pooling=pooling)
    assert model.output_shape == shape
    assert model.input_shape == (None,) + (input_shape or (331, 331, 3))


def test_with_top_default_size_and_classes():
    model = tiny(default_size=40, classes=5)
    assert model.input_shape == (None, 40, 40, 3) and model.output_shape == (None, 5)
    assert model.layers[-1].name == "predictions"


@pytest.mark.parametrize("call, error, message", [
    (lambda: NASNetMobile(input_shape=(None, None, 3)), ValueError,
     "When specifying the input shape of a NASNet and loading `ImageNet` weights, the input_shape argument must "
     "be static (no None entries). Got: `input_shape=(None, None, 3)`."),
    # Keras applies the rules of a model with its top even to include_top=False
    (lambda: NASNetMobile(include_top=False, input_shape=(96, 96, 3)), ValueError,
     "When setting `include_top=True` and loading `imagenet` weights, `input_shape` should be (224, 224, 3)."),
    (lambda: NASNetMobile(weights=None, include_top=False, input_shape=(None, None, 3)), ValueError,
     "If `include_top` is True, you should specify a static `input_shape`. Got `input_shape=(None, None, 3)`"),
    (lambda: NASNet(penultimate_filters=100, weights=None), ValueError,
     "For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * (`filter_multiplier` ** 2). "
     "Current value: 100"),
    (lambda: NASNet(weights="imagenet", default_size=256), ValueError,
     "ImageNet weights can only be loaded with NASNetLarge or NASNetMobile"),
    (lambda: NASNetLarge(classes=10), ValueError,
     'If using `weights` as `"imagenet"` with `include_top` as true, `classes` should be 1000'),
    (lambda: NASNetMobile(weights=None, include_top=False, input_shape=(16, 16, 3)), ValueError,
     "Input size must be at least 32x32"),
    (lambda: NASNetLarge(weights=None, alpha=1.0), TypeError, "Invalid keyword argument: alpha"),
])
def test_argument_errors_are_keras_messages_raised_before_building(keras_home, call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        call()


def test_channels_first_warns_builds_channels_last_and_restores_the_format():
    K.set_image_data_format("channels_first")
    try:
        with pytest.warns(UserWarning, match="The NASNet family of models is only available for the input data "
                                             'format "channels_last"'):
            model = tiny(include_top=False, input_tensor=Input((32, 32, 3)))
        assert K.image_data_format() == "channels_first"
        assert model.output_shape == (None, 1, 1, 96)
        assert model.get_layer("stem_bn1").axis == -1
    finally:
        K.set_image_data_format("channels_last")


@pytest.mark.parametrize("application, include_top, fname, url", [
    (NASNetMobile, True, "nasnet_mobile.h5", "NASNet-mobile.h5"),
    (NASNetMobile, False, "nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5"),
    (NASNetLarge, True, "nasnet_large.h5", "NASNet-large.h5"),
    (NASNetLarge, False, "nasnet_large_no_top.h5", "NASNet-large-no-top.h5"),
])
def test_imagenet_weights_offline_error_names_keras_file_and_url(keras_home, application, include_top, fname, url):
    with pytest.raises(OSError) as err:
        application(include_top=include_top)
    assert "https://github.com/titu1994/Keras-NASNet/releases/download/v1.2/" + url in str(err.value)
    assert str(keras_home / fname) in str(err.value)


def test_preprocess_input_is_tf_mode():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(nasnet.preprocess_input(x.copy()), x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)
    assert nasnet.decode_predictions is imagenet_utils.decode_predictions


# ---------------------------------------------------------------------------------------------------------
# outputs from a Keras .h5 file equal a torch.nn.functional reference
# ---------------------------------------------------------------------------------------------------------

class TorchNASNet:
    """NASNet-A from the paper's cells, reading the Keras file by layer name; TF's 'same' padding computed from
    its definition (output ceil(n / stride), the odd pixel of padding at the bottom/right)."""

    def __init__(self, f):
        self.f = f

    def weights(self, layer):
        group = self.f[layer]
        return [torch.from_numpy(np.asarray(group[n])).double() for n in group.attrs["weight_names"]]

    @staticmethod
    def same_pad(x, k, stride):
        pads = []
        for n in (x.shape[3], x.shape[2]):
            total = max((math.ceil(n / stride) - 1) * stride + k - n, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)

    def conv1x1(self, x, layer):
        (kernel,) = self.weights(layer)
        return F.conv2d(x, kernel.permute(3, 2, 0, 1))

    def bn(self, x, layer):
        gamma, beta, mean, variance = self.weights(layer)
        return F.batch_norm(x, mean, variance, gamma, beta, training=False, eps=1e-3)

    def separable(self, x, layer, k, stride=1):
        depthwise, pointwise = self.weights(layer)  # (k, k, in, 1), (1, 1, in, out)
        x = F.conv2d(self.same_pad(x, k, stride), depthwise.permute(2, 3, 0, 1), stride=stride, groups=x.shape[1])
        return F.conv2d(x, pointwise.permute(3, 2, 0, 1))

    def separable_block(self, x, block_id, k, stride=1):
        x = self.bn(self.separable(F.relu(x), f"separable_conv_1_{block_id}", k, stride),
                    f"separable_conv_1_bn_{block_id}")
        return self.bn(self.separable(F.relu(x), f"separable_conv_2_{block_id}", k), f"separable_conv_2_bn_{block_id}")

    @staticmethod
    def avg3(x):  # TF's 'same' average excludes the padding from the count
        return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)

    def adjust(self, p, ip, filters, block_id):
        if p is None:
            return ip
        if p.shape[3] != ip.shape[3]:  # even pixels, and odd pixels (shifted by one, zero beyond the edge)
            p = F.relu(p)
            even = self.conv1x1(p[:, :, ::2, ::2], f"adjust_conv_1_{block_id}")
            odd = self.conv1x1(F.pad(p[:, :, 1:, 1:], (0, 1, 0, 1))[:, :, ::2, ::2], f"adjust_conv_2_{block_id}")
            return self.bn(torch.cat([even, odd], dim=1), f"adjust_bn_{block_id}")
        if p.shape[1] != filters:
            return self.bn(self.conv1x1(F.relu(p), f"adjust_conv_projection_{block_id}"), f"adjust_bn_{block_id}")
        return p

    def normal(self, ip, p, filters, i):
        p = self.adjust(p, ip, filters, i)
        h = self.bn(self.conv1x1(F.relu(ip), f"normal_conv_1_{i}"), f"normal_bn_1_{i}")
        x1 = self.separable_block(h, f"normal_left1_{i}", 5) + self.separable_block(p, f"normal_right1_{i}", 3)
        x2 = self.separable_block(p, f"normal_left2_{i}", 5) + self.separable_block(p, f"normal_right2_{i}", 3)
        x3 = self.avg3(h) + p
        x4 = self.avg3(p) + self.avg3(p)
        x5 = self.separable_block(h, f"normal_left5_{i}", 3) + h
        return torch.cat([p, x1, x2, x3, x4, x5], dim=1), ip

    def reduction(self, ip, p, filters, i):
        p = self.adjust(p, ip, filters, i)
        h = self.bn(self.conv1x1(F.relu(ip), f"reduction_conv_1_{i}"), f"reduction_bn_1_{i}")
        h3 = self.same_pad(h, 3, 2)  # zero padding, then 'valid' poolings (zeros count)
        x1 = (self.separable_block(h, f"reduction_left1_{i}", 5, 2)
              + self.separable_block(p, f"reduction_right1_{i}", 7, 2))
        x2 = F.max_pool2d(h3, 3, stride=2) + self.separable_block(p, f"reduction_right2_{i}", 7, 2)
        x3 = F.avg_pool2d(h3, 3, stride=2) + self.separable_block(p, f"reduction_right3_{i}", 5, 2)
        x4 = x2 + self.avg3(x1)
        x5 = self.separable_block(x1, f"reduction_left4_{i}", 3) + F.max_pool2d(h3, 3, stride=2)
        return torch.cat([x2, x3, x4, x5], dim=1), ip

    def features_avg(self, x, penultimate_filters, num_blocks, skip_reduction):
        filters = penultimate_filters // 24
        (kernel,) = self.weights("stem_conv1")
        x = self.bn(F.conv2d(x, kernel.permute(3, 2, 0, 1), stride=2), "stem_bn1")
        x, p = self.reduction(x, None, filters // 4, "stem_1")
        x, p = self.reduction(x, p, filters // 2, "stem_2")
        # Keras's labels: normal cells 0..n-1, reduce_n, normal n+1..2n, reduce_2n, normal 2n+1..3n
        for stack in range(3):
            if stack:
                x, before = self.reduction(x, p, filters * 2 ** stack, f"reduce_{stack * num_blocks}")
                p = p if skip_reduction else before
            for i in range(num_blocks):
                x, p = self.normal(x, p, filters * 2 ** stack, stack * num_blocks + i + (stack > 0))
        return F.relu(x).mean(dim=(2, 3))


def test_nasnet_mobile_outputs_equal_a_torch_reference_computed_from_the_keras_file(tmp_path, nasnet_mobile):
    path = tmp_path / "nasnet_mobile_no_top.h5"
    keras_no_top_file(nasnet_mobile, path, seed=7, top_layer="predictions")
    model = NASNetMobile(weights=str(path), include_top=False, input_shape=(32, 32, 3), pooling="avg")
    assert counts(model) == nasnet_counts_by_hand(1056, **MOBILE_STRUCTURE, include_top=False)
    x = nasnet.preprocess_input(np.random.default_rng(8).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32"))
    with h5py.File(path, "r") as f:
        expected = TorchNASNet(f).features_avg(nchw(x),
                                               1056, num_blocks=4, skip_reduction=False).numpy()
    assert expected.shape == (2, 1056)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@needs_tf_keras
def test_tf_keras_gives_the_same_outputs_for_the_same_file(tmp_path, nasnet_mobile):
    path = tmp_path / "nasnet_mobile_notop.h5"
    keras_no_top_file(nasnet_mobile, path, seed=9, top_layer="predictions")
    model = NASNetMobile(weights=str(path), include_top=False, input_shape=(32, 32, 3), pooling="avg")
    x = nasnet.preprocess_input(np.random.default_rng(10).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32"))
    assert_tf_keras_gives(tmp_path, "NASNetMobile", path, x, model.predict(x))
