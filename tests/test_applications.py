"""keras.applications (Keras 2.3.1 -> keras-applications 1.0.8): preprocess_input against NumPy transcriptions of
Keras's formulas, decode_predictions over a class-index file the test writes into a temporary KERAS_HOME,
_obtain_input_shape's checks, and VGG16 / VGG19 / ResNet50: Keras's documented parameter counts, layer names,
output shapes with each pooling, Keras .h5 weight files by path and from the ~/.keras/models cache, and the
offline error. Only the parameter counts build 224x224 models; nothing runs a 224x224 forward pass."""
from __future__ import annotations

import hashlib
import json
import pathlib
import warnings

import numpy as np
import pytest
import torch

from kerasish import backend as K
from kerasish.applications import ResNet50, VGG16, VGG19, imagenet_utils, resnet50, vgg16
from kerasish.applications.imagenet_utils import _obtain_input_shape, decode_predictions, preprocess_input
from kerasish.layers import Conv2D, Input
from kerasish.utils.layer_utils import count_params

from applications_reference import nchw

CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68])
TORCH_MEAN = np.array([0.485, 0.456, 0.406])
TORCH_STD = np.array([0.229, 0.224, 0.225])


def md5_of(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# preprocess_input
# ---------------------------------------------------------------------------------------------------------

def reference(x, data_format, mode):
    """Keras's formulas, channels moved last and back, in float64."""
    x = np.asarray(x, dtype=np.float64)
    last = np.moveaxis(x, 0 if x.ndim == 3 else 1, -1) if data_format == "channels_first" else x
    if mode == "tf":
        out = last / 127.5 - 1.0
    elif mode == "torch":
        out = (last / 255.0 - TORCH_MEAN) / TORCH_STD
    else:
        out = last[..., ::-1] - CAFFE_MEAN_BGR
    return np.moveaxis(out, -1, 0 if x.ndim == 3 else 1) if data_format == "channels_first" else out


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format, shape", [("channels_last", (2, 4, 5, 3)), ("channels_last", (4, 5, 3)),
                                                ("channels_first", (2, 3, 4, 5)), ("channels_first", (3, 4, 5))])
def test_preprocess_input_numpy_and_tensor_follow_keras_formulas(mode, data_format, shape):
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 255, size=shape).astype("float32")
    expected = reference(pixels, data_format, mode)
    got = preprocess_input(pixels.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    tensor = torch.from_numpy(pixels.copy())
    got_tensor = preprocess_input(tensor, data_format=data_format, mode=mode)
    assert isinstance(got_tensor, torch.Tensor)
    np.testing.assert_allclose(got_tensor.numpy(), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(tensor.numpy(), pixels)  # Keras's symbolic path makes new tensors


def test_preprocess_input_writes_over_float_arrays_and_converts_integers_to_floatx():
    pixels = np.full((1, 2, 2, 3), 255.0, dtype="float32")
    out = preprocess_input(pixels, data_format="channels_last", mode="tf")
    assert out is pixels and np.all(pixels == 1.0)
    integers = np.full((1, 2, 2, 3), 255, dtype="uint8")
    out = preprocess_input(integers, data_format="channels_last", mode="tf")
    assert out.dtype == np.float32 and np.all(out == 1.0) and np.all(integers == 255)


def test_preprocess_input_defaults_to_caffe_and_image_data_format():
    pixels = np.arange(12, dtype="float32").reshape(1, 2, 2, 3)
    np.testing.assert_allclose(preprocess_input(pixels.copy()), reference(pixels, "channels_last", "caffe"),
                               rtol=1e-6)


def test_preprocess_input_errors_as_keras():
    with pytest.raises(ValueError, match="Unknown data_format channels_middle"):
        preprocess_input(np.zeros((1, 2, 2, 3)), data_format="channels_middle")
    with pytest.raises(TypeError, match="Invalid keyword argument: colour"):
        preprocess_input(np.zeros((1, 2, 2, 3)), colour="rgb")


# ---------------------------------------------------------------------------------------------------------
# decode_predictions
# ---------------------------------------------------------------------------------------------------------

def write_class_index(models_dir, monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = models_dir / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", md5_of(path))
    return path


def test_decode_predictions_reads_the_cached_class_index_and_sorts_by_score(keras_home, monkeypatch):
    write_class_index(keras_home, monkeypatch)
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, [7, 3, 999]] = [0.5, 0.3, 0.2]
    preds[1, [0, 1]] = [0.1, 0.9]
    decoded = decode_predictions(preds, top=3)
    assert [entry[:2] for entry in decoded[0]] == [("n00000007", "class_7"), ("n00000003", "class_3"),
                                                   ("n00000999", "class_999")]
    assert [float(entry[2]) for entry in decoded[0]] == pytest.approx([0.5, 0.3, 0.2])
    assert [entry[0] for entry in decoded[1][:2]] == ["n00000001", "n00000000"]
    assert len(decode_predictions(torch.from_numpy(preds))[1]) == 5  # default top=5, tensors accepted


def test_decode_predictions_wrong_shape_is_keras_error():
    with pytest.raises(ValueError, match=r"Found array with shape: \(2, 10\)"):
        decode_predictions(np.zeros((2, 10)))


def test_decode_predictions_offline_names_url_and_path(keras_home):
    with pytest.raises(OSError) as err:
        decode_predictions(np.zeros((1, 1000)))
    assert imagenet_utils.CLASS_INDEX_PATH in str(err.value)
    assert str(keras_home / "imagenet_class_index.json") in str(err.value)


# ---------------------------------------------------------------------------------------------------------
# _obtain_input_shape
# ---------------------------------------------------------------------------------------------------------

def test_obtain_input_shape_defaults():
    assert _obtain_input_shape(None, 224, 32, "channels_last", True, "imagenet") == (224, 224, 3)
    assert _obtain_input_shape(None, 224, 32, "channels_first", True, None) == (3, 224, 224)
    assert _obtain_input_shape(None, 224, 32, "channels_last", False, None) == (None, None, 3)
    assert _obtain_input_shape(None, 224, 32, "channels_first", False, "imagenet") == (3, None, None)
    assert _obtain_input_shape((40, 50, 3), 224, 32, "channels_last", False, "imagenet") == (40, 50, 3)
    # without imagenet weights the default keeps the given channel count
    assert _obtain_input_shape((1, 224, 224), 224, 32, "channels_first", True, None) == (1, 224, 224)


@pytest.mark.parametrize("args, message", [
    (((200, 200, 3), 224, 32, "channels_last", True, "imagenet"),
     r"When setting `include_top=True` and loading `imagenet` weights, `input_shape` should be \(224, 224, 3\)\."),
    (((32, 32), 224, 32, "channels_last", False, None), "`input_shape` must be a tuple of three integers."),
    (((32, 32, 1), 224, 32, "channels_last", False, "imagenet"),
     r"The input must have 3 channels; got `input_shape=\(32, 32, 1\)`"),
    (((3, 31, 40), 224, 32, "channels_first", False, None),
     r"Input size must be at least 32x32; got `input_shape=\(3, 31, 40\)`"),
    (((None, 64, 3), 224, 32, "channels_last", True, None),
     r"If `include_top` is True, you should specify a static `input_shape`. Got `input_shape=\(None, 64, 3\)`"),
])
def test_obtain_input_shape_errors_are_keras_messages(args, message):
    with pytest.raises(ValueError, match=message):
        _obtain_input_shape(*args)


def test_obtain_input_shape_warns_about_unusual_channel_counts():
    with pytest.warns(UserWarning, match="passed an input_shape with 5 input channels"):
        _obtain_input_shape((64, 64, 5), 224, 32, "channels_last", False, None)


# ---------------------------------------------------------------------------------------------------------
# Models: sizes, names, shapes
# ---------------------------------------------------------------------------------------------------------

def vgg_parameter_count(blocks, classes=1000):
    """Hand count of keras-applications' VGG: 3x3 convolutions with biases, then 7x7x512 -> 4096 -> 4096."""
    total, channels = 0, 3
    for filters, convolutions in blocks:
        for _ in range(convolutions):
            total += 9 * channels * filters + filters
            channels = filters
    return total + (7 * 7 * 512 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * classes


def test_vgg_parameter_counts_are_keras_documented_values():
    model16 = VGG16(weights=None)
    assert model16.count_params() == 138_357_544 == vgg_parameter_count([(64, 2), (128, 2), (256, 3), (512, 3),
                                                                          (512, 3)])
    assert model16.name == "vgg16" and model16.output_shape == (None, 1000)
    model19 = VGG19(weights=None)
    assert model19.count_params() == 143_667_240 == vgg_parameter_count([(64, 2), (128, 2), (256, 4), (512, 4),
                                                                          (512, 4)])
    assert model19.name == "vgg19"


def test_resnet50_parameter_counts_are_keras_documented_values():
    model = ResNet50(weights=None)
    assert model.count_params() == 25_636_712
    assert count_params(model.trainable_weights) == 25_583_592
    # the moving mean and variance of the 26_560 BatchNormalization channels (bn_conv1 and the blocks)
    assert count_params(model.non_trainable_weights) == 53_120
    assert model.name == "resnet50" and model.output_shape == (None, 1000)


def test_vgg16_layer_names_are_keras_names():
    model = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    expected = []
    for block, convolutions in enumerate([2, 2, 3, 3, 3], start=1):
        expected += [f"block{block}_conv{i}" for i in range(1, convolutions + 1)] + [f"block{block}_pool"]
    assert [layer.name for layer in model.layers[1:]] == expected


def test_vgg19_top_layer_names_are_keras_names():
    model = VGG19(weights=None, classes=10, input_shape=(32, 32, 3))
    names = [layer.name for layer in model.layers]
    assert names[-4:] == ["flatten", "fc1", "fc2", "predictions"]
    assert "block5_conv4" in names and model.output_shape == (None, 10)


def test_resnet50_layer_names_are_keras_names():
    model = ResNet50(include_top=True, weights=None, classes=7, input_shape=(32, 32, 3))
    names = {layer.name for layer in model.layers}
    for stage, blocks in [(2, "abc"), (3, "abcd"), (4, "abcdef"), (5, "abc")]:
        for block in blocks:
            for branch in ["2a", "2b", "2c"] + (["1"] if block == "a" else []):
                assert f"res{stage}{block}_branch{branch}" in names
                assert f"bn{stage}{block}_branch{branch}" in names
    assert {"conv1_pad", "conv1", "bn_conv1", "pool1_pad", "avg_pool", "fc1000"} <= names
    assert model.output_shape == (None, 7)


@pytest.mark.parametrize("pooling, shape", [(None, (None, 1, 1, 512)), ("avg", (None, 512)), ("max", (None, 512))])
def test_vgg16_without_top_output_shapes_per_pooling(pooling, shape):
    model = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3), pooling=pooling)
    assert model.output_shape == shape
    assert model.predict(np.zeros((1, 32, 32, 3), dtype="float32")).shape == (1,) + shape[1:]


@pytest.mark.parametrize("pooling, shape", [(None, (None, 2, 2, 2048)), ("avg", (None, 2048)),
                                            ("max", (None, 2048))])
def test_resnet50_without_top_output_shapes_per_pooling(pooling, shape):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3), pooling=pooling)
    # keras-applications warns that the 4D output changed in Keras 2.2.0, only without pooling
    assert any("has been changed since Keras 2.2.0" in str(w.message) for w in caught) == (pooling is None)
    assert model.output_shape == shape
    assert model.count_params() == 25_636_712 - (2048 * 1000 + 1000)


def test_resnet50_channels_first_normalises_axis_1():
    K.set_image_data_format("channels_first")
    try:
        model = ResNet50(include_top=False, weights=None, input_shape=(3, 32, 32), pooling="avg")
    finally:
        K.set_image_data_format("channels_last")
    assert model.get_layer("bn_conv1").axis == 1
    assert model.get_layer("conv1").output_shape == (None, 64, 16, 16)
    assert model.output_shape == (None, 2048)


def test_vgg16_on_another_models_tensor_starts_at_that_models_input():
    image = Input(shape=(32, 32, 1))
    rgb = Conv2D(3, (1, 1), name="to_rgb")(image)
    model = VGG16(include_top=False, weights=None, input_tensor=rgb, pooling="avg")
    assert model.inputs[0] is image
    assert model.get_layer("to_rgb") is not None
    assert model.predict(np.zeros((2, 32, 32, 1), dtype="float32")).shape == (2, 512)


# ---------------------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------------------

def test_vgg16_weights_path_loads_a_keras_h5_file(tmp_path):
    torch.manual_seed(0)
    source = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path / "vgg16_notop.h5"
    source.save_weights(str(path))
    loaded = VGG16(include_top=False, weights=str(path), input_shape=(48, 48, 3))
    for a, b in zip(source.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).uniform(-1, 1, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(VGG16(include_top=False, weights=str(path), input_shape=(32, 32, 3)).predict(x),
                               source.predict(x), rtol=1e-5, atol=1e-6)


def test_imagenet_weights_come_from_the_models_cache_under_keras_file_name(keras_home, monkeypatch):
    torch.manual_seed(0)
    source = ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    cached = keras_home / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    source.save_weights(str(cached))
    monkeypatch.setattr(resnet50, "WEIGHTS_HASH_NO_TOP", md5_of(cached))
    loaded = ResNet50(include_top=False, weights="imagenet", input_shape=(32, 32, 3), pooling="avg")
    for a, b in zip(source.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_imagenet_weights_offline_error_names_file_url_and_path(keras_home):
    with pytest.raises(OSError) as err:
        VGG16(include_top=False, weights="imagenet", input_shape=(32, 32, 3))
    assert vgg16.WEIGHTS_PATH_NO_TOP in str(err.value)
    assert str(keras_home / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5") in str(err.value)


@pytest.mark.parametrize("kwargs, message", [
    (dict(weights="imagenet", classes=10), 'If using `weights` as `"imagenet"` with `include_top` as true, '
                                           "`classes` should be 1000"),
    (dict(weights="/no/such/file.h5"), "The `weights` argument should be either `None`"),
    (dict(weights="imagenet", input_shape=(32, 32, 3)), "`input_shape` should be"),
    (dict(weights=None, include_top=False, input_shape=(16, 16, 3)), "Input size must be at least 32x32"),
])
@pytest.mark.parametrize("application", [VGG16, VGG19, ResNet50])
def test_argument_errors_are_keras_messages_raised_before_building(application, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        application(**kwargs)


def test_unknown_keyword_is_keras_type_error():
    with pytest.raises(TypeError, match="Invalid keyword argument: alpha"):
        VGG16(weights=None, include_top=False, alpha=1.0)


def torch_vgg_features(path, blocks, x_channels_last):
    """The VGG convolution blocks computed with torch.nn.functional straight from the Keras .h5 file (h5py):
    Keras kernels are (rows, cols, in, out), torch's (out, in, rows, cols)."""
    import h5py
    x = nchw(x_channels_last)
    with h5py.File(path, "r") as f:
        for block, convolutions in enumerate(blocks, start=1):
            for conv in range(1, convolutions + 1):
                group = f[f"block{block}_conv{conv}"]
                kernel, bias = (np.asarray(group[name]) for name in group.attrs["weight_names"])
                weight = torch.from_numpy(kernel).permute(3, 2, 0, 1).double()
                x = torch.relu(torch.nn.functional.conv2d(x, weight, torch.from_numpy(bias).double(), padding=1))
            x = torch.nn.functional.max_pool2d(x, 2, 2)
    return x.permute(0, 2, 3, 1).numpy()


def test_vgg19_outputs_equal_a_torch_reference_computed_from_the_keras_file(tmp_path):
    torch.manual_seed(2)
    path = tmp_path / "vgg19_notop.h5"
    VGG19(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(str(path))
    x = np.random.default_rng(3).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    x = preprocess_input(x, mode="caffe")  # a channel-reversed view (negative strides), as Keras returns it
    model = VGG19(include_top=False, weights=str(path), input_shape=(32, 32, 3))
    expected = torch_vgg_features(path, [2, 2, 4, 4, 4], x)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_keras_modules_injection_passes_kerasish_modules():
    from kerasish import backend, layers, models, utils
    from kerasish.applications import keras_modules_injection

    @keras_modules_injection
    def received(**kwargs):
        return kwargs

    assert received(x=1) == dict(x=1, backend=backend, layers=layers, models=models, utils=utils)


class KerasFile:
    """Reads a Keras .h5 weights file (h5py) as float64 torch tensors, layer by layer."""

    def __init__(self, f):
        self.f = f

    def __getitem__(self, layer):
        group = self.f[layer]
        return [torch.from_numpy(np.asarray(group[name])).double() for name in group.attrs["weight_names"]]

    def conv(self, x, layer, stride=1, padding=0):
        kernel, bias = self[layer]
        return torch.nn.functional.conv2d(x, kernel.permute(3, 2, 0, 1), bias, stride=stride, padding=padding)

    def bn(self, x, layer):
        gamma, beta, mean, variance = self[layer]
        # Keras BatchNormalization in inference, epsilon 1e-3
        return torch.nn.functional.batch_norm(x, mean, variance, gamma, beta, training=False, eps=1e-3)


def torch_resnet50_avg_features(path, x_channels_last):
    """ResNet50 as keras-applications 1.0.8 draws it, in torch.nn.functional (channels first) from the file."""
    import h5py
    relu = torch.relu
    x = nchw(x_channels_last)
    with h5py.File(path, "r") as f:
        w = KerasFile(f)
        x = relu(w.bn(w.conv(torch.nn.functional.pad(x, (3, 3, 3, 3)), "conv1", stride=2), "bn_conv1"))
        x = torch.nn.functional.max_pool2d(torch.nn.functional.pad(x, (1, 1, 1, 1)), 3, 2)
        for stage, blocks in [(2, "abc"), (3, "abcd"), (4, "abcdef"), (5, "abc")]:
            for block in blocks:
                stride = 2 if block == "a" and stage > 2 else 1
                name = f"{stage}{block}_branch"
                y = relu(w.bn(w.conv(x, "res" + name + "2a", stride=stride), "bn" + name + "2a"))
                y = relu(w.bn(w.conv(y, "res" + name + "2b", padding=1), "bn" + name + "2b"))
                y = w.bn(w.conv(y, "res" + name + "2c"), "bn" + name + "2c")
                shortcut = w.bn(w.conv(x, "res" + name + "1", stride=stride), "bn" + name + "1") if block == "a" else x
                x = relu(y + shortcut)
    return x.mean(dim=(2, 3)).numpy()


def test_resnet50_outputs_equal_a_torch_reference_computed_from_the_keras_file(tmp_path):
    rng = np.random.default_rng(4)
    model = ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    # random moving statistics and BatchNormalization scales, so that the file's every weight matters
    model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype("float32") if w.ndim == 1 else w
                       for w in model.get_weights()])
    path = tmp_path / "resnet50_notop.h5"
    model.save_weights(str(path))
    x = preprocess_input(rng.uniform(0, 255, size=(2, 32, 32, 3)).astype("float32"), mode="caffe")
    loaded = ResNet50(include_top=False, weights=str(path), input_shape=(32, 32, 3), pooling="avg")
    expected = torch_resnet50_avg_features(path, x)
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
