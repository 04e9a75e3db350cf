"""kerasish.backend: epsilon, floatx, image_data_format, the device choice, layer-name counters.

Defaults are Keras 2.3.1 ``keras/backend/common.py``: epsilon 1e-7, floatx 'float32', 'channels_last'.
"""
import numpy as np
import pytest
import torch

from kerasish import backend
from kerasish.layers.core import Dense


@pytest.fixture
def restore_globals():
    """Tests that change process-wide settings put them back, whatever happens."""
    saved = (backend.epsilon(), backend.floatx(), backend.image_data_format())
    yield
    backend.set_epsilon(saved[0])
    backend.set_floatx(saved[1])
    backend.set_image_data_format(saved[2])


# ---------------------------------------------------------------- numerics
def test_epsilon_defaults_to_keras_1e_7():
    assert backend.epsilon() == 1e-7


def test_set_epsilon_changes_the_fuzz_factor(restore_globals):
    backend.set_epsilon(1e-5)
    assert backend.epsilon() == 1e-5


def test_floatx_defaults_to_float32():
    assert backend.floatx() == "float32"
    assert backend.torch_floatx() is torch.float32


def test_set_floatx_accepts_float64_and_maps_to_torch_dtype(restore_globals):
    backend.set_floatx("float64")
    assert backend.floatx() == "float64"
    assert backend.torch_floatx() is torch.float64


def test_set_floatx_rejects_unknown_type_and_keeps_the_old_one(restore_globals):
    with pytest.raises(ValueError, match="int8"):
        backend.set_floatx("int8")
    assert backend.floatx() == "float32"


@pytest.mark.parametrize("given", ["float64", "double", torch.float64, np.float64, np.dtype("float64")])
def test_standardize_dtype_gives_the_keras_name_of_names_torch_and_numpy_dtypes(given):
    assert backend.standardize_dtype(given) == "float64"
    assert backend.torch_dtype(given) is torch.float64


@pytest.mark.parametrize("given", ["floaty", None, 3, "nn", object])
def test_standardize_dtype_rejects_what_is_not_a_dtype(given):
    with pytest.raises(ValueError, match="layer: expected a dtype such as 'float32' or 'float64'"):
        backend.standardize_dtype(given, "layer")


def test_to_numpy_keeps_the_dtype_and_reads_bfloat16_as_float32():
    assert backend.to_numpy(torch.ones(2, dtype=torch.float64)).dtype == np.float64
    assert backend.to_numpy(torch.ones(2, dtype=torch.float16)).dtype == np.float16
    assert backend.to_numpy(torch.tensor([1.5], dtype=torch.bfloat16, requires_grad=True)).tolist() == [1.5]


# ---------------------------------------------------------------- image_data_format
def test_image_data_format_defaults_to_channels_last():
    assert backend.image_data_format() == "channels_last"


def test_set_image_data_format_switches_to_channels_first(restore_globals):
    backend.set_image_data_format("channels_first")
    assert backend.image_data_format() == "channels_first"
    assert backend.normalize_data_format(None) == "channels_first"


def test_set_image_data_format_rejects_unknown_value_and_keeps_the_old_one(restore_globals):
    with pytest.raises(ValueError, match="channels_middle"):
        backend.set_image_data_format("channels_middle")
    assert backend.image_data_format() == "channels_last"


def test_normalize_data_format_lowercases_and_rejects_unknown():
    # Keras 2.3.1 normalize_data_format: value.lower(), then checked against the two formats
    assert backend.normalize_data_format("Channels_First") == "channels_first"
    assert backend.normalize_data_format(None) == "channels_last"
    with pytest.raises(ValueError, match="nchw"):
        backend.normalize_data_format("nchw")


# ---------------------------------------------------------------- device
@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv(backend.DEVICE_ENV_VAR, raising=False)


@pytest.fixture
def fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv(backend.DEVICE_ENV_VAR, raising=False)


def test_get_device_is_cpu_when_cuda_is_unavailable(no_cuda):
    assert backend.get_device() == torch.device("cpu")


def test_get_device_prefers_cuda_when_available(fake_cuda):
    assert backend.get_device().type == "cuda"


def test_env_var_beats_cuda_availability(fake_cuda, monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "cpu")
    assert backend.get_device() == torch.device("cpu")


def test_set_device_beats_env_var(fake_cuda, monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "cuda:0")
    backend.set_device("cpu")
    assert backend.get_device() == torch.device("cpu")


def test_set_device_none_restores_the_default_choice(no_cuda, monkeypatch):
    backend.set_device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    backend.set_device(None)
    assert backend.get_device().type == "cuda"


def test_env_var_asking_for_cuda_without_cuda_raises_naming_the_env_var(no_cuda, monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "cuda")
    with pytest.raises(ValueError, match=backend.DEVICE_ENV_VAR):
        backend.get_device()


def test_set_device_cuda_without_cuda_raises_naming_set_device_and_keeps_default(no_cuda):
    with pytest.raises(ValueError, match="set_device"):
        backend.set_device("cuda:0")
    assert backend.get_device() == torch.device("cpu")


def test_unparseable_env_var_device_raises_value_error(no_cuda, monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "not-a-device")
    with pytest.raises(ValueError, match="not-a-device"):
        backend.get_device()


# ---------------------------------------------------------------- names and session
def test_get_uid_counts_from_one_per_prefix():
    backend.clear_session()
    assert [backend.get_uid("dense"), backend.get_uid("dense"), backend.get_uid("conv2d")] == [1, 2, 1]
    assert backend.get_uid("dense") == 3


def test_clear_session_resets_layer_names():
    backend.clear_session()
    assert [Dense(2).name, Dense(2).name] == ["dense_1", "dense_2"]
    backend.clear_session()
    assert Dense(2).name == "dense_1"


# ---------------------------------------------------------------- values
def test_set_value_writes_in_place_and_get_value_returns_numpy():
    t = torch.zeros(2, 3)
    backend.set_value(t, np.arange(6.0).reshape(2, 3))
    value = backend.get_value(t)
    assert isinstance(value, np.ndarray)
    np.testing.assert_array_equal(value, np.arange(6.0).reshape(2, 3))
    assert backend.get_value(0.5) == 0.5


def test_set_value_on_a_python_number_raises_type_error():
    with pytest.raises(TypeError, match="set_value"):
        backend.set_value(0.1, 0.2)


def test_count_params_is_the_product_of_the_shape():
    assert backend.count_params(torch.zeros(3, 4, 5)) == 60
