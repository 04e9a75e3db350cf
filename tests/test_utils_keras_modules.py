"""Keras 2.3.1's ``keras.utils`` modules at their paths (np_utils, generic_utils, io_utils, conv_utils, layer_utils,
vis_utils, multi_gpu_utils; keras.wrappers): every name of the checklists in tests/fixtures/keras231_names exists,
and the helpers behave as Keras 2.3.1's code defines them. Expected values come from NumPy, scipy, torch's own
convolutions or numbers derived by hand from Keras's formulas. HDF5: test_utils_hdf5.py; plots: test_vis_utils.py;
scikit-learn wrappers: test_scikit_learn_wrappers.py."""
import base64
import importlib
import inspect
import marshal
import pathlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import signal

import kerasish.utils
from kerasish.layers import (Add, Concatenate, Conv2D, Conv2DTranspose, Dense, DepthwiseConv2D, Flatten,
                             Input)
from kerasish.layers.base import normalize_tuple as layers_normalize_tuple
from kerasish.models import Model, Sequential
from kerasish.utils import conv_utils, generic_utils, layer_utils, multi_gpu_utils
from kerasish.utils.progbar import Progbar

CHECKLISTS = pathlib.Path(__file__).parent / "fixtures" / "keras231_names"
OWN_CHECKLISTS = ["keras.utils", "keras.utils.np_utils", "keras.utils.generic_utils", "keras.utils.io_utils",
                  "keras.utils.conv_utils", "keras.utils.layer_utils", "keras.utils.vis_utils",
                  "keras.utils.multi_gpu_utils", "keras.wrappers", "keras.wrappers.scikit_learn"]
DATA_UTILS_NAMES = {"data_utils", "get_file", "Sequence", "GeneratorEnqueuer", "OrderedEnqueuer"}


def checklist(module: str) -> list[tuple[str, str | None]]:
    """``[(name, why impossible or None)]`` of a checklist file."""
    entries = []
    for line in (CHECKLISTS / f"{module}.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, comment = line.partition("#")
            entries.append((name.strip(), comment.strip().removeprefix("impossible:").strip() or None))
    return entries


# ---------------------------------------------------------------------------------------------- checklists
@pytest.mark.parametrize("module", OWN_CHECKLISTS)
def test_every_checklisted_keras_name_exists_at_the_same_path_in_kerasish(module):
    target = importlib.import_module("kerasish" + module[len("keras"):])
    names = checklist(module)
    assert names and len({n for n, _ in names}) == len(names)
    missing = [name for name, _ in names if not hasattr(target, name)]
    assert missing == [], f"{target.__name__} lacks Keras 2.3.1's {missing}"


def test_the_checklists_name_what_keras_231_defines_there():
    assert [n for n, _ in checklist("keras.utils.conv_utils")] == [
        "normalize_tuple", "normalize_padding", "convert_kernel", "conv_output_length", "conv_input_length",
        "deconv_length"]
    package = {n for n, _ in checklist("keras.utils")}
    assert {"plot_model", "HDF5Matrix", "multi_gpu_model", "Progbar", "H5Dict"} <= package
    assert not package & DATA_UTILS_NAMES  # the data_utils checklist's owner adds those
    assert [n for n, _ in checklist("keras.wrappers.scikit_learn")] == ["BaseWrapper", "KerasClassifier",
                                                                         "KerasRegressor"]


def test_the_one_impossible_name_func_load_refuses_with_its_reason():
    impossible = {(m, n): why for m in OWN_CHECKLISTS for n, why in checklist(m) if why}
    assert list(impossible) == [("keras.utils.generic_utils", "func_load")]
    with pytest.raises(ValueError, match="never runs code"):
        generic_utils.func_load(generic_utils.func_dump(lambda x: x + 1))


def test_the_package_gives_the_submodules_and_names_keras_utils_gives():
    import kerasish.utils.vis_utils as vis_utils
    assert kerasish.utils.vis_utils is vis_utils and kerasish.utils.plot_model is vis_utils.plot_model
    assert kerasish.utils.print_summary is layer_utils.print_summary
    assert kerasish.utils.Progbar is generic_utils.Progbar is Progbar
    assert "multi_gpu_model" in dir(kerasish.utils)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        kerasish.utils.nothing  # noqa: B018


# ---------------------------------------------------------------------------------------------- generic_utils
def test_has_arg_takes_keyword_callable_names_only():
    def fn(a, /, b, *args, c=1, **kwargs):
        return a, b, args, c, kwargs

    assert generic_utils.has_arg(fn, "b") and generic_utils.has_arg(fn, "c")
    assert not generic_utils.has_arg(fn, "a")  # positional-only
    assert not generic_utils.has_arg(fn, "args")
    assert not generic_utils.has_arg(fn, "zzz") and generic_utils.has_arg(fn, "zzz", accept_all=True)
    assert not generic_utils.has_arg(lambda x: x, "zzz", accept_all=True)


def test_getargspec_is_the_old_argspec_shape():
    def fn(a, b=2, *rest, **options):
        return a, b, rest, options

    spec = generic_utils.getargspec(fn)
    assert spec == (["a", "b"], "rest", "options", (2,))
    assert spec.keywords == "options" and spec.defaults == (2,)


def test_func_dump_writes_keras_base64_marshal_format_with_defaults_and_closure():
    offset = 3

    def shifted(x, scale=2):
        return x * scale + offset

    code, defaults, closure = generic_utils.func_dump(shifted)
    assert "\n" in code and max(len(line) for line in code.splitlines()) == 76  # codecs' base64 lines
    assert marshal.loads(base64.b64decode(code)) == shifted.__code__  # the test's own function: safe to load
    assert defaults == (2,) and closure == (3,)
    assert generic_utils.func_dump(lambda: 1)[1:] == (None, None)


def test_func_load_never_unmarshals_or_runs_bytecode(monkeypatch):
    def forbidden(*args):
        raise AssertionError("func_load unmarshalled data")

    monkeypatch.setattr(marshal, "loads", forbidden)
    dumped = generic_utils.func_dump(lambda x: x)
    for call in (lambda: generic_utils.func_load(dumped), lambda: generic_utils.func_load(dumped[0], globs={}),
                 lambda: generic_utils.func_load(list(dumped))):
        with pytest.raises(ValueError, match=r"custom_objects=\{'my_function': my_function\}"):
            call()


class Scaled:
    def __init__(self, factor=1.0):
        self.factor = factor

    def get_config(self):
        return {"factor": self.factor}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Holder:
    """from_config takes custom_objects: Keras hands them over (the registry's and the call's)."""

    def __init__(self, seen):
        self.seen = seen

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(sorted(custom_objects))


def test_serialize_then_deserialize_rebuilds_the_object():
    config = generic_utils.serialize_keras_object(Scaled(2.5))
    assert config == {"class_name": "Scaled", "config": {"factor": 2.5}}
    again = generic_utils.deserialize_keras_object(config, module_objects={"Scaled": Scaled})
    assert type(again) is Scaled and again.factor == 2.5
    assert generic_utils.serialize_keras_object(np.mean) == "mean"
    assert generic_utils.serialize_keras_object(None) is None
    with pytest.raises(ValueError, match="Cannot serialize"):
        generic_utils.serialize_keras_object(object())


def test_deserialize_looks_in_custom_objects_then_the_registry_then_the_module():
    class Other(Scaled):
        pass

    config = {"class_name": "Scaled", "config": {"factor": 1.0}}
    assert type(generic_utils.deserialize_keras_object(config, {"Scaled": Scaled}, {"Scaled": Other})) is Other
    with generic_utils.custom_object_scope({"Scaled": Other}):
        assert type(generic_utils.deserialize_keras_object(config, {"Scaled": Scaled})) is Other
    assert generic_utils.deserialize_keras_object("mean", {"mean": np.mean}) is np.mean
    assert generic_utils.deserialize_keras_object(None) is None
    with generic_utils.custom_object_scope({"from_scope": 1}):
        holder = generic_utils.deserialize_keras_object({"class_name": "Holder", "config": {}}, {"Holder": Holder},
                                                        {"extra": 2})
    assert holder.seen == ["extra", "from_scope"]


def test_deserialize_errors_keep_keras_wording():
    with pytest.raises(ValueError, match="Unknown activation: nope"):
        generic_utils.deserialize_keras_object("nope", {}, printable_module_name="activation")
    with pytest.raises(ValueError, match="Improper config format"):
        generic_utils.deserialize_keras_object({"class_name": "Scaled"}, {"Scaled": Scaled})
    with pytest.raises(ValueError, match="Could not interpret serialized object: 3"):
        generic_utils.deserialize_keras_object(3)


def test_list_helpers_follow_keras():
    assert generic_utils.to_list((1, 2)) == [(1, 2)] and generic_utils.to_list((1, 2), allow_tuple=True) == [1, 2]
    same = [1]
    assert generic_utils.to_list(same) is same and generic_utils.to_list(5) == [5]
    assert generic_utils.unpack_singleton([7]) == 7 and generic_utils.unpack_singleton([7, 8]) == [7, 8]
    a, b = object(), object()
    assert generic_utils.object_list_uid([a, b]) == f"{abs(id(a))}, {abs(id(b))}"
    assert generic_utils.is_all_none((None, None)) and not generic_utils.is_all_none([None, 0])
    assert generic_utils.is_all_none(None)


def test_slice_arrays_slices_each_array_or_takes_indices():
    x, y = np.arange(10), np.arange(10, 20)
    first, second, third = generic_utils.slice_arrays([x, None, y], 2, 5)
    np.testing.assert_array_equal(first, [2, 3, 4])
    assert second is None
    np.testing.assert_array_equal(third, [12, 13, 14])
    picked = generic_utils.slice_arrays([x, y], np.array([4, 1]))
    np.testing.assert_array_equal(picked[1], [14, 11])
    np.testing.assert_array_equal(generic_utils.slice_arrays(x, [0, 9]), [0, 9])
    np.testing.assert_array_equal(generic_utils.slice_arrays(x, 8, None), [8, 9])
    assert generic_utils.slice_arrays(None) == [None]


def test_transpose_shape_examples_of_keras_docstring():
    assert generic_utils.transpose_shape((16, 128, 128, 32), "channels_first", (1, 2)) == (16, 32, 128, 128)
    assert generic_utils.transpose_shape((16, 128, 128, 32), "channels_last", (1, 2)) == (16, 128, 128, 32)
    assert generic_utils.transpose_shape([128, 128, 32], "channels_first", (0, 1)) == [32, 128, 128]
    with pytest.raises(ValueError, match='must be one of "channels_first", "channels_last". Received: nchw'):
        generic_utils.transpose_shape((1, 2, 3), "nchw", (0, 1))


def test_check_for_unexpected_keys_names_them():
    generic_utils.check_for_unexpected_keys("loss", {"out": 1}, ["out"])
    with pytest.raises(ValueError, match=r"Unknown entries in loss dictionary: \['typo'\]"):
        generic_utils.check_for_unexpected_keys("loss", {"out": 1, "typo": 2}, ["out"])


# ---------------------------------------------------------------------------------------------- conv_utils
def test_conv_utils_serves_the_layers_rules(monkeypatch):
    from kerasish.layers import convolutional
    assert conv_utils.normalize_tuple is layers_normalize_tuple
    monkeypatch.setattr(convolutional, "conv_output_length", lambda *args: ("layers", args))
    monkeypatch.setattr(convolutional, "deconv_length", lambda *args: ("layers", args))
    assert conv_utils.conv_output_length(10, 3, "same", 2) == ("layers", (10, 3, "same", 2, 1))
    assert conv_utils.deconv_length(4, 2, 3, "valid", None) == ("layers", (4, 2, 3, "valid", None, 1))
    assert conv_utils.normalize_tuple(3, 2, "strides") == (3, 3)
    assert conv_utils.normalize_tuple([1, 2, 3], 3, "kernel_size") == (1, 2, 3)
    with pytest.raises(ValueError, match="strides"):
        conv_utils.normalize_tuple((1, 2), 3, "strides")


@pytest.mark.parametrize("length,kernel,stride,dilation", [(10, 3, 1, 1), (10, 3, 2, 1), (11, 4, 3, 2), (5, 5, 1, 1)])
def test_conv_output_length_matches_torch_for_valid_and_full_and_ceil_for_same(length, kernel, stride, dilation):
    x, w = torch.zeros(1, 1, length), torch.zeros(1, 1, kernel)
    dilated = (kernel - 1) * dilation + 1
    valid = F.conv1d(x, w, stride=stride, dilation=dilation).shape[-1]
    full = F.conv1d(x, w, stride=stride, dilation=dilation, padding=dilated - 1).shape[-1]
    assert conv_utils.conv_output_length(length, kernel, "valid", stride, dilation) == valid
    assert conv_utils.conv_output_length(length, kernel, "full", stride, dilation) == full
    assert conv_utils.conv_output_length(length, kernel, "same", stride, dilation) == -(-length // stride)
    assert conv_utils.conv_output_length(length, kernel, "causal", stride, dilation) == -(-length // stride)
    assert conv_utils.conv_output_length(None, kernel, "same", stride) is None
    with pytest.raises(ValueError, match="conv_output_length: padding must be one of .*received 'reflect'"):
        conv_utils.conv_output_length(length, kernel, "reflect", stride)


# output_padding below the stride: torch and TF both refuse a whole stride of it
DECONV_CASES = [(length, kernel, stride, dilation, output_padding)
                for length, kernel, stride, dilation in [(4, 3, 1, 1), (4, 3, 2, 1), (5, 2, 3, 1), (3, 3, 2, 2)]
                for output_padding in (None, 0, 1) if output_padding is None or output_padding < stride]


@pytest.mark.parametrize("length,kernel,stride,dilation,output_padding", DECONV_CASES)
def test_deconv_length_matches_torch_conv_transpose(length, kernel, stride, dilation, output_padding):
    dilated = (kernel - 1) * dilation + 1
    x, w = torch.zeros(1, 1, length), torch.zeros(1, 1, kernel)
    # Keras infers output_padding=None as the largest output for 'valid' (only when kernel >= stride)
    for padding, pad in (("valid", 0), ("full", dilated - 1), ("same", dilated // 2)):
        if output_padding is None and padding == "same":
            expected = length * stride  # TF's 'same': stride times the input
        elif output_padding is None and padding == "valid" and dilated < stride:
            expected = length * stride
        else:
            expected = F.conv_transpose1d(x, w, stride=stride, dilation=dilation, padding=pad,
                                          output_padding=output_padding or 0).shape[-1]
        assert conv_utils.deconv_length(length, stride, kernel, padding, output_padding, dilation) == expected
    with pytest.raises(ValueError, match="deconv_length: padding must be one of"):
        conv_utils.deconv_length(length, stride, kernel, "causal", output_padding)


def test_conv_input_length_inverts_output_length_at_stride_1():
    for padding, kernel in (("valid", 3), ("full", 4), ("same", 5)):
        output = conv_utils.conv_output_length(12, kernel, padding, 1)
        assert conv_utils.conv_input_length(output, kernel, padding, 1) == 12
    assert conv_utils.conv_input_length(4, 3, "valid", 2) == 9  # (4 - 1) * 2 + 3
    assert conv_utils.conv_input_length(None, 3, "valid", 2) is None


def test_normalize_padding_lowercases_and_refuses_with_keras_wording():
    assert conv_utils.normalize_padding("SAME") == "same" and conv_utils.normalize_padding("causal") == "causal"
    with pytest.raises(ValueError, match=r'must be one of "valid", "same" \(or "causal" for Conv1D\). Received: full'):
        conv_utils.normalize_padding("full")


def test_convert_kernel_turns_cross_correlation_into_true_convolution():
    rng = np.random.RandomState(0)
    image, kernel = rng.randn(7, 6).astype("float32"), rng.randn(3, 2).astype("float32")
    keras_kernel = kernel[:, :, None, None]  # (rows, cols, in, out)
    flipped = conv_utils.convert_kernel(keras_kernel)
    torch_kernel = torch.from_numpy(flipped[:, :, 0, 0].copy())[None, None]
    correlated = F.conv2d(torch.from_numpy(image)[None, None], torch_kernel)[0, 0].numpy()
    np.testing.assert_allclose(correlated, signal.convolve2d(image, kernel, mode="valid"), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(conv_utils.convert_kernel(flipped), keras_kernel)
    with pytest.raises(ValueError, match="Invalid kernel shape"):
        conv_utils.convert_kernel(np.zeros((3, 3)))


# ---------------------------------------------------------------------------------------------- layer_utils
def two_input_model():
    a, b = Input((3,), name="a"), Input((2,), name="b")
    shared = Dense(2, name="shared")
    left, right = shared(a), shared(Dense(3, name="lift")(b))
    joined = Concatenate(name="join")([left, right + 1.0])
    return Model([a, b], Dense(1, name="out")(joined)), (a, b), (left, right, joined), shared


def test_get_source_inputs_walks_back_to_the_inputs_through_shared_layers_and_torch_ops():
    model, (a, b), (left, right, joined), _ = two_input_model()
    assert layer_utils.get_source_inputs(model.output) == [a, b]
    assert layer_utils.get_source_inputs(right) == [b]
    assert layer_utils.get_source_inputs(joined) == [a, b]
    assert layer_utils.get_source_inputs(a) == [a]
    assert layer_utils.get_source_inputs(Add()([left, left])) == [a]  # each input once
    not_symbolic = np.zeros(3)
    assert layer_utils.get_source_inputs(not_symbolic) is not_symbolic


def test_get_source_inputs_with_an_explicit_node():
    model, (a, b), (left, right, _), shared = two_input_model()
    assert layer_utils.get_source_inputs(right, shared, 1) == [b]
    assert layer_utils.get_source_inputs(right, shared, 0) == [a]


def test_count_params_counts_a_shared_weight_once_and_takes_arrays():
    model, *_ , shared = two_input_model()
    weights = shared.trainable_weights
    assert layer_utils.count_params(weights + weights) == 3 * 2 + 2
    assert layer_utils.count_params([np.zeros((4, 5)), np.zeros(3)]) == 23
    assert layer_utils.count_params(model.weights) == model.count_params()


def test_print_summary_is_model_summary():
    model, *_ = two_input_model()
    direct, through_utils = [], []
    model.summary(print_fn=direct.append)
    layer_utils.print_summary(model, print_fn=through_utils.append)
    assert direct == through_utils and "Connected to" in direct[2]


def test_convert_all_kernels_in_model_makes_theano_kernels_convolve():
    torch.manual_seed(0)
    model = Sequential([Conv2D(1, (3, 2), input_shape=(6, 5, 1), use_bias=False, name="conv"),
                        Conv2DTranspose(1, 2, use_bias=False, name="up"),
                        DepthwiseConv2D(2, use_bias=False, name="depthwise"),
                        Flatten(), Dense(2, name="dense")])
    before = [w.copy() for w in model.get_weights()]
    image = np.random.RandomState(1).randn(1, 6, 5, 1).astype("float32")
    layer_utils.convert_all_kernels_in_model(model)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], before[0][::-1, ::-1])  # Conv2D
    np.testing.assert_array_equal(after[1], before[1][::-1, ::-1])  # Conv2DTranspose
    for untouched in (2, 3, 4):  # DepthwiseConv2D (Keras's list leaves it out) and Dense
        np.testing.assert_array_equal(after[untouched], before[untouched])
    conv_only = Model(model.inputs, model.get_layer("conv").output)
    expected = signal.convolve2d(image[0, :, :, 0], before[0][:, :, 0, 0], mode="valid")  # Theano's convolution
    np.testing.assert_allclose(conv_only.predict(image)[0, :, :, 0], expected, rtol=1e-5, atol=1e-5)
    layer_utils.convert_all_kernels_in_model(model)
    np.testing.assert_array_equal(model.get_weights()[0], before[0])


def test_convert_dense_weights_data_format_keeps_the_dense_outputs_across_layouts():
    rng = np.random.RandomState(0)
    h, w, c, units = 2, 3, 4, 5
    feature_map = rng.randn(h, w, c).astype("float32")  # channels_last
    dense = Dense(units, input_dim=h * w * c)
    dense.build((None, h * w * c))
    kernel, bias = rng.randn(h * w * c, units).astype("float32"), rng.randn(units).astype("float32")
    dense.set_weights([kernel, bias])
    expected = feature_map.reshape(-1) @ kernel + bias
    layer_utils.convert_dense_weights_data_format(dense, (c, h, w), target_data_format="channels_first")
    new_kernel, _ = dense.get_weights()
    np.testing.assert_allclose(feature_map.transpose(2, 0, 1).reshape(-1) @ new_kernel + bias, expected, rtol=1e-5)
    layer_utils.convert_dense_weights_data_format(dense, (h, w, c), target_data_format="channels_last")
    np.testing.assert_allclose(dense.get_weights()[0], kernel, rtol=1e-6)
    with pytest.raises(ValueError, match="target_data_format"):
        layer_utils.convert_dense_weights_data_format(dense, (h, w, c), "nhwc")


# ---------------------------------------------------------------------------------------------- multi_gpu_utils
def small_model():
    return Sequential([Dense(2, input_dim=3)])


def test_multi_gpu_model_without_enough_gpus_raises_keras_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"call `multi_gpu_model` with `gpus >= 2`. Received: `gpus=1`"):
        multi_gpu_utils.multi_gpu_model(small_model())  # all visible GPUs: one
    with pytest.raises(ValueError, match=r"`len\(gpus\) >= 2`. Received: `gpus=\[0\]`"):
        multi_gpu_utils.multi_gpu_model(small_model(), gpus=[0])
    message = ("To call `multi_gpu_model` with `gpus=2`, we expect the following devices to be available: "
               "['/cpu:0', '/gpu:0', '/gpu:1']. However this machine only has: ['/gpu:0', '/cpu:0']. "
               "Try reducing `gpus`.")
    with pytest.raises(ValueError) as error:
        multi_gpu_utils.multi_gpu_model(small_model(), gpus=2)
    assert str(error.value) == message


def test_multi_gpu_model_in_one_process_gives_the_torchrun_command(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setattr("sys.argv", ["train.py", "--epochs", "3", "--name", "two words"])
    with pytest.raises(RuntimeError) as error:
        multi_gpu_utils.multi_gpu_model(small_model(), gpus=[1, 3])
    assert "torchrun --standalone --nproc_per_node=2 train.py --epochs 3 --name 'two words'" in str(error.value)
    with pytest.raises(RuntimeError, match="nproc_per_node=4 "):
        multi_gpu_utils.multi_gpu_model(small_model())


def test_multi_gpu_model_under_torchrun_returns_the_model_it_trains_data_parallel(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    model = small_model()
    assert multi_gpu_utils.multi_gpu_model(model) is model
    assert multi_gpu_utils.multi_gpu_model(model, gpus=2, cpu_merge=False, cpu_relocation=True) is model
    with pytest.raises(ValueError, match="gpus=4 but this job runs 2 processes"):
        multi_gpu_utils.multi_gpu_model(model, gpus=4)


def test_multi_gpu_model_checks_its_flags():
    with pytest.raises(TypeError, match="cpu_merge must be True or False"):
        multi_gpu_utils.multi_gpu_model(small_model(), cpu_merge="cpu")
    assert list(inspect.signature(multi_gpu_utils.multi_gpu_model).parameters) == [
        "model", "gpus", "cpu_merge", "cpu_relocation"]
