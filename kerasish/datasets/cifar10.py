"""CIFAR-10 small images: Keras 2.3.1 ``keras/datasets/cifar10.py``: ``cifar-10-batches-py`` (five training
batches and a test batch) extracted from ``cifar-10-python.tar.gz``."""
from __future__ import annotations

import os

import numpy as np

from kerasish import backend
from kerasish.datasets.cifar import load_batch
from kerasish.utils.data_utils import get_file

DIRNAME = "cifar-10-batches-py"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
TRAIN_BATCHES = 5


def load_data():
    """Loads the CIFAR-10 dataset.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 of shape (50000, 32, 32, 3) and (10000, 32, 32, 3)
        (channels first, (n, 3, 32, 32), when ``image_data_format()`` is ``'channels_first'``); y of shape
        (n, 1): uint8 for training, int64 for test, as Keras 2.3.1 returns them.
    """
    path = get_file(DIRNAME, origin=ORIGIN, untar=True)
    batches = [load_batch(os.path.join(path, "data_batch_" + str(i))) for i in range(1, TRAIN_BATCHES + 1)]
    # Keras fills uint8 arrays sized for 50000 images; sizing them from the batches gives the same arrays.
    num_train_samples = sum(len(data) for data, _ in batches)
    x_train = np.empty((num_train_samples, 3, 32, 32), dtype="uint8")
    y_train = np.empty((num_train_samples,), dtype="uint8")
    start = 0
    for data, labels in batches:
        x_train[start:start + len(data)] = data
        y_train[start:start + len(data)] = labels
        start += len(data)
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    return channels_as_configured(x_train, np.reshape(y_train, (len(y_train), 1)),
                                  x_test, np.reshape(y_test, (len(y_test), 1)))


def channels_as_configured(x_train, y_train, x_test, y_test):
    """CIFAR images are stored channels first; Keras transposes them for ``'channels_last'``."""
    if backend.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
