"""Pickled data files read as plain data, never as code.

Keras 2.3.1's datasets come as pickles: the CIFAR batches are Python 2 pickles of a dict (bytes keys, lists of
ints, one uint8 numpy array), and ``imdb.npz``/``reuters.npz`` hold object arrays of lists, which ``np.save``
stores as a pickle inside the ``.npy`` member. Keras unpickles them with ``pickle.load`` and
``np.load(allow_pickle=True)``, which run whatever a (tampered) file names: ``os.system`` through
``__reduce__`` for instance. Here a :class:`PlainUnpickler` builds only what the pickle opcodes build
themselves (dicts, lists, tuples, strings, bytes, numbers) plus numpy arrays, through the few numpy functions
whose job is to rebuild an array or a scalar from its bytes; every other global a file names is refused before
anything is called.
"""
from __future__ import annotations

import pickle
import zipfile

import numpy as np

# numpy's own rebuild functions, found from what numpy pickles (their module moved from numpy.core to
# numpy._core in numpy 2; files written by either, or by Python 2, name one of the two).
_reconstruct = np.empty(0).__reduce__()[0]
_scalar = np.float64(0).__reduce__()[0]


def _latin1_bytes(text, encoding):
    # Python 3 writes ``bytes`` at protocol 2 as ``_codecs.encode(text, 'latin1')``; nothing else is allowed.
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"refused _codecs.encode with encoding {encoding!r}: only 'latin1' "
                                     "(how Python 3 pickles bytes at protocol 2) is plain data")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("builtins", "list"): list,
    ("__builtin__", "list"): list,
    ("_codecs", "encode"): _latin1_bytes,
}


class PlainUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only numpy's array/dtype/scalar rebuild functions and ``list``.

    ``source`` names the file in the error raised for anything else."""

    def __init__(self, file, *, encoding: str = "ASCII", source: str = "the file"):
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module, name):
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"{self.source}: refused to load '{module}.{name}'. This file should hold plain data only "
                "(lists, numbers, strings and numpy arrays); it names other Python objects, which unpickling "
                "would create or call, so it was not loaded. Delete it and download it again.")
        return found


def load_plain_pickle(path: str, encoding: str = "ASCII"):
    """The plain data pickled in the file at ``path`` (``encoding`` decodes Python 2 ``str``, as in pickle)."""
    with open(path, "rb") as file:
        return PlainUnpickler(file, encoding=encoding, source=path).load()


def load_npz(path: str, keys) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of the ``.npz`` file at ``path``, object arrays included (unpickled as plain data).

    Arrays without Python objects are read by numpy with ``allow_pickle=False``."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        for key in keys:
            member = key + ".npy"
            if member not in members:
                raise KeyError(f"{key} is not a file in the archive {path}; it holds "
                               f"{sorted(m[:-4] for m in members if m.endswith('.npy'))}.")
            arrays[key] = _read_npy(archive, member, f"{path} ({member})")
    return arrays


def _read_npy(archive: zipfile.ZipFile, member: str, source: str) -> np.ndarray:
    with archive.open(member) as file:
        version = np.lib.format.read_magic(file)
        header_readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in header_readers:  # version 3 only changes how field names are encoded
            return _read_numeric_npy(archive, member)
        shape, _, dtype = header_readers[version](file)
        if not dtype.hasobject:
            return _read_numeric_npy(archive, member)
        # np.save writes an object array as the pickle of the whole array, right after the header.
        array = PlainUnpickler(file, encoding="latin1", source=source).load()
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ValueError(f"{source}: the header announces an array of shape {shape} but the data holds "
                         f"{type(array).__name__} {getattr(array, 'shape', '')}; the file is damaged.")
    return array


def _read_numeric_npy(archive: zipfile.ZipFile, member: str) -> np.ndarray:
    with archive.open(member) as file:
        return np.lib.format.read_array(file, allow_pickle=False)
