"""Fashion-MNIST: Keras 2.3.1 ``keras/datasets/fashion_mnist.py``: four gzipped IDX files in
``~/.keras/datasets/fashion-mnist``."""
from __future__ import annotations

import gzip
import os

import numpy as np

from kerasish.utils.data_utils import get_file

BASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
# IDX headers: magic number and item count (labels), plus rows and columns (images); Keras skips them unread.
LABELS_OFFSET = 8
IMAGES_OFFSET = 16


def load_data():
    """Loads the Fashion-MNIST dataset.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,),
        (10000, 28, 28), (10000,).
    """
    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(fname, origin=BASE_URL + fname, cache_subdir=dirname) for fname in FILES]
    y_train = _read_idx(paths[0], LABELS_OFFSET)
    x_train = _read_idx(paths[1], IMAGES_OFFSET).reshape(len(y_train), 28, 28)
    y_test = _read_idx(paths[2], LABELS_OFFSET)
    x_test = _read_idx(paths[3], IMAGES_OFFSET).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)


def _read_idx(path, offset):
    # Keras returns np.frombuffer's read-only views; a bytearray keeps the same values writable.
    with gzip.open(path, "rb") as file:
        return np.frombuffer(bytearray(file.read()), np.uint8, offset=offset)
