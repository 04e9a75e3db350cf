"""Noise layers (Keras 2.3.1 ``keras/layers/noise.py``): GaussianNoise, GaussianDropout, AlphaDropout.

Training draws are checked statistically over many draws: each tolerance is a number of standard errors that
the formula itself gives (a mean of N draws of standard deviation s lies within 6 s / sqrt(N) of its
expectation but for a chance below 1e-8; a sample variance of normal draws within 6 s**2 sqrt(2 / N)). Draws
are seeded, so the tests are deterministic.
"""
import math

import numpy as np
import pytest
import torch

from kerasish.layers import AlphaDropout, Dense, GaussianDropout, GaussianNoise
from kerasish.layers.noise import alpha_dropout_coefficients
from kerasish.models import Sequential

N = 200_000
SIGMAS = 6.0

# SELU's constants, from Klambauer et al. 2017 (the values Keras 2.3.1 writes)
ALPHA = 1.6732632423543772848170429916717
SCALE = 1.0507009873554804934193349852946


def mean_tolerance(std, n=N):
    return SIGMAS * std / math.sqrt(n)


def var_tolerance(std, n=N):
    return SIGMAS * std ** 2 * math.sqrt(2.0 / n)


# ================================================================ inference: the identity
@pytest.mark.parametrize("layer", [GaussianNoise(0.5), GaussianDropout(0.4), AlphaDropout(0.3),
                                   AlphaDropout(0.3, seed=1)], ids=lambda layer: type(layer).__name__)
def test_noise_layers_are_the_identity_at_inference(layer):
    x = torch.randn(4, 5)
    assert torch.equal(layer.eval()(x), x)
    assert torch.equal(layer.train()(x, training=False), x)


@pytest.mark.parametrize("make", [lambda: GaussianNoise(1.0, input_shape=(3,)),
                                  lambda: GaussianDropout(0.5, input_shape=(3,)),
                                  lambda: AlphaDropout(0.5, input_shape=(3,))])
def test_predict_is_clean_and_training_calls_are_noisy(make):
    model = Sequential([make()])
    x = np.random.RandomState(0).rand(8, 3).astype("float32") + 1.0
    np.testing.assert_array_equal(model.predict(x), x)
    noisy = model.layers[0](torch.tensor(x), training=True)  # Keras's training call argument
    assert not torch.equal(noisy, torch.tensor(x))


# ================================================================ GaussianNoise
def test_gaussian_noise_adds_zero_mean_noise_of_stddev():
    torch.manual_seed(0)
    x = torch.full((N,), 3.0)
    noise = (GaussianNoise(0.7).train()(x) - x).double()
    assert abs(noise.mean().item()) < mean_tolerance(0.7)
    assert abs(noise.var().item() - 0.49) < var_tolerance(0.7)


def test_gaussian_noise_draws_from_the_global_generator():
    layer = GaussianNoise(1.0).train()
    torch.manual_seed(3)
    first = layer(torch.zeros(10))
    torch.manual_seed(3)
    assert torch.equal(layer(torch.zeros(10)), first)


# ================================================================ GaussianDropout
def test_gaussian_dropout_multiplies_by_noise_of_mean_one_and_keras_stddev():
    torch.manual_seed(1)
    rate = 0.3
    std = math.sqrt(rate / (1 - rate))  # Keras 2.3.1: sqrt(rate / (1 - rate))
    x = torch.full((N,), 2.0)
    factor = (GaussianDropout(rate).train()(x) / 2.0).double()
    assert abs(factor.mean().item() - 1.0) < mean_tolerance(std)
    assert abs(factor.var().item() - std ** 2) < var_tolerance(std)


@pytest.mark.parametrize("rate", [0, 1])
def test_gaussian_dropout_outside_zero_one_is_the_identity_even_in_training(rate):
    x = torch.randn(3, 4)
    assert torch.equal(GaussianDropout(rate).train()(x), x)


# ================================================================ AlphaDropout
def test_alpha_dropout_coefficients_follow_the_selu_paper():
    rate = 0.2
    alpha_p = -ALPHA * SCALE
    q = 1 - rate
    # y = x where kept (probability q), alpha_p where dropped, for standard-normal x:
    # E[y] = rate * alpha_p, E[y**2] = q + rate * alpha_p**2; a * y + b has mean 0 and variance 1
    variance = q + rate * alpha_p ** 2 - (rate * alpha_p) ** 2
    mean = rate * alpha_p
    expected_a = 1 / math.sqrt(variance)
    expected_b = -expected_a * mean
    got_alpha_p, a, b = alpha_dropout_coefficients(rate)
    assert got_alpha_p == pytest.approx(alpha_p, rel=1e-15)
    assert a == pytest.approx(expected_a, rel=1e-12)
    assert b == pytest.approx(expected_b, rel=1e-12)


def test_alpha_dropout_sets_dropped_units_to_the_affine_image_of_alpha_p():
    rate = 0.25
    torch.manual_seed(2)
    x = torch.randn(N, dtype=torch.float64)
    out = AlphaDropout(rate).train()(x)
    alpha_p, a, b = alpha_dropout_coefficients(rate)
    kept = torch.isclose(out, a * x + b, rtol=0, atol=1e-12)
    dropped = torch.isclose(out, torch.full_like(x, a * alpha_p + b), rtol=0, atol=1e-12)
    assert bool((kept | dropped).all())
    dropped_fraction = dropped.double().mean().item()
    assert abs(dropped_fraction - rate) < mean_tolerance(math.sqrt(rate * (1 - rate)))


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance_of_standard_normal_inputs(rate):
    torch.manual_seed(4)
    x = torch.randn(N, dtype=torch.float64)
    out = AlphaDropout(rate).train()(x)
    # The sample variance of N draws has standard error sqrt((m4 - 1) / N), m4 the output's fourth moment:
    # kept units are a * x + b (E[(a x + b)**4] = 3 a**4 + 6 a**2 b**2 + b**4), dropped ones a * alpha_p + b
    alpha_p, a, b = alpha_dropout_coefficients(rate)
    m4 = (1 - rate) * (3 * a ** 4 + 6 * a ** 2 * b ** 2 + b ** 4) + rate * (a * alpha_p + b) ** 4
    assert abs(out.mean().item()) < mean_tolerance(1.0)
    assert abs(out.var().item() - 1.0) < SIGMAS * math.sqrt((m4 - 1) / N)


def test_alpha_dropout_with_the_same_seed_draws_the_same_and_ignores_the_global_generator():
    x = torch.randn(6, 7)
    torch.manual_seed(0)
    first = AlphaDropout(0.5, seed=11).train()(x)
    torch.manual_seed(123)
    second = AlphaDropout(0.5, seed=11).train()(x)
    other = AlphaDropout(0.5, seed=12).train()(x)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)
    # the draw is uniform(seeded) >= rate, in Keras's layout
    uniform = torch.rand((6, 7), generator=torch.Generator().manual_seed(11))
    _, a, b = alpha_dropout_coefficients(0.5)
    assert torch.equal(first == (a * x + b), uniform >= 0.5)


def test_alpha_dropout_noise_shape_shares_the_draw_along_size_one_axes():
    torch.manual_seed(5)
    x = torch.randn(4, 6, 3)
    out = AlphaDropout(0.5, noise_shape=(None, 1, 3)).train()(x)
    alpha_p, a, b = alpha_dropout_coefficients(0.5)
    dropped = torch.isclose(out, torch.full_like(out, a * alpha_p + b))
    assert torch.equal(dropped, dropped[:, :1, :].expand_as(dropped))
    assert 0 < dropped.sum() < dropped.numel()


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_alpha_dropout_outside_zero_one_is_the_identity(rate):
    x = torch.randn(3, 4)
    assert torch.equal(AlphaDropout(rate).train()(x), x)


def test_alpha_dropout_trains_in_a_model():
    model = Sequential([Dense(4, activation="selu", input_shape=(3,)), AlphaDropout(0.2, seed=0), Dense(1)])
    model.compile("sgd", "mse")
    rng = np.random.RandomState(0)
    history = model.fit(rng.rand(16, 3).astype("float32"), rng.rand(16, 1).astype("float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# ================================================================ masks, configs, errors
@pytest.mark.parametrize("layer", [GaussianNoise(0.1), GaussianDropout(0.1), AlphaDropout(0.1)],
                         ids=lambda layer: type(layer).__name__)
def test_noise_layers_pass_masks_on(layer):
    mask = torch.tensor([[True, False]])
    assert layer.supports_masking and layer.compute_mask(torch.zeros(1, 2, 3), mask) is mask


def test_configs_round_trip_with_keras_keys():
    noise = GaussianNoise(0.3, name="gn")
    assert noise.get_config() == {"name": "gn", "trainable": True, "dtype": "float32", "stddev": 0.3}
    assert GaussianNoise.from_config(noise.get_config()).stddev == 0.3
    gauss = GaussianDropout(0.2, name="gd")
    assert gauss.get_config() == {"name": "gd", "trainable": True, "dtype": "float32", "rate": 0.2}
    alpha = AlphaDropout(0.1, noise_shape=(None, 1), seed=4, name="ad")
    config = alpha.get_config()
    assert config == {"name": "ad", "trainable": True, "dtype": "float32", "rate": 0.1, "noise_shape": (None, 1),
                      "seed": 4}
    again = AlphaDropout.from_config(config)
    assert (again.rate, again.noise_shape, again.seed) == (0.1, (None, 1), 4)
    # a Keras 2.3.1 config holds only the rate
    assert AlphaDropout.from_config({"name": "k", "trainable": True, "dtype": "float32", "rate": 0.3}).seed is None


def test_invalid_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="GaussianNoise: argument `stddev` must be a number >= 0; received -1"):
        GaussianNoise(-1)
    with pytest.raises(ValueError, match=r"GaussianDropout: argument `rate` must be a number in \[0, 1\]; "
                                         r"received 1.5"):
        GaussianDropout(1.5)
    with pytest.raises(TypeError, match=r"AlphaDropout: argument `rate` must be a number in \[0, 1\]; received "
                                        r"'x' \(of type str\)"):
        AlphaDropout("x")
    with pytest.raises(TypeError, match="AlphaDropout: seed must be an integer or None; received 1.5"):
        AlphaDropout(0.1, seed=1.5)
