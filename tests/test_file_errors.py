"""Errors name the user's thing (issue 15): the image file and its class directory (not PIL's
``cannot identify image file <_io.BytesIO ...>``), the DataFrame column and the columns that exist (not pandas'
``KeyError: 'class'``), a missing directory as missing, and an exception raised while loading a Sequence item
(in the main thread, a loader thread or a DataLoader worker process) as itself, type and message first, with
the Sequence index (not torch's ``Caught OSError in DataLoader worker process 1.``).

keras-preprocessing 1.1.2 is the reference for the kind of error raised: where it raises ``FileNotFoundError``,
PIL's ``UnidentifiedImageError`` or ``KeyError``, kerasish raises the same kind (so ``except`` clauses keep
working), with a kerasish message in front and the library's error as the cause."""
import io
import os
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
from keras_preprocessing.image import ImageDataGenerator as ReferenceGenerator
from PIL import Image, UnidentifiedImageError

import kerasish.layers as L
from kerasish.models import Sequential
from kerasish.preprocessing.image import ImageDataGenerator, load_img
from kerasish.utils import Sequence


def png_bytes(seed: int, size=(8, 8)) -> bytes:
    pixels = np.random.RandomState(seed).randint(0, 256, size + (3,)).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "png")
    return buffer.getvalue()


@pytest.fixture
def image_tree(tmp_path):
    """root/cat/{a,b}.png and root/dog/{c,d}.png, all good."""
    root = tmp_path / "images"
    for class_name, names in (("cat", "ab"), ("dog", "cd")):
        (root / class_name).mkdir(parents=True)
        for seed, name in enumerate(names):
            (root / class_name / f"{name}.png").write_bytes(png_bytes(seed))
    return root


def reference_error(call):
    with pytest.raises(Exception) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call()
    return info.value


def small_model():
    model = Sequential([L.Flatten(input_shape=(8, 8, 3)), L.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    return model


# ------------------------------------------------------------------------------------------ image files
def test_a_non_image_png_names_the_file_and_its_class_directory(image_tree):
    bad = image_tree / "dog" / "d.png"
    bad.write_bytes(b"this is not an image")
    ours = ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(8, 8), batch_size=4, shuffle=False)
    with pytest.raises(UnidentifiedImageError) as info:
        ours[0]
    message = str(info.value)
    assert message.startswith(f"flow_from_directory: image file {str(bad)!r} (class 'dog', directory "
                              f"{str(image_tree / 'dog')!r}) cannot be read: PIL cannot identify it as an image")
    assert "BytesIO" not in message
    assert isinstance(info.value.__cause__, UnidentifiedImageError)  # PIL's own error, chained
    reference = ReferenceGenerator().flow_from_directory(str(image_tree), target_size=(8, 8), batch_size=4,
                                                         shuffle=False)
    assert isinstance(info.value, type(reference_error(lambda: reference[0])))  # the same kind as Keras's


def test_a_truncated_png_says_truncated_and_names_the_file(image_tree):
    bad = image_tree / "cat" / "b.png"
    whole = png_bytes(7, size=(32, 32))
    bad.write_bytes(whole[:len(whole) // 2])
    it = ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(8, 8), batch_size=2, shuffle=False)
    with pytest.raises(OSError, match="truncated") as info:
        next(it)
    assert str(bad) in str(info.value) and "class 'cat'" in str(info.value)
    assert isinstance(info.value.__cause__, OSError) and "truncated" in str(info.value.__cause__)
    assert bad.read_bytes() == whole[:len(whole) // 2]


def test_load_img_names_the_file_for_a_broken_image_and_a_missing_one(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(UnidentifiedImageError, match=r"^load_img: image file '.*empty\.png' cannot be read"):
        load_img(str(tmp_path / "empty.png"))
    with pytest.raises(FileNotFoundError, match=r"^load_img: image file '.*missing\.png' cannot be opened: No such"):
        load_img(str(tmp_path / "missing.png"))


def test_a_broken_file_in_a_dataframe_names_the_file_and_the_x_col_value(image_tree):
    (image_tree / "cat" / "a.png").write_bytes(b"GIF89a but not really")
    frame = pd.DataFrame({"path": ["cat/a.png", "dog/c.png"], "label": ["cat", "dog"]})
    it = ImageDataGenerator().flow_from_dataframe(frame, str(image_tree), x_col="path", y_col="label",
                                                  target_size=(8, 8), shuffle=False)
    with pytest.raises(OSError) as info:
        it[0]
    assert str(info.value).startswith(f"flow_from_dataframe: image file {str(image_tree / 'cat' / 'a.png')!r} "
                                      "(x_col='path' value 'cat/a.png') cannot be read")


# ------------------------------------------------------------------------------------------ directories
def test_a_missing_directory_is_reported_as_missing(tmp_path):
    missing = str(tmp_path / "no_such_dir")
    with pytest.raises(FileNotFoundError) as info:
        ImageDataGenerator().flow_from_directory(missing)
    assert str(info.value) == (f"flow_from_directory: directory={missing!r} does not exist. Expected a directory "
                               "with one subdirectory of images per class.")
    assert isinstance(info.value, type(reference_error(lambda: ReferenceGenerator().flow_from_directory(missing))))
    # with classes given, Keras finds 0 images without a word
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ImageDataGenerator().flow_from_directory(missing, classes=["cat"])
    assert not os.path.exists(missing)


def test_a_file_given_as_the_directory_is_not_a_directory(image_tree):
    with pytest.raises(NotADirectoryError, match="is a file, not a directory"):
        ImageDataGenerator().flow_from_directory(str(image_tree / "cat" / "a.png"))


def test_a_listed_class_without_its_subdirectory_warns_and_keeps_its_index(image_tree):
    classes = ["cat", "dgo", "dog"]
    with pytest.warns(UserWarning, match=r"classes \['dgo'\] have no subdirectory .*\['cat', 'dog'\]"):
        ours = ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(8, 8), classes=classes)
    reference = ReferenceGenerator().flow_from_directory(str(image_tree), target_size=(8, 8), classes=classes)
    assert ours.class_indices == reference.class_indices and ours.samples == reference.samples == 4
    np.testing.assert_array_equal(ours.classes, reference.classes)


def test_a_missing_dataframe_directory_is_reported_as_missing(tmp_path):
    frame = pd.DataFrame({"filename": ["a.png"], "class": ["cat"]})
    missing = str(tmp_path / "photos")
    with pytest.raises(FileNotFoundError, match=f"directory={missing!r} does not exist"):
        ImageDataGenerator().flow_from_dataframe(frame, missing)
    with pytest.raises(FileNotFoundError):  # not worth validating the names either
        ImageDataGenerator().flow_from_dataframe(frame, missing, validate_filenames=False)


@pytest.mark.parametrize("directory", [None, ""])
def test_without_a_directory_the_x_col_paths_are_used_as_they_are(image_tree, directory):
    frame = pd.DataFrame({"filename": [str(image_tree / "cat" / "a.png")], "class": ["cat"]})
    it = ImageDataGenerator().flow_from_dataframe(frame, directory, target_size=(8, 8))
    assert it.samples == 1 and it[0][0].shape == (1, 8, 8, 3)


def test_invalid_filenames_keep_keras_wording_and_show_examples(image_tree):
    frame = pd.DataFrame({"filename": ["cat/a.png", "cat/zz.png", "notes.txt"], "class": ["cat"] * 3})
    with pytest.warns(UserWarning) as record:
        it = ImageDataGenerator().flow_from_dataframe(frame, str(image_tree))
    message = str(record[0].message)
    assert message.startswith('Found 2 invalid image filename(s) in x_col="filename". These filename(s) will be '
                              "ignored.")
    assert str(image_tree / "cat" / "zz.png") in message and str(image_tree / "notes.txt") in message
    assert it.filenames == ["cat/a.png"]


# ------------------------------------------------------------------------------------------ data frames
@pytest.mark.parametrize("argument, kwargs, column", [
    ("y_col", {}, "class"),
    ("x_col", {"x_col": "fname", "y_col": "label"}, "fname"),
    ("weight_col", {"y_col": "label", "weight_col": "weights"}, "weights"),
    ("y_col", {"y_col": ["label", "score"], "class_mode": "multi_output"}, "score"),
])
def test_a_missing_column_names_it_and_the_columns_that_exist(image_tree, argument, kwargs, column):
    frame = pd.DataFrame({"filename": ["cat/a.png"], "label": ["cat"], "weight": [1.0]})
    before = frame.copy()
    with pytest.raises(KeyError) as info:  # pandas' (and so Keras's) kind of error
        ImageDataGenerator().flow_from_dataframe(frame, str(image_tree), **kwargs)
    assert str(info.value).startswith(f"flow_from_dataframe: {argument}={column!r} is not a column of the "
                                      "DataFrame; its columns are ['filename', 'label', 'weight'].")
    assert isinstance(info.value, type(reference_error(
        lambda: ReferenceGenerator().flow_from_dataframe(frame, str(image_tree), **kwargs))))
    pd.testing.assert_frame_equal(frame, before)


def test_a_close_column_name_is_suggested(image_tree):
    frame = pd.DataFrame({"filename": ["cat/a.png"], "label": ["cat"]})
    with pytest.raises(KeyError, match=r"x_col='fname' .* Did you mean 'filename'\?"):
        ImageDataGenerator().flow_from_dataframe(frame, str(image_tree), x_col="fname", y_col="label")
    with pytest.raises(KeyError, match=r"y_col='lable' .* Did you mean 'label'\?"):
        ImageDataGenerator().flow_from_dataframe(frame, str(image_tree), y_col="lable")


def test_no_y_col_is_needed_when_the_class_mode_has_no_labels(image_tree):
    frame = pd.DataFrame({"filename": ["cat/a.png", "dog/c.png"]})
    it = ImageDataGenerator().flow_from_dataframe(frame, str(image_tree), class_mode=None, target_size=(8, 8))
    assert it[0].shape == (2, 8, 8, 3)


def test_a_dict_instead_of_a_dataframe_is_a_clear_type_error(image_tree):
    columns = {"filename": np.array(["cat/a.png"]), "class": np.array(["cat"])}
    with pytest.raises(TypeError, match=r"dataframe must be a pandas DataFrame; received dict. Wrap it: "
                                        r"pandas.DataFrame\(dataframe\)."):
        ImageDataGenerator().flow_from_dataframe(columns, str(image_tree))
    with pytest.raises(TypeError, match="received list"):
        ImageDataGenerator().flow_from_dataframe([["cat/a.png", "cat"]], str(image_tree))


# ------------------------------------------------------------------------------------------ loaders
class FailingSequence(Sequence):
    """Batches of ones; item ``bad`` raises ``error``."""

    def __init__(self, error, bad=2):
        self.error, self.bad = error, bad

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == self.bad:
            raise self.error
        return np.ones((2, 3), "float32"), np.ones((2, 1), "float32")


class TwoArgumentError(Exception):
    """Pickles, but cannot be rebuilt from its args: the worker must not ship it as it is."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")


def dense_model():
    model = Sequential([L.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    return model


LOADERS = {"main thread": {"workers": 0}, "threads": {"workers": 2},
           "processes": {"workers": 2, "use_multiprocessing": True}}


@pytest.mark.parametrize("loader", LOADERS)
def test_a_sequence_error_is_itself_with_the_index(loader):
    with pytest.raises(OSError) as info:
        dense_model().fit_generator(FailingSequence(OSError("disk gone")), epochs=1, verbose=0, **LOADERS[loader])
    assert type(info.value) is OSError and str(info.value) == "disk gone"  # not "Caught OSError in DataLoader..."
    assert any("Sequence index 2" in note for note in info.value.__notes__)
    shown = "".join(traceback.format_exception(info.value))
    assert shown.rstrip().splitlines()[-2] == "OSError: disk gone"  # type and message first, the note after
    if loader == "processes":
        assert "Caught" not in shown and "DataLoader worker process" in info.value.__notes__[-1]
        assert "raise self.error" in str(info.value.__cause__)  # the worker's traceback


def test_an_error_that_cannot_travel_back_from_a_worker_keeps_its_type_name_and_message():
    error = TwoArgumentError("a.npy", "bad header")
    with pytest.raises(RuntimeError, match=r"test_file_errors.TwoArgumentError: a.npy: bad header"):
        dense_model().fit_generator(FailingSequence(error), epochs=1, verbose=0, workers=1, use_multiprocessing=True)


def test_a_generator_error_in_its_worker_process_is_itself():
    def batches():
        for _ in range(2):
            yield np.ones((2, 3), "float32"), np.ones((2, 1), "float32")
        raise ValueError("label file ended early")

    with pytest.raises(ValueError) as info:
        dense_model().fit_generator(batches(), steps_per_epoch=5, epochs=1, verbose=0, use_multiprocessing=True)
    assert str(info.value) == "label file ended early" and "generator" in info.value.__notes__[-1]


@pytest.mark.parametrize("loader", LOADERS)
def test_a_broken_image_loaded_by_any_loader_names_the_file_and_the_index(image_tree, loader):
    bad = image_tree / "dog" / "c.png"
    bad.write_bytes(b"not an image")
    it = ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(8, 8), batch_size=1, shuffle=False)
    model = small_model()
    with pytest.raises(UnidentifiedImageError) as info:
        model.fit_generator(it, epochs=1, verbose=0, **LOADERS[loader])
    assert str(info.value).startswith(f"flow_from_directory: image file {str(bad)!r} (class 'dog'")
    assert any("Sequence index 2" in note for note in info.value.__notes__)
