"""kerasish.utils: to_categorical and normalize (Keras 2.3.1 ``keras/utils/np_utils.py``), Sequence."""
import numpy as np
import pytest

from kerasish.utils.np_utils import normalize, to_categorical
from kerasish.utils.sequence import Sequence, is_sequence


# ---------------------------------------------------------------- to_categorical
def test_to_categorical_infers_num_classes_from_the_max_label():
    out = to_categorical([0, 2, 1, 2])
    np.testing.assert_array_equal(out, np.eye(3)[[0, 2, 1, 2]])
    assert out.shape == (4, 3)


def test_to_categorical_default_dtype_is_float32_and_dtype_is_honoured():
    assert to_categorical([0, 1]).dtype == np.float32
    assert to_categorical([0, 1], dtype="int32").dtype == np.int32


def test_to_categorical_with_num_classes_pads_columns():
    out = to_categorical(np.array([1, 0, 3]), num_classes=5)
    assert out.shape == (3, 5)
    np.testing.assert_array_equal(out, np.eye(5)[[1, 0, 3]])


def test_to_categorical_drops_a_trailing_axis_of_size_1():
    labels = np.array([[2], [0], [1]])
    out = to_categorical(labels, num_classes=3)
    assert out.shape == (3, 3)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])


def test_to_categorical_keeps_leading_axes_of_a_label_grid():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    out = to_categorical(labels)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out, np.eye(3)[labels])
    assert to_categorical(labels[..., None], num_classes=4).shape == (2, 3, 4)


def test_to_categorical_casts_float_labels_to_int():
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


def test_to_categorical_rejects_negative_labels():
    with pytest.raises(ValueError, match="-1"):
        to_categorical([0, -1, 2])


def test_to_categorical_rejects_labels_at_or_above_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([0, 3], num_classes=3)


# ---------------------------------------------------------------- normalize
def test_normalize_defaults_to_l2_over_the_last_axis():
    x = np.random.RandomState(0).randn(4, 5)
    np.testing.assert_allclose(normalize(x), x / np.linalg.norm(x, axis=-1, keepdims=True))


def test_normalize_axis_0_and_order_1():
    x = np.random.RandomState(1).randn(4, 5)
    np.testing.assert_allclose(normalize(x, axis=0, order=1), x / np.abs(x).sum(axis=0, keepdims=True))


def test_normalize_leaves_zero_vectors_zero():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0]])


# ---------------------------------------------------------------- Sequence
class Squares(Sequence):
    def __init__(self, n):
        self.n = n
        self.epochs_ended = 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return index * index

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_sequence_iterates_every_batch_once_in_order():
    assert list(Squares(4)) == [0, 1, 4, 9]


def test_sequence_base_class_requires_getitem_and_len():
    with pytest.raises(NotImplementedError):
        len(Sequence())
    with pytest.raises(NotImplementedError):
        Sequence()[0]
    Sequence().on_epoch_end()   # the default is a no-op


class DuckSequence:
    """Has Sequence's whole API without inheriting from it (Keras 2.3.1 training_utils.is_sequence)."""

    def __getitem__(self, index):
        return index

    def __len__(self):
        return 1

    def __iter__(self):
        yield self[0]

    def on_epoch_end(self):
        pass


def test_is_sequence_accepts_subclasses_and_duck_typed_objects():
    assert is_sequence(Squares(2))
    assert is_sequence(DuckSequence())


@pytest.mark.parametrize("obj", [[1, 2, 3], np.zeros((3, 2)), (i for i in range(3)), {"a": 1}])
def test_is_sequence_rejects_lists_arrays_generators_and_dicts(obj):
    assert not is_sequence(obj)
