"""MaxPooling3D, AveragePooling3D and the global 3D poolings against NumPy references of TensorFlow's pooling.

layer_references.reference_pool pads with NaN (TF 'SAME': the odd cell at the end) and reduces each window with
nanmax/nanmean, so padded cells never win a max and never count in a mean, as TF's ``max_pool3d``/``avg_pool3d``.
"""
import numpy as np
import pytest
import torch

import kerasish.layers as L
from kerasish.layers.pooling import AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D, MaxPooling3D
from layer_references import apply, reference_pool, to_channels_first

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("cls, mode", [(MaxPooling3D, "max"), (AveragePooling3D, "avg")])
@pytest.mark.parametrize("size, pool, strides, padding", [
    ((4, 6, 5), (2, 2, 2), None, "valid"),
    ((5, 6, 7), (2, 3, 2), (1, 2, 3), "valid"),
    ((5, 6, 7), (2, 2, 2), None, "same"),          # odd sizes: one padded cell at the end
    ((5, 4, 7), (3, 2, 3), (2, 1, 2), "same"),     # symmetric padding on some axes, asymmetric on others
    ((4, 4, 4), (3, 3, 3), (1, 1, 1), "same"),     # padding on both sides
])
def test_pooling3d_matches_reference(cls, mode, size, pool, strides, padding):
    x = RNG.standard_normal((2, *size, 3)).astype(np.float32)
    layer = cls(pool, strides=strides, padding=padding)
    expected = reference_pool(x, pool, strides or pool, padding, mode)
    out = apply(layer, x)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert out.shape[1:] == layer.compute_output_shape((None, *size, 3))[1:]


def test_same_average_pooling3d_leaves_padding_out_of_the_mean():
    # 3 cells along dim1 with pool 2: windows [1, 2] and [3, pad] -> means 1.5 and 3 (not 1.5)
    x = np.array([1.0, 2.0, 3.0], np.float32).reshape(1, 3, 1, 1, 1)
    out = apply(AveragePooling3D((2, 1, 1), padding="same"), x)
    np.testing.assert_allclose(out.ravel(), [1.5, 3.0])


@pytest.mark.parametrize("cls, mode", [(MaxPooling3D, "max"), (AveragePooling3D, "avg")])
def test_channels_first_pooling3d(cls, mode):
    x = RNG.standard_normal((2, 5, 4, 3, 2)).astype(np.float32)
    layer = cls(2, strides=(1, 2, 1), padding="same", data_format="channels_first")
    expected = reference_pool(x, (2, 2, 2), (1, 2, 1), "same", mode)
    out = apply(layer, to_channels_first(x))
    np.testing.assert_allclose(out, to_channels_first(expected), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 2, 5, 4, 3)) == (None, 2, 5, 2, 3)


def test_pooling3d_defaults_aliases_and_config():
    assert L.MaxPool3D is MaxPooling3D and L.AvgPool3D is AveragePooling3D
    layer = MaxPooling3D()
    assert layer.pool_size == (2, 2, 2) and layer.strides == (2, 2, 2)   # strides=None -> pool_size
    config = AveragePooling3D((1, 2, 3), padding="SAME").get_config()
    assert config["pool_size"] == (1, 2, 3) and config["strides"] == (1, 2, 3)
    assert config["padding"] == "same" and config["data_format"] == "channels_last"


@pytest.mark.parametrize("cls, reduce, alias", [(GlobalMaxPooling3D, np.max, "GlobalMaxPool3D"),
                                                (GlobalAveragePooling3D, np.mean, "GlobalAvgPool3D")])
def test_global_pooling3d(cls, reduce, alias):
    x = RNG.standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    np.testing.assert_allclose(apply(cls(), x), reduce(x, axis=(1, 2, 3)), rtol=1e-5)
    first = cls(data_format="channels_first")
    np.testing.assert_allclose(apply(first, x), reduce(x, axis=(2, 3, 4)), rtol=1e-5)
    assert first.compute_output_shape((None, 3, 4, 5, 6)) == (None, 3)
    assert cls().compute_output_shape((None, 3, 4, 5, 6)) == (None, 6)
    assert getattr(L, alias) is cls and cls().get_config()["data_format"] == "channels_last"


def test_pooling3d_errors():
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling3D((2, 2))
    with pytest.raises(ValueError, match="padding"):
        AveragePooling3D(padding="causal")
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        MaxPooling3D(3)._build_once((None, 4, 2, 4, 1))
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        GlobalMaxPooling3D()._build_once((None, 4, 4, 1))
    with pytest.raises(TypeError, match="does not support masking"):
        GlobalAveragePooling3D().compute_mask(torch.zeros(1, 2), torch.ones(1, 2, dtype=torch.bool))
