"""Keras 2 HDF5 files (kerasish/saving_h5.py): files made by real Keras (tf-keras 2.21, scripts/make_keras_fixtures.py,
committed in tests/fixtures/keras_h5) load with the predictions Keras recorded and continue training as Keras did;
files kerasish writes have Keras 2.3.1's structure (engine/saving.py), attribute by attribute; legacy and error paths."""
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

import h5py
import numpy as np
import pytest

from kerasish import optimizers, saving, saving_h5
from kerasish.callbacks import ModelCheckpoint
from kerasish.layers import (LSTM, BatchNormalization, Bidirectional, Conv2D, Dense, Dropout, Flatten, GRU, Input,
                             MaxPooling2D, concatenate)
from kerasish.models import Model, Sequential, load_model
from kerasish.saving import UnreadableFileError

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "keras_h5"
MODELS = ["mlp", "cnn_bn", "functional_two_inputs", "rnn", "checkpoint_adam", "checkpoint_adam_v3"]


def recorded(name):
    with np.load(FIXTURES / f"{name}.npz") as data:
        arrays = dict(data)
    inputs = arrays["x"] if "x" in arrays else [arrays[f"x{i}"] for i in range(2)]
    return inputs, arrays


def attr_names(group, name):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs[name]]


# ------------------------------------------------------------------------------------------ files from tf-keras
@pytest.mark.parametrize("name", MODELS)
def test_tf_keras_files_load_with_the_predictions_keras_recorded(name):
    model = load_model(FIXTURES / f"{name}.h5")
    inputs, arrays = recorded(name)
    np.testing.assert_allclose(model.predict(inputs), arrays["y_pred"], rtol=1e-5, atol=1e-6)


def test_a_tf_keras_model_is_compiled_with_its_saved_loss_metrics_and_optimizer():
    model = load_model(FIXTURES / "mlp.h5")
    assert model.metrics_names == ["loss", "accuracy"]
    assert type(model.optimizer).__name__ == "SGD" and model.optimizer.get_config()["learning_rate"] == \
        pytest.approx(0.01)
    cnn = load_model(FIXTURES / "cnn_bn.h5")
    assert isinstance(cnn.optimizer, optimizers.RMSprop) and cnn.optimizer.iterations == 4  # 2 epochs x 2 batches


def numpy_adam_step(weights, moments, velocities, grads, lr, t, beta_1=0.9, beta_2=0.999, eps=1e-7):
    """Keras 2.3.1 optimizers.Adam.get_updates, in NumPy."""
    lr_t = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    result = []
    for w, m, v, g in zip(weights, moments, velocities, grads):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        result.append(w - lr_t * m / (np.sqrt(v) + eps))
    return result


def numpy_mlp_grads(weights, x, y):
    """Gradients of mean((tanh(x W1 + b1) W2 + b2 - y)^2) for the checkpoint's Dense(4, tanh) -> Dense(2)."""
    w1, b1, w2, b2 = [w.astype(np.float64) for w in weights]
    h = np.tanh(x @ w1 + b1)
    d_out = 2 * (h @ w2 + b2 - y) / y.size
    d_pre = (d_out @ w2.T) * (1 - h ** 2)
    return [x.T @ d_pre, d_pre.sum(0), h.T @ d_out, d_out.sum(0)]


@pytest.mark.parametrize("name", ["checkpoint_adam", "checkpoint_adam_v3"])
def test_a_checkpoint_continues_training_where_keras_stopped(name):
    """Keras-2 order (iterations, m..., v...) and tf-keras 2.11+'s (per weight m, v) both restore Adam: one more
    batch gives the weights tf-keras itself computed, and the NumPy Adam step from the file's moments."""
    _, arrays = recorded(name)
    model = load_model(FIXTURES / f"{name}.h5")
    with h5py.File(FIXTURES / f"{name}.h5", "r") as f:
        group = f["optimizer_weights"]
        values = {n: group[n][()] for n in attr_names(group, "weight_names")}
    names = ["dense_4/kernel", "dense_4/bias", "dense_5/kernel", "dense_5/bias"] if name == "checkpoint_adam" else \
        ["dense_6/kernel", "dense_6/bias", "dense_7/kernel", "dense_7/bias"]
    if name == "checkpoint_adam":
        iterations = values["Adam/iter:0"]
        ms, vs = [values[f"Adam/{n}/m:0"] for n in names], [values[f"Adam/{n}/v:0"] for n in names]
    else:
        iterations = values["iteration:0"]
        ms, vs = [values[f"Adam/m/{n}:0"] for n in names], [values[f"Adam/v/{n}:0"] for n in names]
    assert iterations == 6 and model.optimizer.iterations == 6
    before = model.get_weights()
    expected = numpy_adam_step(before, ms, vs, numpy_mlp_grads(before, arrays["train_x"], arrays["train_y"]),
                               lr=0.01, t=iterations + 1)
    model.train_on_batch(arrays["train_x"], arrays["train_y"])
    for i, (after, reference) in enumerate(zip(model.get_weights(), expected)):
        np.testing.assert_allclose(after, reference, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(after, arrays[f"after_step_{i}"], rtol=1e-5, atol=1e-6)
    fresh = load_model(FIXTURES / f"{name}.h5", compile=False)
    fresh.compile(optimizers.Adam(0.01), "mse")
    fresh.train_on_batch(arrays["train_x"], arrays["train_y"])
    assert not np.allclose(fresh.get_weights()[0], arrays["after_step_0"], atol=1e-4)  # the restored state mattered


def test_weights_from_tf_keras_save_weights_load_by_order_and_by_name():
    inputs, arrays = recorded("mlp")
    model = Sequential([Dense(6, activation="relu", input_shape=(4,)), Dropout(0.5), Dense(3, activation="softmax")])
    model.load_weights(FIXTURES / "mlp_weights.h5")
    np.testing.assert_allclose(model.predict(inputs), arrays["y_pred"], rtol=1e-5, atol=1e-6)
    # by name: only "dense_1" matches; the other layer keeps its weights
    other = Sequential([Dense(6, activation="relu", input_shape=(4,), name="renamed"), Dense(3, name="dense_1")])
    kept = other.layers[0].get_weights()
    other.load_weights(FIXTURES / "mlp_weights.h5", by_name=True)
    with h5py.File(FIXTURES / "mlp_weights.h5", "r") as f:
        np.testing.assert_array_equal(other.layers[1].get_weights()[0], f["dense_1/dense_1/kernel:0"][()])
    np.testing.assert_array_equal(other.layers[0].get_weights()[0], kept[0])


def test_by_name_with_skip_mismatch_skips_a_weight_of_another_shape_with_a_warning():
    model = Sequential([Dense(6, input_shape=(4,), name="dense"), Dense(5, name="dense_1")])
    kept = model.layers[1].get_weights()
    with pytest.raises(ValueError, match="dense_1"):
        model.load_weights(FIXTURES / "mlp_weights.h5", by_name=True)
    with pytest.warns(UserWarning, match="Skipping loading of weights for layer dense_1 due to mismatch in shape"):
        model.load_weights(FIXTURES / "mlp_weights.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(model.layers[1].get_weights()[0], kept[0])
    with h5py.File(FIXTURES / "mlp_weights.h5", "r") as f:
        np.testing.assert_array_equal(model.layers[0].get_weights()[0], f["dense/dense/kernel:0"][()])


def test_keras_errors_for_weight_files_that_do_not_fit():
    three = Sequential([Dense(6, input_shape=(4,)), Dense(3), Dense(2)])
    with pytest.raises(ValueError, match="You are trying to load a weight file containing 2 layers into a model "
                                         "with 3 layers"):
        three.load_weights(FIXTURES / "mlp_weights.h5")
    wider = Sequential([Dense(7, input_shape=(4,)), Dense(3)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"weight .* has shape \(4, 7\), but the saved weight dense/kernel:0 has "
                                         r"shape \(4, 6\)"):
        wider.load_weights(FIXTURES / "mlp_weights.h5")
    for now, then in zip(wider.get_weights(), before):
        np.testing.assert_array_equal(now, then)  # nothing changed


# ------------------------------------------------------------------------------------------ files we write
def keras2_config(config):
    """tf.keras 2.x's model_config as Keras 2.3.1 writes it (each difference named): bookkeeping keys dropped,
    the InputLayer tf.keras lists first in a Sequential dropped, GlorotUniform spelt as Keras 2.3.1's
    VarianceScaling, BatchNormalization's axis [3] as 3, Functional as Model."""
    if isinstance(config, list):
        return [keras2_config(c) for c in config]
    if not isinstance(config, dict):
        return config
    dropped = {"module", "registered_name", "ragged", "optional", "time_major", "groups"}
    config = {k: keras2_config(v) for k, v in config.items() if k not in dropped}
    if config.get("class_name") == "GlorotUniform":
        config = {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg",
                                                              "distribution": "uniform", **config["config"]}}
    if config.get("class_name") == "Functional":
        config["class_name"] = "Model"
        config["config"].pop("trainable", None)
    if config.get("class_name") == "Sequential":
        config["config"]["layers"] = [c for c in config["config"]["layers"] if c["class_name"] != "InputLayer"]
    if isinstance(config.get("axis"), list) and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]
    return config


def rnn_weight_name(name):
    """tf.keras names RNN weights after the cell (lstm/lstm_cell/kernel:0); Keras 2.3.1 after the layer."""
    parts = name.split("/")
    return "/".join(p for p in parts if not p.endswith("_cell"))


@pytest.mark.parametrize("name", ["mlp", "cnn_bn", "functional_two_inputs", "rnn"])
def test_a_loaded_file_saved_again_has_the_structure_of_the_original(tmp_path, name):
    model = load_model(FIXTURES / f"{name}.h5")
    model.save(tmp_path / "again.h5")
    with h5py.File(FIXTURES / f"{name}.h5", "r") as original, h5py.File(tmp_path / "again.h5", "r") as ours:
        assert set(original.attrs) == set(ours.attrs) == {"keras_version", "backend", "model_config",
                                                          "training_config"}
        assert ours.attrs["keras_version"] == "2.3.1" and ours.attrs["backend"] == "torch"
        assert json.loads(ours.attrs["model_config"]) == keras2_config(json.loads(original.attrs["model_config"]))
        theirs_training, our_training = (json.loads(f.attrs["training_config"]) for f in (original, ours))
        assert our_training["loss"] == theirs_training["loss"]
        assert our_training["optimizer_config"]["class_name"] == \
            theirs_training["optimizer_config"]["class_name"].replace("Custom>", "")
        for group_name in ("backend", "keras_version"):
            assert group_name in ours["model_weights"].attrs
        layer_names = attr_names(original["model_weights"], "layer_names")
        assert attr_names(ours["model_weights"], "layer_names") == layer_names
        for layer in layer_names:
            theirs_names = attr_names(original["model_weights"][layer], "weight_names")
            our_names = attr_names(ours["model_weights"][layer], "weight_names")
            assert our_names == [rnn_weight_name(n) for n in theirs_names]
            for their_name, our_name in zip(theirs_names, our_names):
                theirs_value = original["model_weights"][layer][their_name][()]
                our_value = ours["model_weights"][layer][our_name][()]
                assert our_value.dtype == theirs_value.dtype
                np.testing.assert_array_equal(our_value, theirs_value)


def test_optimizer_weights_are_written_in_keras_order_with_keras_names(tmp_path):
    model = load_model(FIXTURES / "checkpoint_adam.h5")
    model.save(tmp_path / "again.h5")
    with h5py.File(FIXTURES / "checkpoint_adam.h5", "r") as original, h5py.File(tmp_path / "again.h5", "r") as ours:
        names = attr_names(original["optimizer_weights"], "weight_names")
        assert attr_names(ours["optimizer_weights"], "weight_names") == names
        for name in names:
            np.testing.assert_allclose(ours["optimizer_weights"][name][()], original["optimizer_weights"][name][()])


def small_models():
    a, b = Input((5,), name="a"), Input((3,), name="b")
    functional = Model([a, b], Dense(1, activation="sigmoid", name="out")(
        concatenate([Dense(4, activation="tanh", name="da")(a), Dense(2, name="db")(b)])))
    cnn = Sequential([Conv2D(3, 3, input_shape=(6, 6, 2)), BatchNormalization(), MaxPooling2D(), Flatten(), Dense(2)])
    rnn = Sequential([Bidirectional(LSTM(3, return_sequences=True), input_shape=(4, 2)), GRU(2, reset_after=True),
                      Dense(1)])
    rng = np.random.RandomState(0)
    return [(functional, [rng.rand(8, 5).astype("float32"), rng.rand(8, 3).astype("float32")], rng.rand(8, 1)),
            (cnn, rng.rand(8, 6, 6, 2).astype("float32"), rng.rand(8, 2)),
            (rnn, rng.rand(8, 4, 2).astype("float32"), rng.rand(8, 1))]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_kerasish_h5_kerasish_round_trip_keeps_predictions_and_optimizer_state(tmp_path, index):
    model, x, y = small_models()[index]
    model.compile(optimizers.Adam(0.01), "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.h5")
    assert (tmp_path / "m.h5").read_bytes()[:8] == saving_h5.HDF5_SIGNATURE
    loaded = load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.metrics_names == model.metrics_names and loaded.optimizer.iterations == 4
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_save_weights_writes_keras_layer_names_at_the_root_and_loads_back(tmp_path):
    model, x, _ = small_models()[1]
    model.save_weights(tmp_path / "w.hdf5")
    with h5py.File(tmp_path / "w.hdf5", "r") as f:
        assert attr_names(f, "layer_names") == [layer.name for layer in model.layers]
        bn = model.layers[1].name
        assert attr_names(f[bn], "weight_names") == [f"{bn}/{w}:0" for w in
                                                     ("gamma", "beta", "moving_mean", "moving_variance")]
        assert "model_config" not in f.attrs
    copy = small_models()[1][0]
    copy.load_weights(tmp_path / "w.hdf5")
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))


def test_the_file_name_or_save_format_chooses_the_format(tmp_path):
    model, x, _ = small_models()[0]
    model.save(tmp_path / "m.bin", save_format="h5")
    assert (tmp_path / "m.bin").read_bytes()[:8] == saving_h5.HDF5_SIGNATURE
    model.save(tmp_path / "m.kerasish")
    assert (tmp_path / "m.kerasish").read_bytes()[:2] == b"PK"
    model.save(tmp_path / "other.h5", save_format="kerasish")
    assert (tmp_path / "other.h5").read_bytes()[:2] == b"PK"
    for path in ("m.bin", "m.kerasish", "other.h5"):
        np.testing.assert_array_equal(load_model(tmp_path / path, compile=False).predict(x), model.predict(x))
    with pytest.raises(ValueError, match="Unknown save_format 'tf'.*SavedModel"):
        model.save(tmp_path / "m.tf", save_format="tf")


def test_model_checkpoint_writes_hdf5_for_hdf5_names(tmp_path):
    model, x, y = small_models()[1]
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        ModelCheckpoint(str(tmp_path / "weights.{epoch:02d}.hdf5"), monitor="loss"),
        ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.h5"), monitor="loss", save_weights_only=True)])
    with h5py.File(tmp_path / "weights.02.hdf5", "r") as f:
        assert json.loads(f.attrs["model_config"])["class_name"] == "Sequential" and "optimizer_weights" in f
    with h5py.File(tmp_path / "w.02.h5", "r") as f:
        assert "model_config" not in f.attrs and attr_names(f, "layer_names")
    np.testing.assert_array_equal(load_model(tmp_path / "weights.02.hdf5").predict(x), model.predict(x))


def test_a_crash_mid_write_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    model, x, _ = small_models()[0]
    path = tmp_path / "m.h5"
    model.save(path)
    good = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(saving_h5, "_write_kerasish_state", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["m.h5"]


def test_keras_2_3_1_files_bytes_attributes_and_adam_placeholders_load(tmp_path):
    """A file as Keras 2.3.1 writes it: attributes as bytes, training/Adam names, Adam's (1,) vhat placeholders
    after the moments (optimizers.py: weights = [iterations] + ms + vs + vhats)."""
    path = tmp_path / "k231.h5"
    shutil.copy(FIXTURES / "checkpoint_adam.h5", path)
    with h5py.File(path, "r+") as f:
        for key in ("keras_version", "backend", "model_config", "training_config"):
            f.attrs[key] = np.bytes_(str(f.attrs[key]).replace("2.21.0", "2.3.1").encode())
        group = f["optimizer_weights"]
        values = [group[n][()] for n in attr_names(group, "weight_names")]
        del f["optimizer_weights"]
        group = f.create_group("optimizer_weights")
        values += [np.zeros(1, np.float32)] * 4
        names = ["training/Adam/iterations:0"] + [f"training/Adam/Variable_{i}:0" for i in range(len(values) - 1)]
        group.attrs["weight_names"] = [n.encode() for n in names]
        for n, v in zip(names, values):
            group[n] = v
    model = load_model(path)
    inputs, arrays = recorded("checkpoint_adam")
    np.testing.assert_allclose(model.predict(inputs), arrays["y_pred"], rtol=1e-5, atol=1e-6)
    model.train_on_batch(arrays["train_x"], arrays["train_y"])
    np.testing.assert_allclose(model.get_weights()[0], arrays["after_step_0"], rtol=1e-5, atol=1e-6)


def test_keras_1_lstm_weights_per_gate_are_merged_in_keras_2_order(tmp_path):
    """Keras 2.3.1 preprocess_weights_for_loading: a Keras 1 file (no keras_version) holds an LSTM's W, U, b per
    gate in the order i, c, f, o; Keras 2 concatenates them as i, f, c, o."""
    model = Sequential([LSTM(2, input_shape=(3, 4))])
    kernel, recurrent, bias = model.get_weights()
    gates = {g: k for k, g in enumerate("ifco")}
    with h5py.File(tmp_path / "keras1.h5", "w") as f:
        f.attrs["layer_names"] = [b"lstm_1"]
        group = f.create_group("lstm_1")
        names = []
        for gate in "icfo":
            columns = slice(2 * gates[gate], 2 * gates[gate] + 2)
            for part, value in (("W", kernel), ("U", recurrent), ("b", bias)):
                names.append(f"lstm_1_{part}_{gate}")
                group[names[-1]] = value[..., columns]
        group.attrs["weight_names"] = [n.encode() for n in names]
    other = Sequential([LSTM(2, input_shape=(3, 4))])
    other.load_weights(tmp_path / "keras1.h5")
    for ours, theirs in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------------------------------------ safety and errors
def test_a_lambda_layer_from_a_keras_file_needs_its_function_and_never_runs_the_stored_bytecode():
    with pytest.raises(ValueError, match="'lambda' is a Lambda layer whose function the file stores as marshalled "
                                         "Python bytecode.*custom_objects=\\{'lambda': fn\\}"):
        load_model(FIXTURES / "lambda.h5")
    with pytest.warns(UserWarning, match="No training configuration found in save file"):  # saved uncompiled
        model = load_model(FIXTURES / "lambda.h5", custom_objects={"lambda": lambda t: t * 2.0})
    inputs, arrays = recorded("lambda")
    np.testing.assert_allclose(model.predict(inputs), arrays["y_pred"], rtol=1e-5, atol=1e-6)


def test_truncated_corrupt_missing_and_foreign_files_give_a_clear_error_naming_the_file(tmp_path):
    data = (FIXTURES / "cnn_bn.h5").read_bytes()
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(saving_h5.HDF5_SIGNATURE + os.urandom(2000))
    plain = tmp_path / "plain.h5"  # a valid HDF5 file that Keras did not write
    with h5py.File(plain, "w") as f:
        f["data"] = np.arange(3)
    for path in (truncated, corrupt, plain):
        with pytest.raises(UnreadableFileError, match=path.name):
            load_model(path)
        with pytest.raises(UnreadableFileError, match=path.name):
            Sequential([Dense(2, input_shape=(3,))]).load_weights(path)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        load_model(tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="No model found in config file.*load_weights"):
        load_model(FIXTURES / "mlp_weights.h5")


def test_an_optimizer_state_that_does_not_fit_is_reported_and_replaced_by_a_fresh_one(tmp_path):
    path = tmp_path / "m.h5"
    shutil.copy(FIXTURES / "checkpoint_adam.h5", path)
    with h5py.File(path, "r+") as f:
        del f["optimizer_weights/Adam/dense_4/kernel/m:0"]
        f["optimizer_weights/Adam/dense_4/kernel/m:0"] = np.zeros((5, 5), np.float32)
    with pytest.warns(UserWarning, match="Error in loading the saved optimizer state"):
        model = load_model(path)
    assert model.optimizer.iterations == 0


def test_a_tf_keras_option_kerasish_lacks_is_refused_by_name():
    config = {"name": "inp", "batch_input_shape": [None, 3], "ragged": True}
    from kerasish.layers import InputLayer
    with pytest.raises(ValueError, match="tf.keras option ragged=True"):
        saving.tf_keras_compatible_config(InputLayer, config)
    assert "ragged" not in saving.tf_keras_compatible_config(InputLayer, {**config, "ragged": False})
    with pytest.raises(ValueError, match="weight_decay=0.004"):
        saving.tf_keras_optimizer_config("Adam", {"learning_rate": 0.1, "weight_decay": 0.004})


# ------------------------------------------------------------------------------------------ Keras reads our files
def tf_keras_python():
    """A Python with tf_keras: this one, or $KERASISH_TF_KERAS_PYTHON (e.g. the venv of make_keras_fixtures.py)."""
    if importlib.util.find_spec("tf_keras") is not None:
        return sys.executable
    return os.environ.get("KERASISH_TF_KERAS_PYTHON")


TF_KERAS_CHECK = """
import os, sys, numpy as np
os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tf_keras as keras
folder = sys.argv[1]
for name in ("functional", "cnn", "rnn"):
    data = np.load(os.path.join(folder, name + ".npz"))
    x = [data["x0"], data["x1"]] if "x0" in data.files else data["x"]
    model = keras.models.load_model(os.path.join(folder, name + ".h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), data["y"], rtol=1e-5, atol=1e-6)
    assert int(model.optimizer.iterations) == 2, name
    model.train_on_batch(x, data["ty"])
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data["after_%d" % i], rtol=1e-4, atol=1e-5, err_msg="%s weight %d" % (name, i))
print("tf-keras", keras.__version__, "ok")
"""


@pytest.mark.skipif(tf_keras_python() is None, reason="tf_keras is not installed here (nor KERASISH_TF_KERAS_PYTHON "
                                                      "set); the HDF5 structure tests above still run")
def test_files_we_write_load_in_tf_keras_with_identical_predictions_and_training(tmp_path):
    # SGD with momentum for the CNN: an adaptive step turns BatchNormalization's near-zero gradients into noise
    chosen = (optimizers.Adam(0.01), optimizers.SGD(0.01, momentum=0.9), optimizers.Adam(0.01))
    for name, (model, x, y), optimizer in zip(("functional", "cnn", "rnn"), small_models(), chosen):
        model.compile(optimizer, "mse")
        model.fit(x, y, epochs=1, batch_size=4, verbose=0)
        model.save(tmp_path / f"{name}.h5")
        arrays = {"y": model.predict(x), "ty": y.astype("float32")}
        arrays.update({"x0": x[0], "x1": x[1]} if isinstance(x, list) else {"x": x})
        model.train_on_batch(x, y)
        arrays.update({f"after_{i}": w for i, w in enumerate(model.get_weights())})
        np.savez(tmp_path / f"{name}.npz", **arrays)
    with warnings.catch_warnings():
        result = subprocess.run([tf_keras_python(), "-c", TF_KERAS_CHECK, str(tmp_path)], capture_output=True,
                                text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout.strip())
