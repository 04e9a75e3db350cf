"""The rest of Keras 2.3.1's ``keras/layers/core.py``: RepeatVector, ActivityRegularization and
SpatialDropout1D/2D/3D (Masking is in test_layers_masking.py).

Expected values are NumPy computations of Keras's formulas; dropout draws are seeded.
"""
import numpy as np
import pytest
import torch

from kerasish import optimizers
from kerasish.layers import (ActivityRegularization, Dense, Input, RepeatVector, SpatialDropout1D, SpatialDropout2D,
                             SpatialDropout3D)
from kerasish.models import Model, Sequential

RNG = np.random.RandomState(0)


def f32(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


# ================================================================ RepeatVector
def test_repeat_vector_repeats_each_sample_n_times():
    x = RNG.rand(3, 4).astype("float32")
    out = RepeatVector(5)(f32(x))
    np.testing.assert_array_equal(out.numpy(), np.repeat(x[:, None, :], 5, axis=1))


def test_repeat_vector_shapes_in_models():
    model = Sequential([Dense(4, input_shape=(3,)), RepeatVector(6)])
    assert model.output_shape == (None, 6, 4)
    assert model.predict(np.zeros((2, 3), "float32")).shape == (2, 6, 4)
    assert RepeatVector(2).compute_output_shape((None, 7)) == (None, 2, 7)


def test_repeat_vector_needs_2d_inputs_with_keras_message():
    with pytest.raises(ValueError, match="^Input 0 is incompatible with layer repeat_vector_1: expected ndim=2, "
                                         "found ndim=3"):
        RepeatVector(2)(Input((3, 4)))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        RepeatVector(2)(torch.zeros(1, 3, 4))


def test_repeat_vector_config_and_argument_check():
    layer = RepeatVector(3, name="rv")
    assert layer.get_config() == {"name": "rv", "trainable": True, "dtype": "float32", "n": 3}
    assert RepeatVector.from_config(layer.get_config()).n == 3
    with pytest.raises(ValueError, match="RepeatVector: argument `n` must be an integer >= 1; received 0"):
        RepeatVector(0)


# ================================================================ ActivityRegularization
def test_activity_regularization_is_the_identity_and_penalises_its_training_output():
    x = RNG.randn(4, 3).astype("float32")
    layer = ActivityRegularization(l1=0.1, l2=0.02).train()
    np.testing.assert_array_equal(layer(f32(x)).numpy(), x)
    (penalty,) = layer.regularization_losses()
    assert penalty.item() == pytest.approx(0.1 * np.abs(x).sum() + 0.02 * np.square(x).sum(), rel=1e-5)
    layer.eval()(f32(x))
    assert layer.regularization_losses() == []  # inference adds nothing


def test_activity_regularization_penalty_joins_the_training_loss():
    # lr 0: the weights stay, so the logged loss of the single batch is mse + l1 * sum(|activity|)
    kernel = np.array([[1.0], [-2.0]], dtype="float32")
    model = Sequential([Dense(1, use_bias=False, input_shape=(2,), weights=[kernel]),
                        ActivityRegularization(l1=0.5)])
    model.compile(optimizers.SGD(lr=0.0), "mse")
    x = np.array([[1.0, 2.0], [3.0, 0.5]], dtype="float32")
    y = np.array([[0.0], [1.0]], dtype="float32")
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    out = x @ kernel
    expected = np.mean((out - y) ** 2) + 0.5 * np.abs(out).sum()
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_activity_regularization_config_as_keras():
    layer = ActivityRegularization(l1=0.3, name="ar")
    assert layer.get_config() == {"name": "ar", "trainable": True, "dtype": "float32", "l1": 0.3, "l2": 0.0}
    again = ActivityRegularization.from_config(layer.get_config())
    assert (again.activity_regularizer.l1, again.activity_regularizer.l2) == (0.3, 0.0)


# ================================================================ SpatialDropout
def kept_maps(out, x, rate, channel_axis):
    """Per (sample, channel): True when the whole map is kept (scaled by 1 / (1 - rate)), False when all zero;
    fails when a map is partly dropped."""
    out, x = np.moveaxis(out, channel_axis, 1), np.moveaxis(x, channel_axis, 1)
    n, c = out.shape[:2]
    out, x = out.reshape(n, c, -1), x.reshape(n, c, -1)
    kept = np.all(np.isclose(out, x / (1 - rate), rtol=1e-6), axis=2)
    dropped = np.all(out == 0, axis=2)
    assert np.all(kept ^ dropped), "a feature map was partly dropped"
    return kept


@pytest.mark.parametrize("layer, shape, channel_axis", [
    (SpatialDropout1D(0.4, seed=1), (40, 6, 10), -1),
    (SpatialDropout2D(0.4, seed=1), (40, 3, 4, 10), -1),
    (SpatialDropout2D(0.4, data_format="channels_first", seed=1), (40, 10, 3, 4), 1),
    (SpatialDropout3D(0.4, seed=1), (40, 2, 3, 2, 10), -1),
    (SpatialDropout3D(0.4, data_format="channels_first", seed=1), (40, 10, 2, 3, 2), 1),
], ids=["1d", "2d", "2d_channels_first", "3d", "3d_channels_first"])
def test_spatial_dropout_drops_whole_feature_maps_in_training_only(layer, shape, channel_axis):
    x = RNG.rand(*shape).astype("float32") + 0.5
    out = layer.train()(f32(x)).numpy()
    kept = kept_maps(out, x, 0.4, channel_axis)
    # 400 maps, each dropped with probability 0.4: the dropped fraction within 6 standard errors
    assert abs((1 - kept.mean()) - 0.4) < 6 * np.sqrt(0.4 * 0.6 / kept.size)
    np.testing.assert_array_equal(layer.eval()(f32(x)).numpy(), x)


def test_seeded_spatial_dropout_draws_the_same_maps_in_either_data_format():
    # Keras draws a (n, 1, 1, c) or (n, c, 1, 1) mask: n-major, then channels, in both
    x = RNG.rand(5, 3, 4, 6).astype("float32") + 0.5
    last = SpatialDropout2D(0.5, seed=7).train()(f32(x)).numpy()
    first = SpatialDropout2D(0.5, data_format="channels_first", seed=7).train()(
        f32(np.moveaxis(x, -1, 1))).numpy()
    np.testing.assert_array_equal(kept_maps(last, x, 0.5, -1), kept_maps(first, np.moveaxis(x, -1, 1), 0.5, 1))
    expected = torch.empty(5, 6).bernoulli_(0.5, generator=torch.Generator().manual_seed(7)).bool().numpy()
    np.testing.assert_array_equal(kept_maps(last, x, 0.5, -1), expected)


def test_spatial_dropout_in_a_conv_model_keeps_shapes():
    inputs = Input((4, 4, 3))
    outputs = SpatialDropout2D(0.3)(inputs)
    assert Model(inputs, outputs).output_shape == (None, 4, 4, 3)


def test_spatial_dropout_checks_the_input_rank_with_keras_message():
    with pytest.raises(ValueError, match="^Input 0 is incompatible with layer spatial_dropout2d_1: expected "
                                         "ndim=4, found ndim=3"):
        SpatialDropout2D(0.5)(Input((4, 3)))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        SpatialDropout1D(0.5)(torch.zeros(1, 2, 3, 4))


def test_spatial_dropout_configs():
    one = SpatialDropout1D(0.2, name="s1")
    assert one.get_config() == {"name": "s1", "trainable": True, "dtype": "float32", "rate": 0.2,
                                "noise_shape": None, "seed": None}
    two = SpatialDropout2D(0.2, data_format="channels_first", seed=3, name="s2")
    config = two.get_config()
    assert config["data_format"] == "channels_first" and config["seed"] == 3
    again = SpatialDropout2D.from_config(config)
    assert (again.rate, again.data_format, again.seed) == (0.2, "channels_first", 3)
    # a Keras 2.3.1 config (Dropout's keys only) loads with the default data_format
    keras_config = {"name": "k", "trainable": True, "dtype": "float32", "rate": 0.5, "noise_shape": None,
                    "seed": None}
    assert SpatialDropout3D.from_config(keras_config).data_format == "channels_last"
