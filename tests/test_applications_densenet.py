"""DenseNet121/169/201 (issue 14) against Keras 2.3.1 / keras-applications 1.0.8: parameter counts counted by
hand from the paper's table and equal to Keras's documented values, layer names (in order) equal to
keras-applications' (tests/fixtures/keras_applications_layer_names, made once with tf-keras by
scripts/make_application_name_fixtures.py), shapes per ``pooling``, the weight file names, hashes and errors, and
outputs from a Keras .h5 file equal to a torch.nn.functional reference read from the same file with h5py.

DenseNet121 (full) and DenseNet169 (no top) are each built once; everything else uses small ``blocks``."""
from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest
import torch

from kerasish import backend as K
from kerasish.applications import densenet, imagenet_utils
from kerasish.applications.densenet import DenseNet, DenseNet121, DenseNet169, DenseNet201
from kerasish.layers import Input
from applications_reference import counts, keras_layer_names, keras_no_top_file, nchw
from tf_keras_applications import assert_tf_keras_gives, needs_tf_keras

F = torch.nn.functional


@pytest.fixture(scope="module")
def densenet121():
    K.clear_session()  # Keras 2.3.1's automatic names of a fresh session (zero_padding2d_1, ...)
    return DenseNet121(weights=None)



# ---------------------------------------------------------------------------------------------------------
# parameter counts by hand: (total, trainable, non-trainable); BatchNormalization has 4 weights per channel,
# 2 of them (moving mean and variance) not trainable
# ---------------------------------------------------------------------------------------------------------

def densenet_counts_by_hand(blocks, include_top=True, classes=1000):
    """Huang et al. 2017, table 1 (growth rate 32, bottleneck 4 * 32, compression 0.5): a 7x7x3x64 convolution,
    then dense layers (BN, 1x1 to 128, BN, 3x3 to 32, no biases), transitions (BN, 1x1 halving), a final BN."""
    weights, bn_channels, channels = 7 * 7 * 3 * 64, 64, 64
    for stage, layers_in_block in enumerate(blocks):
        for _ in range(layers_in_block):
            weights += channels * 128 + 9 * 128 * 32
            bn_channels += channels + 128
            channels += 32
        if stage < 3:
            weights += channels * (channels // 2)
            bn_channels += channels
            channels //= 2
    bn_channels += channels
    if include_top:
        weights += channels * classes + classes
    total = weights + 4 * bn_channels
    return total, total - 2 * bn_channels, 2 * bn_channels


def test_counts_by_hand_are_keras_documented_values():
    # keras.io/applications: DenseNet121 8,062,504; DenseNet169 14,307,880; DenseNet201 20,242,984
    assert densenet_counts_by_hand([6, 12, 24, 16]) == (8_062_504, 7_978_856, 83_648)
    assert densenet_counts_by_hand([6, 12, 32, 32])[0] == 14_307_880
    assert densenet_counts_by_hand([6, 12, 48, 32])[0] == 20_242_984


def test_densenet121_parameter_counts_and_layer_names_are_keras(densenet121):
    assert counts(densenet121) == densenet_counts_by_hand([6, 12, 24, 16])
    assert [layer.name for layer in densenet121.layers] == keras_layer_names("densenet121")
    assert densenet121.name == "densenet121"
    assert densenet121.output_shape == (None, 1000)
    bn = densenet121.get_layer("conv4_block24_1_bn")
    assert (bn.epsilon, bn.momentum, bn.axis) == (1.001e-5, 0.99, 3)


def test_densenet169_without_top_counts_and_layer_names_are_keras():
    K.clear_session()
    model = DenseNet169(weights=None, include_top=False, input_shape=(64, 64, 3))
    assert counts(model) == densenet_counts_by_hand([6, 12, 32, 32], include_top=False)
    assert [layer.name for layer in model.layers] == keras_layer_names("densenet169_notop")
    assert model.name == "densenet169" and model.output_shape == (None, 2, 2, 1664)


# ---------------------------------------------------------------------------------------------------------
# shapes, names and the generic DenseNet(blocks)
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pooling, shape, last", [(None, (None, 2, 3, 68), "relu"), ("avg", (None, 68), "avg_pool"),
                                                  ("max", (None, 68), "max_pool")])
def test_without_top_output_shapes_per_pooling(pooling, shape, last):
    # blocks [1, 1, 1, 1]: 64 + 32 = 96 -> 48 + 32 = 80 -> 40 + 32 = 72 -> 36 + 32 = 68 channels; size / 32
    model = DenseNet([1, 1, 1, 1], weights=None, include_top=False, input_shape=(64, 96, 3), pooling=pooling)
    assert model.output_shape == shape and model.layers[-1].name == last
    assert model.name == "densenet"
    assert model.get_layer("pool3_conv").output_shape == (None, 8, 12, 40)


def test_generic_densenet_names_the_model_only_for_keras_block_lists():
    # keras-applications compares blocks with lists: a tuple is not recognised
    assert DenseNet((6, 12, 24, 16), weights=None, include_top=False, input_shape=(32, 32, 3)).name == "densenet"
    with pytest.raises(ValueError, match=r"ImageNet weights exist only for blocks=\[6, 12, 24, 16\]"):
        DenseNet([1, 1, 1, 1], weights="imagenet", include_top=False)


def test_input_tensor_from_another_model_and_channels_first():
    base = Input((48, 48, 3))
    model = DenseNet([1, 2, 1, 1], weights=None, include_top=True, classes=7, input_tensor=base)
    assert model.inputs[0] is base and model.output_shape == (None, 7)
    assert model.get_layer("conv3_block2_concat").output_shape == (None, 6, 6, 48 + 2 * 32)
    K.set_image_data_format("channels_first")
    try:
        first = DenseNet([1, 1, 1, 1], weights=None, include_top=False, input_shape=(3, 32, 32))
        assert first.output_shape == (None, 68, 1, 1)
        assert first.get_layer("conv2_block1_concat").axis == 1 and first.get_layer("bn").axis == 1
    finally:
        K.set_image_data_format("channels_last")


# ---------------------------------------------------------------------------------------------------------
# errors and weight files
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(classes=10), 'If using `weights` as `"imagenet"` with `include_top` as true, `classes` should be 1000'),
    (dict(weights="/no/such/file.h5"), "The `weights` argument should be either `None`"),
    (dict(input_shape=(64, 64, 3)), "`input_shape` should be (224, 224, 3)"),
    (dict(weights=None, include_top=False, input_shape=(16, 16, 3)), "Input size must be at least 32x32"),
])
def test_argument_errors_are_keras_messages(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DenseNet121(**kwargs)


def test_unknown_keyword_is_keras_type_error():
    with pytest.raises(TypeError, match="Invalid keyword argument: alpha"):
        DenseNet201(weights=None, alpha=1.0)


@pytest.mark.parametrize("application, include_top, fname", [
    (DenseNet121, True, "densenet121_weights_tf_dim_ordering_tf_kernels.h5"),
    (DenseNet169, False, "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    (DenseNet201, False, "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5"),
])
def test_imagenet_weights_offline_error_names_keras_file_and_url(keras_home, application, include_top, fname):
    with pytest.raises(OSError) as err:
        application(include_top=include_top)
    assert "https://github.com/keras-team/keras-applications/releases/download/densenet/" + fname in str(err.value)
    assert str(keras_home / fname) in str(err.value)


def test_preprocess_input_is_torch_mode():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    expected = (x / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(densenet.preprocess_input(x.copy()), expected, rtol=1e-5, atol=1e-5)
    first = np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(densenet.preprocess_input(first.copy(), data_format="channels_first"),
                               np.moveaxis(expected, -1, 1), rtol=1e-5, atol=1e-5)
    assert densenet.decode_predictions is imagenet_utils.decode_predictions


# ---------------------------------------------------------------------------------------------------------
# outputs from a Keras .h5 file (in the models cache) equal a torch.nn.functional reference
# ---------------------------------------------------------------------------------------------------------

def torch_densenet_avg(path, blocks, x):
    """DenseNet as the paper draws it, from the Keras file: Keras kernels are (rows, cols, in, out)."""
    with h5py.File(path, "r") as f:
        def weights(layer):
            return [torch.from_numpy(np.asarray(f[layer][n])).double() for n in f[layer].attrs["weight_names"]]

        def conv(x, layer, stride=1, padding=0):
            (kernel,) = weights(layer)
            return F.conv2d(x, kernel.permute(3, 2, 0, 1), stride=stride, padding=padding)

        def bn_relu(x, layer):
            gamma, beta, mean, variance = weights(layer)
            return F.relu(F.batch_norm(x, mean, variance, gamma, beta, training=False, eps=1.001e-5))

        x = bn_relu(conv(x, "conv1/conv", stride=2, padding=3), "conv1/bn")
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, stride=2)  # after ReLU, zero padding is -inf padding
        for stage, count in enumerate(blocks, start=2):
            for i in range(1, count + 1):
                name = f"conv{stage}_block{i}"
                y = conv(bn_relu(x, name + "_0_bn"), name + "_1_conv")
                y = conv(bn_relu(y, name + "_1_bn"), name + "_2_conv", padding=1)
                x = torch.cat([x, y], dim=1)
            if stage < 5:
                x = F.avg_pool2d(conv(bn_relu(x, f"pool{stage}_bn"), f"pool{stage}_conv"), 2)
        return bn_relu(x, "bn").mean(dim=(2, 3)).numpy()


def test_outputs_from_the_cached_keras_file_equal_a_torch_reference(keras_home, densenet121, monkeypatch):
    fname = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    keras_no_top_file(densenet121, keras_home / fname, seed=3, top_layer="fc1000")
    blocks, hash_top, _ = densenet.DENSENET_VARIANTS["densenet121"]
    md5 = hashlib.md5((keras_home / fname).read_bytes()).hexdigest()
    monkeypatch.setitem(densenet.DENSENET_VARIANTS, "densenet121", (blocks, hash_top, md5))
    model = DenseNet121(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    assert counts(model) == densenet_counts_by_hand(blocks, include_top=False)
    assert model.output_shape == (None, 1024)
    x = densenet.preprocess_input(np.random.default_rng(4).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32"))
    expected = torch_densenet_avg(keras_home / fname, blocks,
                                  nchw(x))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@needs_tf_keras
def test_tf_keras_gives_the_same_outputs_for_the_same_file(tmp_path, densenet121):
    path = tmp_path / "densenet121_notop.h5"
    keras_no_top_file(densenet121, path, seed=5, top_layer="fc1000")
    model = DenseNet121(weights=str(path), include_top=False, input_shape=(32, 32, 3), pooling="avg")
    x = densenet.preprocess_input(np.random.default_rng(6).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32"))
    assert_tf_keras_gives(tmp_path, "DenseNet121", path, x, model.predict(x))
