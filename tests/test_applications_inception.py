"""keras.applications.xception, inception_v3 and inception_resnet_v2 against Keras 2.3.1 / keras-applications
1.0.8: parameter counts (Xception worked by hand; all three equal to Keras's documented totals), layer names
equal to keras-applications' (fixture lists, automatic names included: Keras's weight files are loaded by layer
order), output shapes per ``pooling``, weight files, and outputs from a Keras .h5 file with random weights and
BatchNormalization statistics equal to a torch.nn.functional reference read from the same file (Xception,
InceptionV3). Models are built at 75x75 (Inception's minimum), each architecture once."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from applications_reference import (F, assert_model_equals_reference, avg_pool_same_3x3, counts, keras_layer_names,
                                    max_pool_same, model_cache)
from kerasish import backend as K
from kerasish.applications import imagenet_utils, inception_resnet_v2, inception_v3, xception
from kerasish.models import model_from_json

SMALL = (75, 75, 3)
APPLICATIONS = {"Xception": xception.Xception, "InceptionV3": inception_v3.InceptionV3,
                "InceptionResNetV2": inception_resnet_v2.InceptionResNetV2}
MODEL_NAMES = {"Xception": "xception", "InceptionV3": "inception_v3", "InceptionResNetV2": "inception_resnet_v2"}
# Keras's documentation table of applications (Keras 2.3.1) gives the totals with the top; the trainable /
# non-trainable split was read once from keras-applications 1.0.8's own code built on tf-keras 2.21 layers.
KERAS_COUNTS = {"Xception": (22_910_480, 22_855_952, 54_528), "InceptionV3": (23_851_784, 23_817_352, 34_432),
                "InceptionResNetV2": (55_873_736, 55_813_192, 60_544)}
TOP_WIDTH = {"Xception": 2048, "InceptionV3": 2048, "InceptionResNetV2": 1536}


@pytest.fixture(scope="module")
def models():
    """Each architecture built once (with the top, 1000 classes, 75x75 input, fresh automatic names)."""
    return model_cache(APPLICATIONS, SMALL)


def xception_counts_by_hand(include_top=True, classes=1000):
    """Chollet 2017, figure 5: 3x3x3x32 and 3x3x32x64 convolutions (no bias) + BN; downsampling blocks of two
    3x3 separable convolutions (depthwise 9 * c_in, pointwise c_in * c_out, no bias) + BN and a 1x1 projection
    + BN; 8 middle blocks of three 728-wide separable convolutions + BN; exit separables to 1536 and 2048."""
    weights, bn = 27 * 32 + 9 * 32 * 64, 32 + 64

    def separable(c_in, c_out):
        return 9 * c_in + c_in * c_out

    for c_in, f1, f2 in ((64, 128, 128), (128, 256, 256), (256, 728, 728), (728, 728, 1024)):
        weights += c_in * f2 + separable(c_in, f1) + separable(f1, f2)
        bn += f2 + f1 + f2
    weights += 8 * 3 * separable(728, 728) + separable(1024, 1536) + separable(1536, 2048)
    bn += 8 * 3 * 728 + 1536 + 2048
    if include_top:
        weights += 2048 * classes + classes
    total = weights + 4 * bn
    return total, total - 2 * bn, 2 * bn


# ---------------------------------------------------------------------------------------------------------
# counts, names, shapes
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(APPLICATIONS))
def test_parameter_counts_and_layer_names_are_keras(models, name):
    model = models(name)
    assert counts(model) == KERAS_COUNTS[name]
    # without the top: everything but the classifier (a top-less build is checked below)
    top = model.get_layer("predictions")
    assert top.count_params() == TOP_WIDTH[name] * 1000 + 1000
    assert [layer.name for layer in model.layers] == keras_layer_names(name)
    assert model.name == MODEL_NAMES[name]
    assert model.output_shape == (None, 1000)


def test_xception_counts_by_hand_are_keras_documented_values(models):
    assert xception_counts_by_hand() == KERAS_COUNTS["Xception"]
    assert counts(models("Xception")) == xception_counts_by_hand()


@pytest.mark.parametrize("pooling, shape", [(None, (None, 3, 4, 2048)), ("avg", (None, 2048)),
                                            ("max", (None, 2048))])
def test_xception_without_top_output_shapes_and_counts_per_pooling(pooling, shape):
    model = xception.Xception(weights=None, include_top=False, input_shape=(71, 130, 3), pooling=pooling)
    assert model.output_shape == shape
    assert counts(model) == xception_counts_by_hand(include_top=False)


def test_inception_v3_without_top_max_pooling():
    model = inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(75, 139, 3), pooling="max")
    assert model.output_shape == (None, 2048)
    assert model.get_layer("mixed10").output_shape == (None, 1, 3, 2048)
    assert counts(model)[0] == KERAS_COUNTS["InceptionV3"][0] - 2048 * 1000 - 1000


def test_inception_batch_normalization_has_no_scale_and_residuals_are_scaled_lambdas(models):
    v3 = models("InceptionV3")
    assert v3.get_layer("batch_normalization_1").scale is False
    assert v3.get_layer("mixed9_1").output_shape == (None, 1, 1, 768)
    irv2 = models("InceptionResNetV2")
    assert irv2.get_layer("block35_1").arguments == {"scale": 0.17}
    assert irv2.get_layer("block17_20").arguments == {"scale": 0.1}
    assert irv2.get_layer("block8_10").arguments == {"scale": 1.0}
    assert irv2.get_layer("conv_7b").output_shape == (None, 1, 1, 1536)
    # the last block8 has no activation: conv_7b follows the Lambda directly
    assert "block8_10_ac" not in [layer.name for layer in irv2.layers]


def test_inception_resnet_v2_config_round_trip_takes_the_lambda_function_from_custom_objects(models):
    config = models("InceptionResNetV2").to_json()
    with pytest.raises(ValueError, match="custom_objects={'scaled_residual': scaled_residual}"):
        model_from_json(config)
    rebuilt = model_from_json(config, custom_objects={"scaled_residual": inception_resnet_v2.scaled_residual})
    assert rebuilt.get_layer("block17_3").arguments == {"scale": 0.1}
    assert [layer.name for layer in rebuilt.layers] == keras_layer_names("InceptionResNetV2")


def test_inception_v3_channels_first_concatenates_and_normalises_axis_1():
    K.set_image_data_format("channels_first")
    try:
        model = inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(3, 75, 75))
        assert model.get_layer("batch_normalization_94").axis == 1
        assert model.get_layer("mixed0").output_shape == (None, 256, 7, 7)
        assert model.output_shape == (None, 2048, 1, 1)
    finally:
        K.set_image_data_format("channels_last")


@pytest.mark.parametrize("application, kwargs, message", [
    (xception.Xception, dict(include_top=False, input_shape=(70, 70, 3)), "Input size must be at least 71x71"),
    (inception_v3.InceptionV3, dict(include_top=False, input_shape=(74, 80, 3)), "Input size must be at least 75x75"),
    (inception_resnet_v2.InceptionResNetV2, dict(input_shape=(224, 224, 3)), "`input_shape` should be (299, 299, 3)"),
    (inception_v3.InceptionV3, dict(classes=10), "`classes` should be 1000"),
])
def test_argument_errors_are_keras_messages(keras_home, application, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        application(**kwargs)


def test_unknown_inception_resnet_block_type_is_keras_error():
    with pytest.raises(ValueError, match='Expects "block35", "block17" or "block8", but got: block99'):
        inception_resnet_v2.inception_resnet_block(None, 0.1, "block99", 1)


# ---------------------------------------------------------------------------------------------------------
# weight files, preprocessing
# ---------------------------------------------------------------------------------------------------------

def test_weight_files_are_keras_names_urls_and_hashes():
    base = "https://github.com/fchollet/deep-learning-models/releases/download/"
    assert xception.WEIGHT_FILES[True] == ("xception_weights_tf_dim_ordering_tf_kernels.h5",
                                           base + "v0.4/xception_weights_tf_dim_ordering_tf_kernels.h5",
                                           {"file_hash": "0a58e3b7378bc2990ea3b43d5981f1f6"})
    assert xception.WEIGHT_FILES[False][2] == {"file_hash": "b0042744bf5b25fce3cb969f33bebb97"}
    assert inception_v3.WEIGHT_FILES[False] == ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                                base + "v0.5/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                                {"file_hash": "bcbd6486424b2319ff4ef7d526e38f63"})
    assert inception_v3.WEIGHT_FILES[True][2] == {"file_hash": "9a0d58056eeedaa3f26cb7ebd46da564"}
    fname = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"
    assert inception_resnet_v2.WEIGHT_FILES[True] == (fname, base + "v0.7/" + fname,
                                                      {"file_hash": "e693bd0210a403b3192acc6073ad2e96"})
    assert inception_resnet_v2.WEIGHT_FILES[False][2] == {"file_hash": "d19885ff4a710c122648d3b5c3b684e4"}


def test_imagenet_weights_offline_error_names_keras_file_and_url(keras_home):
    fname = "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(OSError) as err:
        xception.Xception(weights="imagenet", include_top=False, input_shape=(71, 71, 3))
    assert xception.TF_WEIGHTS_PATH_NO_TOP in str(err.value) and str(keras_home / fname) in str(err.value)


def test_preprocess_input_is_tf_mode():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    for module in (xception, inception_v3, inception_resnet_v2):
        np.testing.assert_allclose(module.preprocess_input(x.copy()), x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)
        assert module.decode_predictions is imagenet_utils.decode_predictions


# ---------------------------------------------------------------------------------------------------------
# outputs from a Keras .h5 file equal a torch.nn.functional reference
# ---------------------------------------------------------------------------------------------------------

def torch_xception(w, x):
    """Chollet 2017, figure 5, with keras-applications' names; its unnamed shortcut convolutions and their
    BatchNormalization are conv2d_1..4 / batch_normalization_1..4 in a fresh session."""
    x = F.relu(w.bn(w.conv(x, "block1_conv1", stride=2), "block1_conv1_bn"))
    x = F.relu(w.bn(w.conv(x, "block1_conv2"), "block1_conv2_bn"))
    for i, block in enumerate((2, 3, 4, 13), start=1):
        residual = w.bn(w.conv(x, f"conv2d_{i}", stride=2, padding="same"), f"batch_normalization_{i}")
        y = x if block == 2 else F.relu(x)
        y = w.bn(w.separable(y, f"block{block}_sepconv1"), f"block{block}_sepconv1_bn")
        y = w.bn(w.separable(F.relu(y), f"block{block}_sepconv2"), f"block{block}_sepconv2_bn")
        x = max_pool_same(y, 3, 2) + residual
        if block == 4:
            for middle in range(5, 13):
                y = x
                for j in (1, 2, 3):
                    y = w.bn(w.separable(F.relu(y), f"block{middle}_sepconv{j}"), f"block{middle}_sepconv{j}_bn")
                x = x + y
    x = F.relu(w.bn(w.separable(x, "block14_sepconv1"), "block14_sepconv1_bn"))
    return F.relu(w.bn(w.separable(x, "block14_sepconv2"), "block14_sepconv2_bn"))


def cat(*branches):
    return torch.cat(branches, dim=1)


def unnamed_conv_bn(w):
    """keras-applications' unnamed ``conv2d_bn``: the k-th one created is conv2d_k (no bias) with
    batch_normalization_k (no scale), then relu; ``kernel`` is checked against the file."""
    index = itertools.count(1)

    def cbn(x, kernel, stride=1, padding="same"):
        k = next(index)
        assert tuple(w[f"conv2d_{k}"]["kernel"].shape[:2]) == ((kernel, kernel) if isinstance(kernel, int) else kernel)
        return F.relu(w.bn(w.conv(x, f"conv2d_{k}", stride, padding), f"batch_normalization_{k}"))

    return cbn, index


def stem(cbn, x):
    """The stem InceptionV3 and InceptionResNetV2 share: 3x3/2, 3x3, 3x3 'same', max pool, 1x1, 3x3, max pool."""
    x = cbn(cbn(x, 3, stride=2, padding="valid"), 3, padding="valid")
    x = F.max_pool2d(cbn(x, 3), 3, 2)
    return F.max_pool2d(cbn(cbn(x, 1, padding="valid"), 3, padding="valid"), 3, 2)


def torch_inception_v3(w, x):
    """Szegedy et al. 2016 as keras-applications builds it (its convolutions unnamed, created branch by branch,
    left to right)."""
    cbn, index = unnamed_conv_bn(w)
    x = stem(cbn, x)
    for _ in range(3):  # mixed0-2
        x = cat(cbn(x, 1), cbn(cbn(x, 1), 5), cbn(cbn(cbn(x, 1), 3), 3), cbn(avg_pool_same_3x3(x), 1))
    x = cat(cbn(x, 3, stride=2, padding="valid"), cbn(cbn(cbn(x, 1), 3), 3, stride=2, padding="valid"),
            F.max_pool2d(x, 3, 2))  # mixed3
    for _ in range(4):  # mixed4-7: 7x7 factorised into 1x7 and 7x1
        b1 = cbn(x, 1)
        b7 = cbn(cbn(cbn(x, 1), (1, 7)), (7, 1))
        b7dbl = cbn(cbn(cbn(cbn(cbn(x, 1), (7, 1)), (1, 7)), (7, 1)), (1, 7))
        x = cat(b1, b7, b7dbl, cbn(avg_pool_same_3x3(x), 1))
    b3 = cbn(cbn(x, 1), 3, stride=2, padding="valid")
    b7x3 = cbn(cbn(cbn(cbn(x, 1), (1, 7)), (7, 1)), 3, stride=2, padding="valid")
    x = cat(b3, b7x3, F.max_pool2d(x, 3, 2))  # mixed8
    for _ in range(2):  # mixed9-10: 3x3 split into parallel 1x3 and 3x1
        b1 = cbn(x, 1)
        b3 = cbn(x, 1)
        b3 = cat(cbn(b3, (1, 3)), cbn(b3, (3, 1)))
        b3dbl = cbn(cbn(x, 1), 3)
        b3dbl = cat(cbn(b3dbl, (1, 3)), cbn(b3dbl, (3, 1)))
        x = cat(b1, b3, b3dbl, cbn(avg_pool_same_3x3(x), 1))
    assert next(index) == 95  # all 94 convolutions used
    return x


def torch_inception_resnet_v2(w, x):
    """Szegedy et al. 2017 (Inception-ResNet-v2) as keras-applications builds it: residual blocks add
    ``scale`` times a biased 1x1 projection (``{block}_conv``) of their concatenated branches, then relu
    (not after block8_10)."""
    cbn, index = unnamed_conv_bn(w)

    def residual_block(x, name, scale, branches, activation=True):
        up = w.conv(cat(*branches), name + "_conv")
        x = x + up * scale
        return F.relu(x) if activation else x

    x = stem(cbn, x)
    x = cat(cbn(x, 1), cbn(cbn(x, 1), 5), cbn(cbn(cbn(x, 1), 3), 3), cbn(avg_pool_same_3x3(x), 1))  # mixed_5b
    for i in range(1, 11):
        x = residual_block(x, f"block35_{i}", 0.17, [cbn(x, 1), cbn(cbn(x, 1), 3), cbn(cbn(cbn(x, 1), 3), 3)])
    x = cat(cbn(x, 3, stride=2, padding="valid"), cbn(cbn(cbn(x, 1), 3), 3, stride=2, padding="valid"),
            F.max_pool2d(x, 3, 2))  # mixed_6a
    for i in range(1, 21):
        x = residual_block(x, f"block17_{i}", 0.1, [cbn(x, 1), cbn(cbn(cbn(x, 1), (1, 7)), (7, 1))])
    x = cat(cbn(cbn(x, 1), 3, stride=2, padding="valid"), cbn(cbn(x, 1), 3, stride=2, padding="valid"),
            cbn(cbn(cbn(x, 1), 3), 3, stride=2, padding="valid"), F.max_pool2d(x, 3, 2))  # mixed_7a
    for i in range(1, 11):
        x = residual_block(x, f"block8_{i}", 1.0 if i == 10 else 0.2,
                           [cbn(x, 1), cbn(cbn(cbn(x, 1), (1, 3)), (3, 1))], activation=i < 10)
    assert next(index) == len([k for k in w.f.keys() if k.startswith("conv2d_")]) + 1
    return F.relu(w.bn(w.conv(x, "conv_7b"), "conv_7b_bn"))


@pytest.mark.parametrize("name, reference", [("Xception", torch_xception), ("InceptionV3", torch_inception_v3),
                                             ("InceptionResNetV2", torch_inception_resnet_v2)])
def test_outputs_equal_a_torch_reference_computed_from_the_keras_file(models, tmp_path, name, reference):
    x = xception.preprocess_input(np.random.default_rng(8).uniform(0, 255, size=(2,) + SMALL).astype("float32"))
    assert_model_equals_reference(models(name), reference, x, 7, "predictions", tmp_path)
