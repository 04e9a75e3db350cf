"""Advanced activation layers against hand-derived values of Keras 2.3.1 (advanced_activations.py, K.relu)."""
import numpy as np
import pytest
import torch

from kerasish.layers.advanced_activations import ELU, PReLU, ReLU, LeakyReLU, Softmax, ThresholdedReLU

X = np.array([[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 7.0]], np.float32)


def apply(layer, x_keras):
    layer._build_once((None,) + x_keras.shape[1:])
    # layer(x) takes and returns Keras's layout, whatever layout the layer computes in
    return layer(torch.as_tensor(x_keras, dtype=torch.float32)).detach().numpy()


def test_leaky_relu_default_slope_is_keras_0_3():
    layer = LeakyReLU()
    assert layer.alpha == 0.3 and layer.input_layout == "any"
    np.testing.assert_allclose(apply(layer, X), [[-0.9, -0.3, -0.15, 0.0, 0.5, 1.0, 2.0, 7.0]], rtol=1e-6)
    np.testing.assert_allclose(apply(LeakyReLU(alpha=0.1), X)[0, :2], [-0.3, -0.1], rtol=1e-6)
    assert LeakyReLU().get_config()["alpha"] == 0.3


def test_elu():
    out = apply(ELU(alpha=2.0), X)
    expected = np.where(X > 0, X, 2.0 * (np.exp(X) - 1))
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert ELU().get_config()["alpha"] == 1.0


def test_thresholded_relu():
    np.testing.assert_allclose(apply(ThresholdedReLU(theta=1.0), X), [[0, 0, 0, 0, 0, 0, 2.0, 7.0]])


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [0, 0, 0, 0, 0.5, 1, 2, 7]),
    ({"max_value": 6.0}, [0, 0, 0, 0, 0.5, 1, 2, 6]),
    ({"negative_slope": 0.1}, [-0.3, -0.1, -0.05, 0, 0.5, 1, 2, 7]),
    ({"threshold": 1.0}, [0, 0, 0, 0, 0, 0, 2, 7]),                       # x == threshold gives 0
    ({"threshold": 1.0, "negative_slope": 0.5}, [-2, -1, -0.75, -0.5, -0.25, 0, 2, 7]),
    ({"max_value": 1.5, "negative_slope": 0.5}, [-1.5, -0.5, -0.25, 0, 0.5, 1, 1.5, 1.5]),
    ({"threshold": -1.0}, [0, 0, -0.5, 0, 0.5, 1, 2, 7]),                 # K.relu lets (-1, 0) through...
    ({"threshold": -1.0, "max_value": 5.0}, [0, 0, 0, 0, 0.5, 1, 2, 5]),  # ...unless max_value clips at 0
])
def test_relu_follows_keras_backend_relu(kwargs, expected):
    np.testing.assert_allclose(apply(ReLU(**kwargs), X), [expected], rtol=1e-6, atol=1e-7)


def test_relu_argument_checks_and_config():
    with pytest.raises(ValueError, match="max_value of ReLU layer cannot be negative value: -1"):
        ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope of ReLU layer cannot be negative value: -0.1"):
        ReLU(negative_slope=-0.1)
    expected = {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}
    assert expected.items() <= ReLU(6.0).get_config().items()


def test_softmax_axis():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    last = apply(Softmax(), x)
    expected = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(last, expected, rtol=1e-5)
    middle = apply(Softmax(axis=2), x)
    np.testing.assert_allclose(middle, np.exp(x) / np.exp(x).sum(axis=2, keepdims=True), rtol=1e-5)
    # Keras 2.3.1 activations.softmax: 2D inputs always normalise the last axis
    flat = apply(Softmax(axis=0), x[:, 0, 0, :])
    np.testing.assert_allclose(flat.sum(axis=-1), 1.0, rtol=1e-6)
    assert Softmax(axis=2).get_config()["axis"] == 2


def test_prelu_shared_axes_and_values():
    layer = PReLU(shared_axes=[1, 2])
    layer._build_once((None, 3, 4, 2))
    assert [w.shape for w in layer.get_weights()] == [(1, 1, 2)] and layer.count_params() == 2
    layer.set_weights([np.array([[[0.1, 0.5]]], np.float32)])
    x = np.full((1, 3, 4, 2), -2.0, np.float32)
    x[0, 0, 0] = [3.0, 4.0]
    out = apply(layer, x)
    assert out[0, 0, 0].tolist() == [3.0, 4.0]
    np.testing.assert_allclose(out[0, 1, 1], [-0.2, -1.0], rtol=1e-6)
    unshared = PReLU()
    unshared._build_once((None, 5))
    assert unshared.count_params() == 5
    np.testing.assert_array_equal(unshared.get_weights()[0], np.zeros(5))   # alpha_initializer='zeros'


@pytest.mark.parametrize("make", [LeakyReLU, ELU, ThresholdedReLU, ReLU, Softmax, PReLU])
def test_every_advanced_activation_passes_the_mask_on(make):
    # Keras 2.3.1 sets supports_masking = True in each __init__, so the base compute_mask returns the mask
    layer = make()
    x = torch.zeros((2, 3, 4))
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert layer.supports_masking is True
    assert layer.compute_mask(x, mask) is mask


def test_prelu_shared_axes_keep_keras_form_and_input_spec():
    # Keras 2.3.1 to_list(shared_axes, allow_tuple=True): tuples and lists kept, an int wrapped in a list
    assert PReLU(shared_axes=(1, 2)).get_config()["shared_axes"] == (1, 2)
    assert PReLU(shared_axes=[1]).get_config()["shared_axes"] == [1]
    assert PReLU(shared_axes=2).get_config()["shared_axes"] == [2]
    layer = PReLU(shared_axes=[1, 2], name="prelu_spec")
    layer._build_once((None, 3, 4, 2))
    assert layer.input_spec.ndim == 4 and layer.input_spec.axes == {3: 2}
    with pytest.raises(ValueError, match="expected axis 3 of input shape to have value 2"):
        layer.input_spec.check((None, 5, 5, 3), "float32", 0, layer.name)
    unshared = PReLU()
    unshared._build_once((None, 5))
    assert unshared.input_spec.ndim == 2 and unshared.input_spec.axes == {}
