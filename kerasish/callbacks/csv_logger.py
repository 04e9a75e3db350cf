"""``CSVLogger`` (Keras 2.3.1 ``keras/callbacks/callbacks.py``), written atomically.

K231 keeps the file open and appends one row per epoch. Here every write replaces the whole file through
``kerasish.utils.io_utils.atomic_write`` (written aside, then renamed), so a crash mid-write leaves the previous
complete file: the rows are kept in memory and, with ``append=True``, the existing file's bytes are read once at
the start of training. The bytes are K231's: the ``csv`` module with the excel dialect (``\\r\\n`` line ends) and
the given separator, header ``epoch`` + the sorted log keys.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

import numpy as np
import torch

from kerasish.callbacks.callback import Callback
from kerasish.utils.io_utils import atomic_write, check_writable

_ENCODING = "utf-8"


class CSVLogger(Callback):
    """Callback that streams epoch results to a csv file.

    Supports all values that can be represented as a string, including 1D iterables such as np.ndarray.

    Example::

        csv_logger = CSVLogger('training.log')
        model.fit(X_train, Y_train, callbacks=[csv_logger])

    Arguments:
        filename: filename of the csv file, e.g. 'run/log.csv'.
        separator: string used to separate elements in the csv file.
        append: True: append if file exists (useful for continuing training). False: overwrite existing file.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        try:
            csv.writer(io.StringIO(), delimiter=separator)
        except TypeError as err:
            raise ValueError(f"CSVLogger: separator must be a 1-character string such as ',' or '\\t'; "
                             f"received separator={separator!r}.") from err
        self.sep = separator
        self.filename = filename
        self.append = append
        self.keys: list[str] | None = None  # K231 fixes them at the first epoch and keeps them across fits
        self.append_header = True
        self._prefix = b""  # the existing file's content, with append=True
        self._lines: list[str] = []  # header and rows written by this fit

    def on_train_begin(self, logs=None):
        check_writable(self.filename)  # a directory or a write-protected file: say so before the first epoch
        self._prefix = b""
        self._lines = []
        if self.append and os.path.exists(self.filename):
            with open(self.filename, "rb") as f:
                self._prefix = f.read()
            # K231: a header only when the file is empty (its first line is '').
            self.append_header = not self._prefix
        else:
            # K231 opens the file here ('w' truncates it, 'a' creates it): it exists, empty, from the start.
            self._write()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
        # K231 writes NA for keys missing from the last epoch's logs when training was stopped, "so that csv
        # parsers do not fail"; kerasish writes NA for any missing key (where K231 raises KeyError, e.g. with
        # validation_freq skipping validation on a later epoch).
        values = {key: _format_value(logs[key]) if key in logs else "NA" for key in self.keys}
        if not self._lines and self.append_header:
            self._lines.append(self._format_row(["epoch"] + self.keys))
        self._lines.append(self._format_row([epoch] + [values[key] for key in self.keys]))
        self._write()

    def on_train_end(self, logs=None):
        self._lines = []
        self._prefix = b""

    def _format_row(self, fields: list) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=self.sep, dialect="excel").writerow(fields)
        return out.getvalue()

    def _write(self) -> None:
        with atomic_write(self.filename, "wb") as f:
            f.write(self._prefix + "".join(self._lines).encode(_ENCODING))


def _format_value(value):
    """K231 ``handle_value``: strings as they are, 1-D iterables as ``"[a, b]"``, anything else to csv as is.

    Metric values here are Python floats read from float32 tensors; K231's were NumPy float32 scalars, which
    csv writes in float32's shortest form (``0.6931472``, not ``0.6931471824645996``). A float that is exactly
    a float32 value is written that way too."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return '"[%s]"' % ", ".join(map(str, value))
    if type(value) is float and np.isfinite(value) and float(np.float32(value)) == value:
        return str(np.float32(value))
    return value
