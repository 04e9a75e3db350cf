"""Files written as ``open(path, 'w')`` would write them (mode, symlinks, permissions, errors naming the path),
except that a crash never leaves a half-written file where a good one was, by rank 0 only; files read with
errors that say what is there (a directory, a TensorFlow SavedModel) and what was expected; and the
rest of Keras 2.3.1's ``keras.utils.io_utils``: the HDF5 helpers (``HDF5Matrix``, ``H5Dict``; utils/hdf5.py)
and the overwrite prompt."""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat

from kerasish import distributed
from kerasish.utils.hdf5 import (HDF5_OBJECT_HEADER_LIMIT, H5Dict, HDF5Matrix, h5dict, load_from_binary_h5py,
                                 save_to_binary_h5py)

__all__ = ["atomic_write", "ask_to_proceed_with_overwrite", "HDF5Matrix", "H5Dict", "h5dict",
           "HDF5_OBJECT_HEADER_LIMIT", "load_from_binary_h5py", "save_to_binary_h5py"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Write ``path`` as ``open(path, mode)`` would, but atomically: into a temporary file beside it, flushed to
    disk, then renamed over it.

    The rename is atomic on POSIX and Windows, so readers see either the old file or the complete new one;
    if the body raises (or the process dies), the old file is untouched and the temporary file is removed.
    Otherwise it behaves like writing the file the user named (``_write_target``): a new file gets the mode
    ``open()`` would give it (0o666 less the umask), a replaced file keeps its mode (and, as root, its owner),
    a symlink is written through (its target is replaced, the link stays), a write-protected file or a
    directory is refused, and every error names ``path`` as given, never the temporary name. A path that is
    not a regular file (``/dev/stdout``, a FIFO) is written directly, as ``open()`` would.

    Under torchrun only rank 0 writes: on the other ranks the body writes into a sink that keeps nothing
    (it accepts ``write``, ``seek``, ``tell`` and ``flush`` like a file, but cannot be read back) and no file or
    directory is touched. Every file kerasish writes (checkpoints, saved models, CSV logs, plots) goes through
    here, so a training script runs unchanged on N processes and writes each file once; callers may still
    skip the work of serialising on other ranks with ``kerasish.distributed.is_main_process()``.
    """
    if not distributed.is_main_process():
        with _discarding_file(mode) as sink:
            yield sink
        return
    shown = os.fspath(path)
    target, existing = _write_target(shown)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(target, mode) as f:  # a device or FIFO cannot be replaced by a rename
            yield f
        return
    directory = os.path.dirname(os.path.abspath(target))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise _error_naming(err, shown, f"cannot create its directory {directory!r}") from err
    fd, tmp_path = _create_beside(target, shown, existing)
    try:
        with os.fdopen(fd, mode) as f:
            try:
                yield f
            except OSError as err:
                if tmp_path not in (err.filename, err.filename2):
                    raise
                raise _error_naming(err, shown, "writing failed") from err
            _finish(f, tmp_path, target, shown)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_path)
        raise


def _write_target(shown: str) -> tuple[str, os.stat_result | None]:
    """The file to replace (a symlink's target, as ``open()`` writes through links) and its stat, if it exists;
    refuses a directory and a write-protected file before anything is written."""
    if shown.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)) or os.path.isdir(shown):
        raise IsADirectoryError(f"Cannot write {shown!r}: it is a directory. Give the path of a file (inside it, "
                                "or beside it) instead.")
    target = os.path.realpath(shown) if os.path.islink(shown) else shown
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        _check_ancestors_are_directories(target, shown)
        return target, None
    except NotADirectoryError:
        _check_ancestors_are_directories(target, shown)
        raise
    except OSError as err:
        raise _error_naming(err, shown, "cannot read its status") from err
    if stat.S_ISREG(existing.st_mode) and _write_protected(target, existing):
        raise PermissionError(f"Cannot write {shown!r}: the file is write-protected (mode "
                              f"{stat.filemode(existing.st_mode)}); it was left unchanged. Make it writable "
                              f"(chmod u+w {shown!r}) or choose another path.")
    return target, existing


def _check_ancestors_are_directories(target: str, shown: str) -> None:
    """The nearest existing folder above a new file must be a folder (``makedirs`` would say 'File exists')."""
    ancestor = os.path.dirname(os.path.abspath(target))
    while not os.path.lexists(ancestor) and os.path.dirname(ancestor) != ancestor:
        ancestor = os.path.dirname(ancestor)
    if os.path.exists(ancestor) and not os.path.isdir(ancestor):
        raise NotADirectoryError(f"Cannot write {shown!r}: {ancestor!r} is a file, not a directory.")


def check_writable(path: str | os.PathLike) -> None:
    """Raises now what ``atomic_write(path)`` would raise before writing (a directory, a write-protected file,
    a file where a folder should be), for callbacks that write only after an epoch has trained."""
    if distributed.is_main_process():
        _write_target(os.fspath(path))


def _write_protected(target: str, existing: os.stat_result) -> bool:
    """What ``open(target, 'w')`` would refuse; as root (who may write anything) a file with no write bit
    at all, as editors and ``rm`` treat it: someone protected it on purpose, and a rename would replace it."""
    if not os.access(target, os.W_OK):
        return True
    running_as_root = getattr(os, "geteuid", lambda: -1)() == 0
    return running_as_root and not existing.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def _create_beside(target: str, shown: str, existing: os.stat_result | None) -> tuple[int, str]:
    """A new hidden file in ``target``'s directory, with the mode ``open()`` gives a new file (0o666 less the
    umask, applied by the OS) or the mode (and, when allowed, the owner) of the file it will replace."""
    directory, name = os.path.split(os.path.abspath(target))
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp_path = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp_path, flags, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as err:
            raise _error_naming(err, shown, f"cannot create a file in its directory {directory!r} (kerasish "
                                            "writes beside the file, then renames, so that a crash never leaves "
                                            "half a file)") from err
    if existing is not None:
        try:
            _copy_mode_and_owner(fd, existing)
        except BaseException:
            os.close(fd)
            os.remove(tmp_path)
            raise
    return fd, tmp_path


def _copy_mode_and_owner(fd: int, existing: os.stat_result) -> None:
    if not hasattr(os, "fchmod"):
        return  # Windows: only the read-only flag, which _write_target has refused
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    current = os.fstat(fd)
    if (current.st_uid, current.st_gid) != (existing.st_uid, existing.st_gid):
        with contextlib.suppress(OSError):  # only root may give a file away; others keep their own
            os.fchown(fd, existing.st_uid, existing.st_gid)
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))  # chown clears set-id bits


def _finish(f, tmp_path: str, target: str, shown: str) -> None:
    try:
        f.flush()
        os.fsync(f.fileno())
        os.replace(tmp_path, target)
    except OSError as err:
        raise _error_naming(err, shown, "writing failed") from err


def _error_naming(err: OSError, shown: str, what: str) -> OSError:
    """The same kind of error (``PermissionError``, ``OSError`` for a full disk, ...) naming the user's path."""
    reason = err.strerror or str(err)
    message = f"Cannot write {shown!r}: {what}: {reason}."
    try:
        return type(err)(message)
    except TypeError:
        return OSError(message)


def check_readable_file(filepath, caller: str) -> str:
    """``filepath`` as a string when it is a file; else ``FileNotFoundError``, or ``IsADirectoryError`` for a
    directory (saying what a model file is, and that TensorFlow's SavedModel directories cannot be read)."""
    path = os.fspath(filepath)
    if os.path.isdir(path):
        saved_model = os.path.isfile(os.path.join(path, "saved_model.pb"))
        found = "a TensorFlow SavedModel (it holds saved_model.pb)" if saved_model else "a directory"
        raise IsADirectoryError(
            f"{caller}: {path!r} is {found}, not a file. Expected a file written by model.save or save_weights: "
            "Keras 2 HDF5 (.h5, .hdf5), Keras 3 (.keras) or kerasish (.kerasish). TensorFlow SavedModel "
            "directories (tf.keras's default format, Keras 3's model.export) hold TensorFlow graphs, which "
            "kerasish cannot load on PyTorch: load the model in TensorFlow and save it again as .h5 or .keras.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{caller}: no such file: {path!r}.")
    return path


class _DiscardedBytes(io.RawIOBase):
    """A writable, seekable binary file that keeps nothing, only the position and size a real one would have."""

    def __init__(self):
        super().__init__()
        self._position = 0
        self._size = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        self._position += n
        self._size = max(self._size, self._position)
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def truncate(self, size: int | None = None) -> int:
        self._size = self._position if size is None else size
        return self._size


@contextlib.contextmanager
def _discarding_file(mode: str):
    raw = _DiscardedBytes()
    sink = raw if "b" in mode else io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")
    try:
        yield sink
    finally:
        sink.close()


def ask_to_proceed_with_overwrite(filepath) -> bool:
    """Asks on the terminal whether to overwrite ``filepath``; True for 'y', False for 'n' (Keras 2.3.1)."""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True
