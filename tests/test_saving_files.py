"""Saving behaves like writing the file the user named (issue 15): every writer goes through
``kerasish.utils.io_utils.atomic_write``, which is atomic (a crash never leaves half a file) and otherwise acts as
``open(path, 'w')``: a new file's mode follows the umask, a replaced file keeps its mode, a symlink is written
through to its target and stays a link, a write-protected file is refused (and left unchanged), a directory is
rejected as such, and errors name the path the user gave, never the hidden temporary name. ``load_model`` on a
directory says it is one (and that TensorFlow SavedModel directories cannot be loaded)."""
import errno
import os
import stat

import numpy as np
import pytest

import kerasish.layers as L
from kerasish.callbacks import CSVLogger, ModelCheckpoint
from kerasish.models import Sequential, load_model
from kerasish.preprocessing.image import save_img
from kerasish.utils import io_utils
from kerasish.utils.io_utils import atomic_write


def small_model():
    model = Sequential([L.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    return model


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Sets the process umask for one test and restores the previous one."""
    previous = os.umask(0o022)
    try:
        yield lambda value: os.umask(value)
    finally:
        os.umask(previous)


def _save_model(path):
    small_model().save(str(path))


def _save_weights(path):
    small_model().save_weights(str(path))


def _csv_logger(path):
    logger = CSVLogger(str(path))
    logger.set_model(small_model())
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 0.5})


def _model_checkpoint(path):
    checkpoint = ModelCheckpoint(str(path))
    checkpoint.set_model(small_model())
    checkpoint.on_epoch_end(0, {"loss": 0.5})


def _atomic_write(path):
    with atomic_write(path, "w") as f:
        f.write("new text")


def _save_img(path):
    save_img(path, np.full((4, 5, 3), 200, "uint8"), file_format="png")


WRITERS = {"save .h5": ("m.h5", _save_model), "save .kerasish": ("m.kerasish", _save_model),
           "save .keras": ("m.keras", _save_model), "save_weights": ("w.h5", _save_weights),
           "CSVLogger": ("log.csv", _csv_logger), "ModelCheckpoint": ("c.h5", _model_checkpoint),
           "atomic_write": ("notes.txt", _atomic_write), "save_img": ("image.png", _save_img)}


# ------------------------------------------------------------------------------------------------ modes
@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_open_gives_under_the_umask(tmp_path, umask, writer, mask, expected):
    name, write = WRITERS[writer]
    umask(mask)
    with open(tmp_path / "reference", "w"):
        pass
    write(tmp_path / name)
    assert mode_of(tmp_path / name) == mode_of(tmp_path / "reference") == expected
    assert sorted(os.listdir(tmp_path)) == sorted([name, "reference"])  # no temporary file left


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("existing_mode", [0o640, 0o604, 0o755])
def test_a_replaced_file_keeps_its_mode(tmp_path, umask, writer, existing_mode):
    name, write = WRITERS[writer]
    path = tmp_path / name
    path.write_bytes(b"old")
    os.chmod(path, existing_mode)
    write(path)
    assert path.read_bytes() != b"old"
    assert mode_of(path) == existing_mode


# ------------------------------------------------------------------------------------------------ symlinks
@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_is_written_through_to_its_target_and_stays_a_link(tmp_path, writer):
    name, write = WRITERS[writer]
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / name
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / name
    os.symlink(os.path.join("real", name), link)
    write(link)
    assert os.path.islink(link) and os.readlink(link) == os.path.join("real", name)
    assert target.read_bytes() != b"old" and link.read_bytes() == target.read_bytes()
    assert mode_of(target) == 0o640
    assert sorted(os.listdir(tmp_path / "real")) == [name]


def test_a_model_saved_through_a_symlink_loads_from_the_link_and_the_target(tmp_path):
    model = small_model()
    os.symlink("target.h5", tmp_path / "link.h5")  # dangling: open() would create the target
    model.save(str(tmp_path / "link.h5"))
    assert os.path.islink(tmp_path / "link.h5") and os.path.isfile(tmp_path / "target.h5")
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(load_model(str(tmp_path / "target.h5")).predict(x), model.predict(x))


# ------------------------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize("writer", WRITERS)
def test_a_write_protected_file_is_refused_naming_it_and_left_unchanged(tmp_path, writer):
    # As root open() could write it, but kerasish refuses by the mode bits, as editors do: a rename would
    # silently replace a file someone protected (the behaviour the issue saw: replaced, mode become 0600).
    name, write = WRITERS[writer]
    path = tmp_path / name
    path.write_bytes(b"protected")
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError) as info:
        write(path)
    assert repr(str(path)) in str(info.value) and "write-protected" in str(info.value)
    assert path.read_bytes() == b"protected" and mode_of(path) == 0o444
    assert os.listdir(tmp_path) == [name]


def test_a_write_protected_symlink_target_is_refused_naming_the_link(tmp_path):
    (tmp_path / "target.h5").write_bytes(b"protected")
    os.chmod(tmp_path / "target.h5", 0o444)
    os.symlink("target.h5", tmp_path / "link.h5")
    with pytest.raises(PermissionError, match="link.h5"):
        small_model().save(str(tmp_path / "link.h5"))
    assert (tmp_path / "target.h5").read_bytes() == b"protected" and os.path.islink(tmp_path / "link.h5")


@pytest.mark.parametrize("writer", WRITERS)
def test_a_directory_path_is_rejected_as_a_directory(tmp_path, writer):
    _, write = WRITERS[writer]
    directory = tmp_path / "out"
    directory.mkdir()
    (directory / "kept").write_bytes(b"kept")
    with pytest.raises(IsADirectoryError) as info:
        write(directory)
    assert repr(str(directory)) in str(info.value) and "is a directory" in str(info.value)
    assert os.listdir(directory) == ["kept"] and os.listdir(tmp_path) == ["out"]


def test_a_path_ending_in_a_separator_is_a_directory_even_when_missing(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        small_model().save(str(tmp_path / "models") + os.sep)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------------------------ errors
def test_a_failed_write_names_the_users_path_not_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    path.write_bytes(b"old model")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(io_utils.os, "fsync", disk_full)
    with pytest.raises(OSError) as info:
        small_model().save(str(path))
    message = str(info.value)
    assert repr(str(path)) in message and "No space left on device" in message and ".tmp" not in message
    assert info.value.__cause__ is not None and info.value.__cause__.errno == errno.ENOSPC
    assert path.read_bytes() == b"old model" and os.listdir(tmp_path) == ["m.h5"]


def test_an_os_error_on_the_temporary_file_is_renamed_to_the_users_path(tmp_path):
    path = tmp_path / "notes.txt"
    with pytest.raises(PermissionError) as info:
        with atomic_write(path, "w"):
            [temporary] = os.listdir(tmp_path)  # what a failing library call would name
            assert temporary.startswith(".notes.txt.") and temporary.endswith(".tmp")
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / temporary))
    assert repr(str(path)) in str(info.value) and ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_a_parent_that_is_a_file_is_reported_with_the_users_path(tmp_path):
    (tmp_path / "models").write_bytes(b"a file")
    with pytest.raises(NotADirectoryError) as info:
        small_model().save(str(tmp_path / "models" / "m.h5"))
    assert repr(str(tmp_path / "models" / "m.h5")) in str(info.value)
    assert (tmp_path / "models").read_bytes() == b"a file"


def test_a_crash_in_the_middle_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "m.kerasish"
    model = small_model()
    model.save(str(path))
    before = path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(io_utils.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small_model().save(str(path))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.kerasish"]


def test_an_error_in_the_body_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    with pytest.raises(ValueError, match="half"):
        with atomic_write(path, "w") as f:
            f.write("half of the new")
            raise ValueError("half written")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["notes.txt"]


# ------------------------------------------------------------------------------------------------ loading
@pytest.mark.parametrize("load", ["load_model", "load_weights"])
def test_loading_a_directory_says_it_is_a_directory_and_what_is_expected(tmp_path, load):
    directory = tmp_path / "saved"
    directory.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        load_model(str(directory)) if load == "load_model" else small_model().load_weights(str(directory))
    message = str(info.value)
    assert message.startswith(f"{load}: {str(directory)!r} is a directory, not a file.")
    assert ".h5" in message and ".keras" in message and "SavedModel" in message


def test_loading_a_tensorflow_saved_model_directory_names_the_format(tmp_path):
    directory = tmp_path / "exported"
    (directory / "variables").mkdir(parents=True)
    (directory / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(IsADirectoryError, match="is a TensorFlow SavedModel .it holds saved_model.pb., not a file"):
        load_model(str(directory))


def test_loading_a_missing_file_still_says_no_such_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_model: no such file"):
        load_model(str(tmp_path / "missing.h5"))


# ------------------------------------------------------------------------------------------------ images
@pytest.mark.parametrize("name, file_format, pil_format", [("a.jpg", None, "JPEG"), ("a.img", "jpg", "JPEG"),
                                                           ("a.png", None, "PNG"), ("a.tif", None, "TIFF")])
def test_save_img_chooses_the_format_as_pil_does_from_the_name(tmp_path, name, file_format, pil_format):
    from PIL import Image
    save_img(tmp_path / name, np.full((4, 5, 3), 200, "uint8"), file_format=file_format)
    with Image.open(tmp_path / name) as img:
        assert img.format == pil_format and img.size == (5, 4)


def test_save_img_errors_name_the_file_and_leave_nothing_behind(tmp_path):
    with pytest.raises(ValueError, match=r"save_img: unknown file extension '.xyz' in '.*a.xyz'"):
        save_img(tmp_path / "a.xyz", np.zeros((4, 5, 3), "uint8"))
    with pytest.raises(ValueError, match="save_img: unknown file_format 'nope'"):
        save_img(tmp_path / "a.png", np.zeros((4, 5, 3), "uint8"), file_format="nope")
    rgba = np.zeros((4, 5, 4), "uint8")  # Keras converts RGBA for JPEG only when file_format says jpg
    with pytest.raises(OSError, match=r"save_img: cannot write '.*a.jpg' as JPEG: cannot write mode RGBA") as info:
        save_img(str(tmp_path / "a.jpg"), rgba)
    assert isinstance(info.value.__cause__, OSError)
    assert os.listdir(tmp_path) == []


def test_a_replaced_file_keeps_its_owner(tmp_path):
    # As root the new file would belong to root; the replaced one keeps its owner (as writing it in place does).
    # As another user, chown is not allowed, and the owner is that user either way.
    path = tmp_path / "m.h5"
    path.write_bytes(b"old")
    owner = (1234, 1234) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(path, *owner)
    small_model().save(str(path))
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == owner


# ------------------------------------------------------------------------------------------------ callbacks
def test_csv_logger_refuses_a_write_protected_log_before_the_first_epoch(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"epoch,loss\r\n0,1.0\r\n")
    os.chmod(path, 0o444)
    model = small_model()
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(PermissionError, match="log.csv': the file is write-protected"):
        model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=1, verbose=0,
                  callbacks=[CSVLogger(str(path), append=True)])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))  # refused before training
    assert path.read_bytes() == b"epoch,loss\r\n0,1.0\r\n"


def test_backup_and_restore_with_a_file_as_backup_dir_fails_before_training(tmp_path):
    from kerasish.callbacks import BackupAndRestore
    (tmp_path / "backups").write_bytes(b"not a folder")
    model = small_model()
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(NotADirectoryError, match=r"backups' is a file, not a directory"):
        model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=1, verbose=0,
                  callbacks=[BackupAndRestore(str(tmp_path / "backups"))])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    assert (tmp_path / "backups").read_bytes() == b"not a folder"


def test_a_file_where_a_folder_should_be_is_named(tmp_path):
    (tmp_path / "runs").write_bytes(b"a file")
    with pytest.raises(NotADirectoryError, match=r"Cannot write '.*m.h5': '.*runs' is a file, not a directory"):
        small_model().save(str(tmp_path / "runs" / "one" / "m.h5"))
    assert os.listdir(tmp_path) == ["runs"]
