"""Pooling layers against NumPy loop references of Keras 2.3.1 / TensorFlow pooling."""
import numpy as np
import pytest

from kerasish.layers.pooling import (AveragePooling1D, AveragePooling2D, AvgPool2D, GlobalAveragePooling1D,
                                     GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D,
                                     MaxPooling2D)
from layer_references import apply, reference_pool

RNG = np.random.default_rng(1)


@pytest.mark.parametrize("cls, mode", [(MaxPooling2D, "max"), (AveragePooling2D, "avg")])
@pytest.mark.parametrize("size, pool, strides, padding", [
    ((6, 6), (2, 2), None, "valid"),
    ((7, 5), (3, 3), (2, 2), "valid"),
    ((7, 6), (2, 2), None, "same"),            # odd size: one padded row at the bottom only
    ((6, 7), (3, 3), (2, 2), "same"),          # padding 1 + 0 / 1 + 1: asymmetric and symmetric dims
    ((5, 5), (3, 3), (1, 1), "same"),          # symmetric padding through torch's padding argument
    ((8, 5), (4, 2), (3, 1), "same"),
])
def test_pooling2d_matches_reference(cls, mode, size, pool, strides, padding):
    layer = cls(pool, strides, padding)
    x = RNG.standard_normal((2, *size, 3)).astype(np.float32)
    expected = reference_pool(x, pool, strides or pool, padding, mode)
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert out.shape[1:] == layer.compute_output_shape((None, *size, 3))[1:]


@pytest.mark.parametrize("cls, mode", [(MaxPooling1D, "max"), (AveragePooling1D, "avg")])
@pytest.mark.parametrize("length, pool, strides, padding", [(8, 2, None, "valid"), (9, 3, 2, "same"),
                                                            (5, 2, 1, "same"), (7, 4, 3, "valid")])
def test_pooling1d_matches_reference(cls, mode, length, pool, strides, padding):
    x = RNG.standard_normal((2, length, 3)).astype(np.float32)
    expected = reference_pool(x, (pool,), (strides or pool,), padding, mode)
    np.testing.assert_allclose(apply(cls(pool, strides, padding), x), expected, rtol=1e-5, atol=1e-6)


def test_same_average_pooling_leaves_padding_out_of_the_count():
    # [1..5], pool 2, stride 2, 'same': windows [1,2], [3,4], [5, pad] -> 1.5, 3.5, 5.0
    x = np.arange(1.0, 6.0, dtype=np.float32).reshape(1, 5, 1)
    np.testing.assert_allclose(apply(AveragePooling1D(2, padding="same"), x).ravel(), [1.5, 3.5, 5.0])
    # stride 1 (the tf.keras docstring example): the last window holds 5 alone
    np.testing.assert_allclose(apply(AveragePooling1D(2, 1, padding="same"), x).ravel(), [1.5, 2.5, 3.5, 4.5, 5.0])
    np.testing.assert_allclose(apply(MaxPooling1D(2, 1, padding="same"), -x).ravel(), [-1, -2, -3, -4, -5])


def test_channels_first_pooling():
    x = RNG.standard_normal((2, 7, 6, 3)).astype(np.float32)
    expected = reference_pool(x, (3, 3), (2, 2), "same", "avg")
    layer = AvgPool2D(3, 2, "same", data_format="channels_first")
    assert layer.input_layout == "keras"
    np.testing.assert_allclose(apply(layer, x.transpose(0, 3, 1, 2)), expected.transpose(0, 3, 1, 2), rtol=1e-5)
    assert layer.compute_output_shape((None, 3, 7, 6)) == (None, 3, 4, 3)


def test_strides_default_to_pool_size_and_config():
    layer = MaxPooling2D((3, 2))
    assert layer.strides == (3, 2)
    expected = {"pool_size": (3, 2), "strides": (3, 2), "padding": "valid", "data_format": "channels_last"}
    assert expected.items() <= layer.get_config().items()
    assert MaxPooling1D().get_config()["pool_size"] == (2,)
    assert MaxPooling1D().data_format == "channels_last"


@pytest.mark.parametrize("cls, reduce", [(GlobalMaxPooling2D, np.max), (GlobalAveragePooling2D, np.mean)])
def test_global_pooling2d(cls, reduce):
    x = RNG.standard_normal((2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(apply(cls(), x), reduce(x, axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(apply(cls(data_format="channels_first"), x), reduce(x, axis=(2, 3)), rtol=1e-5)
    assert cls().compute_output_shape((None, 4, 5, 3)) == (None, 3)


@pytest.mark.parametrize("cls, reduce", [(GlobalMaxPooling1D, np.max), (GlobalAveragePooling1D, np.mean)])
def test_global_pooling1d(cls, reduce):
    x = RNG.standard_normal((2, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(apply(cls(), x), reduce(x, axis=1), rtol=1e-5)
    assert cls().get_config()["data_format"] == "channels_last"


def test_pooling_errors():
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        MaxPooling2D()._build_once((None, 4, 4))
    with pytest.raises(ValueError, match="Negative dimension size"):
        MaxPooling2D(3)._build_once((None, 2, 8, 1))
    with pytest.raises(ValueError, match="padding"):
        MaxPooling2D(padding="causal")
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(pool_size=0)
