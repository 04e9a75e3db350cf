"""kerasish.activations against NumPy formulas (Keras 2.3.1 ``keras/activations.py`` and the TF backend)."""
import numpy as np
import pytest
import torch

from kerasish import activations

X = np.array([-10.0, -5.0, -2.6, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.6, 5.0, 6.0, 10.0])

SELU_ALPHA = 1.6732632423543772848170429916717  # Keras 2.3.1 activations.selu
SELU_SCALE = 1.0507009873554804934193349852946


def apply(fn, x, **kwargs):
    return fn(torch.tensor(x, dtype=torch.float64), **kwargs).numpy()


def keras231_relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Transcription of Keras 2.3.1 tensorflow_backend.relu in NumPy."""
    negative_part = np.maximum(threshold - x, 0.0)
    out = x * (x > threshold) if threshold != 0 else np.maximum(x, 0.0)
    if max_value is not None:
        out = np.clip(out, 0.0, max_value)
    return out - alpha * negative_part


# ---------------------------------------------------------------- relu
def test_relu_default_is_max_x_0():
    np.testing.assert_allclose(apply(activations.relu, X), np.maximum(X, 0.0))


def test_relu_alpha_is_leaky_below_zero():
    np.testing.assert_allclose(apply(activations.relu, X, alpha=0.1), np.where(X > 0, X, 0.1 * X))


def test_relu_max_value_saturates():
    np.testing.assert_allclose(apply(activations.relu, X, max_value=6.0), np.clip(X, 0.0, 6.0))


def test_relu_alpha_with_max_value_clips_only_the_positive_part():
    expected = np.clip(X, 0.0, 2.0) + 0.2 * np.minimum(X, 0.0)
    np.testing.assert_allclose(apply(activations.relu, X, alpha=0.2, max_value=2.0), expected)


def test_relu_threshold_zeroes_values_at_or_below_threshold():
    # Hand-derived (Keras: x * (x > threshold)); the value exactly at the threshold becomes 0
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    np.testing.assert_allclose(apply(activations.relu, x, threshold=5.0), [0.0, 0.0, 0.0, 0.0, 10.0])


def test_relu_threshold_with_alpha_is_alpha_times_distance_below_threshold():
    x = np.array([-10.0, 0.0, 5.0, 10.0])
    np.testing.assert_allclose(apply(activations.relu, x, alpha=0.5, threshold=5.0), [-7.5, -2.5, 0.0, 10.0])


@pytest.mark.parametrize("alpha,max_value,threshold", [
    (0.0, None, 1.0), (0.3, None, 1.0), (0.3, 4.0, 1.0), (0.0, 4.0, -1.0), (0.3, 4.0, -1.0), (0.3, 6.0, 0.0),
])
def test_relu_matches_keras_231_backend_formula(alpha, max_value, threshold):
    np.testing.assert_allclose(
        apply(activations.relu, X, alpha=alpha, max_value=max_value, threshold=threshold),
        keras231_relu(X, alpha, max_value, threshold))


# ---------------------------------------------------------------- the others
def test_hard_sigmoid_is_keras_2_piecewise_linear():
    # Keras 2.3.1: clip(0.2 * x + 0.5, 0, 1) -- not torch's x / 6 + 0.5
    x = np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(apply(activations.hard_sigmoid, x), [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0], atol=1e-12)


def test_sigmoid_and_tanh():
    np.testing.assert_allclose(apply(activations.sigmoid, X), 1.0 / (1.0 + np.exp(-X)))
    np.testing.assert_allclose(apply(activations.tanh, X), np.tanh(X))


def test_softmax_normalises_the_last_axis_by_default():
    x = np.random.RandomState(0).randn(4, 5)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(apply(activations.softmax, x), e / e.sum(axis=-1, keepdims=True))


def test_softmax_axis_on_a_3d_tensor():
    x = np.random.RandomState(1).randn(2, 3, 4)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(apply(activations.softmax, x, axis=1), e / e.sum(axis=1, keepdims=True))


def test_softmax_of_a_1d_tensor_raises():
    with pytest.raises(ValueError, match="1D"):
        activations.softmax(torch.zeros(3))


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu(alpha):
    np.testing.assert_allclose(apply(activations.elu, X, alpha=alpha), np.where(X > 0, X, alpha * (np.exp(X) - 1)))


def test_selu_uses_keras_constants():
    expected = SELU_SCALE * np.where(X > 0, X, SELU_ALPHA * (np.exp(X) - 1))
    np.testing.assert_allclose(apply(activations.selu, X), expected, rtol=1e-7)


def test_softplus_is_log_one_plus_exp():
    np.testing.assert_allclose(apply(activations.softplus, X), np.log1p(np.exp(X)))


def test_softsign_is_x_over_one_plus_abs_x():
    np.testing.assert_allclose(apply(activations.softsign, X), X / (1.0 + np.abs(X)))


def test_exponential_and_linear():
    np.testing.assert_allclose(apply(activations.exponential, X), np.exp(X))
    np.testing.assert_array_equal(apply(activations.linear, X), X)


# ---------------------------------------------------------------- lookup
def test_get_none_is_linear():
    assert activations.get(None) is activations.linear


@pytest.mark.parametrize("name", ["relu", "sigmoid", "hard_sigmoid", "tanh", "softmax", "elu", "selu",
                                  "softplus", "softsign", "exponential", "linear"])
def test_get_by_keras_name_and_serialize_round_trip(name):
    fn = activations.get(name)
    assert callable(fn)
    assert activations.serialize(fn) == name


def test_get_returns_a_callable_unchanged():
    def custom(x):
        return x * 2
    assert activations.get(custom) is custom


def test_get_unknown_name_lists_known_names():
    with pytest.raises(ValueError) as err:
        activations.get("relu6x")
    message = str(err.value)
    assert "relu6x" in message
    for known in ("relu", "softmax", "tanh"):
        assert known in message


def test_get_non_callable_raises_type_error():
    with pytest.raises(TypeError):
        activations.get(3)
