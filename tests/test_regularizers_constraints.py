"""kerasish.regularizers and kerasish.constraints against NumPy (Keras 2.3.1 ``regularizers.py``,
``constraints.py``). Constraints act on Keras-layout weights: a Dense kernel ``(in, out)`` with ``axis=0``
constrains each unit's incoming weight vector."""
import numpy as np
import pytest
import torch

from kerasish import backend, constraints, regularizers

EPS = 1e-7  # Keras 2.3.1 K.epsilon()

# Keras-layout Dense kernel (in=4, out=3): column norms 0.5, ~5.48, 2.0 -- below, above, at max_norm(2)
KERNEL = np.array([[0.5, 1.0, -2.0],
                   [0.0, -2.0, 0.0],
                   [0.0, 3.0, 0.0],
                   [0.0, -4.0, 0.0]])


def t(a):
    return torch.tensor(a, dtype=torch.float64)


def column_norms(w, axis=0):
    return np.sqrt(np.sum(w ** 2, axis=axis, keepdims=True))


# ---------------------------------------------------------------- regularizers
def test_l1_is_l_times_sum_abs():
    assert regularizers.l1(0.3)(t(KERNEL)).item() == pytest.approx(0.3 * np.abs(KERNEL).sum())


def test_l2_is_l_times_sum_squares():
    assert regularizers.l2(0.3)(t(KERNEL)).item() == pytest.approx(0.3 * np.square(KERNEL).sum())


def test_l1_l2_is_the_sum_of_both_penalties():
    expected = 0.1 * np.abs(KERNEL).sum() + 0.2 * np.square(KERNEL).sum()
    assert regularizers.l1_l2(l1=0.1, l2=0.2)(t(KERNEL)).item() == pytest.approx(expected)


def test_regularizer_defaults_are_keras_0_01():
    assert regularizers.l2()(t(KERNEL)).item() == pytest.approx(0.01 * np.square(KERNEL).sum())
    assert regularizers.get("l1")(t(KERNEL)).item() == pytest.approx(0.01 * np.abs(KERNEL).sum())
    expected = 0.01 * (np.abs(KERNEL).sum() + np.square(KERNEL).sum())
    assert regularizers.get("l1_l2")(t(KERNEL)).item() == pytest.approx(expected)


def test_empty_l1l2_penalty_is_a_zero_scalar():
    penalty = regularizers.L1L2()(t(KERNEL))
    assert penalty.shape == () and penalty.item() == 0.0


def test_regularizer_penalty_is_differentiable():
    w = t(KERNEL).requires_grad_(True)
    regularizers.l2(0.5)(w).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * 0.5 * KERNEL)   # d/dw 0.5 * w^2 = w


def test_regularizers_get_none_callable_and_unknown():
    assert regularizers.get(None) is None
    reg = regularizers.l2(0.1)
    assert regularizers.get(reg) is reg
    with pytest.raises(ValueError, match="l3"):
        regularizers.get("l3")


# ---------------------------------------------------------------- constraints
def test_max_norm_caps_each_units_incoming_norm():
    out = constraints.max_norm(2.0)(t(KERNEL)).numpy()
    norms = column_norms(KERNEL)
    expected = KERNEL * (np.clip(norms, 0, 2.0) / (EPS + norms))
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(column_norms(out).ravel(), [0.5, 2.0, 2.0], rtol=1e-6)


def test_max_norm_default_is_2_on_axis_0():
    c = constraints.MaxNorm()
    assert (c.max_value, c.axis) == (2, 0)


def test_max_norm_on_a_conv_kernel_over_axes_0_1_2():
    rng = np.random.RandomState(0)
    kernel = rng.randn(3, 3, 2, 4) * 2.0   # Keras (kh, kw, in, out)
    out = constraints.MaxNorm(1.0, axis=[0, 1, 2])(t(kernel)).numpy()
    norms = column_norms(kernel, axis=(0, 1, 2))
    np.testing.assert_allclose(out, kernel * (np.clip(norms, 0, 1.0) / (EPS + norms)))


def test_non_neg_zeroes_negative_weights():
    np.testing.assert_array_equal(constraints.non_neg()(t(KERNEL)).numpy(), np.where(KERNEL >= 0, KERNEL, 0.0))


def test_unit_norm_divides_by_the_norm_plus_epsilon():
    out = constraints.unit_norm()(t(KERNEL)).numpy()
    np.testing.assert_allclose(out, KERNEL / (EPS + column_norms(KERNEL)))
    np.testing.assert_allclose(column_norms(out).ravel(), np.ones(3), rtol=1e-6)


@pytest.mark.parametrize("rate", [1.0, 0.5])
def test_min_max_norm_moves_norms_towards_the_interval_at_rate(rate):
    out = constraints.min_max_norm(min_value=1.0, max_value=3.0, rate=rate)(t(KERNEL)).numpy()
    norms = column_norms(KERNEL)
    desired = rate * np.clip(norms, 1.0, 3.0) + (1 - rate) * norms
    np.testing.assert_allclose(out, KERNEL * (desired / (EPS + norms)))


def test_constraints_read_the_current_epsilon():
    saved = backend.epsilon()
    try:
        backend.set_epsilon(0.5)
        out = constraints.unit_norm()(t(KERNEL)).numpy()
    finally:
        backend.set_epsilon(saved)
    np.testing.assert_allclose(out, KERNEL / (0.5 + column_norms(KERNEL)))


@pytest.mark.parametrize("name,cls", [
    ("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
    ("non_neg", constraints.NonNeg), ("NonNeg", constraints.NonNeg),
    ("unit_norm", constraints.UnitNorm), ("UnitNorm", constraints.UnitNorm),
    ("min_max_norm", constraints.MinMaxNorm), ("MinMaxNorm", constraints.MinMaxNorm),
])
def test_constraints_get_by_keras_name(name, cls):
    assert isinstance(constraints.get(name), cls)


def test_constraints_get_none_callable_and_unknown():
    assert constraints.get(None) is None
    c = constraints.MaxNorm(3)
    assert constraints.get(c) is c
    with pytest.raises(ValueError, match="max_nrom"):
        constraints.get("max_nrom")


def test_get_takes_the_config_dicts_keras_writes_so_layer_from_config_works():
    from kerasish.layers import Dense
    penalty = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.0}})
    np.testing.assert_allclose(float(penalty(torch.tensor([1.0, -2.0]))), 1.5)
    clip = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 1.0, "axis": 0}})
    np.testing.assert_allclose(clip(torch.tensor([[3.0], [4.0]])).numpy(), [[0.6], [0.8]], rtol=1e-5)
    dense = Dense(2, kernel_regularizer="l1_l2", kernel_constraint="non_neg")
    again = Dense.from_config(dense.get_config())
    assert again.get_config() == dense.get_config()
    with pytest.raises(ValueError, match="Unknown regularizer: Mine. A custom regularizer must be passed by name"):
        regularizers.get({"class_name": "Mine", "config": {}})
