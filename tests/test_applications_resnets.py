"""keras.applications.resnet (ResNet50/101/152) and resnet_v2 (ResNet50V2/101V2/152V2) against Keras 2.3.1 /
keras-applications 1.0.8: parameter counts worked by hand from the architecture and equal to Keras's documented
values, layer names equal to keras-applications' (fixture lists), output shapes per ``pooling``, weight file
names, URLs and hashes, and outputs from a Keras .h5 file with random weights and BatchNormalization statistics
equal to a torch.nn.functional reference read from the same file. Models are built at 64x64 (the parameter
counts do not depend on the input size), each architecture once."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from applications_reference import F, assert_model_equals_reference, counts, keras_layer_names, model_cache
from kerasish import backend as K
from kerasish.applications import _resnet_common, imagenet_utils, resnet, resnet50, resnet_v2

SMALL = (64, 64, 3)
BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
# Keras's documentation table of applications (keras.io/applications, Keras 2.3.1): parameters with the top
DOCUMENTED_TOTALS = {"ResNet50": 25_636_712, "ResNet101": 44_707_176, "ResNet152": 60_419_944,
                     "ResNet50V2": 25_613_800, "ResNet101V2": 44_675_560, "ResNet152V2": 60_380_648}
APPLICATIONS = {"ResNet50": (resnet.ResNet50, 50, False), "ResNet101": (resnet.ResNet101, 101, False),
                "ResNet152": (resnet.ResNet152, 152, False), "ResNet50V2": (resnet_v2.ResNet50V2, 50, True),
                "ResNet101V2": (resnet_v2.ResNet101V2, 101, True), "ResNet152V2": (resnet_v2.ResNet152V2, 152, True)}


def with_bn(weights, bn_channels):
    """(total, trainable, non-trainable): BatchNormalization keeps 4 numbers per channel, 2 not trainable."""
    total = weights + 4 * bn_channels
    return total, total - 2 * bn_channels, 2 * bn_channels


def resnet_v1_counts_by_hand(depth, include_top=True, classes=1000):
    """He et al. 2016, table 1: a biased 7x7x3x64 stem + BN; bottlenecks 1x1 (f) -> 3x3 (f) -> 1x1 (4f), each
    convolution biased and batch-normalised; the first block of each stage adds a biased 1x1 projection + BN."""
    weights, bn, c_in = 7 * 7 * 3 * 64 + 64, 64, 64
    for f, blocks in zip((64, 128, 256, 512), BLOCKS[depth]):
        for block in range(blocks):
            if block == 0:
                weights += c_in * 4 * f + 4 * f
                bn += 4 * f
            weights += (c_in * f + f) + (9 * f * f + f) + (f * 4 * f + 4 * f)
            bn += f + f + 4 * f
            c_in = 4 * f
    if include_top:
        weights += 2048 * classes + classes
    return with_bn(weights, bn)


def resnet_v2_counts_by_hand(depth, include_top=True, classes=1000):
    """He et al. 2016 (identity mappings): a biased 7x7x3x64 stem without BN; pre-activation bottlenecks
    BN(c_in) -> 1x1 (f, no bias) + BN -> 3x3 (f, no bias) + BN -> 1x1 (4f, biased); the first block of each
    stage adds a biased 1x1 projection of the pre-activation; a final BN of 2048 channels."""
    weights, bn, c_in = 7 * 7 * 3 * 64 + 64, 0, 64
    for f, blocks in zip((64, 128, 256, 512), BLOCKS[depth]):
        for block in range(blocks):
            bn += c_in
            if block == 0:
                weights += c_in * 4 * f + 4 * f
            weights += c_in * f + 9 * f * f + f * 4 * f + 4 * f
            bn += 2 * f
            c_in = 4 * f
    bn += 2048
    if include_top:
        weights += 2048 * classes + classes
    return with_bn(weights, bn)


def counts_by_hand(name, include_top=True):
    _, depth, v2 = APPLICATIONS[name]
    return (resnet_v2_counts_by_hand if v2 else resnet_v1_counts_by_hand)(depth, include_top)


@pytest.fixture(scope="module")
def models():
    """Each architecture built once (with the top, 1000 classes, 64x64 input, fresh automatic names)."""
    return model_cache({name: application for name, (application, _, _) in APPLICATIONS.items()}, SMALL)


# ---------------------------------------------------------------------------------------------------------
# counts, names, shapes
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(APPLICATIONS))
def test_parameter_counts_and_layer_names_are_keras(models, name):
    model = models(name)
    assert counts_by_hand(name)[0] == DOCUMENTED_TOTALS[name]
    assert counts(model) == counts_by_hand(name)
    # without the top: everything but the 2048 x 1000 classifier (the top-less build is checked below)
    top = model.get_layer("probs").count_params()
    assert (counts(model)[0] - top, counts(model)[1] - top) == counts_by_hand(name, include_top=False)[:2]
    assert [layer.name for layer in model.layers] == keras_layer_names(name)
    assert model.name == name.lower()
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("application, name, pooling, shape, last", [
    (resnet_v2.ResNet50V2, "ResNet50V2", None, (None, 2, 3, 2048), "post_relu"),
    (resnet_v2.ResNet50V2, "ResNet50V2", "avg", (None, 2048), "avg_pool"),
    (resnet_v2.ResNet50V2, "ResNet50V2", "max", (None, 2048), "max_pool"),
    (resnet.ResNet50, "ResNet50", "max", (None, 2048), "max_pool")])
def test_without_top_counts_and_output_shapes_per_pooling(application, name, pooling, shape, last):
    model = application(weights=None, include_top=False, input_shape=(64, 96, 3), pooling=pooling)
    assert model.output_shape == shape
    assert counts(model) == counts_by_hand(name, include_top=False)
    assert model.layers[-1].name == last  # keras-applications names the pooling layers of resnet_common


def test_resnet_module_resnet50_is_resnet_common_not_the_resnet50_module(models):
    # keras.applications.resnet.ResNet50 has conv{stage}_block{i} names (keras.applications.resnet50: res2a_...)
    assert resnet.ResNet50 is not resnet50.ResNet50
    model = models("ResNet50")
    assert model.get_layer("conv2_block1_0_bn").epsilon == 1.001e-5
    assert "res2a_branch2a" not in [layer.name for layer in model.layers]


def test_batch_normalization_epsilon_and_v2_stride_in_the_last_block(models):
    model = models("ResNet50V2")
    assert {layer.epsilon for layer in model.layers if layer.__class__.__name__ == "BatchNormalization"} == \
        {1.001e-5}
    # V2 strides the last block of conv2..conv4 (its shortcut a 1x1 max pooling), not the first
    assert model.get_layer("conv2_block2_out").output_shape == (None, 16, 16, 256)
    assert model.get_layer("conv2_block3_out").output_shape == (None, 8, 8, 256)
    assert model.get_layer("conv5_block3_out").output_shape == (None, 2, 2, 2048)


def test_resnet_v2_channels_first_normalises_axis_1():
    K.set_image_data_format("channels_first")
    try:
        model = resnet_v2.ResNet50V2(weights=None, include_top=False, input_shape=(3, 64, 64))
        assert model.get_layer("post_bn").axis == 1 and model.get_layer("conv2_block1_1_bn").axis == 1
        assert model.output_shape == (None, 2048, 2, 2)
    finally:
        K.set_image_data_format("channels_last")


@pytest.mark.parametrize("kwargs, message", [
    (dict(classes=10), 'If using `weights` as `"imagenet"` with `include_top` as true, `classes` should be 1000'),
    (dict(input_shape=(64, 64, 3)), "`input_shape` should be (224, 224, 3)"),
    (dict(include_top=False, input_shape=(16, 16, 3)), "Input size must be at least 32x32"),
    (dict(weights="no/such/file.h5"), "The `weights` argument should be either `None`"),
])
def test_argument_errors_are_keras_messages(keras_home, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resnet.ResNet152(**kwargs)


# ---------------------------------------------------------------------------------------------------------
# weight files
# ---------------------------------------------------------------------------------------------------------

def test_imagenet_weights_offline_error_names_keras_file_and_url(keras_home):
    fname = "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(OSError) as err:
        resnet.ResNet101(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert "https://github.com/keras-team/keras-applications/releases/download/resnet/" + fname in str(err.value)
    assert str(keras_home / fname) in str(err.value)


def test_weight_file_names_urls_and_hashes_are_keras():
    files = _resnet_common.weight_files("resnet152v2")
    assert files[True] == ("resnet152v2_weights_tf_dim_ordering_tf_kernels.h5",
                           "https://github.com/keras-team/keras-applications/releases/download/resnet/"
                           "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5",
                           {"file_hash": "a49b44d1979771252814e80f8ec446f9"})
    assert files[False][2] == {"file_hash": "ed17cf2e0169df9d443503ef94b23b33"}
    assert _resnet_common.weight_files("resnet101")[False][0] == "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5"


def test_imagenet_weights_load_from_the_cache_only_when_the_hash_matches(models, keras_home, monkeypatch):
    fname = "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5"
    source = models("ResNet50V2")
    expected = source.get_weights()
    source.save_weights(str(keras_home / fname))
    # a cached file whose hash is not Keras's is fetched again (offline: the error naming file and URL)
    with pytest.raises(OSError) as err:
        resnet_v2.ResNet50V2(weights="imagenet")
    assert _resnet_common.BASE_WEIGHTS_PATH + fname in str(err.value)
    digest = hashlib.md5((keras_home / fname).read_bytes()).hexdigest()
    monkeypatch.setitem(_resnet_common.WEIGHTS_HASHES, "resnet50v2", (digest, "unused"))
    loaded = resnet_v2.ResNet50V2(weights="imagenet")
    assert loaded.input_shape == (None, 224, 224, 3)
    for a, b in zip(expected, loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_preprocess_input_modes_are_caffe_for_resnet_and_tf_for_resnet_v2():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(resnet.preprocess_input(x.copy()),
                               x[..., ::-1] - np.array([103.939, 116.779, 123.68]), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(resnet_v2.preprocess_input(x.copy()), x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)
    assert resnet.decode_predictions is resnet_v2.decode_predictions is imagenet_utils.decode_predictions


# ---------------------------------------------------------------------------------------------------------
# outputs from a Keras .h5 file equal a torch.nn.functional reference
# ---------------------------------------------------------------------------------------------------------

def torch_resnet_v1(w, x, depth):
    """He et al. 2016 with keras-applications' details: stem padded by 3, max pooling after a zero pad of 1,
    the stride in the first 1x1 convolution, BatchNormalization epsilon 1.001e-5."""
    def bn(x, layer):
        return w.bn(x, layer, eps=1.001e-5)

    x = F.relu(bn(w.conv(F.pad(x, (3, 3, 3, 3)), "conv1_conv", stride=2), "conv1_bn"))
    x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
    for stage, blocks in enumerate(BLOCKS[depth], start=2):
        for block in range(1, blocks + 1):
            name, stride = f"conv{stage}_block{block}", (2 if block == 1 and stage > 2 else 1)
            shortcut = bn(w.conv(x, name + "_0_conv", stride), name + "_0_bn") if block == 1 else x
            y = F.relu(bn(w.conv(x, name + "_1_conv", stride), name + "_1_bn"))
            y = F.relu(bn(w.conv(y, name + "_2_conv", padding="same"), name + "_2_bn"))
            y = bn(w.conv(y, name + "_3_conv"), name + "_3_bn")
            x = F.relu(shortcut + y)
    return x


def torch_resnet_v2(w, x, depth):
    """He et al. 2016 (identity mappings) as keras-applications builds it: no BN in the stem, pre-activation
    blocks, the stride in the last block of a stage (shortcut: 1x1 max pooling, i.e. every other pixel)."""
    def bn(x, layer):
        return w.bn(x, layer, eps=1.001e-5)

    x = F.max_pool2d(F.pad(w.conv(F.pad(x, (3, 3, 3, 3)), "conv1_conv", stride=2), (1, 1, 1, 1)), 3, 2)
    for stage, blocks in enumerate(BLOCKS[depth], start=2):
        for block in range(1, blocks + 1):
            name = f"conv{stage}_block{block}"
            stride = 2 if block == blocks and stage < 5 else 1
            preact = F.relu(bn(x, name + "_preact_bn"))
            shortcut = w.conv(preact, name + "_0_conv") if block == 1 else x[:, :, ::stride, ::stride]
            y = F.relu(bn(w.conv(preact, name + "_1_conv"), name + "_1_bn"))
            y = F.relu(bn(w.conv(F.pad(y, (1, 1, 1, 1)), name + "_2_conv", stride), name + "_2_bn"))
            x = shortcut + w.conv(y, name + "_3_conv")
    return F.relu(bn(x, "post_bn"))


@pytest.mark.parametrize("name, reference", [("ResNet101", torch_resnet_v1), ("ResNet50V2", torch_resnet_v2)])
def test_outputs_equal_a_torch_reference_computed_from_the_keras_file(models, tmp_path, name, reference):
    x = np.random.default_rng(4).uniform(0, 255, size=(2,) + SMALL).astype("float32")
    x = (resnet_v2 if name.endswith("V2") else resnet).preprocess_input(x)
    depth = APPLICATIONS[name][1]
    assert_model_equals_reference(models(name), lambda w, x: reference(w, x, depth), x, 3, "probs", tmp_path)
