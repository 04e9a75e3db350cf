"""kerasish.backend.math_ops against NumPy: reductions with Keras's axis/keepdims conventions, elementwise maths,
comparisons, and Keras 2.3.1's ``dot``/``batch_dot`` shape rules."""
import numpy as np
import pytest
import torch

from kerasish import backend as K

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 4)).astype("float32")


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# ---------------------------------------------------------------- reductions
REDUCTIONS = {
    "sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "mean": np.mean, "var": np.var, "std": np.std,
    "logsumexp": lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], (1,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_follow_numpy_axis_and_keepdims(name, axis, keepdims):
    out = getattr(K, name)(torch.from_numpy(X), axis=axis, keepdims=keepdims)
    expected = REDUCTIONS[name](X, axis=_np_axis(axis), keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_reductions_default_to_every_axis_without_keepdims():
    assert K.sum(torch.from_numpy(X)).shape == ()
    np.testing.assert_allclose(K.mean(X).numpy(), X.mean(), rtol=1e-6)


def test_any_and_all_cast_to_bool_first():
    x = np.array([[0.0, 0.5], [0.0, 0.0]], dtype="float32")
    assert K.any(x, axis=1).tolist() == [True, False]
    assert K.all(x, axis=0, keepdims=True).tolist() == [[False, False]]
    assert K.any(x).dtype == torch.bool and bool(K.any(x)) and not bool(K.all(x))


def test_mean_of_bool_is_taken_in_floatx():
    out = K.mean(torch.tensor([True, False, False, True]))
    assert out.dtype == torch.float32 and float(out) == 0.5


def test_mean_of_integers_divides_in_integers_like_tf_reduce_mean():
    out = K.mean(torch.tensor([[1, 2], [-1, -2]]), axis=1)
    assert out.dtype == torch.int64 and out.tolist() == [1, -1]


def test_var_and_std_are_population_statistics():
    x = np.array([1.0, 2.0, 4.0], dtype="float32")
    np.testing.assert_allclose(float(K.var(x)), np.var(x), rtol=1e-6)
    np.testing.assert_allclose(float(K.std(x)), np.std(x), rtol=1e-6)


def test_argmax_and_argmin_default_to_the_last_axis_and_return_int64():
    out = K.argmax(X)
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(out.numpy(), X.argmax(-1))
    np.testing.assert_array_equal(K.argmin(X, axis=0).numpy(), X.argmin(0))


def test_cumsum_and_cumprod_default_to_the_first_axis():
    np.testing.assert_allclose(K.cumsum(X).numpy(), np.cumsum(X, axis=0), rtol=1e-6)
    np.testing.assert_allclose(K.cumprod(X, axis=-1).numpy(), np.cumprod(X, axis=-1), rtol=1e-5)


# ---------------------------------------------------------------- elementwise
ELEMENTWISE = {
    "square": np.square, "abs": np.abs, "exp": np.exp, "sign": np.sign, "sin": np.sin, "cos": np.cos,
    "log": lambda x: np.log(np.abs(x)), "sqrt": lambda x: np.sqrt(np.abs(x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_functions_match_numpy(name):
    x = np.abs(X) if name in ("log", "sqrt") else X
    np.testing.assert_allclose(getattr(K, name)(x).numpy(), ELEMENTWISE[name](X), rtol=1e-5, atol=1e-6)


def test_sqrt_clips_negative_inputs_to_zero():
    assert K.sqrt(torch.tensor([-4.0, 4.0])).tolist() == [0.0, 2.0]


def test_round_rounds_half_to_even():
    assert K.round(torch.tensor([0.5, 1.5, 2.5, -0.5])).tolist() == [0.0, 2.0, 2.0, -0.0]


def test_pow_takes_a_scalar_or_a_tensor_exponent():
    np.testing.assert_allclose(K.pow(np.array([2.0, 3.0]), 3).numpy(), [8.0, 27.0])
    np.testing.assert_allclose(K.pow(torch.tensor([2.0, 3.0]), torch.tensor([1.0, 2.0])).numpy(), [2.0, 9.0])


def test_clip_with_open_sides_and_with_max_below_min():
    x = torch.tensor([-2.0, 0.5, 3.0])
    assert K.clip(x, -1.0, 1.0).tolist() == [-1.0, 0.5, 1.0]
    assert K.clip(x, None, 1.0).tolist() == [-2.0, 0.5, 1.0]
    assert K.clip(x, 0.0, None).tolist() == [0.0, 0.5, 3.0]
    # Keras 2.3.1: max_value < min_value clips everything to min_value
    assert K.clip(x, 2.0, 1.0).tolist() == [2.0, 2.0, 2.0]


COMPARISONS = {"equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
               "greater_equal": np.greater_equal, "less": np.less, "less_equal": np.less_equal}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_return_bool_tensors_and_accept_numbers_and_arrays(name):
    x = np.array([1.0, 2.0, 3.0], dtype="float32")
    y = np.array([3.0, 2.0, 1.0], dtype="float32")
    fn, ref = getattr(K, name), COMPARISONS[name]
    out = fn(torch.from_numpy(x), y)
    assert out.dtype == torch.bool
    np.testing.assert_array_equal(out.numpy(), ref(x, y))
    np.testing.assert_array_equal(fn(torch.from_numpy(x), 2.0).numpy(), ref(x, 2.0))
    np.testing.assert_array_equal(fn(2.0, torch.from_numpy(x)).numpy(), ref(2.0, x))


def test_maximum_and_minimum_broadcast_and_keep_the_tensor_dtype():
    x = torch.tensor([[-1.0, 2.0]], dtype=torch.float64)
    assert K.maximum(x, 0.0).dtype == torch.float64 and K.maximum(x, 0.0).tolist() == [[0.0, 2.0]]
    np.testing.assert_array_equal(K.minimum(x, np.array([[0.0], [1.0]])).numpy(), [[-1.0, 0.0], [-1.0, 1.0]])


# ---------------------------------------------------------------- dot
@pytest.mark.parametrize("x_shape, y_shape", [((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (5, 4, 6)),
                                              ((3, 4), (2, 4, 5))])
def test_dot_contracts_the_last_axis_of_x_with_the_second_to_last_of_y(x_shape, y_shape):
    # numpy.dot has Keras's (Theano's) convention: shape x[:-1] + y[:-2] + y[-1:]
    x = RNG.standard_normal(x_shape).astype("float32")
    y = RNG.standard_normal(y_shape).astype("float32")
    out = K.dot(torch.from_numpy(x), torch.from_numpy(y))
    expected = np.dot(x, y)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_dot_of_a_sparse_matrix():
    x = np.array([[0.0, 1.0], [2.0, 0.0]], dtype="float32")
    y = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(K.dot(torch.from_numpy(x).to_sparse(), torch.from_numpy(y)).numpy(), x @ y)


# ---------------------------------------------------------------- batch_dot
def _np_batch_dot(x, y, axes):
    """Keras 2.3.1 batch_dot per sample: the other axes of x, then those of y; two 2-D inputs give (batch, 1)."""
    out = np.stack([np.tensordot(x[i], y[i], axes=(axes[0] - 1, axes[1] - 1)) for i in range(len(x))])
    return out.reshape(-1, 1) if x.ndim == 2 and y.ndim == 2 else out


@pytest.mark.parametrize("x_shape, y_shape, axes, np_axes", [
    ((4, 3), (4, 3), None, (1, 1)),
    ((4, 3), (4, 3), 1, (1, 1)),
    ((4, 5, 3), (4, 3), None, (2, 1)),
    ((4, 3), (4, 3, 6), None, (1, 1)),
    ((4, 5, 3), (4, 3, 6), None, (2, 1)),
    ((4, 5, 3), (4, 6, 3), (2, 2), (2, 2)),
    ((4, 5, 3), (4, 6, 3), (-1, -1), (2, 2)),
    ((4, 20, 1), (4, 30, 20), (1, 2), (1, 2)),   # the Keras docstring's example: (batch, 1, 30)
    ((4, 2, 5, 3), (4, 3, 6), None, (3, 1)),
    ((4, 3, 2), (4, 2, 3, 5), (1, 2), (1, 2)),
])
def test_batch_dot_follows_keras_231_shape_rules(x_shape, y_shape, axes, np_axes):
    x = RNG.standard_normal(x_shape).astype("float32")
    y = RNG.standard_normal(y_shape).astype("float32")
    out = K.batch_dot(torch.from_numpy(x), torch.from_numpy(y), axes=axes)
    expected = _np_batch_dot(x, y, np_axes)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_batch_dot_of_two_vectors_per_sample_is_batch_by_one():
    assert K.batch_dot(torch.ones(7, 3), torch.ones(7, 3)).shape == (7, 1)


@pytest.mark.parametrize("x_shape, y_shape, axes, message", [
    ((3,), (3, 2), None, "rank < 2"),
    ((4, 3), (5, 3), None, "different batch sizes"),
    ((4, 3), (4, 3), (0, 0), "axis 0"),
    ((4, 3), (4, 2), None, r"x.shape\[1\] != y.shape\[1\] \(3 != 2\)"),
    ((4, 3, 2), (4, 3, 2), ((1, 2), (1, 2)), "Multiple target dimensions"),
])
def test_batch_dot_errors_use_keras_messages(x_shape, y_shape, axes, message):
    with pytest.raises(ValueError, match=message):
        K.batch_dot(torch.ones(x_shape), torch.ones(y_shape), axes=axes)
