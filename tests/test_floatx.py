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
from kerasish.callbacks import EarlyStopping, LambdaCallback, ModelCheckpoint
from kerasish.models import Sequential, load_model
from kerasish.optimizers import SGD, Adam

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


# ---------------------------------------------------------------------------- training
def _one_full_batch_step(model, x, y, entry_point):
    if entry_point == "fit":
        return model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0).history["loss"][0]
    if entry_point == "train_on_batch":
        return model.train_on_batch(x, y)

    def batches():
        while True:
            yield x, y
    return model.fit_generator(batches(), steps_per_epoch=1, epochs=1, verbose=0).history["loss"][0]


@pytest.mark.parametrize("entry_point", ["fit", "train_on_batch", "fit_generator"])
@pytest.mark.parametrize("float64_by", ["floatx", "layer dtype"])
def test_one_sgd_step_of_a_float64_dense_model_equals_numpy_float64(entry_point, float64_by):
    """Under floatx float64, or with a float64 layer under floatx float32: then the inputs and targets are
    still taken in float64 (the first layer's and the output's dtype), not rounded to floatx."""
    x, y = regression_data()
    if float64_by == "floatx":
        backend.set_floatx("float64")
        model = dense_model()
    else:
        model = dense_model(dtype="float64")
    kernel, bias = model.get_weights()
    model.compile(SGD(lr=0.1), "mse")

    loss = _one_full_batch_step(model, x, y, entry_point)

    expected_loss, expected_kernel, expected_bias = numpy_dense_mse_step(x, y, kernel, bias, lr=0.1)
    new_kernel, new_bias = model.get_weights()
    assert new_kernel.dtype == np.float64 and new_bias.dtype == np.float64
    np.testing.assert_allclose(new_kernel, expected_kernel, **TIGHT)
    np.testing.assert_allclose(new_bias, expected_bias, **TIGHT)
    assert loss == pytest.approx(expected_loss, rel=1e-12)  # the epoch totals are float64 too


def test_float64_fit_with_adam_decreases_the_loss_and_keeps_weights_and_optimizer_state_float64():
    backend.set_floatx("float64")
    x, y = regression_data(n=32, features=4, units=1)
    model = Sequential([L.Dense(8, activation="tanh", input_shape=(4,)), L.BatchNormalization(), L.Dense(1)])
    model.compile(Adam(lr=0.01), "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(w.dtype == torch.float64 for w in model.weights)
    states = [t for s in model.optimizer.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    assert states and all(t.dtype == torch.float64 for t in states)


def test_float64_evaluate_and_predict_compute_in_float64():
    backend.set_floatx("float64")
    x, y = regression_data(n=10)
    model = dense_model()
    model.compile(SGD(), "mse", metrics=["mae"])
    kernel, bias = model.get_weights()
    pred = x @ kernel + bias

    for out in (model.predict(x, batch_size=4), model.predict_on_batch(x), model(torch.as_tensor(x)).detach().numpy()):
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, pred, **TIGHT)
    loss, mae = model.evaluate(x, y, batch_size=4, verbose=0)
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-12)
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-12)


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


def test_mixed_dtypes_each_weighted_layer_computes_in_its_dtype_weightless_layers_pass_theirs_on():
    x, y = regression_data(n=16, features=3, units=1)
    model = Sequential([L.Dense(4, input_shape=(3,), dtype="float64"), L.Activation("tanh"), L.Dense(1)])
    seen = []
    for layer in model.layers:
        layer.register_forward_hook(lambda mod, inputs, out: seen.append((mod.name, out.dtype)))
    prediction = model.predict(x)
    assert seen == [("dense_1", torch.float64), ("activation_1", torch.float64), ("dense_2", torch.float32)]
    assert prediction.dtype == np.float32

    model.compile(Adam(lr=0.01), "mse")  # one dtype per fused Adam call: the mixed list takes the foreach path
    history = model.fit(x, y, batch_size=4, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [w.dtype for w in model.get_weights()] == [np.float64, np.float64, np.float32, np.float32]


def test_inputs_are_cast_to_the_first_layers_dtype_not_floatx(tmp_path):
    """A float64 first layer under float32 floatx sees the float64 data unrounded, in memory or on disk."""
    x, _ = regression_data()
    model = dense_model(dtype="float64")
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model.predict(x), x @ kernel + bias, **TIGHT)
    mapped = np.lib.format.open_memmap(str(tmp_path / "x.npy"), mode="w+", dtype=np.float64, shape=x.shape)
    mapped[:] = x
    np.testing.assert_allclose(model.predict(mapped), x @ kernel + bias, **TIGHT)



def test_the_input_dtype_follows_a_first_layer_converted_or_replaced_after_the_model_ran():
    """Sequential keeps its input dtype between steps: ``.double()`` after a float32 predict, and a float64 layer
    added in place of a float32 one, feed float64 inputs from then on (1 + 1e-12 is 1.0 in float32)."""
    x = np.array([[1.0 + 1e-12]])
    identity = [np.ones((1, 1)), np.zeros(1)]
    model = Sequential([L.Dense(1, input_shape=(1,))])
    model.set_weights(identity)
    assert model.predict(x)[0, 0] == 1.0  # float32 throughout
    model.double()
    model.set_weights(identity)
    assert model.predict(x)[0, 0] == x[0, 0]
    replaced = Sequential([L.Dense(1, input_shape=(1,))])
    replaced.predict(x)
    replaced.pop()
    replaced.add(L.Dense(1, input_shape=(1,), dtype="float64"))
    replaced.set_weights(identity)
    assert replaced.predict(x)[0, 0] == x[0, 0]


# ---------------------------------------------------------------------------- saving
def test_save_and_load_model_keep_float64_weights_predictions_and_optimizer_state(tmp_path):
    backend.set_floatx("float64")
    x, y = regression_data(n=16, features=3, units=1)
    model = Sequential([L.Dense(4, activation="tanh", input_shape=(3,)), L.BatchNormalization(), L.Dense(1)])
    model.compile(Adam(lr=0.01), "mse")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model.save(tmp_path / "model.h5")

    backend.set_floatx("float32")  # the layers' dtypes come from the file's config, not from floatx
    loaded = load_model(tmp_path / "model.h5")
    assert all(w.dtype == torch.float64 for w in loaded.weights)
    assert np.array_equal(loaded.predict(x), model.predict(x)) and loaded.predict(x).dtype == np.float64
    for m in (model, loaded):
        m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert a.dtype == np.float64 and np.array_equal(a, b)


def test_save_weights_and_load_weights_keep_each_weights_dtype(tmp_path):
    x, _ = regression_data()
    mixed = Sequential([L.Dense(4, input_shape=(3,), dtype="float64"), L.Dense(2)])
    mixed.save_weights(tmp_path / "weights.h5")
    again = Sequential([L.Dense(4, input_shape=(3,), dtype="float64"), L.Dense(2)])
    again.load_weights(tmp_path / "weights.h5")
    assert [w.dtype for w in again.get_weights()] == [np.float64, np.float64, np.float32, np.float32]
    assert all(np.array_equal(a, b) for a, b in zip(mixed.get_weights(), again.get_weights()))
    assert np.array_equal(again.predict(x), mixed.predict(x))

    float32 = Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])
    float32.load_weights(tmp_path / "weights.h5")  # values are assigned in the receiving weight's dtype (Keras)
    assert [w.dtype for w in float32.get_weights()] == [np.float32] * 4
    np.testing.assert_array_equal(float32.get_weights()[0], mixed.get_weights()[0].astype(np.float32))


# ---------------------------------------------------------------------------- callbacks
def test_callbacks_see_float64_weights_and_checkpoints_and_restored_weights_keep_them(tmp_path):
    backend.set_floatx("float64")
    x, y = regression_data(n=20, features=3, units=1)
    model = Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(1)])
    model.compile(SGD(lr=0.05), "mse")
    dtypes = []
    model.fit(x, y, batch_size=5, epochs=4, validation_split=0.25, verbose=0, callbacks=[
        LambdaCallback(on_epoch_end=lambda epoch, logs: dtypes.append({w.dtype for w in model.get_weights()})),
        ModelCheckpoint(str(tmp_path / "best.h5"), save_best_only=True),
        EarlyStopping(patience=1, restore_best_weights=True)])
    assert dtypes and all(d == {np.dtype("float64")} for d in dtypes)
    assert all(w.dtype == torch.float64 for w in model.weights)
    assert all(w.dtype == torch.float64 for w in load_model(tmp_path / "best.h5").weights)


# ---------------------------------------------------------------------------- half precision on the CPU
def test_float16_floatx_builds_trains_and_predicts_in_float16_on_the_cpu():
    backend.set_floatx("float16")
    rng = np.random.RandomState(0)
    x, y = rng.rand(32, 6, 6, 1), rng.rand(32, 1)
    model = Sequential([L.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), L.BatchNormalization(),
                        L.MaxPooling2D(), L.Flatten(), L.Dense(1)])
    model.compile(SGD(lr=0.05), "mse")
    history = model.fit(x, y, batch_size=8, epochs=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][-1] < history.history["loss"][0]
    assert all(w.dtype == torch.float16 for w in model.weights)
    assert all(w.dtype == np.float16 for w in model.get_weights())
    assert model.predict(x).dtype == np.float16


def test_float16_weights_with_the_mixed_float16_policy_are_refused_before_training():
    backend.set_floatx("float16")
    x, y = regression_data()
    model = dense_model()
    model.compile(SGD(), "mse", dtype_policy="mixed_float16")
    before = model.get_weights()
    with pytest.raises(ValueError, match="dtype_policy='mixed_float16' keeps float32 weights .* float16 weights"):
        model.fit(x, y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_bfloat16_weights_and_predictions_read_back_as_float32_arrays():
    backend.set_floatx("bfloat16")  # NumPy has no bfloat16: arrays come back as float32, values unchanged
    x, _ = regression_data()
    model = Sequential([L.Dense(2, input_shape=(3,))])
    assert model.layers[0].kernel.dtype == torch.bfloat16
    kernel = model.get_weights()[0]
    assert kernel.dtype == np.float32
    np.testing.assert_array_equal(kernel, model.layers[0].kernel.detach().float().t().numpy())
    assert model.predict(x).dtype == np.float32


def test_a_model_converted_by_torch_computes_in_its_new_dtype_and_saves_it():
    x, _ = regression_data()
    model = Sequential([L.Dense(4, input_shape=(3,)), L.Activation("relu"), L.Dense(2)])
    expected = model.predict(x.astype(np.float32)).astype(np.float64)
    model.double()
    assert [layer.dtype for layer in model.layers] == ["float64", "float32", "float64"]  # weightless: unchanged
    assert model.predict(x).dtype == np.float64
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5)
    assert Sequential.from_config(model.get_config()).layers[0].dtype == "float64"
    model.compile(SGD(), "mse")
    assert model.evaluate(x, np.zeros((len(x), 2)), verbose=0) == pytest.approx(np.mean(model.predict(x) ** 2),
                                                                                  rel=1e-12)  # float64 targets
