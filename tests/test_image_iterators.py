"""flow / flow_from_directory / flow_from_dataframe iterators: Keras's Sequence behaviour, the batch_tensors
contract, and the rows, labels and pixels keras-preprocessing 1.1.2 (KP112) gives."""
import os
import pickle
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import keras_preprocessing.image as kp

from kerasish.preprocessing.image import DirectoryIterator, ImageDataGenerator, Iterator, NumpyArrayIterator
from kerasish.utils import Sequence

from helpers import InputRecorder, InterruptAtBatch, assert_loaders_stopped

AUGMENT = dict(rotation_range=30, zoom_range=0.2, fill_mode="nearest", shear_range=0.2, horizontal_flip=True,
               width_shift_range=0.1, height_shift_range=0.1)

# keras-preprocessing 1.1.2 imports affine_transform from a namespace SciPy deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Please import `affine_transform`:DeprecationWarning")


def data(n=20, shape=(8, 7, 3), seed=0):
    rng = np.random.RandomState(seed)
    return rng.randint(0, 256, (n,) + shape).astype(np.uint8), np.arange(n) % 4, rng.rand(n)


def same_state(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


# ---------------------------------------------------------------------------- flow: batches
def test_flow_batches_have_keras_shapes_and_pass_labels_and_weights_through():
    x, y, w = data()
    it = ImageDataGenerator().flow(x, y, batch_size=6, shuffle=False, sample_weight=w)
    assert isinstance(it, NumpyArrayIterator) and isinstance(it, Sequence)
    assert len(it) == 4 and it.n == 20 and it.batch_size == 6
    bx, by, bw = it[3]
    assert bx.shape == (2, 8, 7, 3) and bx.dtype == np.float32
    np.testing.assert_array_equal(bx, x[18:].astype(np.float32))
    np.testing.assert_array_equal(by, y[18:])
    np.testing.assert_array_equal(bw, w[18:])


def test_flow_without_labels_returns_x_alone_and_misc_inputs_ride_along():
    x, y, _ = data()
    batch = ImageDataGenerator().flow(x, batch_size=5, shuffle=False)[0]
    assert isinstance(batch, np.ndarray) and batch.shape == (5, 8, 7, 3)
    misc = np.arange(20) * 10
    (images, extra), labels = ImageDataGenerator().flow((x, misc), y, batch_size=5, shuffle=False)[1]
    np.testing.assert_array_equal(extra, misc[5:10])
    np.testing.assert_array_equal(labels, y[5:10])


def test_shuffled_labels_stay_with_their_images():
    x, y, _ = data()
    x[:, 0, 0, 0] = np.arange(20)  # tag each image
    it = ImageDataGenerator().flow(x, y, batch_size=7, seed=3)
    for bx, by in (it[i] for i in range(len(it))):
        np.testing.assert_array_equal(y[bx[:, 0, 0, 0].astype(int)], by)


def test_flow_matches_keras_preprocessing_applied_with_the_same_parameters():
    x, y, _ = data(n=10, shape=(9, 11, 3))

    def preprocess(img):
        return np.sqrt(img)  # nonlinear: only right if called after augmentation and before rescale

    config = dict(AUGMENT, channel_shift_range=20.0, rescale=1 / 16.0, samplewise_center=True,
                  preprocessing_function=preprocess)
    gen = ImageDataGenerator(**config)
    it = gen.flow(x, y, batch_size=4, shuffle=False, seed=9)
    bx, _ = it[1]
    params, _ = it._transform_params(0, 1, 4)  # epoch 0, batch 1
    ref = kp.ImageDataGenerator(**config)
    for i, image in enumerate(x[4:8].astype(np.float32)):
        one = {k: None if v is None else v[i].item() for k, v in params.items()}
        expected = ref.standardize(ref.apply_transform(image, one))
        np.testing.assert_allclose(bx[i], expected, atol=1e-3)


# ---------------------------------------------------------------------------- flow: randomness
def test_same_seed_same_batches_and_numpy_global_state_untouched():
    x, y, _ = data()
    state = np.random.get_state()
    a = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=6, seed=5)
    b = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=6, seed=5)
    for i in range(len(a)):
        np.testing.assert_array_equal(a[i][0], b[i][0])
    first = next(a)
    assert same_state(state, np.random.get_state())
    np.testing.assert_array_equal(first[0], b[0][0])  # next() walks epoch 0 as indexing does
    c = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=6, seed=6)
    assert not np.array_equal(c[0][0], b[0][0])


def test_batches_are_a_pure_function_of_seed_epoch_and_index():
    x, y, _ = data()
    it = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=6, seed=5)
    epoch0 = it[2][0]
    it.on_epoch_end()
    epoch1 = it[2][0]
    assert not np.array_equal(epoch0, epoch1)
    other = pickle.loads(pickle.dumps(it))  # a copy in a worker process
    other.set_epoch(0)
    np.testing.assert_array_equal(other[2][0], epoch0)
    it.set_epoch(1)
    np.testing.assert_array_equal(it[2][0], epoch1)


def test_without_seed_torch_manual_seed_makes_flows_reproducible():
    x, y, _ = data()
    torch.manual_seed(1)
    a = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=6)[0][0]
    torch.manual_seed(1)
    b = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=6)[0][0]
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- Sequence behaviour
def test_len_indexing_and_bad_indices():
    x, y, _ = data(n=13)
    it = ImageDataGenerator().flow(x, y, batch_size=5, shuffle=False)
    assert len(it) == 3
    np.testing.assert_array_equal(it[-1][1], y[10:])
    with pytest.raises(ValueError, match="Asked to retrieve element 3, but the Sequence has length 3"):
        it[3]


def test_next_visits_every_row_once_per_pass_and_reshuffles():
    x, y, _ = data(n=13)
    x[:, 0, 0, 0] = np.arange(13)
    it = ImageDataGenerator().flow(x, y, batch_size=5, seed=2)
    passes = [[next(it)[0][:, 0, 0, 0] for _ in range(len(it))] for _ in range(2)]
    orders = [np.concatenate(p).astype(int) for p in passes]
    assert [len(b) for b in passes[0]] == [5, 5, 3]
    assert sorted(orders[0]) == list(range(13)) and sorted(orders[1]) == list(range(13))
    assert not np.array_equal(orders[0], orders[1])
    assert it.total_batches_seen == 6


def test_on_epoch_end_reshuffles_and_reset_restarts_the_stream():
    x, y, _ = data()
    it = ImageDataGenerator().flow(x, y, batch_size=4, seed=0)
    it[0]
    before = it.index_array.copy()
    it.on_epoch_end()
    assert sorted(it.index_array) == list(range(20)) and not np.array_equal(before, it.index_array)
    next(it)
    assert it.batch_index == 1
    it.reset()
    assert it.batch_index == 0
    unshuffled = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    unshuffled.on_epoch_end()
    np.testing.assert_array_equal(unshuffled.index_array, np.arange(20))


def test_next_is_thread_safe():
    x, y, _ = data(n=40)
    it = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=4, seed=1)
    labels = []

    def pull():
        for _ in range(5):
            labels.append(next(it)[1])

    threads = [threading.Thread(target=pull) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(np.concatenate(labels).tolist()) == sorted(y.tolist())  # one full pass, no row twice


# ---------------------------------------------------------------------------- the batch_tensors contract
def test_batch_tensors_are_torch_tensors_on_the_device_and_equal_getitem():
    x, y, w = data()
    it = ImageDataGenerator(**AUGMENT, rescale=1 / 255.0).flow(x, y, batch_size=6, sample_weight=w, seed=4)
    tensors = it.batch_tensors(1, torch.device("cpu"))
    assert len(tensors) == 3 and all(isinstance(t, torch.Tensor) for t in tensors)
    assert tensors[0].dtype == torch.float32 and tensors[0].shape == (6, 8, 7, 3)
    for tensor, array in zip(tensors, it[1]):
        np.testing.assert_array_equal(tensor.numpy(), array)
    float64 = ImageDataGenerator(dtype="float64").flow(x, y, batch_size=6)
    assert float64.batch_tensors(0, "cpu")[0].dtype == torch.float64


def test_channels_first_flow_keeps_the_layout():
    x, y, _ = data()
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    bx, _ = ImageDataGenerator(**AUGMENT, data_format="channels_first").flow(x, y, batch_size=4, seed=1)[0]
    assert bx.shape == (4, 3, 8, 7)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("arguments", [AUGMENT, dict(horizontal_flip=True), {}], ids=["resampled", "flips", "none"])
def test_augmented_batches_are_contiguous_in_their_keras_layout(data_format, arguments):
    # A permuted view of grid_sample's NCHW output would reach the model's convolutions as contiguous NCHW
    # instead of channels_last memory, which made fit_generator 1.5x slower than fit on CPU.
    x, y, _ = data()
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    it = ImageDataGenerator(**arguments, data_format=data_format).flow(x, y, batch_size=4, seed=1)
    bx = it.batch_tensors(0, torch.device("cpu"))[0]
    assert bx.is_contiguous()
    expected_shape = (4, 8, 7, 3) if data_format == "channels_last" else (4, 3, 8, 7)
    assert bx.shape == expected_shape


# ---------------------------------------------------------------------------- subsets
@pytest.mark.parametrize("subset", ["training", "validation"])
def test_subset_rows_are_keras_rows(subset):
    x, y, w = data()
    ours = ImageDataGenerator(validation_split=0.3).flow(x, y, batch_size=50, shuffle=False, subset=subset)
    ref = kp.ImageDataGenerator(validation_split=0.3).flow(x, y, batch_size=50, shuffle=False, subset=subset)
    np.testing.assert_array_equal(ours[0][0], ref[0][0])
    np.testing.assert_array_equal(ours[0][1], ref[0][1])
    expected_rows = slice(0, 6) if subset == "validation" else slice(6, None)  # first 30% is validation
    np.testing.assert_array_equal(ours[0][1], y[expected_rows])
    weighted = ImageDataGenerator(validation_split=0.3).flow(x, y, sample_weight=w, batch_size=50, shuffle=False,
                                                             subset=subset)
    np.testing.assert_array_equal(weighted[0][2], w[expected_rows])


def test_subset_with_different_classes_is_an_error():
    x, _, _ = data()
    sorted_labels = np.repeat([0, 1], 10)
    with pytest.raises(ValueError, match="have different number of classes after the split"):
        ImageDataGenerator(validation_split=0.3).flow(x, sorted_labels, subset="training")
    with pytest.raises(ValueError, match="Invalid subset name"):
        ImageDataGenerator(validation_split=0.3).flow(x, subset="testing")


def test_flow_argument_errors():
    x, y, _ = data()
    with pytest.raises(ValueError, match="should have the same length"):
        ImageDataGenerator().flow(x, y[:-1])
    with pytest.raises(ValueError, match="should have rank 4"):
        ImageDataGenerator().flow(x[:, :, :, 0], y)
    with pytest.raises(ValueError, match="batch_size: expected a positive integer"):
        ImageDataGenerator().flow(x, y, batch_size=0)
    with pytest.warns(UserWarning, match="expected either 1, 3, or 4 channels"):
        ImageDataGenerator().flow(np.zeros((4, 5, 5, 2)))


def test_save_to_dir_writes_one_file_per_image(tmp_path):
    x, y, _ = data(n=5)
    it = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=5, seed=1, save_to_dir=str(tmp_path),
                                            save_prefix="aug", save_format="jpeg")
    it[0]
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 5 and all(f.startswith("aug_") and f.endswith(".jpeg") for f in files)
    assert {int(f.split("_")[1]) for f in files} == set(range(5))
    assert Image.open(tmp_path / files[0]).size == (7, 8)


# ---------------------------------------------------------------------------- files on disk
@pytest.fixture()
def image_tree(tmp_path):
    """dogs/ (3 PNG + 1 JPEG in a nested folder), cats/ (2 JPEG, 1 PNG), a text file and an empty folder."""
    rng = np.random.RandomState(0)

    def write(relative, size, fmt):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.randint(0, 256, size + (3,)).astype(np.uint8)).save(path, format=fmt)

    for i in range(3):
        write(f"dogs/dog{i}.png", (10 + i, 12), "PNG")
    write("dogs/more/dog9.jpg", (9, 9), "JPEG")
    write("cats/cat_b.jpeg", (12, 10), "JPEG")
    write("cats/cat_a.JPG", (8, 8), "JPEG")
    write("cats/cat_c.png", (11, 11), "PNG")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_flow_from_directory_lists_files_as_keras(image_tree, capsys):
    ours = ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(6, 5), shuffle=False)
    ref = kp.ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(6, 5), shuffle=False)
    assert isinstance(ours, DirectoryIterator)
    assert ours.class_indices == ref.class_indices == {"cats": 0, "dogs": 1, "empty": 2}
    assert ours.filenames == ref.filenames
    np.testing.assert_array_equal(ours.classes, ref.classes)
    assert ours.samples == ref.samples == 7 and ours.num_classes == 3
    assert ours.filepaths == ref.filepaths
    assert "Found 7 images belonging to 3 classes." in capsys.readouterr().out


@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse", "input", None])
def test_flow_from_directory_batches_equal_keras(image_tree, class_mode):
    kwargs = dict(target_size=(6, 5), classes=["dogs", "cats"], class_mode=class_mode, batch_size=4, shuffle=False)
    ours = ImageDataGenerator(rescale=1 / 255.0).flow_from_directory(str(image_tree), **kwargs)
    ref = kp.ImageDataGenerator(rescale=1 / 255.0).flow_from_directory(str(image_tree), **kwargs)
    for i in range(len(ours)):
        a, b = ours[i], ref[i]
        if class_mode is None:
            np.testing.assert_allclose(a, b, rtol=1e-6)
        else:
            np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
            np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
            assert a[1].dtype == b[1].dtype


@pytest.mark.parametrize("color_mode, channels", [("grayscale", 1), ("rgb", 3), ("rgba", 4)])
def test_flow_from_directory_color_modes_and_resize(image_tree, color_mode, channels):
    kwargs = dict(target_size=(7, 9), color_mode=color_mode, batch_size=7, shuffle=False, interpolation="bilinear")
    bx, _ = ImageDataGenerator().flow_from_directory(str(image_tree), **kwargs)[0]
    rx, _ = kp.ImageDataGenerator().flow_from_directory(str(image_tree), **kwargs)[0]
    assert bx.shape == (7, 7, 9, channels)
    np.testing.assert_array_equal(bx, rx)
    first = ImageDataGenerator(data_format="channels_first").flow_from_directory(str(image_tree), **kwargs)[0][0]
    np.testing.assert_array_equal(first, rx.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("subset", ["training", "validation"])
def test_flow_from_directory_subsets_split_each_class_as_keras(image_tree, subset):
    kwargs = dict(target_size=(4, 4), subset=subset, shuffle=False)
    ours = ImageDataGenerator(validation_split=0.5).flow_from_directory(str(image_tree), **kwargs)
    ref = kp.ImageDataGenerator(validation_split=0.5).flow_from_directory(str(image_tree), **kwargs)
    assert ours.filenames == ref.filenames
    np.testing.assert_array_equal(ours.classes, ref.classes)


def test_flow_from_directory_augments_and_saves(image_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("saved")
    it = ImageDataGenerator(**AUGMENT).flow_from_directory(str(image_tree), target_size=(6, 5), batch_size=3,
                                                          seed=2, save_to_dir=str(out), class_mode="sparse")
    bx, by = it[0]
    assert bx.shape == (3, 6, 5, 3) and by.dtype == np.float32
    assert len(os.listdir(out)) == 3
    tensors = it.batch_tensors(0, torch.device("cpu"))
    np.testing.assert_array_equal(tensors[0].numpy(), bx)


def directory_fit(image_tree, **loading):
    """fit_generator over flow_from_directory (shuffled, augmented) for 2 epochs; the images each step saw."""
    from kerasish.layers import Dense, Flatten, TorchModule
    from kerasish.models import Sequential
    recorder = InputRecorder()
    model = Sequential([TorchModule(recorder, input_shape=(6, 5, 3)), Flatten(), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    it = ImageDataGenerator(**AUGMENT).flow_from_directory(str(image_tree), target_size=(6, 5), batch_size=2,
                                                          seed=3)
    model.fit_generator(it, epochs=2, verbose=0, shuffle=False, **loading)  # the iterator shuffles its rows
    return recorder.inputs


@pytest.mark.parametrize("loading", [dict(workers=2), dict(workers=2, use_multiprocessing=True)],
                         ids=["threads", "processes"])
def test_directory_batches_decoded_by_loaders_equal_main_thread_batches(image_tree, loading):
    expected = directory_fit(image_tree, workers=0)
    got = directory_fit(image_tree, **loading)
    assert len(got) == len(expected) == 8  # 7 images in batches of 2, two epochs
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


def test_directory_images_are_decoded_in_loader_threads_when_workers_are_asked_for(image_tree, monkeypatch):
    from kerasish.preprocessing.image import iterators
    decoding_threads = []

    def recording_read_image(*args, **kwargs):
        decoding_threads.append(threading.current_thread())
        return read_image(*args, **kwargs)

    read_image = iterators.read_image  # load_img's work, with the file described for errors
    monkeypatch.setattr(iterators, "read_image", recording_read_image)
    directory_fit(image_tree, workers=2)
    # 7 images a pass, 2 passes, in the loader threads; plus batch 0, read once in the caller to check the data
    assert len(decoding_threads) == 16 and decoding_threads.count(threading.main_thread()) == 2
    decoding_threads.clear()
    directory_fit(image_tree, workers=0)
    assert set(decoding_threads) == {threading.main_thread()}


def test_worker_processes_get_a_picklable_decoding_copy_of_a_file_iterator(image_tree):
    # Spawned workers (macOS, Windows, Python >= 3.14) pickle what they run; a lambda preprocessing_function
    # cannot be pickled, and decoding does not need the ImageDataGenerator at all.
    from kerasish.training.data_adapters.sequences import _StagedBatches
    it = ImageDataGenerator(preprocessing_function=lambda image: image * 2, rotation_range=10).flow_from_directory(
        str(image_tree), target_size=(6, 5), batch_size=3, seed=1)
    with pytest.raises(Exception):
        pickle.dumps(it)
    copy = pickle.loads(pickle.dumps(_StagedBatches(it)))
    assert copy.sequence.image_data_generator is None and it.image_data_generator is not None
    for index in range(len(it)):
        rows, epoch, i, decoded = copy[index]
        want = it.staged_batch(index, "cpu")
        np.testing.assert_array_equal(rows, want[0])
        assert (epoch, i) == want[1:3]
        torch.testing.assert_close(decoded, want[3])


@pytest.mark.parametrize("loading", [dict(workers=2), dict(workers=2, use_multiprocessing=True)],
                         ids=["threads", "processes"])
def test_interrupting_a_directory_fit_leaves_no_loader_threads_or_processes(image_tree, loading):
    threads_before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        directory_fit(image_tree, callbacks=[InterruptAtBatch(1)], **loading)
    assert_loaders_stopped(threads_before)


@pytest.mark.parametrize("loading", [dict(workers=0), dict(workers=2), dict(workers=2, use_multiprocessing=True)],
                         ids=["main", "threads", "processes"])
def test_an_unreadable_image_file_surfaces_in_the_caller(image_tree, loading):
    (image_tree / "cats" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(OSError, match=r"broken\.png' \(class 'cats'.* cannot be read: PIL cannot identify it"):
        directory_fit(image_tree, **loading)  # named, as itself (tests/test_file_errors.py)


def test_flow_from_directory_rejects_unknown_modes(image_tree):
    with pytest.raises(ValueError, match="Invalid class_mode"):
        ImageDataGenerator().flow_from_directory(str(image_tree), class_mode="raw")
    with pytest.raises(ValueError, match="Invalid color mode"):
        ImageDataGenerator().flow_from_directory(str(image_tree), color_mode="cmyk")


# ---------------------------------------------------------------------------- data frames
def test_flow_from_dataframe_needs_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="flow_from_dataframe needs pandas"):
        ImageDataGenerator().flow_from_dataframe(object())


def test_flow_from_dataframe_matches_keras(image_tree):
    df = pd.DataFrame({"filename": ["dogs/dog0.png", "cats/cat_b.jpeg", "missing.png", "dogs/dog1.png",
                                    "cats/cat_c.png"],
                       "class": ["dog", "cat", "cat", "dog", "cat"], "weight": [1.0, 2.0, 3.0, 4.0, 5.0]})
    kwargs = dict(directory=str(image_tree), target_size=(5, 4), batch_size=4, shuffle=False, weight_col="weight")
    with pytest.warns(UserWarning, match="Found 1 invalid image filename"):
        ours = ImageDataGenerator().flow_from_dataframe(df, **kwargs)
    assert ours.filenames == ["dogs/dog0.png", "cats/cat_b.jpeg", "dogs/dog1.png", "cats/cat_c.png"]
    assert ours.class_indices == {"cat": 0, "dog": 1} and ours.classes == [1, 0, 1, 0]
    bx, by, bw = ours[0]
    np.testing.assert_array_equal(by, [[0, 1], [1, 0], [0, 1], [1, 0]])
    np.testing.assert_array_equal(bw, [1.0, 2.0, 4.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = kp.ImageDataGenerator().flow_from_dataframe(df, **kwargs)
    assert ref.filenames == ours.filenames and ref.class_indices == ours.class_indices
    assert list(ref.classes) == ours.classes
    ref_x, ref_y, ref_w = ref[0]
    np.testing.assert_array_equal(bx, ref_x)
    np.testing.assert_array_equal(by, ref_y)
    np.testing.assert_array_equal(bw, ref_w)
    with pytest.warns(UserWarning, match="invalid image filename"):
        raw = ImageDataGenerator().flow_from_dataframe(df, class_mode="raw", y_col="weight", **kwargs)
    np.testing.assert_array_equal(raw[0][1], [1.0, 2.0, 4.0, 5.0])


def small_frame():
    return pd.DataFrame({"filename": ["dogs/dog0.png", "cats/cat_b.jpeg"], "class": ["dog", "cat"]})


def test_flow_from_dataframe_warns_naming_an_unknown_keyword(image_tree):
    # keras-preprocessing 1.1.2 drops unknown keywords silently; a typo must not pass unnoticed
    with pytest.warns(UserWarning, match=r"unexpected keyword argument\(s\) 'class_modes' \(did you mean "
                                         r"'class_mode'\?\), 'follow_links' are ignored") as record:
        it = ImageDataGenerator().flow_from_dataframe(small_frame(), directory=str(image_tree), target_size=(5, 4),
                                                      class_modes="binary", follow_links=True)
    assert len(record) == 1
    assert it.class_mode == "categorical" and it.samples == 2


@pytest.mark.parametrize("keyword", ["has_ext", "sort", "drop_duplicates"])
def test_flow_from_dataframe_accepts_the_deprecated_keywords_with_keras_preprocessing_warnings(image_tree, keyword):
    kwargs = dict(directory=str(image_tree), target_size=(5, 4), **{keyword: True})
    with pytest.warns(DeprecationWarning) as theirs:
        kp.ImageDataGenerator().flow_from_dataframe(small_frame(), **kwargs)
    with pytest.warns(DeprecationWarning) as ours:
        it = ImageDataGenerator().flow_from_dataframe(small_frame(), **kwargs)
    ours_text = [" ".join(str(w.message).split()) for w in ours]
    assert [w.category for w in ours] == [DeprecationWarning]  # and no "unexpected keyword" warning
    assert ours_text[0].startswith(f"{keyword} is deprecated")
    assert [str(w.message).split(",")[0] for w in theirs if w.category is DeprecationWarning] == \
        [ours_text[0].split(",")[0]]
    assert it.samples == 2


def test_a_keras_style_iterator_subclass_works_through_the_same_api():
    class Squares(Iterator):
        def __init__(self):
            super().__init__(n=10, batch_size=4, shuffle=False, seed=None)

        def _get_batches_of_transformed_samples(self, index_array):
            return index_array.astype(np.float32)[:, None] ** 2, index_array

    it = Squares()
    x, y = it[2]
    np.testing.assert_array_equal(x[:, 0], [64.0, 81.0])
    np.testing.assert_array_equal(y, [8, 9])
    np.testing.assert_array_equal(next(it)[1], [0, 1, 2, 3])
    tensors = it.batch_tensors(0, "cpu")
    assert isinstance(tensors[0], torch.Tensor) and tensors[0].shape == (4, 1)


def test_flow_from_dataframe_sparse_multi_output_and_subsets(image_tree):
    df = pd.DataFrame({"filename": ["dogs/dog0.png", "cats/cat_b.jpeg", "dogs/dog1.png", "cats/cat_c.png"],
                       "class": ["dog", "cat", "dog", "cat"], "a": [1.0, 2.0, 3.0, 4.0], "b": [5, 6, 7, 8]})
    kwargs = dict(directory=str(image_tree), target_size=(5, 4), batch_size=4, shuffle=False)
    sparse = ImageDataGenerator().flow_from_dataframe(df, class_mode="sparse", **kwargs)
    np.testing.assert_array_equal(sparse[0][1], [1.0, 0.0, 1.0, 0.0])
    multi = ImageDataGenerator().flow_from_dataframe(df, class_mode="multi_output", y_col=["a", "b"], **kwargs)
    ya, yb = multi[0][1]
    np.testing.assert_array_equal(ya, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(yb, [5, 6, 7, 8])
    validation = ImageDataGenerator(validation_split=0.25).flow_from_dataframe(df, subset="validation", **kwargs)
    assert validation.filenames == ["dogs/dog0.png"]  # the first quarter of the rows
    with pytest.raises(TypeError, match="y_col must be a list"):
        ImageDataGenerator().flow_from_dataframe(df, class_mode="multi_output", **kwargs)


def test_parameter_blocks_of_past_epochs_are_dropped():
    x, y, _ = data(n=40)
    it = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=2, seed=1)
    it[0]
    it[19]  # batch 19 is in the second block of 16 batches
    assert sorted(it._param_blocks) == [(0, 0), (0, 1)]
    it.on_epoch_end()
    it[3]
    assert list(it._param_blocks) == [(1, 0)]


@pytest.mark.parametrize("fill_mode, order", [("constant", 0), ("wrap", 1), ("reflect", 1)])
def test_channels_first_flow_matches_keras_preprocessing_with_the_same_parameters(fill_mode, order):
    x, y, _ = data(n=6, shape=(3, 9, 11))
    config = dict(AUGMENT, fill_mode=fill_mode, cval=50.0, interpolation_order=order, vertical_flip=True,
                  data_format="channels_first")
    it = ImageDataGenerator(**config).flow(x, y, batch_size=6, shuffle=False, seed=2)
    bx, _ = it[0]
    params, _ = it._transform_params(0, 0, 6)
    ref = kp.ImageDataGenerator(**config)
    for i, image in enumerate(x.astype(np.float32)):
        expected = ref.apply_transform(image, {k: None if v is None else v[i].item() for k, v in params.items()})
        np.testing.assert_allclose(bx[i], expected, atol=2e-3)
