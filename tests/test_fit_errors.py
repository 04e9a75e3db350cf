"""Every bad argument gets a clear error, raised before any weight changes."""
import numpy as np
import pytest

from kerasish.layers import Dense
from kerasish.models import Sequential
from kerasish.utils import to_categorical


@pytest.fixture
def model():
    model = Sequential([Dense(5, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    return rng.randn(20, 4).astype("float32"), to_categorical(rng.randint(0, 3, 20), 3)


def assert_fit_error(model, error, message, *args, **kwargs):
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error, match=message):
        model.fit(*args, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_x_and_y_of_different_lengths(model, data):
    x, y = data
    assert_fit_error(model, ValueError, "Input arrays should have the same number of samples as target arrays. "
                     "Found 20 input samples and 19 target samples.", x, y[:19])


def test_fit_before_compile():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match=r"You must compile your model before training/testing. "
                                           r"Use `model.compile\(optimizer, loss\)`."):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)))


def test_wrong_input_rank(model, data):
    _, y = data
    assert_fit_error(model, ValueError, r"Error when checking input: expected dense_1_input to have 2 dimensions, "
                     r"but got array with shape \(20, 4, 1\)", np.zeros((20, 4, 1), "float32"), y)


def test_wrong_input_width(model, data):
    _, y = data
    assert_fit_error(model, ValueError, r"Error when checking input: expected dense_1_input to have shape \(4,\) "
                     r"but got array with shape \(5,\)", np.zeros((20, 5), "float32"), y)


def test_integer_labels_with_categorical_crossentropy(model, data):
    x, _ = data
    assert_fit_error(model, ValueError, "categorical_crossentropy", x, np.arange(20) % 3)


def test_one_hot_labels_with_sparse_crossentropy(data):
    x, y = data
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert_fit_error(model, ValueError, "sparse_categorical_crossentropy", x, y)


def test_class_index_out_of_range(data):
    x, _ = data
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    labels = np.arange(20) % 3
    labels[4] = 7
    assert_fit_error(model, ValueError, "7", x, labels)


def test_empty_data(model):
    assert_fit_error(model, ValueError, "x is empty", np.zeros((0, 4), "float32"), np.zeros((0, 3), "float32"))


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2"])
def test_bad_validation_split(model, data, split):
    assert_fit_error(model, ValueError, r"validation_split must be a float in \[0, 1\)", *data,
                     validation_split=split)


def test_validation_split_leaving_no_training_rows(model, data):
    assert_fit_error(model, ValueError, "leaves 0 for training and 20 for validation; both need at least one sample",
                     *data, validation_split=0.99)


@pytest.mark.parametrize("batch_size", [0, -4])
def test_non_positive_batch_size(model, data, batch_size):
    assert_fit_error(model, ValueError, f"batch_size must be >= 1; received {batch_size}", *data,
                     batch_size=batch_size)


def test_batch_size_of_the_wrong_type(model, data):
    assert_fit_error(model, TypeError, "batch_size must be an integer", *data, batch_size=3.5)


def test_unknown_keyword_argument_suggests_the_right_spelling(model, data):
    assert_fit_error(model, TypeError, r"Unrecognized keyword arguments: 'epoch' \(did you mean 'epochs'\?\)",
                     *data, epoch=3)


def test_validation_data_of_the_wrong_length(model, data):
    x, y = data
    assert_fit_error(model, ValueError, "When passing validation_data, it must contain 2 .* or 3 .* items, "
                     "however it contains 1 items", x, y, validation_data=(x,))


def test_bad_shuffle_and_verbose(model, data):
    assert_fit_error(model, ValueError, "shuffle must be True, False or 'batch'", *data, shuffle="yes")
    with pytest.raises(ValueError, match="verbose must be 0"):
        model.fit(*data, verbose=3)


def test_target_shape_that_does_not_match_the_output(data):
    x, _ = data
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    assert_fit_error(model, ValueError, r"A target array with shape \(20, 2\) was passed for an output of shape "
                     r"\(None, 3\) while using as loss `mean_squared_error`", x, np.zeros((20, 2), "float32"))


def test_unknown_optimizer_loss_and_metric_names_list_the_known_ones():
    model = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(ValueError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error"):
        model.compile(optimizer="adam", loss="mean_square_error")
    with pytest.raises(ValueError, match="accuracy"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    assert model.compiled_loss is None  # a failed compile changes nothing


def test_compile_rejects_unknown_keyword():
    model = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(TypeError, match=r"'metric' \(did you mean 'metrics'\?\)"):
        model.compile(optimizer="adam", loss="mse", metric=["acc"])


def test_sample_weight_of_the_wrong_length(model, data):
    assert_fit_error(model, ValueError, "sample_weight has 5 entries but x has 20 samples", *data,
                     sample_weight=np.ones(5))


def test_non_numeric_input(model, data):
    _, y = data
    assert_fit_error(model, TypeError, "x must hold numbers", np.array([["a"] * 4] * 20), y)


def test_validation_data_errors_are_raised_before_training(model, data):
    x, y = data
    assert_fit_error(model, ValueError, "Error when checking input", x, y,
                     validation_data=(np.zeros((3, 7), "float32"), y[:3]))
