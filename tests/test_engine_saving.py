"""Keras 2.3.1 ``keras.engine.saving``'s functions over h5py groups, ``pickle_model``/``unpickle_model``,
``Model.to_yaml`` and the ``keras.callbacks.callbacks`` path.

Expected structures are Keras 2.3.1's (engine/saving.py: ``layer_names``/``weight_names`` bytes attributes, chunks
``name0``, ``name1``... over 64512 bytes); expected converted weights are NumPy transposes and flips written here.
"""
import json
import pickle
import warnings

import h5py
import numpy as np
import pytest
import yaml

from kerasish import callbacks
from kerasish.callbacks import callbacks as callbacks_module
from kerasish.engine import saving as engine_saving
from kerasish.layers import Conv2D, Dense, Input
from kerasish.models import Model, Sequential, load_model, model_from_yaml
from kerasish.saving import UnreadableFileError

RNG = np.random.default_rng(0)


def mlp(name_prefix=""):
    model = Sequential([Dense(4, input_shape=(3,), name=f"{name_prefix}hidden"), Dense(2, name=f"{name_prefix}out")])
    model.compile("adam", "mse")
    return model


def names(values) -> list:
    return [bytes(v) for v in values]


# ------------------------------------------------------------------------------------------ weights in groups
def test_save_weights_to_hdf5_group_writes_keras_layout(tmp_path):
    model = mlp()
    with h5py.File(tmp_path / "w.h5", "w") as f:
        engine_saving.save_weights_to_hdf5_group(f.create_group("weights"), model.layers)
    with h5py.File(tmp_path / "w.h5", "r") as f:
        group = f["weights"]
        assert names(group.attrs["layer_names"]) == [b"hidden", b"out"]
        assert group.attrs["keras_version"] == "2.3.1" and group.attrs["backend"] == "torch"
        assert names(group["hidden"].attrs["weight_names"]) == [b"hidden/kernel:0", b"hidden/bias:0"]
        kernel, bias = model.layers[0].get_weights()
        np.testing.assert_array_equal(group["hidden/hidden/kernel:0"][()], kernel)  # Keras's (in, out) layout
        np.testing.assert_array_equal(group["hidden/hidden/bias:0"][()], bias)


def test_load_weights_from_hdf5_group_in_order_from_weights_and_model_files(tmp_path):
    source = mlp()
    source.save_weights(str(tmp_path / "w.h5"))
    source.save(str(tmp_path / "m.h5"))
    for path, group_name in (("w.h5", "/"), ("m.h5", "model_weights")):
        target = mlp("other_")
        with h5py.File(tmp_path / path, "r") as f:
            engine_saving.load_weights_from_hdf5_group(f[group_name], target.layers)
        for expected, loaded in zip(source.get_weights(), target.get_weights()):
            np.testing.assert_array_equal(loaded, expected)


def test_load_weights_from_hdf5_group_counts_layers_with_weights_as_keras():
    source = mlp()
    with h5py.File("in_memory.h5", "w", driver="core", backing_store=False) as f:
        engine_saving.save_weights_to_hdf5_group(f, source.layers)
        with pytest.raises(ValueError, match="You are trying to load a weight file containing 2 layers into a "
                                             "model with 1 layers"):
            engine_saving.load_weights_from_hdf5_group(f, [Sequential([Dense(4, input_shape=(3,))]).layers[0]])


def test_load_weights_from_hdf5_group_by_name_matches_names_and_skips_mismatches():
    source = mlp()
    target = Sequential([Dense(4, input_shape=(3,), name="hidden"), Dense(5, name="out")])
    with h5py.File("by_name.h5", "w", driver="core", backing_store=False) as f:
        engine_saving.save_weights_to_hdf5_group(f, source.layers)
        with pytest.warns(UserWarning, match=r"Skipping loading of weights for layer out due to mismatch in shape"):
            engine_saving.load_weights_from_hdf5_group_by_name(f, target.layers, skip_mismatch=True)
        with pytest.raises(ValueError, match="has shape"):
            engine_saving.load_weights_from_hdf5_group_by_name(f, target.layers)
    for expected, loaded in zip(source.layers[0].get_weights(), target.layers[0].get_weights()):
        np.testing.assert_array_equal(loaded, expected)


def test_a_group_without_keras_weights_is_an_unreadable_file_error():
    with h5py.File("empty.h5", "w", driver="core", backing_store=False) as f:
        with pytest.raises(UnreadableFileError, match="no layer_names"):
            engine_saving.load_weights_from_hdf5_group(f.create_group("nothing"), mlp().layers)


# ------------------------------------------------------------------------------------------ attributes
def test_attributes_over_the_header_limit_are_split_in_keras_chunks_and_read_back():
    many = [f"layer_{i:024d}" for i in range(3000)]  # 30 bytes each: 90000 bytes, two chunks of 45000
    with h5py.File("attrs.h5", "w", driver="core", backing_store=False) as f:
        engine_saving.save_attributes_to_hdf5_group(f, "layer_names", many)
        assert sorted(f.attrs) == ["layer_names0", "layer_names1"]
        assert len(f.attrs["layer_names0"]) == 1500
        assert engine_saving.load_attributes_from_hdf5_group(f, "layer_names") == many
        engine_saving.save_attributes_to_hdf5_group(f, "few", [b"a", "b"])
        assert names(f.attrs["few"]) == [b"a", b"b"]
        assert engine_saving.load_attributes_from_hdf5_group(f, "few") == ["a", "b"]
        engine_saving.save_attributes_to_hdf5_group(f, "none", [])
        assert engine_saving.load_attributes_from_hdf5_group(f, "none") == []
        with pytest.raises(RuntimeError, match="cannot be saved to HDF5 file because they are larger than 64512 "
                                               "bytes"):
            engine_saving.save_attributes_to_hdf5_group(f, "huge", ["x" * 70000])
    assert engine_saving.HDF5_OBJECT_HEADER_LIMIT == 64512


# ------------------------------------------------------------------------------------------ preprocessing
def built_conv(**kwargs):
    layer = Conv2D(3, (2, 2), **kwargs)
    layer(Input((5, 5, 2) if kwargs.get("data_format") != "channels_first" else (2, 5, 5)))
    return layer


def test_preprocess_weights_for_loading_converts_keras1_channels_first_kernels():
    layer = built_conv(data_format="channels_first")
    keras1_kernel = RNG.normal(size=(3, 2, 2, 2)).astype("float32")  # Keras 1: (filters, stack, rows, cols)
    bias = np.arange(3, dtype="float32")
    kernel, new_bias = engine_saving.preprocess_weights_for_loading(layer, [keras1_kernel, bias],
                                                                    original_keras_version="1")
    np.testing.assert_array_equal(kernel, np.transpose(keras1_kernel, (2, 3, 1, 0)))
    np.testing.assert_array_equal(new_bias, bias)


def test_preprocess_weights_for_loading_flips_theano_kernels_and_reshapes_on_request():
    layer = built_conv()
    kernel = RNG.normal(size=(2, 2, 2, 3)).astype("float32")
    (flipped, _) = engine_saving.preprocess_weights_for_loading(layer, [kernel, np.zeros(3, "float32")],
                                                                original_backend="theano")
    np.testing.assert_array_equal(flipped, kernel[::-1, ::-1])
    (unchanged, _) = engine_saving.preprocess_weights_for_loading(layer, [kernel, np.zeros(3, "float32")])
    np.testing.assert_array_equal(unchanged, kernel)
    (reshaped, _) = engine_saving.preprocess_weights_for_loading(layer, [kernel.reshape(8, 3), np.zeros(3, "float32")],
                                                                 reshape=True)
    np.testing.assert_array_equal(reshaped, kernel)
    with pytest.raises(ValueError, match="is not built"):
        engine_saving.preprocess_weights_for_loading(Conv2D(3, (2, 2)), [kernel])


# ------------------------------------------------------------------------------------------ pickling
def test_pickle_model_is_plain_data_that_unpickle_model_turns_back_into_the_trained_model(tmp_path):
    model = mlp()
    x, y = RNG.normal(size=(8, 3)).astype("float32"), RNG.normal(size=(8, 2)).astype("float32")
    model.fit(x, y, epochs=2, verbose=0)
    state = pickle.loads(pickle.dumps(engine_saving.pickle_model(model)))
    assert set(state) == {"keras_h5"} and state["keras_h5"].startswith(b"\x89HDF\r\n\x1a\n")
    restored = engine_saving.unpickle_model(state)
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
    assert restored.optimizer.iterations == model.optimizer.iterations == 2
    (tmp_path / "m.h5").write_bytes(state["keras_h5"])  # the bytes are a Keras 2 HDF5 file
    np.testing.assert_array_equal(load_model(str(tmp_path / "m.h5")).predict(x), model.predict(x))


def test_unpickle_model_refuses_what_pickle_model_did_not_make():
    with pytest.raises(TypeError, match="expected what pickle_model returns"):
        engine_saving.unpickle_model(b"bytes")
    with pytest.raises(UnreadableFileError, match="unpickle_model"):
        engine_saving.unpickle_model({"keras_h5": b"\x89HDF\r\n\x1a\n truncated"})


# ------------------------------------------------------------------------------------------ to_yaml
def functional():
    inputs = Input((3,), name="features")
    return Model(inputs, Dense(2, name="out")(Dense(4, activation="relu", name="hidden")(inputs)))


def test_to_yaml_holds_what_to_json_holds_and_model_from_yaml_rebuilds_the_model():
    model = functional()
    text = model.to_yaml()
    assert yaml.safe_load(text) == json.loads(model.to_json())
    assert set(yaml.safe_load(text)) == {"class_name", "config", "keras_version", "backend"}
    rebuilt = model_from_yaml(text)
    assert rebuilt.get_config() == model.get_config()
    assert model.to_yaml(default_flow_style=True) != text  # kwargs go to yaml.dump
    assert yaml.safe_load(model.to_yaml(default_flow_style=True)) == yaml.safe_load(text)


# ------------------------------------------------------------------------------------------ callbacks.callbacks
def test_keras_callbacks_callbacks_module_holds_the_same_classes():
    for name in callbacks_module.__all__:
        assert getattr(callbacks_module, name) is getattr(callbacks, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(callbacks_module.EarlyStopping(), callbacks.Callback)
