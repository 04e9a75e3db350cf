"""NumPy helpers with Keras 2.3.1 semantics (``keras/utils/np_utils.py``)."""
from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Integer class vector -> one-hot matrix. A trailing axis of size 1 is dropped, as Keras does."""
    y = np.array(y, dtype="int")
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    y = y.ravel()
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: class labels must be non-negative integers; found {int(y.min())}.")
    if not num_classes:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: num_classes={num_classes} but the labels contain "
                         f"{int(y.max())}; labels must be in [0, num_classes).")
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero)."""
    x = np.asarray(x)
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)
