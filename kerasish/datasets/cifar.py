"""What CIFAR-10 and CIFAR-100 share: Keras 2.3.1 ``keras/datasets/cifar.py``, ``load_batch``.

A batch file is a Python 2 pickle of a dict: ``data`` (a uint8 array, one row of 3 * 32 * 32 values per image,
channels first), the labels under ``labels`` (CIFAR-10) or ``fine_labels``/``coarse_labels`` (CIFAR-100), and
names. It is read as plain data (``kerasish.utils.plain_data``): a file naming anything else is refused.
"""
from __future__ import annotations

from kerasish.utils.plain_data import load_plain_pickle


def load_batch(fpath, label_key="labels"):
    """Parses one CIFAR batch file.

    Arguments:
        fpath: path of the file.
        label_key: the key of the labels in the file's dict.

    Returns:
        ``(data, labels)``: data of shape (n, 3, 32, 32) as stored (uint8), labels as stored (a list).
    """
    batch = load_plain_pickle(fpath, encoding="bytes")  # Keras: Python 2 str -> bytes
    if not isinstance(batch, dict):
        raise ValueError(f"load_batch: {fpath} should hold a dict of arrays and labels; it holds a "
                         f"{type(batch).__name__}.")
    batch = {key.decode("utf8") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise KeyError(f"load_batch: {fpath} has the keys {sorted(batch)}; expected 'data' and {label_key!r}.")
    data = batch["data"]
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]
