"""kerasish.initializers: Keras 2.3.1 fans, bounds, variances, seeds and lookup (``keras/initializers.py``)."""
import math

import numpy as np
import pytest
import scipy.stats
import torch

from kerasish import backend, initializers

TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) truncated to (-2, 2), Keras 2.3.1 VarianceScaling


def draw(initializer, shape):
    return initializer(shape).double().numpy()


# ---------------------------------------------------------------- fans
@pytest.mark.parametrize("shape,expected", [
    ((3, 5), (3, 5)),                        # Dense (in, out)
    ((5, 2, 7), (5 * 2, 5 * 7)),             # Conv1D (k, in, out)
    ((3, 3, 4, 8), (9 * 4, 9 * 8)),          # Conv2D (kh, kw, in, out)
    ((2, 2, 2, 3, 4), (8 * 3, 8 * 4)),       # Conv3D
    ((16,), (4.0, 4.0)),                     # no assumption: sqrt(prod(shape)) both ways
    ((2, 3, 4, 5, 6, 7), (math.sqrt(5040),) * 2),
])
def test_compute_fans_follows_keras_channels_last_rule(shape, expected):
    fan_in, fan_out = initializers.compute_fans(shape)
    assert fan_in == pytest.approx(expected[0])
    assert fan_out == pytest.approx(expected[1])


def test_truncated_normal_std_constant_is_scipy_truncnorm_std():
    assert scipy.stats.truncnorm.std(-2, 2) == pytest.approx(TRUNCATED_STD, rel=1e-12)


# ---------------------------------------------------------------- variance scaling
def test_glorot_uniform_bounds_and_variance_on_a_dense_kernel():
    torch.manual_seed(0)
    w = draw(initializers.glorot_uniform(), (200, 300))
    limit = math.sqrt(6.0 / (200 + 300))
    assert w.dtype == np.float64 and w.shape == (200, 300)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3.0, rel=0.03)   # variance of U(-a, a) is a^2 / 3
    assert abs(w.mean()) < 0.01 * limit


def test_glorot_uniform_on_a_conv_kernel_uses_receptive_field_fans():
    torch.manual_seed(0)
    w = draw(initializers.glorot_uniform(), (3, 3, 16, 32))
    limit = math.sqrt(6.0 / (9 * 16 + 9 * 32))
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit


def test_he_normal_is_truncated_with_std_sqrt_2_over_fan_in():
    torch.manual_seed(0)
    fan_in = 400
    w = draw(initializers.he_normal(), (fan_in, 300))
    target_std = math.sqrt(2.0 / fan_in)
    draw_std = target_std / TRUNCATED_STD   # the normal before truncation at two of its stddevs
    assert w.std() == pytest.approx(target_std, rel=0.02)
    assert np.abs(w).max() <= 2.0 * draw_std
    assert np.abs(w).max() > 1.95 * draw_std


@pytest.mark.parametrize("factory,limit_of", [
    (initializers.he_uniform, lambda fi, fo: math.sqrt(6.0 / fi)),
    (initializers.lecun_uniform, lambda fi, fo: math.sqrt(3.0 / fi)),
])
def test_fan_in_uniform_limits(factory, limit_of):
    torch.manual_seed(0)
    w = draw(factory(), (50, 400))
    limit = limit_of(50, 400)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit


def test_lecun_normal_std_is_sqrt_1_over_fan_in():
    torch.manual_seed(0)
    w = draw(initializers.lecun_normal(), (250, 400))
    assert w.std() == pytest.approx(math.sqrt(1.0 / 250), rel=0.02)


def test_variance_scaling_fan_out_uniform():
    torch.manual_seed(0)
    w = draw(initializers.VarianceScaling(scale=3.0, mode="fan_out", distribution="uniform"), (100, 30))
    limit = math.sqrt(3.0 * 3.0 / 30)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit


@pytest.mark.parametrize("kwargs", [{"scale": 0.0}, {"mode": "fan_sideways"}, {"distribution": "cauchy"}])
def test_variance_scaling_rejects_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        initializers.VarianceScaling(**kwargs)


# ---------------------------------------------------------------- other initializers
@pytest.mark.parametrize("shape", [(64, 32), (3, 3, 4, 8)])
def test_orthogonal_gives_orthonormal_columns_of_the_flattened_kernel(shape):
    w = draw(initializers.Orthogonal(seed=1), shape).reshape(-1, shape[-1])
    np.testing.assert_allclose(w.T @ w, np.eye(shape[-1]), atol=1e-5)


def test_orthogonal_wide_matrix_has_orthonormal_rows_and_gain_scales():
    w = draw(initializers.Orthogonal(gain=2.0, seed=1), (16, 40))
    np.testing.assert_allclose(w @ w.T, 4.0 * np.eye(16), atol=1e-5)


def test_identity_is_gain_times_eye_and_only_2d():
    np.testing.assert_array_equal(draw(initializers.Identity(gain=3.0), (3, 4)), 3.0 * np.eye(3, 4))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


def test_zeros_ones_constant():
    np.testing.assert_array_equal(draw(initializers.Zeros(), (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(draw(initializers.Ones(), (2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(draw(initializers.Constant(0.25), (4,)), np.full(4, 0.25))


def test_random_normal_mean_and_stddev():
    w = draw(initializers.RandomNormal(mean=1.0, stddev=0.5, seed=3), (200, 200))
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.std() == pytest.approx(0.5, rel=0.02)


def test_random_uniform_bounds():
    w = draw(initializers.RandomUniform(minval=-0.2, maxval=0.6, seed=3), (100, 100))
    assert w.min() >= -0.2 and w.max() <= 0.6
    assert w.mean() == pytest.approx(0.2, abs=0.01)


def test_truncated_normal_stays_within_two_stddevs():
    w = draw(initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=3), (200, 200))
    assert w.min() >= 0.5 - 0.2 and w.max() <= 0.5 + 0.2
    assert w.std() == pytest.approx(0.1 * TRUNCATED_STD, rel=0.02)


def test_initializers_return_float32_tensors():
    for init in (initializers.glorot_uniform(), initializers.he_normal(), initializers.Orthogonal(),
                 initializers.RandomNormal(), initializers.Zeros()):
        out = init((4, 5))
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and tuple(out.shape) == (4, 5)


ALL_KINDS = [initializers.glorot_uniform(seed=1), initializers.he_normal(seed=1), initializers.lecun_normal(seed=1),
             initializers.VarianceScaling(distribution="untruncated_normal", seed=1), initializers.Orthogonal(seed=1),
             initializers.RandomNormal(seed=1), initializers.RandomUniform(seed=1),
             initializers.TruncatedNormal(seed=1), initializers.Zeros(), initializers.Ones(),
             initializers.Constant(0.5), initializers.Identity()]


@pytest.fixture
def restore_floatx():
    saved = backend.floatx()
    yield
    backend.set_floatx(saved)


@pytest.mark.parametrize("init", ALL_KINDS, ids=lambda init: type(init).__name__)
def test_initializers_default_to_floatx_as_keras_constant_and_random_ops_do(init, restore_floatx):
    backend.set_floatx("float64")
    assert init((4, 4)).dtype == torch.float64


@pytest.mark.parametrize("init", ALL_KINDS, ids=lambda init: type(init).__name__)
@pytest.mark.parametrize("dtype", [torch.float64, "float16", "bfloat16"])
def test_initializers_return_the_dtype_they_are_given(init, dtype):
    out = init((4, 4), dtype=dtype)
    assert out.dtype == backend.torch_dtype(dtype) and tuple(out.shape) == (4, 4)


def test_float64_draws_are_float64_values_not_rounded_float32_ones():
    values = initializers.RandomUniform(seed=1)((1000,), dtype=torch.float64).numpy()
    assert not np.array_equal(values, values.astype(np.float32).astype(np.float64))


def test_initial_value_passes_dtype_to_callables_that_take_it_and_converts_what_others_return():
    received = []

    def keras_style(shape, dtype=None):
        received.append(dtype)
        return torch.zeros(shape, dtype=dtype)

    assert initializers.initial_value(keras_style, (2, 3), torch.float64).dtype == torch.float64
    assert received == [torch.float64]
    shape_only = initializers.initial_value(lambda shape: np.full(shape, 0.1), (2, 3), torch.float16)
    assert shape_only.dtype == torch.float16 and float(shape_only[0, 0]) == pytest.approx(0.1, rel=1e-3)


# ---------------------------------------------------------------- seeds
@pytest.mark.parametrize("make", [
    lambda seed: initializers.glorot_uniform(seed=seed),
    lambda seed: initializers.he_normal(seed=seed),
    lambda seed: initializers.RandomNormal(seed=seed),
    lambda seed: initializers.RandomUniform(seed=seed),
    lambda seed: initializers.TruncatedNormal(seed=seed),
    lambda seed: initializers.Orthogonal(seed=seed),
])
def test_same_seed_same_values_whatever_the_global_seed(make):
    torch.manual_seed(0)
    a = draw(make(7), (6, 5))
    torch.manual_seed(123)
    b = draw(make(7), (6, 5))
    c = draw(make(8), (6, 5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unseeded_draws_follow_torch_manual_seed():
    torch.manual_seed(5)
    a = draw(initializers.glorot_uniform(), (6, 5))
    torch.manual_seed(5)
    b = draw(initializers.glorot_uniform(), (6, 5))
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- lookup
def _assert_variance_scaling(init, scale, mode, distribution):
    assert isinstance(init, initializers.VarianceScaling)
    assert (init.scale, init.mode, init.distribution) == (scale, mode, distribution)


@pytest.mark.parametrize("name,expected", [
    ("glorot_uniform", (1.0, "fan_avg", "uniform")),
    ("glorot_normal", (1.0, "fan_avg", "normal")),
    ("he_uniform", (2.0, "fan_in", "uniform")),
    ("he_normal", (2.0, "fan_in", "normal")),
    ("lecun_uniform", (1.0, "fan_in", "uniform")),
    ("lecun_normal", (1.0, "fan_in", "normal")),
    ("GlorotUniform", (1.0, "fan_avg", "uniform")),   # tf.keras class-style name
    ("HeNormal", (2.0, "fan_in", "normal")),
])
def test_get_variance_scaling_family_by_name(name, expected):
    _assert_variance_scaling(initializers.get(name), *expected)


@pytest.mark.parametrize("name,cls", [
    ("zeros", initializers.Zeros), ("zero", initializers.Zeros), ("Zeros", initializers.Zeros),
    ("ones", initializers.Ones), ("one", initializers.Ones),
    ("constant", initializers.Constant),
    ("random_normal", initializers.RandomNormal), ("normal", initializers.RandomNormal),
    ("RandomNormal", initializers.RandomNormal),
    ("random_uniform", initializers.RandomUniform), ("uniform", initializers.RandomUniform),
    ("truncated_normal", initializers.TruncatedNormal), ("TruncatedNormal", initializers.TruncatedNormal),
    ("orthogonal", initializers.Orthogonal), ("Orthogonal", initializers.Orthogonal),
    ("identity", initializers.Identity), ("VarianceScaling", initializers.VarianceScaling),
])
def test_get_by_keras_alias_or_class_name(name, cls):
    assert isinstance(initializers.get(name), cls)


def test_get_dict_config_builds_the_class_with_its_config():
    init = initializers.get({"class_name": "RandomNormal", "config": {"mean": 1.0, "stddev": 2.0, "seed": 5}})
    assert isinstance(init, initializers.RandomNormal)
    assert (init.mean, init.stddev, init.seed) == (1.0, 2.0, 5)


def test_get_dict_config_round_trips_variance_scaling():
    config = {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 11}
    init = initializers.get({"class_name": "VarianceScaling", "config": config})
    assert init.get_config() == config


def test_get_dict_config_of_a_function_name_keeps_the_seed():
    # Keras 2.3.1 deserialize calls glorot_uniform(**config)
    init = initializers.get({"class_name": "glorot_uniform", "config": {"seed": 7}})
    _assert_variance_scaling(init, 1.0, "fan_avg", "uniform")
    assert init.seed == 7


def test_get_passes_instances_and_callables_through():
    instance = initializers.Constant(2.0)
    assert initializers.get(instance) is instance


def test_get_unknown_name_lists_known_initializers():
    with pytest.raises(ValueError) as err:
        initializers.get("glorot_uniformish")
    assert "glorot_uniformish" in str(err.value) and "he_normal" in str(err.value)


def test_get_of_a_number_raises_type_error():
    with pytest.raises(TypeError):
        initializers.get(0.5)
