"""Files written so that a crash never leaves a half-written file where a good one was, by rank 0 only; and the
rest of Keras 2.3.1's ``keras.utils.io_utils``: the HDF5 helpers (``HDF5Matrix``, ``H5Dict``; utils/hdf5.py)
and the overwrite prompt."""
from __future__ import annotations

import contextlib
import io
import os
import tempfile

from kerasish import distributed
from kerasish.utils.hdf5 import (HDF5_OBJECT_HEADER_LIMIT, H5Dict, HDF5Matrix, h5dict, load_from_binary_h5py,
                                 save_to_binary_h5py)

__all__ = ["atomic_write", "ask_to_proceed_with_overwrite", "HDF5Matrix", "H5Dict", "h5dict",
           "HDF5_OBJECT_HEADER_LIMIT", "load_from_binary_h5py", "save_to_binary_h5py"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    The rename is atomic on POSIX and Windows, so readers see either the old file or the complete new one;
    if the body raises (or the process dies), the old file is untouched and the temporary file is removed.

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
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_path)
        raise


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
