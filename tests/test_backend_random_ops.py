"""kerasish.backend.random_ops: seeded draws (same seed, same values; the global RNG untouched), the
distributions' ranges and moments, and the variables made from them."""
import numpy as np
import pytest
import torch

from kerasish import backend as K

DRAWS = [
    lambda seed: K.random_normal((50,), seed=seed),
    lambda seed: K.random_uniform((50,), seed=seed),
    lambda seed: K.random_binomial((50,), p=0.5, seed=seed),
    lambda seed: K.truncated_normal((50,), seed=seed),
    lambda seed: K.random_normal_variable((50,), 0.0, 1.0, seed=seed),
    lambda seed: K.random_uniform_variable((50,), 0.0, 1.0, seed=seed),
]


@pytest.mark.parametrize("draw", DRAWS)
def test_same_seed_gives_same_values_and_another_seed_other_values(draw):
    first, again, other = draw(3), draw(3), draw(4)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


@pytest.mark.parametrize("draw", DRAWS)
def test_a_seeded_draw_neither_reads_nor_reseeds_the_global_rng(draw):
    state = torch.get_rng_state()
    draw(11)
    assert torch.equal(torch.get_rng_state(), state)


def test_unseeded_draws_come_from_the_global_rng():
    torch.manual_seed(5)
    first = K.random_normal((4,))
    torch.manual_seed(5)
    assert torch.equal(K.random_normal((4,)), first)


def test_random_normal_has_the_mean_and_stddev_asked_for():
    x = K.random_normal((20000,), mean=3.0, stddev=2.0, seed=0).numpy()
    assert x.dtype == np.float32
    assert abs(x.mean() - 3.0) < 0.05 and abs(x.std() - 2.0) < 0.05


def test_random_uniform_stays_in_its_half_open_range():
    x = K.random_uniform((20000,), minval=-2.0, maxval=3.0, seed=0).numpy()
    assert x.min() >= -2.0 and x.max() < 3.0 and abs(x.mean() - 0.5) < 0.05


def test_random_uniform_of_an_integer_dtype_draws_integers_in_the_range():
    x = K.random_uniform((1000,), minval=2, maxval=5, dtype="int32", seed=0)
    assert x.dtype == torch.int32 and set(x.tolist()) == {2, 3, 4}


def test_random_binomial_is_one_with_probability_p_in_floatx():
    x = K.random_binomial((20000,), p=0.3, seed=0)
    assert x.dtype == torch.float32 and set(x.unique().tolist()) == {0.0, 1.0}
    assert abs(float(x.mean()) - 0.3) < 0.02
    assert float(K.random_binomial((100,), p=0.0, seed=0).sum()) == 0.0


def test_truncated_normal_stays_within_two_stddevs_of_the_mean():
    x = K.truncated_normal((20000,), mean=1.0, stddev=0.5, seed=0).numpy()
    assert x.min() >= 0.0 and x.max() <= 2.0
    # a standard normal truncated to [-2, 2] has standard deviation 0.8796
    assert abs(x.std() / 0.5 - 0.8796) < 0.02


def test_random_variables_are_variables_with_the_distribution_asked_for():
    v = K.random_uniform_variable((2, 3), low=1.0, high=2.0, seed=0)
    w = K.random_normal_variable((2, 3), mean=0.0, scale=1.0, dtype="float64", seed=0)
    assert K.is_variable(v) and K.is_variable(w) and w.dtype == torch.float64
    assert K.get_value(v).min() >= 1.0 and K.get_value(v).max() < 2.0


def test_random_tensors_accept_half_precision():
    assert K.truncated_normal((3,), dtype="float16", seed=0).dtype == torch.float16
    assert K.random_uniform((3,), dtype="bfloat16", seed=0).dtype == torch.bfloat16
