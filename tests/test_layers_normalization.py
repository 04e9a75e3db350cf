"""BatchNormalization against a NumPy statement of Keras 2.3.1's formulas (keras/layers/normalization.py)."""
import numpy as np
import pytest
import torch

from kerasish.layers.normalization import BatchNormalization

RNG = np.random.default_rng(2)


def keras_bn_step(x, axis, gamma, beta, moving_mean, moving_var, momentum, epsilon):
    """One training step of K231 BatchNormalization.call: output with the batch's biased variance;
    moving variance fed with variance * m / (m - (1 + epsilon)); moving_average_update x = m*x + (1-m)*v."""
    axis = axis % x.ndim
    reduce = tuple(d for d in range(x.ndim) if d != axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    mean, var = x.mean(axis=reduce), x.var(axis=reduce)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon) * gamma.reshape(shape) + beta.reshape(shape)
    m = x.size / x.shape[axis]
    new_mean = momentum * moving_mean + (1 - momentum) * mean
    new_var = momentum * moving_var + (1 - momentum) * var * m / (m - (1.0 + epsilon))
    return out, new_mean, new_var


def run(layer, x_keras, training):
    layer._build_once((None,) + x_keras.shape[1:])
    layer.train(training)
    # layer(x) takes and returns Keras's layout, whatever layout the layer computes in
    return layer(torch.as_tensor(x_keras, dtype=torch.float32)).detach().numpy()


def random_state(layer, channels):
    weights = [RNG.standard_normal(channels).astype(np.float32), RNG.standard_normal(channels).astype(np.float32),
               RNG.standard_normal(channels).astype(np.float32), RNG.uniform(0.5, 2.0, channels).astype(np.float32)]
    layer.set_weights(weights)
    return weights


def test_param_counts_as_keras_reports():
    layer = BatchNormalization()
    layer._build_once((None, 8, 8, 32))
    assert layer.count_params() == 128
    assert sum(w.numel() for w in layer.trainable_weights) == 64
    assert sum(w.numel() for w in layer.non_trainable_weights) == 64
    assert [w.shape for w in layer.get_weights()] == [(32,)] * 4
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(32))   # moving_variance starts at 1
    no_scale = BatchNormalization(scale=False, center=False)
    no_scale._build_once((None, 5))
    assert no_scale.count_params() == 10 and len(no_scale.get_weights()) == 2


@pytest.mark.parametrize("shape, axis", [
    ((6, 4, 5, 3), -1),     # after a channels_last conv: channels at dim 1 of the call layout
    ((6, 3, 4, 5), 1),      # channels_first conv output
    ((8, 5), -1),           # after Dense
    ((4, 7, 3), -1),        # after Conv1D
    ((4, 3, 5, 2), 2),      # an inner axis: moved to dim 1 and back
    ((4, 3, 5, 2), 3),      # positive index of the last axis
])
def test_training_step_output_and_moving_statistics(shape, axis):
    momentum, epsilon = 0.9, 1e-3
    layer = BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon)
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    layer._build_once((None,) + shape[1:])
    gamma, beta, moving_mean, moving_var = random_state(layer, shape[axis])
    out = run(layer, x, training=True)
    expected, new_mean, new_var = keras_bn_step(x.astype(np.float64), axis, gamma, beta, moving_mean, moving_var,
                                                momentum, epsilon)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.get_weights()[2], new_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[3], new_var, rtol=1e-5, atol=1e-6)


def test_variance_correction_uses_epsilon_not_bessel():
    # 2 values per channel: Keras multiplies by 2 / (2 - 1.5) = 4 with epsilon 0.5; Bessel would give 2
    layer = BatchNormalization(momentum=0.0, epsilon=0.5)
    run(layer, np.array([[0.0], [2.0]], np.float32), training=True)
    np.testing.assert_allclose(layer.get_weights()[3], [1.0 * 4.0], rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[2], [1.0], rtol=1e-6)


def test_inference_uses_moving_statistics():
    layer = BatchNormalization(epsilon=1e-3)
    x = RNG.standard_normal((5, 3, 3, 4)).astype(np.float32)
    layer._build_once((None, 3, 3, 4))
    gamma, beta, mean, var = random_state(layer, 4)
    out = run(layer, x, training=False)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(layer.get_weights()[2], mean)   # no update outside training


def test_frozen_layer_normalises_with_batch_statistics_but_keeps_moving_ones():
    layer = BatchNormalization()
    x = (RNG.standard_normal((8, 4)) * 2 + 3).astype(np.float32)
    layer._build_once((None, 4))
    gamma, beta, mean, var = random_state(layer, 4)
    layer.trainable = False
    out = run(layer, x, training=True)
    expected, _, _ = keras_bn_step(x.astype(np.float64), -1, gamma, beta, mean, var, 0.99, 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(layer.get_weights()[2], mean)
    np.testing.assert_array_equal(layer.get_weights()[3], var)
    assert layer.trainable_weights == []


def test_single_sample_batch_trains_like_keras():
    # one value per feature: output is beta, the moving variance only decays (Keras multiplies 0 by 1/-eps)
    layer = BatchNormalization(momentum=0.5)
    x = np.array([[3.0, -1.0]], np.float32)
    out = run(layer, x, training=True)
    np.testing.assert_allclose(out, [[0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[2], [1.5, -0.5])
    np.testing.assert_allclose(layer.get_weights()[3], [0.5, 0.5])


def test_gradients_flow_to_gamma_and_beta():
    layer = BatchNormalization()
    layer._build_once((None, 3, 3, 2))
    x = torch.randn(4, 3, 3, 2)
    layer.train()
    layer(x).square().sum().backward()
    assert layer.gamma.grad is not None and layer.beta.grad is not None


def test_errors_and_config():
    with pytest.raises(ValueError, match="axis=4 is out of range"):
        BatchNormalization(axis=4)._build_once((None, 3, 3, 2))
    with pytest.raises(ValueError, match="should have a defined dimension"):
        BatchNormalization()._build_once((None, 3, None))
    with pytest.raises(TypeError, match="axis"):
        BatchNormalization(axis=[1, 2])
    config = BatchNormalization(momentum=0.9, center=False, gamma_regularizer="l2").get_config()
    assert config["momentum"] == 0.9 and config["epsilon"] == 1e-3 and config["axis"] == -1
    assert config["center"] is False and config["gamma_regularizer"]["class_name"] == "L1L2"
    assert config["moving_variance_initializer"] == {"class_name": "Ones", "config": {}}
