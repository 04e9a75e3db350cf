"""CIFAR-100 small images: Keras 2.3.1 ``keras/datasets/cifar100.py``: ``cifar-100-python`` (``train`` and
``test``) extracted from ``cifar-100-python.tar.gz``."""
from __future__ import annotations

import os

import numpy as np

from kerasish.datasets.cifar import load_batch
from kerasish.datasets.cifar10 import channels_as_configured
from kerasish.utils.data_utils import get_file

DIRNAME = "cifar-100-python"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"


def load_data(label_mode="fine"):
    """Loads the CIFAR-100 dataset.

    Arguments:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 of shape (50000, 32, 32, 3) and (10000, 32, 32, 3)
        (channels first when ``image_data_format()`` is ``'channels_first'``), y int64 of shape (n, 1).

    Raises:
        ValueError: in case of invalid ``label_mode``.
    """
    if label_mode not in ["fine", "coarse"]:
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode='
                         f"{label_mode!r}.")
    path = get_file(DIRNAME, origin=ORIGIN, untar=True)
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=label_mode + "_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=label_mode + "_labels")
    return channels_as_configured(x_train, np.reshape(y_train, (len(y_train), 1)),
                                  x_test, np.reshape(y_test, (len(y_test), 1)))
