"""Boston housing prices: Keras 2.3.1 ``keras/datasets/boston_housing.py``."""
from __future__ import annotations

import numpy as np

from kerasish.utils.data_utils import get_file
from kerasish.utils.plain_data import load_npz

ORIGIN = "https://s3.amazonaws.com/keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston Housing dataset.

    Arguments:
        path: where to cache the dataset (relative to ``~/.keras/datasets``).
        test_split: fraction of the data to reserve as test set (0 <= test_split < 1).
        seed: seed of the shuffle made before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 arrays of shapes (404, 13), (404,), (102, 13), (102,)
        with the defaults.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1); received {test_split!r}.")
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz(path, ["x", "y"])
    x, y = arrays["x"], arrays["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
