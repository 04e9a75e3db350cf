"""Keras 3 .keras files (kerasish/saving_keras3.py): files made by real Keras 3 (3.15.1, numpy backend,
scripts/make_keras3_fixtures.py, committed in tests/fixtures/keras3) load with the predictions Keras recorded;
files kerasish writes have the members, config structure and weights layout of those files; the file name picks
the format; errors name the layer or the file. A check that Keras 3 loads our files runs where Keras 3 is."""
import importlib.util
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest
import torch

from kerasish import optimizers, saving, saving_h5, saving_keras3
from kerasish.layers import (GRU, LSTM, Activation, Add, BatchNormalization, Bidirectional, Conv2D, Dense, Dropout,
                             Embedding, Flatten, Input, MaxPooling2D, SimpleRNN, TimeDistributed, concatenate)
from kerasish.models import Model, Sequential, load_model
from kerasish.saving import UnreadableFileError

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "keras3"
MODELS = ["mlp", "cnn_bn", "functional_two_inputs", "embedding_lstm", "bidirectional_gru"]


def recorded(name):
    with np.load(FIXTURES / f"{name}.npz") as data:
        arrays = dict(data)
    return (arrays["x"] if "x" in arrays else [arrays["x0"], arrays["x1"]]), arrays["y_pred"]


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def h5_tree(data: bytes) -> dict:
    """Every group's ``name`` attribute and every dataset's shape and dtype, by path."""
    tree = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: tree.__setitem__(
            name, (obj.shape, obj.dtype.str) if isinstance(obj, h5py.Dataset) else dict(obj.attrs)))
    return tree


# ------------------------------------------------------------------------------------------ files from Keras 3
@pytest.mark.parametrize("name", MODELS)
def test_keras3_files_load_with_the_predictions_keras_recorded(name):
    model = load_model(FIXTURES / f"{name}.keras", compile=False)
    x, y = recorded(name)
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-5, atol=1e-6)


def test_a_keras3_model_is_compiled_with_its_compile_config():
    model = load_model(FIXTURES / "mlp.keras")
    assert isinstance(model.optimizer, optimizers.Adam)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert model.metrics_names == ["loss", "mae"]
    x, y = recorded("mlp")
    model.fit(x, y, epochs=1, verbose=0)  # it trains
    assert model.optimizer.iterations == 1


def test_keras3_layer_configs_become_keras_2_configs():
    model = load_model(FIXTURES / "bidirectional_gru.keras", compile=False)
    bidirectional = model.layers[0]
    assert type(bidirectional.forward_layer).__name__ == "GRU" and bidirectional.forward_layer.reset_after
    assert model.input_shape == (None, 5, 3)
    functional = load_model(FIXTURES / "functional_two_inputs.keras", compile=False)
    assert functional.input_names == ["a", "b"] and functional.output_names == ["out"]
    assert [type(layer).__name__ for layer in functional.layers] == [
        "InputLayer", "InputLayer", "Dense", "Dense", "Concatenate", "Add", "Dense"]


def test_a_keras3_lambda_loads_only_with_its_function_from_custom_objects():
    with pytest.raises(ValueError, match="'double' is a Lambda layer .* marshalled Python bytecode"):
        load_model(FIXTURES / "lambda.keras", compile=False)
    model = load_model(FIXTURES / "lambda.keras", custom_objects={"double": lambda t: t * 2.0}, compile=False)
    x, y = recorded("lambda")
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ files we write
def small_models():
    a, b = Input((5,), name="a"), Input((3,), name="b")
    merged = concatenate([Dense(4, activation="tanh", name="dense_a")(a), Dense(2, name="dense_b")(b)],
                         name="concatenate")
    functional = Model([a, b], Dense(1, activation="sigmoid", name="out")(Add(name="add")([merged, merged])))
    cnn = Sequential([Conv2D(3, 3, padding="same", input_shape=(6, 6, 2)), BatchNormalization(), Activation("relu"),
                      MaxPooling2D(2), Flatten(), Dense(2)])
    rnn = Sequential([Embedding(10, 3, input_length=5), LSTM(4, return_sequences=True),
                      Bidirectional(GRU(3, reset_after=True), merge_mode="concat"), Dense(2)])
    wrapped = Sequential([TimeDistributed(Dense(3), input_shape=(4, 2)), Dropout(0.0), SimpleRNN(2)])
    rng = np.random.RandomState(0)
    return [(functional, [rng.rand(8, 5).astype("float32"), rng.rand(8, 3).astype("float32")], rng.rand(8, 1)),
            (cnn, rng.rand(8, 6, 6, 2).astype("float32"), rng.rand(8, 2)),
            (rnn, rng.randint(0, 10, size=(8, 5)), rng.rand(8, 2)),
            (wrapped, rng.rand(8, 4, 2).astype("float32"), rng.rand(8, 2))]


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_kerasish_keras3_kerasish_round_trip_keeps_predictions_and_optimizer_state(tmp_path, index):
    model, x, y = small_models()[index]
    model.compile(optimizers.Adam(0.01), "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.metrics_names == model.metrics_names and loaded.optimizer.iterations == 4
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    model.train_on_batch(x, y)  # the optimizer continues where it stopped: the same next step
    loaded.train_on_batch(x, y)
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_a_written_file_has_keras3s_members_and_config_structure(tmp_path):
    model, x, y = small_models()[0]
    model.compile(optimizers.SGD(0.1, momentum=0.9), "mse", metrics=["mae"])
    model.save(tmp_path / "m.keras")
    files = members(tmp_path / "m.keras")
    assert sorted(files) == ["config.json", "metadata.json", "model.weights.h5"]
    assert set(json.loads(files["metadata.json"])) >= {"keras_version", "date_saved"}
    config = json.loads(files["config.json"])
    assert {k: config[k] for k in ("module", "class_name", "registered_name")} == {
        "module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional"}
    assert config["compile_config"]["optimizer"] == {
        "module": "keras.optimizers", "class_name": "SGD", "registered_name": None,
        "config": {"learning_rate": pytest.approx(0.1), "momentum": pytest.approx(0.9), "nesterov": False,
                   "name": "sgd"}}
    assert config["compile_config"]["loss"] == "mse" and config["compile_config"]["metrics"] == ["mae"]
    dense = next(layer for layer in config["config"]["layers"] if layer["name"] == "dense_a")
    assert dense["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                                        "config": {"name": "float32"}, "registered_name": None}
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"


def test_functional_inbound_nodes_are_written_as_keras3_writes_them(tmp_path):
    """The same graph, built in kerasish and in Keras 3 (the fixture): identical inbound nodes and endpoints."""
    model = small_models()[0][0]
    model.save(tmp_path / "m.keras")
    ours = json.loads(members(tmp_path / "m.keras")["config.json"])["config"]
    theirs = json.loads(members(FIXTURES / "functional_two_inputs.keras")["config.json"])["config"]
    by_name = {layer["name"]: layer for layer in theirs["layers"]}
    for layer in ours["layers"]:
        assert layer["class_name"] == by_name[layer["name"]]["class_name"]
        assert layer["inbound_nodes"] == by_name[layer["name"]]["inbound_nodes"], layer["name"]
    assert (ours["input_layers"], ours["output_layers"]) == (theirs["input_layers"], theirs["output_layers"])


@pytest.mark.parametrize("name", MODELS)
def test_the_weights_file_has_the_layout_keras3_writes(tmp_path, name):
    """A fixture loaded and saved again: every group (with its ``name`` attribute) and every dataset (with its
    shape and dtype) of Keras 3's model.weights.h5, and nothing else; the values too."""
    load_model(FIXTURES / f"{name}.keras", compile=name == "mlp").save(tmp_path / "again.keras")
    theirs = members(FIXTURES / f"{name}.keras")["model.weights.h5"]
    ours = members(tmp_path / "again.keras")["model.weights.h5"]
    assert h5_tree(ours) == h5_tree(theirs)
    with h5py.File(io.BytesIO(ours), "r") as a, h5py.File(io.BytesIO(theirs), "r") as b:
        for path, entry in h5_tree(theirs).items():
            if isinstance(entry, tuple) and not path.startswith("optimizer"):
                np.testing.assert_array_equal(a[path][()], b[path][()])


def test_weights_paths_follow_keras3s_class_based_names():
    model = small_models()[0][0]
    groups = [group for group, _ in saving_keras3.layer_groups(model.layers)]
    assert groups == ["layers/input_layer", "layers/input_layer_1", "layers/dense", "layers/dense_1",
                      "layers/concatenate", "layers/add", "layers/dense_2"]
    rnn = small_models()[2][0]
    assert saving_keras3.weight_paths(rnn.layers[2], "layers/bidirectional") == [
        f"layers/bidirectional/{side}/cell/vars/{i}" for side in ("forward_layer", "backward_layer") for i in range(3)]
    assert saving_keras3.snake_case("GlobalAveragePooling2D") == "global_average_pooling2d"


def test_load_weights_reads_a_keras3_files_weights(tmp_path):
    model = Sequential([Conv2D(3, 3, padding="same", input_shape=(6, 6, 2)), BatchNormalization(),
                        Activation("relu"), MaxPooling2D(2), Flatten(), Dense(2)])
    model.load_weights(FIXTURES / "cnn_bn.keras")
    x, y = recorded("cnn_bn")
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="filename must not end in `.keras`"):
        model.save_weights(tmp_path / "w.keras")


# ------------------------------------------------------------------------------------------ which format
def test_the_file_name_chooses_the_format_and_save_format_overrides(tmp_path):
    model, x, _ = small_models()[1]
    for name, save_format in (("m.keras", None), ("m.kerasish", None), ("m.h5", None), ("m.model", None),
                              ("no_suffix", None), ("other.bin", "keras"), ("container.keras", "kerasish")):
        model.save(tmp_path / name, save_format=save_format)
    assert zipfile.ZipFile(tmp_path / "m.keras").namelist()[1] == "config.json"
    assert zipfile.ZipFile(tmp_path / "m.kerasish").namelist() == [saving.HEADER_ENTRY, saving.TENSORS_ENTRY]
    for hdf5 in ("m.h5", "m.model", "no_suffix"):  # Keras 2.3.1 writes HDF5 whatever the name
        assert (tmp_path / hdf5).read_bytes()[:8] == saving_h5.HDF5_SIGNATURE
    assert "config.json" in zipfile.ZipFile(tmp_path / "other.bin").namelist()
    # kerasish containers named .keras (as earlier kerasish versions wrote them) still load: content decides
    assert zipfile.ZipFile(tmp_path / "container.keras").namelist() == [saving.HEADER_ENTRY, saving.TENSORS_ENTRY]
    for name in ("m.keras", "m.kerasish", "m.h5", "m.model", "no_suffix", "other.bin", "container.keras"):
        np.testing.assert_array_equal(load_model(tmp_path / name, compile=False).predict(x), model.predict(x))


def test_training_backups_are_kerasish_containers_whatever_their_name(tmp_path):
    model, x, y = small_models()[1]
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    for name in ("backup.keras", "backup.h5"):
        saving.write_training_backup(model, tmp_path / name, epoch=0, step=None)
        assert zipfile.ZipFile(tmp_path / name).namelist() == [saving.HEADER_ENTRY, saving.TENSORS_ENTRY]
        assert saving.restore_training_backup(model, tmp_path / name) == (0, None)


# ------------------------------------------------------------------------------------------ errors
def test_a_layer_keras3_lacks_is_refused_by_name(tmp_path):
    from kerasish.layers import Lambda, LocallyConnected1D
    for layer in (LocallyConnected1D(2, 2, input_shape=(4, 3), name="local"), Lambda(torch.relu, name="fn",
                                                                                       input_shape=(4, 3))):
        model = Sequential([layer])
        with pytest.raises(ValueError, match=f"layer '{layer.name}' \\({type(layer).__name__}\\) has no Keras 3"):
            model.save(tmp_path / "m.keras")
        assert not (tmp_path / "m.keras").exists()


def test_a_keras3_option_kerasish_lacks_is_refused_by_layer_and_key(tmp_path):
    files = members(FIXTURES / "cnn_bn.keras")
    config = json.loads(files["config.json"])
    config["config"]["layers"][2]["config"]["renorm"] = True
    with zipfile.ZipFile(tmp_path / "renorm.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else data)
    with pytest.raises(ValueError, match="'batch_normalization' \\(BatchNormalization\\): renorm=True has no "
                                         "equivalent in Keras 2"):
        load_model(tmp_path / "renorm.keras")


def test_truncated_or_corrupt_keras3_files_name_the_file(tmp_path):
    data = (FIXTURES / "mlp.keras").read_bytes()
    (tmp_path / "truncated.keras").write_bytes(data[: len(data) // 2])
    files = members(FIXTURES / "mlp.keras")
    with zipfile.ZipFile(tmp_path / "bad_weights.keras", "w") as archive:
        archive.writestr("config.json", files["config.json"])
        archive.writestr("model.weights.h5", b"not hdf5")
    with zipfile.ZipFile(tmp_path / "bad_config.keras", "w") as archive:
        archive.writestr("config.json", b"{not json")
        archive.writestr("model.weights.h5", files["model.weights.h5"])
    with zipfile.ZipFile(tmp_path / "other_model.keras", "w") as archive:
        archive.writestr("config.json", files["config.json"])
        archive.writestr("model.weights.h5", members(FIXTURES / "cnn_bn.keras")["model.weights.h5"])
    for name in ("truncated", "bad_weights", "bad_config"):
        with pytest.raises(UnreadableFileError, match=f"{name}.keras"):
            load_model(tmp_path / f"{name}.keras")
    with pytest.raises(ValueError, match="other_model.keras' has no weights for layer 'dense_1' at 'layers/dense_1/vars/0'"):
        load_model(tmp_path / "other_model.keras")


# ------------------------------------------------------------------------------------------ Keras 3 reads ours
def keras3_python():
    """A Python with Keras 3: $KERASISH_KERAS3_PYTHON (e.g. the venv of make_keras3_fixtures.py), or this one."""
    if os.environ.get("KERASISH_KERAS3_PYTHON"):
        return os.environ["KERASISH_KERAS3_PYTHON"]
    spec = importlib.util.find_spec("keras")
    if spec is not None and spec.origin and "kerasish" not in spec.origin:
        return sys.executable
    return None


KERAS3_CHECK = """
import os, sys
os.environ.setdefault("KERAS_BACKEND", "numpy")
import numpy as np, keras
assert int(keras.__version__.split(".")[0]) >= 3, keras.__version__
folder = sys.argv[1]
for name in sys.argv[2:]:
    data = np.load(os.path.join(folder, name + ".npz"))
    x = [data["x0"], data["x1"]] if "x0" in data.files else data["x"]
    model = keras.saving.load_model(os.path.join(folder, name + ".keras"))
    np.testing.assert_allclose(model.predict(x, verbose=0), data["y"], rtol=1e-5, atol=1e-6)
    assert int(model.optimizer.iterations) == 4, name
    for i, v in enumerate(model.optimizer.variables[2:]):
        np.testing.assert_array_equal(np.asarray(v), data["slot_%d" % i], err_msg="%s slot %d" % (name, i))
print("keras", keras.__version__, "loads", " ".join(sys.argv[2:]))
"""


@pytest.mark.skipif(keras3_python() is None, reason="Keras 3 is not installed here (nor KERASISH_KERAS3_PYTHON "
                                                    "set); the structure tests above still run")
def test_files_we_write_load_in_keras3_with_identical_predictions(tmp_path):
    names = ["functional", "cnn", "rnn", "wrapped"]
    for name, (model, x, y) in zip(names, small_models()):
        model.compile(optimizers.Adam(0.01), "mse")
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)
        model.save(tmp_path / f"{name}.keras")
        arrays = {"y": model.predict(x)}
        arrays.update({"x0": x[0], "x1": x[1]} if isinstance(x, list) else {"x": x})
        arrays.update({f"slot_{i}": value for i, (*_, value) in enumerate(saving_keras3._optimizer_slots(model))})
        np.savez(tmp_path / f"{name}.npz", **arrays)
    result = subprocess.run([keras3_python(), "-c", KERAS3_CHECK, str(tmp_path), *names], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout.strip())
    shutil.rmtree(tmp_path)


def test_a_torch_optimizer_is_left_out_of_the_keras3_file_with_a_warning(tmp_path):
    model, x, y = small_models()[1]
    model.compile(torch.optim.SGD, "mse")
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="torch.optim.SGD has no Keras 3 equivalent"):
        model.save(tmp_path / "m.keras")
    files = members(tmp_path / "m.keras")
    assert "compile_config" not in json.loads(files["config.json"])
    assert not any(path.startswith("optimizer") for path in h5_tree(files["model.weights.h5"]))
    with pytest.warns(UserWarning, match="the model was \\*not\\* compiled"):
        loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
