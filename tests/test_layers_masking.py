"""Per-layer masks as Keras 2.3.1 defines them: which layers support masking (and pass a mask on), which refuse
one with Keras's TypeError, and the layers that make, combine or consume masks (Masking, the merge layers,
GlobalAveragePooling1D, Lambda).

Layers are called directly, with ``mask=`` where their ``call`` takes one, and ``compute_mask(inputs, mask)``
is called as a model would; expected values are NumPy computations of Keras 2.3.1's formulas.
"""
import numpy as np
import pytest
import torch
from torch import nn

from kerasish import layers as L
from kerasish.layers.input_layer import InputLayer

RNG = np.random.RandomState(0)


def f32(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


# Keras 2.3.1 sets supports_masking = True in these constructors (read from keras/layers/*.py, engine/input_layer.py)
SUPPORTING = {
    "Dense": lambda: L.Dense(2), "Activation": lambda: L.Activation("relu"), "Dropout": lambda: L.Dropout(0.5),
    "SpatialDropout1D": lambda: L.SpatialDropout1D(0.5), "SpatialDropout2D": lambda: L.SpatialDropout2D(0.5),
    "SpatialDropout3D": lambda: L.SpatialDropout3D(0.5), "Masking": lambda: L.Masking(),
    "ActivityRegularization": lambda: L.ActivityRegularization(), "LeakyReLU": lambda: L.LeakyReLU(),
    "PReLU": lambda: L.PReLU(), "ELU": lambda: L.ELU(), "ThresholdedReLU": lambda: L.ThresholdedReLU(),
    "Softmax": lambda: L.Softmax(), "ReLU": lambda: L.ReLU(), "BatchNormalization": lambda: L.BatchNormalization(),
    "Add": lambda: L.Add(), "Subtract": lambda: L.Subtract(), "Multiply": lambda: L.Multiply(),
    "Average": lambda: L.Average(), "Maximum": lambda: L.Maximum(), "Minimum": lambda: L.Minimum(),
    "Concatenate": lambda: L.Concatenate(), "Dot": lambda: L.Dot(axes=1),
    "GlobalAveragePooling1D": lambda: L.GlobalAveragePooling1D(),
    "InputLayer": lambda: InputLayer(input_shape=(3,)), "GaussianNoise": lambda: L.GaussianNoise(0.1),
    "GaussianDropout": lambda: L.GaussianDropout(0.1), "AlphaDropout": lambda: L.AlphaDropout(0.1),
    "TimeDistributed": lambda: L.TimeDistributed(L.Dense(2)), "Lambda with a mask": lambda: L.Lambda(abs, mask=1),
}
# ... and leaves it False in these (Layer.__init__'s default)
REFUSING = {
    "Flatten": lambda: L.Flatten(), "Reshape": lambda: L.Reshape((4,)), "Permute": lambda: L.Permute((2, 1)),
    "RepeatVector": lambda: L.RepeatVector(2), "Conv1D": lambda: L.Conv1D(2, 1), "Conv2D": lambda: L.Conv2D(2, 1),
    "Conv2DTranspose": lambda: L.Conv2DTranspose(2, 1), "SeparableConv2D": lambda: L.SeparableConv2D(2, 1),
    "ZeroPadding2D": lambda: L.ZeroPadding2D(), "UpSampling2D": lambda: L.UpSampling2D(),
    "MaxPooling1D": lambda: L.MaxPooling1D(), "MaxPooling2D": lambda: L.MaxPooling2D(),
    "AveragePooling1D": lambda: L.AveragePooling1D(), "AveragePooling2D": lambda: L.AveragePooling2D(),
    "GlobalMaxPooling1D": lambda: L.GlobalMaxPooling1D(), "GlobalMaxPooling2D": lambda: L.GlobalMaxPooling2D(),
    "GlobalAveragePooling2D": lambda: L.GlobalAveragePooling2D(), "TorchModule": lambda: L.TorchModule(nn.ReLU()),
}

# layers whose compute_mask passes the incoming mask on unchanged (Layer.compute_mask with supports_masking)
PASSING = sorted(set(SUPPORTING) - {"Masking", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                                    "Concatenate", "Dot", "GlobalAveragePooling1D", "TimeDistributed",
                                    "Lambda with a mask"})


@pytest.mark.parametrize("name", sorted(SUPPORTING))
def test_layers_that_keras_lets_support_masking_do(name):
    assert SUPPORTING[name]().supports_masking is True


@pytest.mark.parametrize("name", sorted(REFUSING))
def test_layers_that_keras_leaves_without_masking_refuse_a_mask_with_its_type_error(name):
    layer = REFUSING[name]()
    assert layer.supports_masking is False
    mask = torch.tensor([[True, False]])
    with pytest.raises(TypeError, match=f"^Layer {layer.name} does not support masking, but was passed an "
                                        f"input_mask: "):
        layer.compute_mask(torch.zeros(1, 2, 3), mask)
    assert layer.compute_mask(torch.zeros(1, 2, 3), None) is None


@pytest.mark.parametrize("name", PASSING)
def test_masking_layers_pass_the_incoming_mask_on_unchanged(name):
    mask = torch.tensor([[True, False, True], [False, True, True]])
    assert SUPPORTING[name]().compute_mask(torch.zeros(2, 3, 4), mask) is mask


def test_lambda_without_a_mask_returns_none_whatever_comes_in_as_keras_2_3_1():
    # Keras 2.3.1 Lambda.compute_mask returns self.mask (None) and never raises, though supports_masking is False
    layer = L.Lambda(lambda x: x * 2)
    assert layer.supports_masking is False
    assert layer.compute_mask(torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool)) is None


def test_lambda_mask_function_gets_the_inputs_and_the_incoming_mask():
    def first_step_masked(inputs, mask):
        return mask & (inputs.sum(-1) > 0)
    layer = L.Lambda(lambda x: x, mask=first_step_masked)
    x = f32([[[1.0], [-1.0], [2.0]]])
    mask = torch.tensor([[True, True, False]])
    assert layer.compute_mask(x, mask).tolist() == [[True, False, False]]


def test_lambda_function_taking_mask_receives_the_mask_of_the_call():
    seen = []

    def masked_sum(x, mask=None):
        seen.append(mask)
        return (x * mask.unsqueeze(-1)).sum(1) if mask is not None else x.sum(1)
    layer = L.Lambda(masked_sum)
    x = f32(RNG.rand(2, 3, 4))
    mask = torch.tensor([[True, False, True], [True, True, False]])
    np.testing.assert_allclose(layer(x, mask=mask).numpy(),
                               (x.numpy() * mask.numpy()[..., None]).sum(1), rtol=1e-6)
    assert seen[-1] is mask
    layer(x)
    assert seen[-1] is None  # no mask coming in: mask=None, as Keras passes it


# ================================================================ Masking
def numpy_masking(x, value):
    kept = np.any(x != value, axis=-1)
    return x * kept[..., None], kept


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_masking_zeroes_and_masks_the_steps_whose_features_all_equal_mask_value(value):
    x = RNG.rand(3, 5, 4).astype("float32")
    x[0, 1] = value
    x[2, 4] = value
    x[1, 2, :2] = value  # only some features equal: the step stays
    layer = L.Masking(mask_value=value)
    expected, expected_mask = numpy_masking(x, value)
    np.testing.assert_array_equal(layer(f32(x)).numpy(), expected)
    mask = layer.compute_mask(f32(x))
    assert mask.dtype == torch.bool and mask.shape == (3, 5)
    np.testing.assert_array_equal(mask.numpy(), expected_mask)
    assert expected_mask.sum() == 13  # the two masked steps, whatever the rest holds


def test_masking_replaces_an_incoming_mask_with_its_own():
    x = f32([[[1.0, 2.0], [0.0, 0.0]]])
    incoming = torch.tensor([[False, True]])
    assert L.Masking().compute_mask(x, incoming).tolist() == [[True, False]]


def test_masking_in_a_model_zeroes_the_masked_steps():
    from kerasish.models import Sequential
    model = Sequential([L.Masking(mask_value=5.0, input_shape=(3, 2))])
    x = np.array([[[5, 5], [1, 5], [5, 2]]], dtype="float32")
    np.testing.assert_array_equal(model.predict(x), [[[0, 0], [1, 5], [5, 2]]])
    assert model.layers[0].get_config()["mask_value"] == 5.0


# ================================================================ merge layers
@pytest.mark.parametrize("merge", [L.Add, L.Multiply, L.Average, L.Maximum, L.Minimum])
def test_merge_mask_is_the_logical_and_of_the_given_masks(merge):
    a, b, c = (torch.zeros(2, 3, 4) for _ in range(3))
    m1 = torch.tensor([[True, True, False], [True, False, True]])
    m2 = torch.tensor([[True, False, False], [True, True, True]])
    layer = merge()
    np.testing.assert_array_equal(layer.compute_mask([a, b, c], [m1, None, m2]).numpy(),
                                  np.logical_and(m1.numpy(), m2.numpy()))
    assert layer.compute_mask([a, b], [None, None]) is None
    assert layer.compute_mask([a, b], None) is None


def test_merge_mask_errors_use_keras_wording():
    a = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="^`mask` should be a list.$"):
        L.Add().compute_mask([a, a], torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="^`inputs` should be a list.$"):
        L.Add().compute_mask(a, [None, None])
    with pytest.raises(ValueError, match="^The lists `inputs` and `mask` should have the same length.$"):
        L.Add().compute_mask([a, a], [None])


def test_concatenate_along_time_joins_the_masks_with_ones_for_unmasked_inputs():
    a, b = torch.zeros(2, 3, 4), torch.zeros(2, 2, 4)
    mask_a = torch.tensor([[True, False, True], [False, True, True]])
    mask = L.Concatenate(axis=1).compute_mask([a, b], [mask_a, None])
    expected = np.concatenate([mask_a.numpy(), np.ones((2, 2), bool)], axis=1)
    np.testing.assert_array_equal(mask.numpy(), expected)


def test_concatenate_along_features_ands_the_step_masks():
    # Keras 2.3.1: masks expanded to (n, t, 1), joined on the last axis, then all() over it
    a, b = torch.zeros(2, 3, 4), torch.zeros(2, 3, 5)
    mask_a = torch.tensor([[True, False, True], [False, True, True]])
    mask_b = torch.tensor([[True, True, False], [True, True, True]])
    mask = L.Concatenate().compute_mask([a, b], [mask_a, mask_b])
    np.testing.assert_array_equal(mask.numpy(), mask_a.numpy() & mask_b.numpy())


def test_dot_makes_no_mask():
    a = torch.zeros(2, 3)
    assert L.Dot(axes=1).compute_mask([a, a], [torch.ones(2, 3, dtype=torch.bool), None]) is None


# ================================================================ GlobalAveragePooling1D
def test_global_average_pooling_1d_with_a_mask_averages_the_unmasked_steps():
    x = RNG.randn(3, 5, 4).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    layer = L.GlobalAveragePooling1D()
    out = layer(f32(x), mask=torch.tensor(mask))
    weights = mask.astype("float32")[..., None]
    np.testing.assert_allclose(out.numpy(), (x * weights).sum(1) / weights.sum(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(f32(x)).numpy(), x.mean(1), rtol=1e-5, atol=1e-6)
    assert layer.compute_mask(f32(x), torch.tensor(mask)) is None


def test_global_average_pooling_1d_channels_first_weights_each_step():
    x = RNG.randn(2, 4, 5).astype("float32")  # (batch, features, steps)
    mask = np.array([[1, 0, 1, 1, 0], [0, 0, 1, 0, 0]], dtype=bool)
    out = L.GlobalAveragePooling1D(data_format="channels_first")(f32(x), mask=torch.tensor(mask))
    weights = mask.astype("float32")[:, None, :]
    np.testing.assert_allclose(out.numpy(), (x * weights).sum(2) / weights.sum(2), rtol=1e-5, atol=1e-6)


def test_global_average_pooling_1d_of_a_fully_masked_sample_is_nan_as_keras():
    out = L.GlobalAveragePooling1D()(torch.ones(1, 3, 2), mask=torch.zeros(1, 3, dtype=torch.bool))
    assert torch.isnan(out).all()
