"""keras.datasets: each loader reads small files written here in the formats Keras downloads, at Keras's cache
paths under a temporary KERAS_HOME, and returns what Keras 2.3.1's code returns for them (hand-derived arrays,
or a transcription of Keras's post-processing in NumPy below). The network is replaced by a function that
fails, so a missing file gives the offline error."""
import gzip
import hashlib
import importlib
import io
import json
import os
import pathlib
import pickle
import struct
import tarfile
import zipfile
from urllib.error import URLError

import numpy as np
import pytest

from kerasish import backend, datasets
from kerasish.datasets import boston_housing, cifar, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters
from kerasish.utils import data_utils

NAMES_DIR = pathlib.Path(__file__).parent / "fixtures" / "keras231_names"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A KERAS_HOME with its datasets folder, and no network."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(url, data=None):
        raise URLError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(data_utils, "urlopen", offline)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def md5_of(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


def trust(monkeypatch, module, path, attribute="FILE_HASH"):
    """Our test file cannot have Keras's hash: make the loader expect the file's own md5."""
    monkeypatch.setattr(module, attribute, md5_of(path))


def ragged(rows):
    array = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        array[i] = list(row)
    return array


def as_lists(array):
    return [list(map(int, row)) for row in array]


# ---------------------------------------------------------------------------------------------------------
# Keras 2.3.1's URLs, hashes and file names (copied from keras/datasets/*.py)
# ---------------------------------------------------------------------------------------------------------

KERAS_FILES = [
    (mnist.load_data, "mnist.npz", "https://s3.amazonaws.com/img-datasets/mnist.npz",
     "8a61469f7ea1b51cbae51d4f78837e45"),
    (imdb.load_data, "imdb.npz", "https://s3.amazonaws.com/text-datasets/imdb.npz",
     "599dadb1135973df5b59232a0e9a887c"),
    (imdb.get_word_index, "imdb_word_index.json", "https://s3.amazonaws.com/text-datasets/imdb_word_index.json",
     "bfafd718b763782e994055a2d397834f"),
    (reuters.load_data, "reuters.npz", "https://s3.amazonaws.com/text-datasets/reuters.npz",
     "87aedbeb0cb229e378797a632c1997b6"),
    (reuters.get_word_index, "reuters_word_index.json",
     "https://s3.amazonaws.com/text-datasets/reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921"),
    (boston_housing.load_data, "boston_housing.npz", "https://s3.amazonaws.com/keras-datasets/boston_housing.npz",
     "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
    (cifar10.load_data, "cifar-10-batches-py.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
     None),
    (cifar100.load_data, "cifar-100-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
     None),
    (fashion_mnist.load_data, os.path.join("fashion-mnist", "train-labels-idx1-ubyte.gz"),
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz", None),
]


@pytest.mark.parametrize("loader, fname, url, file_hash", KERAS_FILES, ids=[f[1] for f in KERAS_FILES])
def test_offline_without_the_file_the_error_says_what_to_download_and_where(home, loader, fname, url, file_hash):
    with pytest.raises(data_utils.DownloadError) as info:
        loader()
    message = str(info.value)
    assert f"Download {url} yourself" in message
    assert f"save it as {home / fname}" in message
    if file_hash is not None:
        assert f"hash must be {file_hash}." in message


# ---------------------------------------------------------------------------------------------------------
# MNIST, Fashion-MNIST, Boston housing
# ---------------------------------------------------------------------------------------------------------

def test_mnist_returns_the_arrays_of_mnist_npz(home, monkeypatch):
    rng = np.random.RandomState(0)
    stored = {"x_train": rng.randint(0, 256, (5, 28, 28)).astype(np.uint8),
              "y_train": rng.randint(0, 10, 5).astype(np.uint8),
              "x_test": rng.randint(0, 256, (3, 28, 28)).astype(np.uint8),
              "y_test": rng.randint(0, 10, 3).astype(np.uint8)}
    np.savez_compressed(home / "mnist.npz", **stored)
    trust(monkeypatch, mnist, home / "mnist.npz")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for name, got in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
        assert got.dtype == np.uint8 and np.array_equal(got, stored[name]), name


def test_mnist_with_a_file_that_is_not_keras_mnist_asks_for_it_again(home):
    np.savez(home / "mnist.npz", x_train=np.zeros(1))
    with pytest.raises(data_utils.DownloadError, match="the md5 file hash does not match the original value of "
                                                       "8a61469f7ea1b51cbae51d4f78837e45"):
        mnist.load_data()


def write_idx(path, array, magic):
    header = struct.pack(">II", magic, len(array)) + (struct.pack(">II", *array.shape[1:]) if array.ndim == 3
                                                       else b"")
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_the_four_idx_files_in_datasets_fashion_mnist(home):
    rng = np.random.RandomState(1)
    x_train, y_train = rng.randint(0, 256, (4, 28, 28)), rng.randint(0, 10, 4)
    x_test, y_test = rng.randint(0, 256, (2, 28, 28)), rng.randint(0, 10, 2)
    folder = home / "fashion-mnist"
    folder.mkdir()
    write_idx(folder / "train-labels-idx1-ubyte.gz", y_train, 2049)
    write_idx(folder / "train-images-idx3-ubyte.gz", x_train, 2051)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y_test, 2049)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", x_test, 2051)
    (gx_train, gy_train), (gx_test, gy_test) = fashion_mnist.load_data()
    assert gx_train.shape == (4, 28, 28) and gx_test.shape == (2, 28, 28)
    assert gx_train.dtype == gy_test.dtype == np.uint8
    assert np.array_equal(gx_train, x_train) and np.array_equal(gy_train, y_train)
    assert np.array_equal(gx_test, x_test) and np.array_equal(gy_test, y_test)


def test_boston_housing_shuffles_with_seed_then_takes_the_last_fraction_as_test(home, monkeypatch):
    x = np.arange(10 * 13, dtype=np.float64).reshape(10, 13)
    y = np.arange(10, dtype=np.float64) * 1.5
    np.savez(home / "boston_housing.npz", x=x, y=y)
    trust(monkeypatch, boston_housing, home / "boston_housing.npz")
    order = np.arange(10)
    np.random.RandomState(7).shuffle(order)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.25, seed=7)
    assert len(x_train) == int(10 * 0.75) == 7
    assert np.array_equal(x_train, x[order[:7]]) and np.array_equal(y_train, y[order[:7]])
    assert np.array_equal(x_test, x[order[7:]]) and np.array_equal(y_test, y[order[7:]])
    with pytest.raises(ValueError, match="test_split must be in"):
        boston_housing.load_data(test_split=1.0)


# ---------------------------------------------------------------------------------------------------------
# CIFAR: Python 2 pickles
# ---------------------------------------------------------------------------------------------------------

class Py2Pickler(pickle._Pickler):
    """Writes pickles as Python 2 and numpy 1 wrote the CIFAR files: protocol 2, every str and bytes as a
    Python 2 ``str`` (``SHORT_BINSTRING``/``BINSTRING``), numpy's functions under ``numpy.core.multiarray``."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj if isinstance(obj, bytes) else obj.encode("latin1")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str

    def save_global(self, obj, name=None):
        module, qualname = {np.ndarray: ("numpy", "ndarray"), np.dtype: ("numpy", "dtype")}.get(
            obj, ("numpy.core.multiarray", obj.__name__))
        self.write(pickle.GLOBAL + module.encode() + b"\n" + qualname.encode() + b"\n")
        self.memoize(obj)


def write_py2_pickle(path, obj):
    with open(path, "wb") as file:
        Py2Pickler(file, protocol=2).dump(obj)


def cifar_batch(rng, n, label_keys):
    batch = {"batch_label": "testing batch 1 of 1",
             "data": rng.randint(0, 256, (n, 3 * 32 * 32)).astype(np.uint8),
             "filenames": [f"img_{i}.png" for i in range(n)]}
    for key, classes in label_keys.items():
        batch[key] = [int(v) for v in rng.randint(0, classes, n)]
    return batch


def write_cifar10(folder, rng, sizes=(2, 3, 1, 2, 2), test_size=3):
    folder.mkdir(parents=True)
    batches = []
    for i, n in enumerate(sizes, start=1):
        batches.append(cifar_batch(rng, n, {"labels": 10}))
        write_py2_pickle(folder / f"data_batch_{i}", batches[-1])
    test = cifar_batch(rng, test_size, {"labels": 10})
    write_py2_pickle(folder / "test_batch", test)
    return batches, test


def test_load_batch_returns_channels_first_images_and_the_label_list(tmp_path):
    batch = cifar_batch(np.random.RandomState(2), 4, {"labels": 10})
    write_py2_pickle(tmp_path / "b", batch)
    data, labels = cifar.load_batch(str(tmp_path / "b"))
    with open(tmp_path / "b", "rb") as file:  # how Keras 2.3.1 reads it (our own test file: safe to unpickle)
        keras_way = pickle.load(file, encoding="bytes")
    assert np.array_equal(data, keras_way[b"data"].reshape(4, 3, 32, 32)) and labels == keras_way[b"labels"]
    assert data.shape == (4, 3, 32, 32) and data.dtype == np.uint8
    assert np.array_equal(data[1, 2, 5, 7], batch["data"][1, 2 * 1024 + 5 * 32 + 7])
    assert labels == batch["labels"] and isinstance(labels, list)


def test_cifar10_concatenates_the_five_batches_and_transposes_to_channels_last(home):
    batches, test = write_cifar10(home / "cifar-10-batches-py", np.random.RandomState(3))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    stored_x = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32)
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert np.array_equal(x_train, stored_x.transpose(0, 2, 3, 1))
    assert np.array_equal(x_test, test["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    # Keras 2.3.1: the training labels go through a uint8 array, the test labels straight from the list
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert y_train[:, 0].tolist() == sum((b["labels"] for b in batches), [])
    assert y_test.shape == (3, 1) and y_test.dtype == np.asarray([0]).dtype
    assert y_test[:, 0].tolist() == test["labels"]


def test_cifar10_keeps_channels_first_when_the_image_data_format_says_so(home):
    batches, test = write_cifar10(home / "cifar-10-batches-py", np.random.RandomState(4))
    backend.set_image_data_format("channels_first")
    (x_train, _), (x_test, _) = cifar10.load_data()
    assert x_train.shape == (10, 3, 32, 32)
    assert np.array_equal(x_test, test["data"].reshape(-1, 3, 32, 32))


def test_cifar10_extracts_cifar_10_python_tar_gz_from_the_cache(home):
    source = home.parent / "src"
    batches, _ = write_cifar10(source / "cifar-10-batches-py", np.random.RandomState(5))
    with tarfile.open(home / "cifar-10-batches-py.tar.gz", "w:gz") as archive:
        archive.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    (x_train, _), _ = cifar10.load_data()
    assert (home / "cifar-10-batches-py" / "data_batch_5").exists()
    assert np.array_equal(x_train[:2], batches[0]["data"].reshape(2, 3, 32, 32).transpose(0, 2, 3, 1))


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_reads_train_and_test_with_the_label_mode_labels(home, label_mode):
    rng = np.random.RandomState(6)
    folder = home / "cifar-100-python"
    folder.mkdir()
    train = cifar_batch(rng, 4, {"fine_labels": 100, "coarse_labels": 20})
    test = cifar_batch(rng, 2, {"fine_labels": 100, "coarse_labels": 20})
    write_py2_pickle(folder / "train", train)
    write_py2_pickle(folder / "test", test)
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert np.array_equal(x_train, train["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert x_test.shape == (2, 32, 32, 3)
    assert y_train.shape == (4, 1) and y_train.dtype == np.asarray([0]).dtype
    assert y_train[:, 0].tolist() == train[label_mode + "_labels"]
    assert y_test[:, 0].tolist() == test[label_mode + "_labels"]


def test_cifar100_rejects_an_unknown_label_mode_before_looking_for_files(home):
    with pytest.raises(ValueError, match='`label_mode` must be one of `"fine"`, `"coarse"`.'):
        cifar100.load_data(label_mode="medium")


class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_cifar_batch_that_calls_a_function_is_refused_and_nothing_runs(home, tmp_path):
    folder = home / "cifar-10-batches-py"
    write_cifar10(folder, np.random.RandomState(7))
    marker = tmp_path / "was_run"
    with open(folder / "data_batch_3", "wb") as file:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": [RunsShell(marker)]}, file, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"data_batch_3: refused to load 'posix.system'"):
        cifar10.load_data()
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------------------
# IMDB and Reuters
# ---------------------------------------------------------------------------------------------------------

def keras231_text_reference(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from, split):
    """Keras 2.3.1 imdb.py / reuters.py after the shuffle, in NumPy and lists (``split`` a function of the
    number of texts left); returns lists of lists and label lists."""
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
        xs, labels = [xs[i] for i in kept], [labels[i] for i in kept]
    if not num_words:
        num_words = max([max(x) for x in xs])
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = split(len(xs))
    return (xs[:idx], list(labels[:idx])), (xs[idx:], list(labels[idx:]))


def random_texts(rng, n, vocabulary=30):
    return [list(map(int, rng.randint(1, vocabulary, rng.randint(1, 9)))) for _ in range(n)]


def write_imdb(home, monkeypatch, train, train_labels, test, test_labels):
    np.savez(home / "imdb.npz", x_train=ragged(train), y_train=np.array(train_labels),
             x_test=ragged(test), y_test=np.array(test_labels))
    trust(monkeypatch, imdb, home / "imdb.npz")


def test_imdb_hand_worked_example_with_defaults(home, monkeypatch):
    train, test = [[1, 5, 2], [4], [3, 3, 9, 1]], [[2, 2], [7, 1]]
    write_imdb(home, monkeypatch, train, [0, 1, 1], test, [1, 0])
    train_order, test_order = np.arange(3), np.arange(2)
    rng = np.random.RandomState(113)
    rng.shuffle(train_order)
    rng.shuffle(test_order)  # the same RandomState goes on to shuffle the test set
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    # start_char 1, ranks + 3; num_words = the largest index (9 + 3 = 12), which itself becomes oov_char 2
    shifted = {0: [1, 4, 8, 5], 1: [1, 7], 2: [1, 6, 6, 2, 4]}
    assert x_train.dtype == object and x_train.shape == (3,)
    assert as_lists(x_train) == [shifted[i] for i in train_order]
    assert y_train.tolist() == [[0, 1, 1][i] for i in train_order]
    assert as_lists(x_test) == [[[1, 5, 5], [1, 10, 4]][i] for i in test_order]
    assert y_test.tolist() == [[1, 0][i] for i in test_order]


@pytest.mark.parametrize("options", [
    dict(),
    dict(num_words=12, skip_top=5),
    dict(num_words=15, oov_char=None, seed=3),
    dict(maxlen=6, start_char=None, index_from=0),
    dict(maxlen=5, index_from=2, oov_char=9),
    dict(start_char=None, index_from=0, num_words=20, skip_top=2, oov_char=None),
])
def test_imdb_matches_keras231_post_processing(home, monkeypatch, options):
    rng = np.random.RandomState(10)
    train, test = random_texts(rng, 12), random_texts(rng, 7)
    train_labels, test_labels = list(rng.randint(0, 2, 12)), list(rng.randint(0, 2, 7))
    write_imdb(home, monkeypatch, train, train_labels, test, test_labels)
    settings = dict(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3)
    settings.update(options)
    shuffle = np.random.RandomState(settings["seed"])
    train_order, test_order = np.arange(12), np.arange(7)
    shuffle.shuffle(train_order)
    shuffle.shuffle(test_order)
    xs = [train[i] for i in train_order] + [test[i] for i in test_order]
    labels = [train_labels[i] for i in train_order] + [test_labels[i] for i in test_order]
    # Keras 2.3.1 splits at the original training size, after the maxlen filter
    (ex_train, ey_train), (ex_test, ey_test) = keras231_text_reference(
        xs, labels, settings["num_words"], settings["skip_top"], settings["maxlen"], settings["start_char"],
        settings["oov_char"], settings["index_from"], split=lambda n: 12)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**options)
    assert as_lists(x_train) == ex_train and y_train.tolist() == ey_train
    assert as_lists(x_test) == ex_test and y_test.tolist() == ey_test


def test_imdb_maxlen_that_keeps_nothing_is_keras_error(home, monkeypatch):
    write_imdb(home, monkeypatch, [[1, 2, 3]], [0], [[4, 5]], [1])
    with pytest.raises(ValueError, match="After filtering for sequences shorter than maxlen=2, no sequence was "
                                         "kept. Increase maxlen."):
        imdb.load_data(maxlen=2)


def test_imdb_nb_words_is_the_old_name_of_num_words_and_other_keywords_are_errors(home, monkeypatch):
    rng = np.random.RandomState(11)
    write_imdb(home, monkeypatch, random_texts(rng, 5), [0, 1, 0, 1, 0], random_texts(rng, 3), [1, 1, 0])
    expected = imdb.load_data(num_words=10)
    with pytest.warns(UserWarning, match="The `nb_words` argument in `load_data` has been renamed `num_words`."):
        got = imdb.load_data(nb_words=10)
    assert as_lists(got[0][0]) == as_lists(expected[0][0]) and as_lists(got[1][0]) == as_lists(expected[1][0])
    with pytest.raises(TypeError, match=r"Unrecognized keyword arguments: \{'num_word': 10\}"):
        imdb.load_data(num_word=10)


def test_imdb_texts_of_one_length_come_back_as_a_2d_array_as_keras_numpy_made_them(home, monkeypatch):
    write_imdb(home, monkeypatch, [[1, 2], [3, 4]], [0, 1], [[5, 6]], [1])
    (x_train, _), (x_test, _) = imdb.load_data(seed=0)
    assert x_train.shape == (2, 3) and x_train.dtype == np.int64
    assert x_test.tolist() == [[1, 8, 2]]  # 6 + 3 = 9 is the largest index: oov


def test_imdb_npz_with_a_pickled_function_is_refused_and_nothing_runs(home, monkeypatch, tmp_path):
    marker = tmp_path / "was_run"
    evil = np.empty(1, dtype=object)
    evil[0] = RunsShell(marker)
    np.savez(home / "imdb.npz", x_train=evil, y_train=np.zeros(1), x_test=evil, y_test=np.zeros(1))
    trust(monkeypatch, imdb, home / "imdb.npz")
    with pytest.raises(pickle.UnpicklingError, match=r"imdb.npz \(x_train.npy\): refused to load 'posix.system'"):
        imdb.load_data()
    assert not marker.exists()


def test_imdb_npz_written_by_python2_numpy_loads(home, monkeypatch):
    """The object arrays of Keras's .npz files: the .npy header, then the array pickled by Python 2."""
    train = ragged([[1, 2, 3], [4, 5]])
    test = ragged([[6], [7, 8]])
    with zipfile.ZipFile(home / "imdb.npz", "w") as archive:
        for key, array in [("x_train", train), ("x_test", test)]:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
            payload = io.BytesIO()
            Py2Pickler(payload, protocol=2).dump(array)
            archive.writestr(key + ".npy", header.getvalue() + payload.getvalue())  # header: magic included
        for key, labels in [("y_train", np.array([0, 1])), ("y_test", np.array([1, 0]))]:
            member = io.BytesIO()
            np.save(member, labels)
            archive.writestr(key + ".npy", member.getvalue())
    with np.load(home / "imdb.npz", allow_pickle=True, encoding="latin1") as keras_way:  # our own test file
        assert [list(x) for x in keras_way["x_train"]] == [[1, 2, 3], [4, 5]]
    trust(monkeypatch, imdb, home / "imdb.npz")
    (x_train, y_train), (x_test, _) = imdb.load_data(seed=1, start_char=None, index_from=0, num_words=100)
    order = np.arange(2)
    np.random.RandomState(1).shuffle(order)
    assert as_lists(x_train) == [[[1, 2, 3], [4, 5]][i] for i in order]
    assert y_train.tolist() == [[0, 1][i] for i in order]
    assert sorted(as_lists(x_test)) == [[6], [7, 8]]


def write_reuters(home, monkeypatch, texts, labels):
    np.savez(home / "reuters.npz", x=ragged(texts), y=np.array(labels))
    trust(monkeypatch, reuters, home / "reuters.npz")


@pytest.mark.parametrize("options", [
    dict(),
    dict(num_words=10, skip_top=4, test_split=0.5),
    dict(maxlen=7, oov_char=None, seed=0, test_split=0.3),
    dict(start_char=None, index_from=0, num_words=25),
])
def test_reuters_matches_keras231_post_processing(home, monkeypatch, options):
    rng = np.random.RandomState(12)
    texts, labels = random_texts(rng, 15), list(rng.randint(0, 46, 15))
    write_reuters(home, monkeypatch, texts, labels)
    settings = dict(num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1, oov_char=2,
                    index_from=3)
    settings.update(options)
    order = np.arange(15)
    np.random.RandomState(settings["seed"]).shuffle(order)
    (ex_train, ey_train), (ex_test, ey_test) = keras231_text_reference(
        [texts[i] for i in order], [labels[i] for i in order], settings["num_words"], settings["skip_top"],
        settings["maxlen"], settings["start_char"], settings["oov_char"], settings["index_from"],
        split=lambda n: int(n * (1 - settings["test_split"])))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(**options)
    assert as_lists(x_train) == ex_train and y_train.tolist() == ey_train
    assert as_lists(x_test) == ex_test and y_test.tolist() == ey_test


def test_reuters_hand_worked_split(home, monkeypatch):
    write_reuters(home, monkeypatch, [[1], [2, 2], [3], [4, 1], [5]], [10, 11, 12, 13, 14])
    order = np.arange(5)
    np.random.RandomState(113).shuffle(order)
    (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=100)
    assert y_train.tolist() == [[10, 11, 12, 13, 14][i] for i in order[:4]]  # int(5 * 0.8) = 4
    assert y_test.tolist() == [[10, 11, 12, 13, 14][order[4]]]
    assert as_lists(x_test) == [[[1, 4], [1, 5, 5], [1, 6], [1, 7, 4], [1, 8]][order[4]]]


@pytest.mark.parametrize("module, fname", [(imdb, "imdb_word_index.json"), (reuters, "reuters_word_index.json")])
def test_get_word_index_reads_the_json_dictionary(home, monkeypatch, module, fname):
    (home / fname).write_text(json.dumps({"the": 1, "and": 2, "film": 19}))
    trust(monkeypatch, module, home / fname, "WORD_INDEX_HASH")
    assert module.get_word_index() == {"the": 1, "and": 2, "film": 19}


# ---------------------------------------------------------------------------------------------------------
# Public names: tests/fixtures/keras231_names (checked here until the shared harness walks that folder)
# ---------------------------------------------------------------------------------------------------------

OUR_NAME_FILES = sorted((p for p in NAMES_DIR.glob("keras.*.txt")
                         if p.stem.startswith("keras.datasets") or p.stem == "keras.utils.data_utils"),
                        key=lambda p: p.stem)


def listed_names(path):
    names = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            names.append(line.split("#")[0].strip())
    return names


def test_the_checklist_files_cover_every_keras_datasets_module():
    assert [p.stem for p in OUR_NAME_FILES] == sorted(
        ["keras.datasets"] + [f"keras.datasets.{m}" for m in ("boston_housing", "cifar", "cifar10", "cifar100",
                                                              "fashion_mnist", "imdb", "mnist", "reuters")]
        + ["keras.utils.data_utils"])
    for path in OUR_NAME_FILES:
        assert path.read_text().startswith("# "), path


@pytest.mark.parametrize("path", OUR_NAME_FILES, ids=lambda p: p.stem)
def test_every_listed_keras231_name_exists_at_its_module_path(path):
    module = importlib.import_module("kerasish" + path.stem[len("keras"):])
    missing = [name for name in listed_names(path) if not hasattr(module, name)]
    assert missing == []


def test_keras_datasets_package_lists_its_loaders_as_modules():
    assert datasets.mnist is mnist and datasets.cifar100 is cifar100 and datasets.boston_housing is boston_housing
