"""MNIST handwritten digits: Keras 2.3.1 ``keras/datasets/mnist.py``."""
from __future__ import annotations

from kerasish.utils.data_utils import get_file
from kerasish.utils.plain_data import load_npz

ORIGIN = "https://s3.amazonaws.com/img-datasets/mnist.npz"
FILE_HASH = "8a61469f7ea1b51cbae51d4f78837e45"


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset.

    Arguments:
        path: where to cache the dataset (relative to ``~/.keras/datasets``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,),
        (10000, 28, 28), (10000,), as stored in ``mnist.npz``.
    """
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
