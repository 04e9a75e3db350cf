"""Keras 2.3.1's ``keras.utils.io_utils`` HDF5 helpers: ``HDF5Matrix`` (indexing as Keras's, and as data for
fit/evaluate/predict), ``H5Dict``, in-memory HDF5 files, the overwrite prompt. Files are made by each test with
h5py; expected values are the NumPy arrays written into them."""
import io

import h5py
import numpy as np
import pytest
import torch

from kerasish.layers import Dense
from kerasish.models import Sequential
from kerasish.utils import io_utils
from kerasish.utils.io_utils import H5Dict, HDF5Matrix


@pytest.fixture
def h5_file(tmp_path):
    rng = np.random.RandomState(0)
    arrays = {"x": rng.randn(40, 3).astype("float32"), "labels": np.arange(40, dtype="int64"),
              "images": rng.randint(0, 256, size=(12, 4, 4, 1)).astype("uint8")}
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array)
        f.create_dataset("scalar", data=1.0)
    yield str(path), arrays
    for opened in HDF5Matrix.refs.values():  # the class keeps files open, as Keras's does
        opened.close()
    HDF5Matrix.refs.clear()


# ---------------------------------------------------------------------------------------------- HDF5Matrix
def test_hdf5_matrix_views_rows_start_to_end(h5_file):
    path, arrays = h5_file
    x = HDF5Matrix(path, "x", start=5, end=25)
    assert len(x) == 20 and x.shape == (20, 3) and x.ndim == 2 and x.size == 60 and x.dtype == np.float32
    np.testing.assert_array_equal(x[0], arrays["x"][5])
    np.testing.assert_array_equal(x[-1], arrays["x"][24])
    np.testing.assert_array_equal(x[2:6], arrays["x"][7:11])
    np.testing.assert_array_equal(x[:], arrays["x"][5:25])
    np.testing.assert_array_equal(x[-3:], arrays["x"][22:25])
    np.testing.assert_array_equal(x[[3, 0, 3, 7]], arrays["x"][[8, 5, 8, 12]])  # any order, repeats
    np.testing.assert_array_equal(x[np.array([[1, 2], [0, 4]])], arrays["x"][5:][[[1, 2], [0, 4]]])
    whole = HDF5Matrix(path, "x")
    assert len(whole) == 40 and list(HDF5Matrix.refs) == [path]  # one open file per path


def test_hdf5_matrix_out_of_range_indices_raise_index_error(h5_file):
    path, _ = h5_file
    x = HDF5Matrix(path, "x", start=5, end=25)
    for bad in (20, -21, [0, 20], np.array([25])):
        with pytest.raises(IndexError, match="out of range for 20 rows"):
            x[bad]
    with pytest.raises(IndexError, match="past the end"):
        x[10:21]  # Keras raises where NumPy would clip
    with pytest.raises(TypeError, match="boolean mask"):
        x[np.ones(20, dtype=bool)]


def test_hdf5_matrix_normalizer_applies_to_every_read_and_sets_shape_and_dtype(h5_file):
    path, arrays = h5_file
    images = HDF5Matrix(path, "images", normalizer=lambda block: block.astype("float32")[..., 0] / 255.0)
    assert images.shape == (12, 4, 4) and images.dtype == np.float32
    np.testing.assert_allclose(images[3], arrays["images"][3, ..., 0] / 255.0)
    np.testing.assert_allclose(images[[5, 1]], arrays["images"][[5, 1], ..., 0] / 255.0)
    np.testing.assert_allclose(images[2:4], arrays["images"][2:4, ..., 0] / 255.0)


def test_hdf5_matrix_errors_name_the_file_and_dataset(h5_file, tmp_path):
    path, _ = h5_file
    with pytest.raises(KeyError, match=r"has no dataset 'y'.*'images', 'labels', 'scalar', 'x'"):
        HDF5Matrix(path, "y")
    with pytest.raises(ValueError, match=r"0 <= start <= end <= 40"):
        HDF5Matrix(path, "x", start=10, end=50)
    with pytest.raises(ValueError, match="is a scalar"):
        HDF5Matrix(path, "scalar")
    with pytest.raises(OSError, match="cannot open datapath="):
        HDF5Matrix(str(tmp_path / "missing.h5"), "x")


def fitted(x, y, **fit_kwargs):
    torch.manual_seed(0)
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, **fit_kwargs)
    return model, history


@pytest.mark.parametrize("shuffle", ["batch", True])
def test_fit_on_hdf5_matrices_trains_exactly_as_on_the_arrays(h5_file, shuffle):
    path, arrays = h5_file
    x, y = HDF5Matrix(path, "x"), HDF5Matrix(path, "labels", normalizer=lambda b: (b % 3).astype("float32"))
    y_array = (arrays["labels"] % 3).astype("float32")
    on_disk, history = fitted(x, y, shuffle=shuffle, validation_split=0.25)
    in_memory, reference = fitted(arrays["x"], y_array, shuffle=shuffle, validation_split=0.25)
    assert history.history == reference.history
    for a, b in zip(on_disk.get_weights(), in_memory.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(on_disk.predict(x, batch_size=16), on_disk.predict(arrays["x"], batch_size=16))
    assert on_disk.evaluate(x, y, verbose=0) == on_disk.evaluate(arrays["x"], y_array, verbose=0)


# ---------------------------------------------------------------------------------------------- H5Dict
def test_h5dict_writes_arrays_as_datasets_and_values_as_attributes(tmp_path):
    path = tmp_path / "dict.h5"
    with H5Dict(path, mode="w") as h5:
        h5["weights"] = np.arange(6, dtype="float32").reshape(2, 3)
        h5["names"] = ["dense_1", "dense_2"]
        h5["version"] = "2.3.1"
        h5["group"]["inner"] = np.ones(2)
        h5.update({"epochs": 3})
        assert "weights" in h5 and "names" in h5 and "missing" not in h5
        with pytest.raises(KeyError, match='Group with name "weights" exists'):
            h5["weights"] = np.zeros(1)
    with h5py.File(path, "r") as f:  # what Keras's h5py layout is: datasets and attributes
        np.testing.assert_array_equal(f["weights"][()], np.arange(6).reshape(2, 3))
        assert list(f.attrs["names"]) == [b"dense_1", b"dense_2"] and f.attrs["version"] == "2.3.1"
        assert f.attrs["epochs"] == 3
        np.testing.assert_array_equal(f["group"]["inner"][()], [1, 1])
    with H5Dict(path, mode="r") as h5:
        np.testing.assert_array_equal(h5["weights"], np.arange(6).reshape(2, 3))
        assert h5["names"] == [b"dense_1", b"dense_2"] and h5.get("missing", 7) == 7
        np.testing.assert_array_equal(h5["group"]["inner"], [1, 1])
        with pytest.raises(ValueError, match="Cannot set item in read-only mode"):
            h5["x"] = 1
        with pytest.raises(ValueError, match="Cannot create group in read-only mode"):
            h5["missing"]


def test_h5dict_splits_a_list_longer_than_an_object_header(tmp_path):
    names = [f"layer_with_a_long_name_{i:05d}" for i in range(3000)]  # 3000 * 28 bytes > 64512
    with H5Dict(tmp_path / "big.h5", mode="w") as h5:
        h5["layer_names"] = names
    with h5py.File(tmp_path / "big.h5", "r") as f:
        chunks = sorted(f.attrs)
        assert len(chunks) == 2 and chunks[0] == "layer_names0"
        assert all(f.attrs[key].nbytes <= io_utils.HDF5_OBJECT_HEADER_LIMIT for key in chunks)
    with H5Dict(tmp_path / "big.h5", mode="r") as h5:
        assert h5["layer_names"] == names


def test_h5dict_over_a_dict_keeps_arrays_without_pickling():
    store = {}
    h5 = H5Dict(store)
    h5["w"] = np.arange(3)
    h5["sub"]["v"] = 2
    assert store["_is_group"] is True and isinstance(store["w"], np.ndarray)
    np.testing.assert_array_equal(h5["w"], [0, 1, 2])
    assert h5["sub"]["v"] == 2 and isinstance(h5["sub"], H5Dict)
    with pytest.raises(TypeError, match="Required Group, str, Path or dict"):
        H5Dict(3)
    assert io_utils.h5dict is H5Dict and H5Dict.is_supported_type({}) and not H5Dict.is_supported_type(3)


def test_binary_h5py_round_trip_through_a_byte_stream():
    stream = io.BytesIO()
    returned = io_utils.save_to_binary_h5py(lambda f: f.create_dataset("x", data=np.arange(4)).shape, stream)
    assert returned == (4,) and stream.getvalue()[:8] == b"\x89HDF\r\n\x1a\n"
    stream.seek(0)
    np.testing.assert_array_equal(io_utils.load_from_binary_h5py(lambda f: f["x"][()], stream), np.arange(4))


def test_ask_to_proceed_with_overwrite_asks_until_y_or_n(monkeypatch, capsys):
    answers = iter(["maybe", " Y "])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert io_utils.ask_to_proceed_with_overwrite("m.h5") is True
    assert "Next time specify overwrite=True" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert io_utils.ask_to_proceed_with_overwrite("m.h5") is False
