"""floatx and layer dtypes end to end: building, training, evaluating, predicting, saving, callbacks.

Keras 2.3.1 (``keras/engine/base_layer.py``): a layer's ``dtype`` is its ``dtype=`` argument or else ``K.floatx()``
when it is constructed, and ``add_weight`` creates every weight in it; ``Sequential.add`` gives the model's input
the first layer's dtype, and ``compile`` each target the output's (``engine/training.py``). References here are
NumPy float64 computations, precise to ~1e-16, so float32 anywhere on the way (~1e-7) fails them.
"""
import numpy as np
import pytest
import torch
from torch import nn

import kerasish.layers as L
from kerasish import backend
from kerasish.models import Sequential

TIGHT = dict(rtol=1e-12, atol=1e-14)  # float64 arithmetic; float32 is off by ~1e-8 at these magnitudes


@pytest.fixture(autouse=True)
def restore_floatx():
    """Every test leaves floatx as it found it, whatever happens, so test order never matters."""
    saved = backend.floatx()
    yield
    backend.set_floatx(saved)


def regression_data(n=8, features=3, units=2, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n, features), rng.randn(n, units)


def dense_model(features=3, units=2, seed=1, **layer_kwargs):
    """One Dense layer with float64-only weights (not representable in float32), MSE."""
    rng = np.random.RandomState(seed)
    model = Sequential([L.Dense(units, input_shape=(features,), **layer_kwargs)])
    model.set_weights([rng.randn(features, units), rng.randn(units)])
    return model


def numpy_dense_mse_step(x, y, kernel, bias, lr):
    """One SGD step of ``x @ kernel + bias`` under Keras's MSE (mean over the units, then over the batch),
    with the gradient derived by hand: dL/dpred = 2 (pred - y) / (n * units)."""
    pred = x @ kernel + bias
    loss = np.mean((pred - y) ** 2)
    grad_pred = 2.0 * (pred - y) / pred.size
    return loss, kernel - lr * (x.T @ grad_pred), bias - lr * grad_pred.sum(axis=0)


# ---------------------------------------------------------------------------- building
LAYERS = {
    "Dense": (lambda: L.Dense(3), (4,)),
    "Conv1D": (lambda: L.Conv1D(2, 3), (6, 2)),
    "Conv2D": (lambda: L.Conv2D(2, 3), (5, 5, 2)),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(2, 3, strides=2), (3, 3, 2)),
    "SeparableConv2D": (lambda: L.SeparableConv2D(2, 3, depth_multiplier=2), (5, 5, 2)),
    "BatchNormalization": (lambda: L.BatchNormalization(), (5, 3)),
    "PReLU": (lambda: L.PReLU(), (4,)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_created_under_float64_floatx_have_float64_weights_and_get_weights(name):
    make, input_shape = LAYERS[name]
    backend.set_floatx("float64")
    model = Sequential([make()])
    model.build((None,) + input_shape)
    layer = model.layers[0]
    assert layer.dtype == "float64"
    assert layer.weights and all(w.dtype == torch.float64 for w in layer.weights)  # buffers (BN) included
    assert all(w.dtype == np.float64 for w in model.get_weights())


def test_floatx_is_read_when_the_layer_is_constructed_not_when_it_is_built():
    backend.set_floatx("float64")
    layer = L.Dense(2)
    backend.set_floatx("float32")
    model = Sequential([layer])
    model.build((None, 3))
    assert layer.kernel.dtype == torch.float64 and layer.bias.dtype == torch.float64


def test_a_custom_initializer_is_called_with_the_layers_dtype_as_keras_add_weight_does():
    received = []

    def ones(shape, dtype=None):
        received.append(dtype)
        return np.ones(shape)

    Sequential([L.Dense(2, kernel_initializer=ones, bias_initializer=ones, dtype="float64")]).build((None, 3))
    assert received == [torch.float64, torch.float64]


def test_torch_module_keeps_its_own_dtype_unless_dtype_is_given():
    backend.set_floatx("float64")
    kept = L.TorchModule(nn.Linear(3, 2))
    assert kept.dtype == "float32" and kept.module.weight.dtype == torch.float32
    converted = L.TorchModule(nn.Linear(3, 2), dtype="float64")
    assert converted.dtype == "float64" and converted.module.weight.dtype == torch.float64
    model = Sequential([kept], name="kept")
    model.build((None, 3))
    assert model.predict(np.ones((2, 3))).dtype == np.float32  # the float64 input is cast to the module's dtype


# ---------------------------------------------------------------------------- a layer's dtype argument
@pytest.mark.parametrize("dtype", ["float64", "double", torch.float64, np.float64])
def test_layer_dtype_overrides_floatx_and_round_trips_through_get_config(dtype):
    layer = L.Dense(2, dtype=dtype)
    assert layer.dtype == "float64"
    config = layer.get_config()
    assert config["dtype"] == "float64"
    rebuilt = L.Dense.from_config(config)
    for built in (layer, rebuilt):
        Sequential([built]).build((None, 3))
        assert built.kernel.dtype == torch.float64 and built.bias.dtype == torch.float64


def test_layer_dtype_that_is_not_a_dtype_is_rejected():
    with pytest.raises(ValueError, match="Dense: dtype: expected a dtype such as 'float32'.*'floaty'"):
        L.Dense(2, dtype="floaty")
