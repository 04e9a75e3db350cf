"""kerasish.backend.variables: variables, constants, filled tensors, dtypes, shapes and in-place updates.

Keras 2.3.1 ``tensorflow_backend.py`` defines the contract: ``dtype=None`` is floatx, also for
``zeros_like``/``ones_like``; ``variable``/``zeros``/``ones`` return variables; ``is_keras_tensor`` raises for
non-tensors.
"""
import numpy as np
import pytest
import scipy.sparse
import torch

from kerasish import backend as K


@pytest.fixture
def float64_floatx():
    K.set_floatx("float64")
    yield
    K.set_floatx("float32")


# ---------------------------------------------------------------- variables and constants
def test_variable_is_a_floatx_parameter_on_the_training_device_tracking_gradients():
    v = K.variable([[1, 2], [3, 4]])
    assert isinstance(v, torch.nn.Parameter) and K.is_variable(v)
    assert v.dtype == torch.float32 and v.device == K.get_device() and v.requires_grad
    np.testing.assert_array_equal(K.get_value(v), np.array([[1, 2], [3, 4]], dtype="float32"))


def test_variable_follows_floatx(float64_floatx):
    assert K.variable(0.5).dtype == torch.float64
    assert K.zeros((2,)).dtype == torch.float64


def test_integer_variable_keeps_its_dtype_and_tracks_no_gradient():
    v = K.variable(np.arange(3), dtype="int32")
    assert v.dtype == torch.int32 and not v.requires_grad and K.dtype(v) == "int32"


def test_variable_copies_its_value():
    source = np.zeros(3, dtype="float32")
    v = K.variable(source)
    source[0] = 5.0
    tensor = torch.ones(2)
    w = K.variable(tensor)
    tensor.zero_()
    assert K.get_value(v)[0] == 0.0 and K.get_value(w).tolist() == [1.0, 1.0]


def test_variable_keeps_its_constraint():
    def constraint(w):
        return w

    assert K.variable(1.0, constraint=constraint).constraint is constraint


def test_variable_of_a_scipy_sparse_matrix_is_sparse():
    matrix = scipy.sparse.csr_matrix(np.array([[0, 2.0], [3.0, 0]]))
    v = K.variable(matrix)
    assert K.is_sparse(v)
    np.testing.assert_array_equal(K.to_dense(v).detach().numpy(), matrix.toarray())


def test_constant_defaults_to_floatx_and_tracks_no_gradient():
    c = K.constant([1, 2, 3])
    assert c.dtype == torch.float32 and not c.requires_grad and not K.is_variable(c)
    assert K.constant([1, 2], dtype="int64").dtype == torch.int64


def test_constant_with_shape_fills_a_scalar_and_reshapes_a_matching_value():
    np.testing.assert_array_equal(K.constant(7, shape=(2, 3)).numpy(), np.full((2, 3), 7.0))
    np.testing.assert_array_equal(K.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="cannot fill shape"):
        K.constant([1, 2, 3], shape=(2, 2))


def test_zeros_and_ones_are_variables_of_floatx_or_the_given_dtype():
    z, o = K.zeros((2, 3)), K.ones(4, dtype="int32")
    assert K.is_variable(z) and K.is_variable(o)
    assert z.shape == (2, 3) and z.dtype == torch.float32 and K.get_value(z).sum() == 0.0
    assert o.shape == (4,) and o.dtype == torch.int32 and K.get_value(o).sum() == 4


def test_zeros_accepts_sizes_taken_from_k_shape():
    x = torch.ones(5, 2)
    assert K.zeros((K.shape(x)[0], 3)).shape == (5, 3)


def test_eye_is_square_for_an_int_and_rectangular_for_a_pair():
    np.testing.assert_array_equal(K.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(K.eye((2, 3), dtype="int32").numpy(), np.eye(2, 3, dtype="int32"))


def test_zeros_like_and_ones_like_default_to_floatx_not_the_input_dtype():
    ints = torch.tensor([1, 2, 3])
    assert K.zeros_like(ints).dtype == torch.float32 and K.ones_like(ints).dtype == torch.float32
    assert K.ones_like(ints, dtype="int64").tolist() == [1, 1, 1]
    assert K.zeros_like(np.ones((2, 2))).shape == (2, 2)


def test_identity_is_a_snapshot_of_a_variable():
    v = K.variable([1.0, 2.0])
    snapshot = K.identity(v)
    K.update_add(v, [1.0, 1.0])
    assert snapshot.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- dtypes and shapes
def test_cast_and_dtype_use_keras_dtype_names():
    x = K.cast(np.array([1.7, -1.7]), "int32")
    assert K.dtype(x) == "int32" and x.tolist() == [1, -1]
    assert K.dtype(K.cast(torch.tensor([0, 2]), "bool")) == "bool"
    assert K.dtype(np.zeros(2, dtype="float16")) == "float16"
    with pytest.raises(ValueError, match="dtype"):
        K.cast(torch.ones(2), "float33")


def test_cast_to_floatx_returns_a_numpy_array_of_floatx():
    out = K.cast_to_floatx([1, 2])
    assert isinstance(out, np.ndarray) and out.dtype == np.float32


def test_shape_int_shape_ndim_size_and_count_params():
    x = torch.zeros(2, 3, 4)
    assert K.shape(x) == (2, 3, 4) and K.shape(x)[0] == 2
    assert K.int_shape(x) == (2, 3, 4) and K.int_shape(np.zeros((5, 1))) == (5, 1)
    assert K.get_variable_shape(K.zeros((3, 2))) == (3, 2)
    assert K.ndim(x) == 3 and K.ndim(np.zeros(4)) == 1
    size = K.size(x)
    assert int(size) == 24 and size.dtype == torch.int32
    assert K.count_params(K.zeros((3, 5))) == 15


def test_int_shape_of_a_number_raises_a_type_error():
    with pytest.raises(TypeError, match="int_shape"):
        K.int_shape(3.0)


def test_is_keras_tensor_is_false_for_plain_tensors_and_variables():
    assert K.is_keras_tensor(torch.ones(2)) is False
    assert K.is_keras_tensor(K.variable(1.0)) is False


@pytest.mark.parametrize("value", [np.ones(2), 3.0, [1.0]])
def test_is_keras_tensor_of_a_non_tensor_raises_with_keras_message(value):
    with pytest.raises(ValueError, match="Unexpectedly found an instance of type .* Expected a symbolic tensor"):
        K.is_keras_tensor(value)


def test_is_tensor_is_variable_is_sparse():
    assert K.is_tensor(torch.ones(1)) and K.is_tensor(K.variable(1.0)) and not K.is_tensor(np.ones(1))
    assert not K.is_variable(torch.ones(1))
    sparse = torch.eye(2).to_sparse()
    assert K.is_sparse(sparse) and not K.is_sparse(torch.eye(2))
    assert K.to_dense(torch.eye(2)) is not None and not K.is_sparse(K.to_dense(sparse))


# ---------------------------------------------------------------- updates and values
def test_update_add_and_sub_write_in_place_outside_autograd_and_return_the_variable():
    v = K.variable([1.0, 2.0])
    assert K.update(v, np.array([5.0, 6.0])) is v
    assert K.update_add(v, 1.0) is v
    assert K.update_sub(v, torch.tensor([2.0, 0.0])) is v
    assert v.tolist() == [4.0, 7.0] and v.grad_fn is None and v.is_leaf


def test_moving_average_update_blends_towards_the_value():
    v = K.variable([10.0, 0.0])
    K.moving_average_update(v, torch.tensor([0.0, 10.0]), 0.9)
    np.testing.assert_allclose(K.get_value(v), [10.0 * 0.9, 10.0 * 0.1], rtol=1e-6)


def test_batch_get_value_and_batch_set_value():
    a, b = K.variable([1.0]), K.zeros((2,))
    K.batch_set_value([(a, [3.0]), (b, np.array([4.0, 5.0]))])
    values = K.batch_get_value([a, b])
    assert [v.tolist() for v in values] == [[3.0], [4.0, 5.0]]


def test_eval_returns_a_numpy_value():
    value = K.eval(K.constant([1.0, 2.0]))
    assert isinstance(value, np.ndarray) and value.tolist() == [1.0, 2.0]


def test_print_tensor_prints_the_message_and_value_and_returns_the_tensor(capsys):
    x = torch.tensor([1.0, 2.0])
    assert K.print_tensor(x, message="x is") is x
    assert "x is" in capsys.readouterr().out
