"""The HDF5 helpers of Keras 2.3.1's ``keras.utils.io_utils`` (re-exported there): ``HDF5Matrix``, a dataset
on disk used in place of a NumPy array; ``H5Dict``, the dict-like view of an HDF5 group (or a plain dict) that
Keras's model files are written through; and reading or writing a whole HDF5 file from or to a byte stream.

h5py is imported only when one of them is used. Nothing here unpickles: where Keras's H5Dict pickles NumPy
arrays kept in a plain dict, this one keeps the arrays themselves.

``HDF5Matrix`` feeds ``fit``/``evaluate``/``predict`` like an array: they read it one batch at a time (the
indices of a batch in increasing order, as h5py wants), so the dataset never has to fit in memory. Keras
recommends ``shuffle='batch'`` with it: each batch is then one contiguous read.
"""
from __future__ import annotations

import io
import os
from collections import defaultdict

import numpy as np

HDF5_OBJECT_HEADER_LIMIT = 64512  # bytes an HDF5 object header holds: longer attributes are split (Keras 2.3.1)


def _require_h5py(caller: str):
    try:
        import h5py
    except ImportError as error:
        # Keras 2.3.1: 'The use of HDF5Matrix requires HDF5 and h5py installed.'
        raise ImportError(f"The use of {caller} requires HDF5 and h5py installed: pip install h5py") from error
    return h5py


# ---------------------------------------------------------------------------------------------- HDF5Matrix
class HDF5Matrix:
    """Rows ``[start, end)`` of the dataset ``dataset`` of the HDF5 file ``datapath``, used as a NumPy array:
    ``x = HDF5Matrix('data.h5', 'images'); model.fit(x, y, shuffle='batch')``.

    ``normalizer``, if given, is applied to every block of rows read (e.g. ``lambda x: x / 255``); ``shape``
    and ``dtype`` are those of its output. Indexing: an int, a slice or a list/array of ints, counted from
    ``start`` (negative ones from ``end``); a slice reaching past ``end`` raises IndexError, as in Keras.
    Files are opened read-only and once per path (``HDF5Matrix.refs``), shared by the matrices reading them.
    """

    refs: dict = defaultdict(int)  # path -> open h5py.File (Keras 2.3.1's class attribute)

    def __init__(self, datapath, dataset, start=0, end=None, normalizer=None):
        h5py = _require_h5py("HDF5Matrix")
        key = os.fspath(datapath)
        opened = self.refs.get(key)
        if opened is None or not opened.id.valid:
            try:
                opened = h5py.File(key, "r")
            except OSError as error:
                raise OSError(f"HDF5Matrix: cannot open datapath={key!r} as an HDF5 file: {error}") from error
            self.refs[key] = opened
        if dataset not in opened or not isinstance(opened[dataset], h5py.Dataset):
            raise KeyError(f"HDF5Matrix: {key!r} has no dataset {dataset!r}; its top-level entries are "
                           f"{sorted(opened.keys())}.")
        self.data = opened[dataset]
        if not self.data.shape:
            raise ValueError(f"HDF5Matrix: dataset {dataset!r} of {key!r} is a scalar; it needs a first axis of "
                             "samples.")
        length = self.data.shape[0]
        self.end = length if end is None else end
        self.start = start
        if not 0 <= self.start <= self.end <= length:
            raise ValueError(f"HDF5Matrix: start={start} and end={end} must satisfy 0 <= start <= end <= "
                             f"{length} (the length of dataset {dataset!r}).")
        self.normalizer = normalizer
        first = self._read(slice(0, 1))  # the shape and dtype of rows as given (after the normalizer)
        self._base_shape = tuple(first.shape[1:])
        self._base_dtype = first.dtype

    def _read(self, index):
        rows = self.data[index]
        return self.normalizer(rows) if self.normalizer is not None else rows

    def __len__(self) -> int:
        return self.end - self.start

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.start, key.stop, key.step
            start = 0 if start is None else min(max(self._from_end(start), 0), len(self))
            stop = len(self) if stop is None else self._from_end(stop)
            if stop > len(self):
                raise IndexError(f"HDF5Matrix: slice stop {key.stop} is past the end of the {len(self)} rows.")
            return self._read(slice(start + self.start, max(start, stop) + self.start, step))
        if isinstance(key, (int, np.integer)):
            return self._read(self._row(key))
        indices = np.asarray(key)
        if indices.dtype == bool:
            raise TypeError("HDF5Matrix: index with integer positions (np.flatnonzero(mask)), not a boolean mask.")
        rows = np.array([self._row(i) for i in indices.ravel().tolist()], dtype=np.int64)
        # h5py reads a list of strictly increasing indices only: read each row once, in order, then reorder
        unique, inverse = np.unique(rows, return_inverse=True)
        block = np.asarray(self.data[unique.tolist()])[inverse.ravel()]
        block = block.reshape(indices.shape + block.shape[1:])
        return self.normalizer(block) if self.normalizer is not None else block

    def _from_end(self, position: int) -> int:
        return position + len(self) if position < 0 else position

    def _row(self, position) -> int:
        row = self._from_end(int(position))
        if not 0 <= row < len(self):
            raise IndexError(f"HDF5Matrix: index {position} is out of range for {len(self)} rows.")
        return row + self.start

    @property
    def shape(self) -> tuple:
        return (self.end - self.start,) + self._base_shape

    @property
    def dtype(self):
        return self._base_dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __repr__(self) -> str:
        return f"HDF5Matrix({self.data.file.filename!r}, {self.data.name!r}, shape={self.shape}, dtype={self.dtype})"


# ---------------------------------------------------------------------------------------------- H5Dict
class H5Dict:
    """A dict-like view of an HDF5 group (a path opens the file with ``mode``), or of a plain dict with the same
    interface (Keras 2.3.1, which writes model files through it). NumPy arrays become datasets; lists, strings
    and numbers become attributes (lists longer than an object header allows are split into ``name0``,
    ``name1``, ...); reading a missing key creates a subgroup, except in read-only mode."""

    def __init__(self, path, mode="a"):
        if _is_h5py_group(path):
            self.data, self._is_file = path, False
        elif isinstance(path, (str, os.PathLike)):
            self.data, self._is_file = _require_h5py("H5Dict").File(os.fspath(path), mode=mode), True
        elif isinstance(path, dict):
            self.data, self._is_file = path, False
            if mode == "w":
                path.clear()
            path["_is_group"] = True  # marks the dicts that stand for groups
        else:
            raise TypeError(f"Required Group, str, Path or dict. Received: {type(path)}.")
        self.read_only = mode == "r"

    @staticmethod
    def is_supported_type(path) -> bool:
        return _is_h5py_group(path) or isinstance(path, (dict, str, os.PathLike))

    def __setitem__(self, attr, val):
        if self.read_only:
            raise ValueError("Cannot set item in read-only mode.")
        if isinstance(attr, bytes):
            attr = attr.decode("utf-8")
        if isinstance(self.data, dict):
            self.data[attr] = np.array(val) if isinstance(val, np.ndarray) else val
            return
        if attr in self.data:
            raise KeyError(f'Cannot set attribute. Group with name "{attr}" exists.')
        if isinstance(val, np.ndarray) or type(val).__module__ == np.__name__:
            self.data.create_dataset(attr, data=np.asarray(val))
        elif isinstance(val, (list, tuple)):
            self._set_list_attribute(attr, list(val))
        else:
            self.data.attrs[attr] = val

    def _set_list_attribute(self, attr: str, values: list) -> None:
        too_long = [str(x) for x in values if hasattr(x, "__len__") and len(x) > HDF5_OBJECT_HEADER_LIMIT]
        if too_long:
            raise RuntimeError(f"The following attributes cannot be saved to HDF5 file because they are larger than "
                               f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {', '.join(too_long)}")
        if values and isinstance(values[0], str):
            values = [x.encode("utf-8") for x in values]
        array = np.asarray(values)
        chunks = 1
        while any(chunk.nbytes > HDF5_OBJECT_HEADER_LIMIT for chunk in np.array_split(array, chunks)):
            chunks += 1
        if chunks == 1:
            self.data.attrs[attr] = array
            return
        for index, chunk in enumerate(np.array_split(array, chunks)):
            self.data.attrs[f"{attr}{index}"] = chunk

    def __getitem__(self, attr):
        if isinstance(attr, bytes):
            attr = attr.decode("utf-8")
        if isinstance(self.data, dict):
            if attr in self.data:
                value = self.data[attr]
                return H5Dict(value) if isinstance(value, dict) and value.get("_is_group") else value
            return H5Dict(self._new_group(attr))
        if attr in self.data.attrs:
            value = self.data.attrs[attr]
            if isinstance(value, np.ndarray) and value.dtype.kind == "S":
                value = value.tolist()
            return value
        if attr in self.data:
            value = self.data[attr]
            return np.asarray(value) if _is_h5py_dataset(value) else H5Dict(value)
        if f"{attr}0" in self.data.attrs:  # a list split over several attributes
            values, index = [], 0
            while f"{attr}{index}" in self.data.attrs:
                values.extend(x.decode("utf-8") for x in self.data.attrs[f"{attr}{index}"])
                index += 1
            return values
        return H5Dict(self._new_group(attr))

    def _new_group(self, attr: str):
        if self.read_only:
            raise ValueError("Cannot create group in read-only mode.")
        if isinstance(self.data, dict):
            self.data[attr] = {"_is_group": True}
            return self.data[attr]
        return self.data.create_group(attr)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        return iter(self.data)

    def iter(self):
        return iter(self.data)

    def __getattr__(self, attr):
        # the wrapped group's (or dict's) own methods and attributes, as Keras's H5Dict delegates them
        if attr in ("data", "_is_file", "read_only"):
            raise AttributeError(attr)
        return getattr(self.data, attr)

    def close(self) -> None:
        if _is_h5py_group(self.data):
            self.data.file.flush()
            if self._is_file:
                self.data.close()

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __contains__(self, key) -> bool:
        if isinstance(self.data, dict):
            return key in self.data
        return key in self.data or key in self.data.attrs

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()


h5dict = H5Dict  # Keras 2.3.1's second name


def _is_h5py_group(value) -> bool:
    # without importing h5py for plain values: h5py objects come only from an imported h5py
    return type(value).__module__.startswith("h5py") and hasattr(value, "create_group")


def _is_h5py_dataset(value) -> bool:
    return type(value).__module__.startswith("h5py") and hasattr(value, "dtype") and hasattr(value, "shape")


# ---------------------------------------------------------------------------------------------- byte streams
def load_from_binary_h5py(load_function, stream):
    """``load_function(h5py.File)`` on the HDF5 file whose bytes ``stream.read()`` gives (an in-memory file,
    read-only); returns what it returns."""
    h5py = _require_h5py("load_from_binary_h5py")
    with h5py.File(io.BytesIO(stream.read()), "r") as h5_file:
        return load_function(h5_file)


def save_to_binary_h5py(save_function, stream):
    """``save_function(h5py.File)`` on a new in-memory HDF5 file, whose bytes are then written to ``stream``;
    returns what ``save_function`` returns."""
    h5py = _require_h5py("save_to_binary_h5py")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5_file:
        result = save_function(h5_file)
    stream.write(buffer.getvalue())
    return result
