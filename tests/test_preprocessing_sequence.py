"""kerasish.preprocessing.sequence against keras-preprocessing 1.1.2 (what Keras 2.3.1 re-exports), on the same
inputs and seeds: padded arrays (values, dtype, shape), errors, skip-gram pairs, sampling tables and
TimeseriesGenerator batches; and a TimeseriesGenerator feeding fit_generator."""
import json
import random
import warnings

import keras_preprocessing.sequence as kp
import numpy as np
import pytest

from kerasish.layers import Dense
from kerasish.models import Sequential
from kerasish.optimizers import SGD
from kerasish.preprocessing import sequence
from kerasish.utils import Sequence

RAGGED = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10, 11], [12]]


@pytest.fixture(autouse=True)
def numpy_1_alias_for_keras_preprocessing(monkeypatch):
    """keras-preprocessing 1.1.2's pad_sequences reads ``np.unicode_``, an alias of ``np.str_`` that NumPy 2
    removed; the reference runs with the alias put back."""
    monkeypatch.setattr(np, "unicode_", np.str_, raising=False)


def assert_same_array(got, expected):
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def error_of(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the test compares whatever both raise
        return type(error), str(error)
    raise AssertionError("no error raised")


# ---------------------------------------------------------------------------- pad_sequences
@pytest.mark.parametrize("maxlen", [None, 1, 3, 6, 9])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_pad_sequences_matches_for_every_padding_and_truncating_mode(padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    assert_same_array(sequence.pad_sequences(RAGGED, **kwargs), kp.pad_sequences(RAGGED, **kwargs))


def test_pad_sequences_by_hand():
    # an independent check of the four corners of the modes
    seqs = [[1, 2, 3, 4], [5]]
    np.testing.assert_array_equal(sequence.pad_sequences(seqs, maxlen=3), [[2, 3, 4], [0, 0, 5]])
    np.testing.assert_array_equal(sequence.pad_sequences(seqs, maxlen=3, padding="post", truncating="post"),
                                  [[1, 2, 3], [5, 0, 0]])


def test_pad_sequences_of_numpy_arrays_and_object_arrays_match():
    arrays = [np.array(s, dtype=np.int64) for s in RAGGED]
    ragged_object_array = np.empty(len(arrays), dtype=object)
    ragged_object_array[:] = arrays
    for sequences in (arrays, ragged_object_array, np.arange(12).reshape(3, 4)):
        for kwargs in ({}, dict(maxlen=2), dict(maxlen=5, padding="post", truncating="post")):
            assert_same_array(sequence.pad_sequences(sequences, **kwargs), kp.pad_sequences(sequences, **kwargs))


def test_pad_sequences_with_float_dtype_and_value():
    floats = [[0.5, 1.25], [], [3.75, -2.5, 9.125]]
    for kwargs in (dict(dtype="float32", value=-1.5), dict(dtype="float64", value=np.nan, padding="post"),
                   dict(dtype="int32", value=-1.7, maxlen=4)):  # int32: values and padding cast as NumPy does
        assert_same_array(sequence.pad_sequences(floats, **kwargs), kp.pad_sequences(floats, **kwargs))


def test_pad_sequences_with_strings():
    words = [["the", "cat"], [], ["a", "much", "longer", "sentence", "here"]]
    for kwargs in (dict(dtype=object, value="<pad>", maxlen=4), dict(dtype="<U8", value="-", padding="post"),
                   dict(dtype=str, value="")):
        assert_same_array(sequence.pad_sequences(words, **kwargs), kp.pad_sequences(words, **kwargs))


def test_a_string_value_with_a_numeric_dtype_raises_keras_preprocessings_error():
    got = error_of(lambda: sequence.pad_sequences([["a"]], value="x"))
    assert got == error_of(lambda: kp.pad_sequences([["a"]], value="x"))
    assert got == (ValueError, "`dtype` int32 is not compatible with `value`'s type: <class 'str'>\n"
                               "You should set `dtype=object` for variable length strings.")


def test_sequences_of_arrays_keep_the_trailing_sample_shape():
    steps = [np.arange(6).reshape(3, 2), np.zeros((0, 2)), np.ones((1, 2)) * 7, np.arange(10).reshape(5, 2)]
    for kwargs in ({}, dict(maxlen=4, padding="post"), dict(maxlen=2, truncating="post", value=-1)):
        got = sequence.pad_sequences(steps, **kwargs)
        assert_same_array(got, kp.pad_sequences(steps, **kwargs))
    assert got.shape == (4, 2, 2)


def test_a_sample_of_another_shape_raises_keras_preprocessings_error():
    steps = [np.zeros((2, 3)), np.zeros((2, 4))]
    got = error_of(lambda: sequence.pad_sequences(steps))
    assert got == error_of(lambda: kp.pad_sequences(steps))
    assert got == (ValueError, "Shape of sample (4,) of sequence at position 1 is different from expected shape (3,)")


def test_empty_sequences_and_an_empty_list():
    assert_same_array(sequence.pad_sequences([[], []]), kp.pad_sequences([[], []]))  # shape (2, 0)
    assert_same_array(sequence.pad_sequences([[], []], maxlen=3), kp.pad_sequences([[], []], maxlen=3))
    assert_same_array(sequence.pad_sequences([], maxlen=3), kp.pad_sequences([], maxlen=3))  # shape (0, 3)
    assert error_of(lambda: kp.pad_sequences([]))[0] is ValueError  # NumPy's "zero-size array" error
    with pytest.raises(ValueError, match="`sequences` is empty and `maxlen` is None"):
        sequence.pad_sequences([])


def test_maxlen_zero_gives_rows_of_length_zero():
    kwargs = dict(maxlen=0, truncating="post")
    assert_same_array(sequence.pad_sequences(RAGGED, **kwargs), kp.pad_sequences(RAGGED, **kwargs))
    # keras-preprocessing's s[-0:] keeps the whole sequence with truncating='pre' and fails to broadcast it
    assert error_of(lambda: kp.pad_sequences(RAGGED, maxlen=0))[0] is ValueError
    assert sequence.pad_sequences(RAGGED, maxlen=0).shape == (5, 0)


def test_bad_padding_and_truncating_raise_keras_preprocessings_errors():
    with pytest.raises(ValueError, match='^Padding type "middle" not understood'):
        sequence.pad_sequences(RAGGED, padding="middle")
    with pytest.raises(ValueError, match='^Truncating type "mid" not understood'):
        sequence.pad_sequences(RAGGED, truncating="mid")
    assert error_of(lambda: kp.pad_sequences(RAGGED, padding="middle"))[1] == 'Padding type "middle" not understood'
    assert error_of(lambda: kp.pad_sequences(RAGGED, truncating="mid"))[1] == 'Truncating type "mid" not understood'
    # raised before any work, also when no sequence would reach keras-preprocessing's check
    with pytest.raises(ValueError, match="Padding type"):
        sequence.pad_sequences([[]], padding="middle")


def test_non_iterable_input_raises_keras_preprocessings_errors():
    for bad in (5, [[1, 2], 3]):
        got = error_of(lambda: sequence.pad_sequences(bad))
        assert got == error_of(lambda: kp.pad_sequences(bad))
    assert got == (ValueError, "`sequences` must be a list of iterables. Found non-iterable: 3")


# ---------------------------------------------------------------------------- skip-grams
@pytest.mark.parametrize("size, factor", [(1, 1e-5), (10, 1e-5), (1000, 1e-3), (20000, 1e-5)])
def test_make_sampling_table_equals_bit_for_bit(size, factor):
    assert_same_array(sequence.make_sampling_table(size, factor), kp.make_sampling_table(size, factor))


def test_make_sampling_table_follows_the_word2vec_formula_with_zipf_frequencies():
    table = sequence.make_sampling_table(50, sampling_factor=1e-2)
    rank = np.maximum(np.arange(50), 1)
    inverse_frequency = rank * (np.log(rank) + 0.577) + 0.5 - 1 / (12 * rank)
    np.testing.assert_allclose(table, np.minimum(1, np.sqrt(1e-2 * inverse_frequency)), rtol=1e-12)


SKIPGRAM_CASES = {
    "defaults": dict(),
    "categorical": dict(categorical=True, window_size=2),
    "no_negatives": dict(negative_samples=0.),
    "more_negatives": dict(negative_samples=2.5, window_size=1),
    "no_shuffle": dict(shuffle=False),
    "sampling_table": dict(sampling_table="table"),
    "no_seed": dict(seed=None),
}


@pytest.mark.parametrize("case", SKIPGRAM_CASES.values(), ids=SKIPGRAM_CASES.keys())
def test_skipgrams_give_the_same_pairs_and_leave_random_in_the_same_state(case):
    kwargs = dict(dict(seed=42), **case)
    if kwargs.get("sampling_table") == "table":
        kwargs["sampling_table"] = kp.make_sampling_table(20, sampling_factor=0.05)
    words = [3, 0, 5, 1, 1, 7, 0, 12, 19, 2, 5, 5]
    random.seed(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        couples, labels = sequence.skipgrams(words, 20, **kwargs)
    after = random.random()
    random.seed(7)
    with warnings.catch_warnings():  # keras-preprocessing's randint(0, 10e6) warns on Python 3.10 and 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        expected_couples, expected_labels = kp.skipgrams(words, 20, **kwargs)
    assert couples == expected_couples
    assert labels == expected_labels
    assert after == random.random()


def test_skipgrams_by_hand_without_shuffle_or_negatives():
    couples, labels = sequence.skipgrams([1, 2, 0, 3], 4, window_size=1, negative_samples=0, shuffle=False)
    assert couples == [[1, 2], [2, 1]]  # 0 is a non-word: never a target nor a context (3's only neighbour)
    assert labels == [1, 1]


def test_skipgrams_negatives_are_labelled_zero_and_in_the_vocabulary():
    couples, labels = sequence.skipgrams(list(range(1, 30)), 30, window_size=2, negative_samples=1., seed=3)
    assert labels.count(0) == labels.count(1) == 2 * (29 * 2 - 3)
    assert all(1 <= context < 30 for (_, context), label in zip(couples, labels) if label == 0)


# ---------------------------------------------------------------------------- TimeseriesGenerator
SERIES = np.arange(100, dtype="float32").reshape(50, 2)
TARGETS = np.arange(50) * 10

TIMESERIES_CASES = {
    "docstring": dict(length=10, sampling_rate=2, batch_size=2),
    "defaults": dict(length=5),
    "stride": dict(length=4, stride=3, batch_size=4),
    "start_end": dict(length=3, start_index=5, end_index=30, batch_size=7),
    "reverse": dict(length=6, sampling_rate=3, reverse=True, batch_size=8),
    "uneven": dict(length=7, sampling_rate=4, stride=2, batch_size=5),
    "last_row": dict(length=48, batch_size=1),
}


@pytest.mark.parametrize("case", TIMESERIES_CASES.values(), ids=TIMESERIES_CASES.keys())
def test_timeseries_generator_batches_equal_keras_preprocessings(case):
    ours = sequence.TimeseriesGenerator(SERIES, TARGETS, **case)
    reference = kp.TimeseriesGenerator(SERIES, TARGETS, **case)
    assert len(ours) == len(reference)
    for index in range(len(reference)):
        (x, y), (expected_x, expected_y) = ours[index], reference[index]
        assert_same_array(x, expected_x)
        assert_same_array(y, expected_y)


def test_timeseries_generator_docstring_example():
    data = np.array([[i] for i in range(50)])
    generator = sequence.TimeseriesGenerator(data, data, length=10, sampling_rate=2, batch_size=2)
    assert len(generator) == 20
    x, y = generator[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])


def test_timeseries_generator_on_python_lists():
    data, targets = [[i, -i] for i in range(20)], list(range(20))
    ours = sequence.TimeseriesGenerator(data, targets, length=3, batch_size=4, reverse=True)
    reference = kp.TimeseriesGenerator(data, targets, length=3, batch_size=4, reverse=True)
    for index in range(len(reference)):
        for got, expected in zip(ours[index], reference[index]):
            assert_same_array(got, expected)


def test_timeseries_generator_shuffles_with_np_random_as_keras_preprocessing():
    ours = sequence.TimeseriesGenerator(SERIES, TARGETS, length=4, shuffle=True, batch_size=6)
    reference = kp.TimeseriesGenerator(SERIES, TARGETS, length=4, shuffle=True, batch_size=6)
    np.random.seed(11)
    got = [ours[i] for i in range(3)]
    np.random.seed(11)
    expected = [reference[i] for i in range(3)]
    for (x, y), (expected_x, expected_y) in zip(got, expected):
        assert_same_array(x, expected_x)
        assert_same_array(y, expected_y)
    assert not np.array_equal(got[0][1], got[1][1])


def test_timeseries_generator_errors_equal_keras_preprocessings():
    for kwargs in (dict(data=SERIES, targets=TARGETS[:-1], length=3),
                   dict(data=SERIES, targets=TARGETS, length=30, start_index=25),
                   dict(data=SERIES, targets=TARGETS, length=5, end_index=4)):
        assert error_of(lambda: sequence.TimeseriesGenerator(**kwargs)) == \
            error_of(lambda: kp.TimeseriesGenerator(**kwargs))
    assert error_of(lambda: sequence.TimeseriesGenerator(SERIES, TARGETS[:-1], length=3)) == \
        (ValueError, "Data and targets have to be of same length. Data length is 50 while target length is 49")


@pytest.mark.parametrize("argument", ["sampling_rate", "stride", "batch_size"])
def test_timeseries_generator_refuses_steps_below_one(argument):
    with pytest.raises(ValueError, match=f"`{argument}` must be an integer >= 1; received {argument}=0"):
        sequence.TimeseriesGenerator(SERIES, TARGETS, length=3, **{argument: 0})


def test_timeseries_generator_get_config_and_to_json_equal_keras_preprocessings():
    kwargs = dict(length=3, sampling_rate=2, stride=2, start_index=1, end_index=40, shuffle=True, reverse=True,
                  batch_size=9)
    for data, targets in ((SERIES, TARGETS), (SERIES.tolist(), TARGETS.tolist())):
        ours = sequence.TimeseriesGenerator(data, targets, **kwargs)
        reference = kp.TimeseriesGenerator(data, targets, **kwargs)
        assert ours.get_config() == reference.get_config()
        assert ours.to_json() == reference.to_json()
    assert json.loads(ours.to_json())["class_name"] == "TimeseriesGenerator"
    assert ours.get_config()["start_index"] == 4  # keras-preprocessing stores start_index + length


def test_timeseries_generator_get_config_of_data_json_cannot_hold():
    data = [object()] * 10
    ours = sequence.TimeseriesGenerator(data, list(range(10)), length=2)
    reference = kp.TimeseriesGenerator(data, list(range(10)), length=2)
    assert error_of(ours.get_config)[0] is error_of(reference.get_config)[0] is TypeError
    with pytest.raises(TypeError, match="Data not JSON Serializable"):
        ours.get_config()


def test_timeseries_generator_feeds_fit_generator():
    # predict the next value of a noisy sine from the 4 values before it (latest first: reverse=True gives
    # batches with a negative stride, which fit_generator copies)
    rng = np.random.RandomState(0)
    series = np.sin(np.arange(400) * 0.1).astype("float32") + 0.01 * rng.randn(400).astype("float32")
    generator = sequence.TimeseriesGenerator(series, series, length=4, batch_size=32, reverse=True)
    assert isinstance(generator, Sequence)
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(optimizer=SGD(lr=0.1), loss="mse")
    history = model.fit_generator(generator, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 8
    assert losses[-1] < 0.2 * losses[0]
    x, y = generator[len(generator) - 1]
    assert float(np.mean((model.predict(x)[:, 0] - y) ** 2)) < 0.01


def test_public_names_are_keras_2_3_1s():
    assert set(sequence.__all__) == {"pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator"}
    from kerasish import preprocessing
    assert preprocessing.sequence is sequence
