"""The iterators behind ``flow``, ``flow_from_directory`` and ``flow_from_dataframe`` (keras-preprocessing
1.1.2 ``iterator.py``, ``numpy_array_iterator.py``, ``directory_iterator.py``, ``dataframe_iterator.py``).

Every iterator is a ``kerasish.utils.Sequence`` with Keras's API (``len()``, ``it[i]``, ``next(it)``, endless
iteration, ``on_epoch_end``, ``reset``, attributes ``n``, ``batch_size``, ``shuffle``, ``seed``,
``batch_index``, ``total_batches_seen``, ``index_array``) and one batch path for everything::

    batch_tensors(index, device) -> (x,) | (x, y) | (x, y, sample_weight)   torch tensors on ``device``

which gathers the raw rows (uint8 stays uint8), moves them to ``device`` first (pinned, ``non_blocking`` on
CUDA), and augments and standardises them there. ``it[i]`` and ``next(it)`` are that path on the CPU, turned
into NumPy (and ``x`` alone when there are no targets, as Keras returns).

File iterators start a batch with per-image work on the host (``decodes_on_host``: open, decode and resize
each file with PIL). That part is ``staged_batch(index, device)``, which loader threads or processes may run
ahead; ``finish_batch(staged, device)`` does the rest (copy, augment) where the training runs.
``batch_tensors`` is the two in a row.

Randomness: the sample order of epoch ``e`` and the transform parameters of batch ``i`` of epoch ``e`` are pure
functions of ``(seed, e, i)`` (``seed=None`` draws one seed from torch's global generator), so a batch is the
same whichever thread, process or device computes it. ``epoch`` counts ``on_epoch_end`` calls (and passes of
``next()``); ``set_epoch`` sets it. NumPy's global random state is never touched (keras-preprocessing reseeds
it on every batch). Parameters are drawn on the CPU for blocks of ``PARAM_BLOCK_BATCHES`` consecutive batches
at once (one generator per ``(seed, epoch, block)``), and their matrices composed once per block: drawing and
composing cost about as much for 512 images as for 32.
"""
from __future__ import annotations

import difflib
import os
import threading
import warnings

import numpy as np
import torch

from kerasish import backend
from kerasish.preprocessing.image import params as params_module
from kerasish.preprocessing.image.utils import (WHITE_LIST_FORMATS, array_to_img, list_valid_files, read_image,
                                               write_image)
from kerasish.training.data_adapters.order import epoch_order, new_seed
from kerasish.utils.sequence import Sequence
from kerasish.distributed import print_main

_CPU = torch.device("cpu")
PARAM_BLOCK_BATCHES = 16
# Parameter blocks kept per iterator, counted in images (~170 bytes each); only the current epoch's are kept.
_PARAM_CACHE_IMAGES = 65536


class Iterator(Sequence):
    """Base class of the image iterators: ``n`` samples in batches of ``batch_size``, reshuffled each epoch.

    Subclasses set ``image_data_generator``, ``image_shape`` (one image, Keras layout), ``dtype`` and the
    ``save_*`` attributes, and implement ``_batch_tensors(rows, epoch, index, device)``. A Keras-style subclass
    may instead implement ``_get_batches_of_transformed_samples(index_array)`` returning NumPy, as Keras's
    ``Iterator`` asks; its batches are then moved to the device as they are.
    """

    white_list_formats = WHITE_LIST_FORMATS
    decodes_on_host = False  # True: a batch starts with per-image host work (see staged_batch)

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive integer; received {batch_size!r}.")
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.epoch = 0
        self.index_array = None
        self.lock = threading.Lock()
        self._param_blocks: dict = {}
        self._stream_seed = int(seed) if seed is not None else new_seed()
        self.index_generator = self._flow_index()

    # ------------------------------------------------------------------ Sequence API
    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx):
        index = self._check_index(idx)
        self.total_batches_seen += 1
        return _as_keras_output(self.batch_tensors(index, _CPU))

    def batch_tensors(self, index: int, device) -> tuple:
        """Batch ``index`` of the current epoch as torch tensors on ``device`` (see the module docstring)."""
        return self.finish_batch(self.staged_batch(index, device), device)

    def staged_batch(self, index: int, device) -> tuple:
        """The host part of batch ``index`` of the current epoch: ``(rows, epoch, index, decoded)``, its rows and
        epoch fixed now, and for file iterators the decoded images (else ``None``). Thread-safe."""
        index = self._check_index(index)
        with self.lock:
            if self.index_array is None:
                self._set_index_array()
            rows, epoch = self.index_array[self.batch_size * index:self.batch_size * (index + 1)], self.epoch
        decoded = self._decode(rows, torch.device(device)) if self.decodes_on_host else None
        return rows, epoch, index, decoded

    def finish_batch(self, staged: tuple, device) -> tuple:
        """``staged_batch``'s result -> the batch's tensors on ``device``."""
        rows, epoch, index, decoded = staged
        if decoded is None:
            return self._batch_tensors(rows, epoch, index, torch.device(device))
        return self._batch_tensors(rows, epoch, index, torch.device(device), decoded)

    def on_epoch_end(self) -> None:
        """Moves to the next epoch: a new sample order (when shuffling) and new transform parameters."""
        with self.lock:
            self.epoch += 1
            self._set_index_array()

    def set_epoch(self, epoch: int) -> None:
        """Serve epoch ``epoch`` (its order and parameters); for loaders that run copies of the iterator."""
        with self.lock:
            self.epoch = int(epoch)
            self._set_index_array()

    def reset(self) -> None:
        self.batch_index = 0

    # ------------------------------------------------------------------ endless iteration
    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def next(self):
        """The next batch of the endless stream (thread-safe: only choosing the rows is locked)."""
        with self.lock:
            rows, epoch, index = next(self.index_generator)
        return _as_keras_output(self._batch_tensors(rows, epoch, index, _CPU))

    def _flow_index(self):
        # keras-preprocessing ``Iterator._flow_index``: every pass starts with a new order, and the last batch
        # of a pass may be short.
        self.reset()
        passes = 0
        while True:
            if self.batch_index == 0:
                if passes:
                    self.epoch += 1
                passes += 1
                self._set_index_array()
            current = (self.batch_index * self.batch_size) % self.n if self.n else 0
            index = self.batch_index
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current:current + self.batch_size], self.epoch, index

    # ------------------------------------------------------------------ order and randomness
    def _set_index_array(self) -> None:
        order = epoch_order(self.n, self.epoch, self._stream_seed, bool(self.shuffle), self.batch_size)
        self.index_array = np.arange(self.n) if order is None else order.numpy()

    def _transform_params(self, epoch: int, index: int, count: int) -> tuple[dict | None, object]:
        """Parameters (and their matrices, or None) for the ``count`` images of batch ``index`` of ``epoch``:
        rows of the block of ``PARAM_BLOCK_BATCHES`` batches it belongs to, drawn and composed once."""
        generator_config = getattr(self, "image_data_generator", None)
        if generator_config is None:
            return None, None
        block, position = divmod(index, PARAM_BLOCK_BATCHES)
        ranges, geometry = generator_config._ranges(), generator_config.geometry
        with self.lock:
            entry = self._param_blocks.get((epoch, block))
        if entry is None or entry[0] is not ranges or entry[1] != geometry:
            generator = torch.Generator().manual_seed(params_module.batch_seed(self._stream_seed, epoch, block))
            params = generator_config.draw_batch_params(PARAM_BLOCK_BATCHES * self.batch_size, self.image_shape,
                                                        generator)
            params = {k: None if v is None else v.numpy() for k, v in params.items()}
            entry = (ranges, geometry, params, generator_config.affine_matrices(params, self.image_shape))
            with self.lock:
                blocks = self._param_blocks
                for stale in [key for key in blocks if key[0] != epoch]:  # epochs are visited one at a time
                    del blocks[stale]
                blocks[(epoch, block)] = entry
                while len(blocks) > max(2, _PARAM_CACHE_IMAGES // (PARAM_BLOCK_BATCHES * self.batch_size)):
                    del blocks[next(iter(blocks))]
        start = position * self.batch_size
        rows = slice(start, start + count)
        params = {k: None if v is None else v[rows] for k, v in entry[2].items()}
        return params, None if entry[3] is None else entry[3][rows]

    def _save_generator(self, epoch: int, index: int) -> torch.Generator:
        # The random part of save_to_dir file names; its own stream, apart from the parameters'.
        return torch.Generator().manual_seed(params_module.batch_seed(self._stream_seed, ~epoch, index))

    def _check_index(self, idx) -> int:
        length = len(self)
        index = int(idx)
        if index < 0:
            index += length
        if not 0 <= index < length:
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length {length}")
        return index

    def _batch_tensors(self, rows: np.ndarray, epoch: int, index: int, device: torch.device) -> tuple:
        batch = self._get_batches_of_transformed_samples(rows)
        batch = batch if isinstance(batch, tuple) else (batch,)
        return tuple(_to_device(part, device) for part in batch)

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(f"{type(self).__name__} must implement _get_batches_of_transformed_samples"
                                  "(index_array) (Keras's Iterator API) or _batch_tensors(rows, epoch, index, device)")

    def _augment(self, x: torch.Tensor, rows, epoch: int, index: int) -> torch.Tensor:
        """The raw batch on its device -> augmented, standardised, in ``dtype``; saved when asked."""
        torch_dtype = getattr(torch, self.dtype)
        if self.image_data_generator is None:
            x = x.to(torch_dtype)
        else:
            params, matrices = self._transform_params(epoch, index, len(rows))
            x = self.image_data_generator.augment_batch(x, params, matrices).to(torch_dtype)
        if self.save_to_dir:
            _save_batch(x, rows, self._save_generator(epoch, index), self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, self._save_hash_range)
        return x

    # ------------------------------------------------------------------ pickling (worker processes)
    def __getstate__(self):
        state = self.__dict__.copy()
        del state["lock"], state["index_generator"]
        state["_param_blocks"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self.index_generator = self._flow_index()


# ---------------------------------------------------------------------------- arrays
class NumpyArrayIterator(Iterator):
    """Batches of ``x`` (rank 4, Keras layout) with optional ``y`` and ``sample_weight``, augmented by an
    ``ImageDataGenerator``. ``x`` may be ``(images, misc)``: ``misc`` (an array or a list of arrays) comes
    along unchanged, and batches' ``x`` is then ``[images] + misc``.

    Integer images (uint8, ...) are kept as they are and converted to ``dtype`` on the device (exact, and a
    quarter of the memory and transfer of float32); other arrays are converted up front, as Keras does.
    """

    def __init__(self, x, y, image_data_generator, batch_size: int = 32, shuffle: bool = False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None, save_prefix: str = "",
                 save_format: str = "png", subset=None, dtype=None):
        self.dtype = np.dtype(dtype or backend.floatx()).name
        data_format = backend.normalize_data_format(data_format)
        if isinstance(x, (tuple, list)):
            misc = [np.asarray(x[1])] if not isinstance(x[1], list) else [np.asarray(m) for m in x[1]]
            x = x[0]
            for m in misc:
                if len(x) != len(m):
                    raise ValueError("All of the arrays in `x` should have the same length. Found a pair with: "
                                     f"len(x[0]) = {len(x)}, len(x[?]) = {len(m)}")
        else:
            misc = []
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same length. Found: "
                             f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same length. Found: "
                             f"x.shape = {np.asarray(x).shape}, "
                             f"sample_weight.shape = {np.asarray(sample_weight).shape}")
        if subset is not None:
            x, y, sample_weight, misc = _split_arrays(x, y, sample_weight, misc, subset,
                                                      image_data_generator._validation_split)
        self.x = _keep_exact_integers(np.asarray(x), self.dtype)
        if self.x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. You passed an array with "
                             f"shape {self.x.shape}")
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(f'NumpyArrayIterator is set to use the data format convention "{data_format}" (channels '
                          f"on axis {channels_axis}), i.e. expected either 1, 3, or 4 channels on axis "
                          f"{channels_axis}. However, it was passed an array with shape {self.x.shape} "
                          f"({self.x.shape[channels_axis]} channels).", stacklevel=2)
        self.x_misc = misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.image_shape = self.x.shape[1:]
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self._x_host = _host_tensor(self.x)
        self._misc_host = [_host_tensor(m) for m in misc]
        self._y_host = None if self.y is None else _host_tensor(self.y)
        self._weight_host = None if self.sample_weight is None else _host_tensor(self.sample_weight)
        super().__init__(len(self.x), batch_size, shuffle, seed)

    _save_hash_range = 10**4  # keras-preprocessing's np.random.randint(1e4)

    def _batch_tensors(self, rows, epoch, index, device):
        rows_t = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64))
        x = self._augment(_gather(self._x_host, rows_t, device), rows, epoch, index)
        batch_x = x if not self._misc_host else [x] + [_gather(m, rows_t, device) for m in self._misc_host]
        if self._y_host is None:
            return (batch_x,)
        output = (batch_x, _gather(self._y_host, rows_t, device))
        if self._weight_host is not None:
            output += (_gather(self._weight_host, rows_t, device),)
        return output


def _split_arrays(x, y, sample_weight, misc, subset, validation_split):
    # keras-preprocessing 1.1.2: the validation subset is the FIRST fraction of the rows, before shuffling.
    if subset not in ("training", "validation"):
        raise ValueError(f"Invalid subset name: {subset}; expected 'training' or 'validation'.")
    split_idx = int(len(x) * validation_split)
    if y is not None and not np.array_equal(np.unique(np.asarray(y)[:split_idx]),
                                            np.unique(np.asarray(y)[split_idx:])):
        raise ValueError("Training and validation subsets have different number of classes after the split. If "
                         "your numpy arrays are sorted by the label, you might want to shuffle them.")
    part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
    x = x[part]
    misc = [np.asarray(m[part]) for m in misc]
    y = None if y is None else y[part]
    # keras-preprocessing 1.1.2 forgets to split sample_weight (its length then no longer matches); we split it.
    sample_weight = None if sample_weight is None else np.asarray(sample_weight)[part]
    return x, y, sample_weight, misc


def _keep_exact_integers(x: np.ndarray, dtype: str) -> np.ndarray:
    exact = {"float16": ("uint8", "int8", "bool"), "float32": ("uint8", "int8", "bool", "uint16", "int16"),
             "float64": ("uint8", "int8", "bool", "uint16", "int16", "int32", "uint32")}
    if x.dtype.name in exact.get(dtype, ()):
        return np.ascontiguousarray(x)
    return np.ascontiguousarray(x, dtype=dtype)


# ---------------------------------------------------------------------------- files
class _FilesIterator(Iterator):
    """What ``DirectoryIterator`` and ``DataFrameIterator`` share (keras-preprocessing ``BatchFromFilesMixin``):
    decoding and resizing on the host with PIL, then the device path of every iterator. Each subclass says in
    ``_describe_file(j)`` which file sample ``j`` is, so that a file PIL cannot read is named as the user knows
    it (its class directory, its DataFrame row)."""

    allowed_class_modes: tuple = ()
    decodes_on_host = True

    def _set_processing_attrs(self, image_data_generator, target_size, color_mode, data_format, save_to_dir,
                              save_prefix, save_format, subset, interpolation, dtype):
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f'Invalid color mode: {color_mode}; expected "rgb", "rgba", or "grayscale".')
        self.color_mode = color_mode
        self.data_format = backend.normalize_data_format(data_format)
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,) if self.data_format == "channels_last"
                            else (channels,) + self.target_size)
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        self.dtype = np.dtype(dtype or backend.floatx()).name
        if subset is not None:
            validation_split = image_data_generator._validation_split
            if subset == "validation":
                split = (0, validation_split)
            elif subset == "training":
                split = (validation_split, 1)
            else:
                raise ValueError(f'Invalid subset name: {subset};expected "training" or "validation"')
        else:
            split = None
        self.split = split
        self.subset = subset

    @property
    def filepaths(self) -> list[str]:
        return self._filepaths

    def _decode(self, rows, device) -> torch.Tensor:
        """The images of ``rows`` read from their files as one host tensor in the Keras channels_last layout
        (pinned when bound for a GPU)."""
        images = []
        for j in rows:
            img = read_image(self._filepaths[j], self.color_mode, self.target_size, self.interpolation,
                             self._describe_file(j))
            array = np.asarray(img)
            if hasattr(img, "close"):
                img.close()
            images.append(array[:, :, None] if array.ndim == 2 else array)
        # 8-bit images stay uint8 until they are on the device; 16/32-bit grayscale files become float32.
        raw_dtype = np.uint8 if all(a.dtype == np.uint8 for a in images) else np.float32
        shape = (len(images),) + self.target_size + (self.image_shape[-1] if self.data_format == "channels_last"
                                                     else self.image_shape[0],)
        batch = torch.empty(shape, dtype=torch.uint8 if raw_dtype is np.uint8 else torch.float32,
                            pin_memory=device.type == "cuda")
        if images:
            np.stack(images, out=batch.numpy(), casting="unsafe")
        return batch

    def _load_batch(self, decoded: torch.Tensor, device) -> torch.Tensor:
        batch = backend.to_device(decoded, device)  # the contiguous host batch; reordered on the device
        return batch.permute(0, 3, 1, 2) if self.data_format == "channels_first" else batch

    _save_hash_range = 10**7  # keras-preprocessing's np.random.randint(1e7)

    def _batch_tensors(self, rows, epoch, index, device, decoded=None):
        decoded = self._decode(rows, device) if decoded is None else decoded
        x = self._augment(self._load_batch(decoded, device), rows, epoch, index)
        rows_t = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64))
        torch_dtype = getattr(torch, self.dtype)
        mode = self.class_mode
        if mode == "input":
            y = x.clone()
        elif mode in ("binary", "sparse"):
            y = backend.to_device(torch.as_tensor(self._host_labels("classes")[rows], dtype=torch_dtype), device)
        elif mode == "categorical":
            y = np.zeros((len(rows), len(self.class_indices)), dtype=self.dtype)
            if isinstance(self.classes, np.ndarray):
                y[np.arange(len(rows)), self.classes[rows]] = 1.0
            else:  # data frames: a label may be a list of classes
                for i, j in enumerate(rows):
                    y[i, self.classes[j]] = 1.0
            y = backend.to_device(torch.from_numpy(y), device)
        elif mode == "multi_output":
            y = [_gather(target, rows_t, device) for target in self._host_labels("labels")]
        elif mode == "raw":
            y = _gather(self._host_labels("labels"), rows_t, device)
        else:
            return (x,)
        if self.sample_weight is None:
            return (x, y)
        return (x, y, _gather(self._host_labels("sample_weight"), rows_t, device))

    def _host_labels(self, attribute: str):
        """``classes``, ``labels`` or ``sample_weight`` as host tensors (NumPy for strings), made once."""
        cache = self.__dict__.setdefault("_label_cache", {})
        if attribute not in cache:
            value = getattr(self, attribute)
            if attribute == "classes":
                cache[attribute] = np.asarray(value)
            elif isinstance(value, list) and attribute == "labels":  # multi_output: one array per output
                cache[attribute] = [_host_tensor(np.asarray(target)) for target in value]
            else:
                cache[attribute] = _host_tensor(np.asarray(value))
        return cache[attribute]


class DirectoryIterator(_FilesIterator):
    """Batches of the image files in ``directory/<class>/...`` (one subdirectory per class, sorted by name).

    Attributes as Keras's: ``class_indices`` (name -> index), ``filenames`` (``'<class>/<relative path>'``,
    folders and files walked in sorted order), ``classes`` (int32 label per file), ``samples``, ``num_classes``,
    ``filepaths``. ``subset`` takes the first ``validation_split`` of each class's files for ``'validation'``.
    """

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode: str = "rgb",
                 classes=None, class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True,
                 seed=None, data_format=None, save_to_dir=None, save_prefix: str = "", save_format: str = "png",
                 follow_links: bool = False, subset=None, interpolation: str = "nearest", dtype=None):
        self._set_processing_attrs(image_data_generator, target_size, color_mode, data_format, save_to_dir,
                                   save_prefix, save_format, subset, interpolation, dtype)
        self.directory = directory
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of: {set(self.allowed_class_modes)}")
        self.class_mode = class_mode
        _require_directory(directory, "flow_from_directory", "directory", " with one subdirectory of images per class")
        if not classes:
            classes = [d for d in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, d))]
        else:
            _warn_missing_class_directories(directory, classes)
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames = []
        labels = []
        for name in classes:
            class_dir = os.path.join(directory, name)
            files = list(list_valid_files(class_dir, follow_links, self.white_list_formats))
            if self.split:
                files = files[int(self.split[0] * len(files)):int(self.split[1] * len(files))]
            label_dir = os.path.basename(class_dir)
            for root, fname in files:
                self.filenames.append(os.path.join(label_dir, os.path.relpath(os.path.join(root, fname), class_dir)))
                labels.append(self.class_indices[name])
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print_main(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _describe_file(self, j: int) -> str:
        class_name = self.filenames[j].split(os.sep)[0]
        return (f"flow_from_directory: image file {self._filepaths[j]!r} (class {class_name!r}, directory "
                f"{os.path.join(self.directory, class_name)!r})")

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None


def _require_directory(directory, caller: str, argument: str, expected: str = "") -> None:
    """Keras lists a missing directory as no files (or fails in os.listdir); say that it is missing."""
    if os.path.isdir(directory):
        return
    if os.path.exists(directory):
        raise NotADirectoryError(f"{caller}: {argument}={directory!r} is a file, not a directory. Expected a "
                                 f"directory{expected}.")
    raise FileNotFoundError(f"{caller}: {argument}={directory!r} does not exist. Expected a directory{expected}.")


def _warn_missing_class_directories(directory, classes) -> None:
    """A class listed in ``classes`` without its subdirectory keeps its index and gets no images (Keras
    2.3.1); said once, since a misspelt class name gives the same silence."""
    missing = [name for name in classes if not os.path.isdir(os.path.join(directory, name))]
    if missing:
        warnings.warn(f"flow_from_directory: classes {missing} have no subdirectory in {directory!r}, so they "
                      "get no images (existing subdirectories: "
                      f"{sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))}).",
                      stacklevel=4)


class DataFrameIterator(_FilesIterator):
    """Batches of the image files named in a pandas DataFrame column ``x_col`` (relative to ``directory``)
    with labels from ``y_col`` (keras-preprocessing 1.1.2 ``DataFrameIterator``; class modes add ``'raw'``
    and ``'multi_output'``, and ``weight_col`` gives sample weights)."""

    allowed_class_modes = ("binary", "categorical", "input", "multi_output", "raw", "sparse", None)

    def __init__(self, dataframe, directory=None, image_data_generator=None, x_col: str = "filename",
                 y_col="class", weight_col=None, target_size=(256, 256), color_mode: str = "rgb", classes=None,
                 class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True, seed=None,
                 data_format=None, save_to_dir=None, save_prefix: str = "", save_format: str = "png", subset=None,
                 interpolation: str = "nearest", dtype=None, validate_filenames: bool = True):
        pandas = require_pandas("DataFrameIterator")
        _check_dataframe(pandas, dataframe, directory, x_col, y_col, weight_col, class_mode)
        self._x_col = x_col
        self._set_processing_attrs(image_data_generator, target_size, color_mode, data_format, save_to_dir,
                                   save_prefix, save_format, subset, interpolation, dtype)
        df = dataframe.copy()
        self.directory = directory or ""
        self.class_mode = class_mode
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled:
            df, classes = self._filter_classes(df, y_col, classes)
            num_classes = len(classes)
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split:
            start, stop = int(self.split[0] * len(df)), int(self.split[1] * len(df))
            df = df.iloc[start:stop, :]
        if labelled:
            self.classes = self._class_labels(df, y_col)
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        validated = "validated" if validate_filenames else "non-validated"
        if labelled:
            print_main(f"Found {self.samples} {validated} image filenames belonging to {num_classes} classes.")
        else:
            print_main(f"Found {self.samples} {validated} image filenames.")
        self._filepaths = [os.path.join(self.directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(self, df, x_col, y_col, weight_col, classes):
        mode = self.class_mode
        if mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {mode}; expected one of: {set(self.allowed_class_modes)}")
        if mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(f'If class_mode="{mode}", y_col must be a list. Received {type(y_col).__name__}.')
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError(f"All values in column x_col={x_col} must be strings.")
        if mode in ("binary", "sparse") and not all(isinstance(v, str) for v in df[y_col]):
            raise TypeError(f'If class_mode="{mode}", y_col="{y_col}" column values must be strings.')
        if mode == "binary":
            if classes:
                if len(set(classes)) != 2:
                    raise ValueError(f'If class_mode="binary" there must be 2 classes. {len(set(classes))} '
                                     "class/es were given.")
            elif df[y_col].nunique() != 2:
                raise ValueError(f'If class_mode="binary" there must be 2 classes. Found {df[y_col].nunique()} '
                                 "classes.")
        if mode == "categorical" and not all(isinstance(v, (str, list, tuple)) for v in df[y_col]):
            raise TypeError(f'If class_mode="{mode}", y_col="{y_col}" column values must be type string, list or '
                            "tuple.")
        if classes and mode in ("input", "multi_output", "raw", None):
            warnings.warn(f'`classes` will be ignored given the class_mode="{mode}"', stacklevel=3)
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise TypeError(f"Column weight_col={weight_col} must be numeric.")

    def _class_labels(self, df, y_col) -> list:
        labels = []
        for label in df[y_col]:
            if isinstance(label, (list, tuple)):
                labels.append([self.class_indices[name] for name in label])
            else:
                labels.append(self.class_indices[label])
        return labels

    @staticmethod
    def _filter_classes(df, y_col, classes):
        df = df.copy()

        def keep_known(labels):
            if isinstance(labels, (list, tuple)):
                return [name for name in labels if name in classes] or None
            if isinstance(labels, str):
                return labels if labels in classes else None
            raise TypeError(f"Expect string, list or tuple but found {type(labels)} in {y_col} column ")

        if classes:
            classes = set(classes)
            df[y_col] = df[y_col].apply(keep_known)
        else:
            classes = set()
            for value in df[y_col]:
                classes.update(value) if isinstance(value, (list, tuple)) else classes.add(value)
        return df.dropna(subset=[y_col]), sorted(classes)

    def _filter_valid_filepaths(self, df, x_col):
        extensions = tuple(f".{ext}" for ext in self.white_list_formats)
        mask = np.array([name.lower().endswith(extensions) and os.path.isfile(os.path.join(self.directory, name))
                         for name in df[x_col]], dtype=bool)
        n_invalid = int((~mask).sum())
        if n_invalid:
            examples = [os.path.join(self.directory, name) for name in df[x_col][~mask][:3]]
            warnings.warn(f'Found {n_invalid} invalid image filename(s) in x_col="{x_col}". These filename(s) will '
                          f"be ignored. (Not a file, or not one of {list(self.white_list_formats)}: e.g. "
                          f"{examples}.)", stacklevel=3)
        return df[mask]

    def _describe_file(self, j: int) -> str:
        return (f"flow_from_dataframe: image file {self._filepaths[j]!r} (x_col={self._x_col!r} value "
                f"{self.filenames[j]!r})")

    @property
    def labels(self):
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        return self._sample_weight


class DataFrameColumnError(KeyError):
    """A column ``flow_from_dataframe`` needs is missing: a ``KeyError``, as pandas raised, printed as text."""

    def __str__(self) -> str:
        return str(self.args[0])


def _check_dataframe(pandas, dataframe, directory, x_col, y_col, weight_col, class_mode) -> None:
    """What keras-preprocessing leaves to pandas (``KeyError: 'class'``) or to a crash deep inside: a
    DataFrame, an existing ``directory``, and the columns the arguments name."""
    if not isinstance(dataframe, pandas.DataFrame):
        hint = " Wrap it: pandas.DataFrame(dataframe)." if isinstance(dataframe, dict) else ""
        raise TypeError(f"flow_from_dataframe: dataframe must be a pandas DataFrame; received "
                        f"{type(dataframe).__name__}.{hint}")
    if directory:  # None or '': the x_col paths are used as they are
        _require_directory(directory, "flow_from_dataframe", "directory", " (the x_col paths are relative to it)")
    needed = [("x_col", x_col)]
    if class_mode not in ("input", None):
        needed += [("y_col", column) for column in (y_col if isinstance(y_col, (list, tuple)) else [y_col])]
    if weight_col is not None:
        needed.append(("weight_col", weight_col))
    columns = list(dataframe.columns)
    for argument, column in needed:
        if column not in columns:
            close = difflib.get_close_matches(str(column), [str(c) for c in columns], n=1)
            suggestion = f" Did you mean {close[0]!r}?" if close else ""
            raise DataFrameColumnError(f"flow_from_dataframe: {argument}={column!r} is not a column of the "
                                       f"DataFrame; its columns are {columns}.{suggestion}")


def require_pandas(what: str):
    try:
        import pandas
    except ImportError as err:
        raise ImportError(f"{what} needs pandas, which is not installed: `pip install pandas`, or use "
                          "flow_from_directory / flow with arrays instead.") from err
    return pandas


# ---------------------------------------------------------------------------- shared batch steps
def _host_tensor(array: np.ndarray):
    """A CPU tensor sharing ``array``'s memory when torch has its dtype; the array itself otherwise (strings,
    objects: passed through as NumPy, gathered on the host)."""
    array = np.ascontiguousarray(array)
    if array.dtype.kind in "biuf" and array.dtype.name not in ("uint32", "uint64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only arrays: we never write to them
            return torch.from_numpy(array)
    return array


def _gather(source, rows: torch.Tensor, device: torch.device):
    """One gather of ``rows``; on CUDA straight into pinned memory, then copied without blocking."""
    if not torch.is_tensor(source):
        return source[rows.numpy()]
    if device.type == "cuda":
        staged = torch.empty((len(rows),) + tuple(source.shape[1:]), dtype=source.dtype, pin_memory=True)
        torch.index_select(source, 0, rows, out=staged)
        return staged.to(device, non_blocking=True)
    return source.index_select(0, rows).to(device)


def _save_batch(x: torch.Tensor, rows, generator, data_format, directory, prefix, file_format, hash_range):
    # Keras names files {prefix}_{index}_{hash}.{format}; the hash comes from the batch's own generator.
    hashes = torch.randint(0, hash_range, (len(rows),), generator=generator).tolist()
    images = x.detach().cpu().numpy()
    for image, j, h in zip(images, rows, hashes):
        img = array_to_img(image, data_format, scale=True)
        write_image(img, os.path.join(directory, f"{prefix}_{int(j)}_{h}.{file_format}"), None, "save_to_dir")


def _to_device(part, device: torch.device):
    if isinstance(part, list):
        return [_to_device(p, device) for p in part]
    array = np.asarray(part)
    tensor = _host_tensor(array)
    return backend.to_device(tensor, device) if torch.is_tensor(tensor) else tensor


def _as_keras_output(batch: tuple):
    """``batch_tensors`` output -> what Keras's iterators return: NumPy, and ``x`` alone without targets."""
    converted = tuple(_to_numpy(part) for part in batch)
    return converted[0] if len(converted) == 1 else converted


def _to_numpy(part):
    if isinstance(part, list):
        return [_to_numpy(p) for p in part]
    if torch.is_tensor(part):
        return part.detach().cpu().numpy()
    return part
