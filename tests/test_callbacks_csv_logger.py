"""CSVLogger as Keras 2.3.1 ``keras/callbacks/callbacks.py`` writes it, byte for byte, and written atomically.

Expected files are spelled out by hand: K231 writes with the ``csv`` module's excel dialect, so lines end in
``\\r\\n``, the header is ``epoch`` then the sorted log keys, and a field holding the separator or a quote is quoted.
"""
import os

import numpy as np
import pytest

from kerasish.callbacks import Callback, CSVLogger, LambdaCallback
from kerasish.layers import Dense
from kerasish.models import Sequential
from kerasish.optimizers import SGD
from kerasish.utils import io_utils


class FakeModel:
    stop_training = False


def drive(logger, epoch_logs, stop_at=None):
    """Runs the logger through one training of ``len(epoch_logs)`` epochs, as fit calls it."""
    model = FakeModel()
    logger.set_model(model)
    logger.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        model.stop_training = epoch == stop_at
        logger.on_epoch_end(epoch, dict(logs))
    logger.on_train_end()


def read(path):
    with open(path, "rb") as f:
        return f.read()


LOGS = [{"loss": 1.25, "acc": 0.5, "val_loss": 2.0}, {"loss": 1.0, "acc": 0.75, "val_loss": 1.5}]


def test_header_is_epoch_then_sorted_keys_and_lines_end_in_crlf(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(str(path)), LOGS)
    assert read(path) == b"epoch,acc,loss,val_loss\r\n0,0.5,1.25,2.0\r\n1,0.75,1.0,1.5\r\n"


def test_separator(tmp_path):
    path = tmp_path / "log.tsv"
    drive(CSVLogger(str(path), separator="\t"), LOGS[:1])
    assert read(path) == b"epoch\tacc\tloss\tval_loss\r\n0\t0.5\t1.25\t2.0\r\n"


def test_separator_must_be_one_character():
    with pytest.raises(ValueError, match="CSVLogger: separator must be a 1-character string"):
        CSVLogger("log.csv", separator=", ")


def test_missing_keys_are_na_when_training_stopped(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(str(path)), [LOGS[0], {"loss": 0.5, "acc": 1.0}], stop_at=1)
    assert read(path) == b"epoch,acc,loss,val_loss\r\n0,0.5,1.25,2.0\r\n1,1.0,0.5,NA\r\n"


def test_keys_are_fixed_by_the_first_epoch(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(str(path)), [{"loss": 1.0}, {"loss": 0.5, "lr": np.float32(0.1)}])
    assert read(path) == b"epoch,loss\r\n0,1.0\r\n1,0.5\r\n"


def test_values_are_written_as_keras_handle_value_gives_them(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(str(path)), [{"name": "a,b", "vec": np.array([1, 2]), "lr": np.float32(0.001),
                                  "zero_dim": np.array(3.5)}])
    # the iterable becomes the string "[1, 2]" (quotes included), which csv quotes again
    assert read(path) == b'epoch,lr,name,vec,zero_dim\r\n0,0.001,"a,b","""[1, 2]""",3.5\r\n'


def test_append_adds_rows_without_a_second_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"epoch,acc,loss,val_loss\r\n0,0.1,9.0,9.5\r\n")
    drive(CSVLogger(str(path), append=True), LOGS[:1])
    assert read(path) == b"epoch,acc,loss,val_loss\r\n0,0.1,9.0,9.5\r\n0,0.5,1.25,2.0\r\n"


def test_append_to_a_missing_or_empty_file_writes_the_header(tmp_path):
    missing, empty = tmp_path / "new.csv", tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for path in (missing, empty):
        drive(CSVLogger(str(path), append=True), LOGS[:1])
        assert read(path) == b"epoch,acc,loss,val_loss\r\n0,0.5,1.25,2.0\r\n"


def test_without_append_the_file_is_replaced_when_training_begins(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"old content\r\n")
    logger = CSVLogger(str(path))
    logger.set_model(FakeModel())
    logger.on_train_begin()
    assert read(path) == b""  # K231 opens the file with 'w' here


def test_a_second_fit_rewrites_with_the_first_fits_keys_or_appends(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(str(path))
    drive(logger, LOGS)
    drive(logger, [{"loss": 0.25, "acc": 1.0, "val_loss": 0.5, "lr": 0.1}])
    assert read(path) == b"epoch,acc,loss,val_loss\r\n0,1.0,0.25,0.5\r\n"
    appending = CSVLogger(str(path), append=True)
    drive(appending, LOGS[1:])
    drive(appending, LOGS[1:])
    assert read(path) == b"epoch,acc,loss,val_loss\r\n0,1.0,0.25,0.5\r\n0,0.75,1.0,1.5\r\n0,0.75,1.0,1.5\r\n"


def test_each_epoch_is_on_disk_when_the_epoch_ends(tmp_path):
    path = tmp_path / "log.csv"
    seen = []
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer=SGD(lr=0.1), loss="binary_crossentropy")
    x = np.random.RandomState(0).randn(20, 3).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    history = model.fit(x, y, batch_size=5, epochs=3, verbose=0,
                        callbacks=[CSVLogger(str(path)), LambdaCallback(on_epoch_end=lambda e, l: seen.append(read(path)))])
    loss = history.history["loss"]
    rows = ["epoch,loss\r\n"] + ["%d,%s\r\n" % (epoch, np.float32(value)) for epoch, value in enumerate(loss)]
    assert seen == ["".join(rows[:n + 2]).encode() for n in range(3)]


def test_fit_log_has_the_history_values_with_validation(tmp_path):
    path = tmp_path / "log.csv"
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizer=SGD(lr=0.1), loss="categorical_crossentropy", metrics=["acc"])
    rng = np.random.RandomState(1)
    x = rng.randn(20, 3).astype("float32")
    y = np.eye(2, dtype="float32")[rng.randint(0, 2, size=20)]
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.25,
                        callbacks=[CSVLogger(str(path), separator=";")])
    h = history.history
    # K231 wrote NumPy float32 scalars: float32's shortest text
    f32 = {key: [str(np.float32(v)) for v in values] for key, values in h.items()}
    expected = "epoch;acc;loss;val_acc;val_loss\r\n" + "".join(
        "%d;%s;%s;%s;%s\r\n" % (e, f32["acc"][e], f32["loss"][e], f32["val_acc"][e], f32["val_loss"][e])
        for e in range(2))
    assert read(path) == expected.encode()


def test_floats_that_are_float32_values_are_written_as_keras_wrote_float32():
    from kerasish.callbacks.csv_logger import _format_value
    assert _format_value(float(np.float32(0.6931472))) == "0.6931472"
    assert _format_value(0.1) == 0.1  # not a float32 value: as given (csv writes 0.1)
    assert _format_value(2.0) == "2.0" and _format_value(3) == 3


def test_a_failed_write_leaves_the_previous_complete_file(tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    logger = CSVLogger(str(path))
    logger.set_model(FakeModel())
    logger.on_train_begin()
    logger.on_epoch_end(0, dict(LOGS[0]))
    good = read(path)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(io_utils.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        logger.on_epoch_end(1, dict(LOGS[1]))
    monkeypatch.undo()
    assert read(path) == good == b"epoch,acc,loss,val_loss\r\n0,0.5,1.25,2.0\r\n"
    assert os.listdir(tmp_path) == ["log.csv"]  # no temporary file left behind


def test_stopped_fit_writes_na_for_missing_validation(tmp_path):
    # validation is skipped for an epoch a callback stopped mid-way (K231), so its val_ keys are NA
    path = tmp_path / "log.csv"
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")

    class StopInSecondEpoch(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 0:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    model.fit(x, y, batch_size=4, epochs=3, verbose=0, validation_data=(x, y),
              callbacks=[StopInSecondEpoch(), CSVLogger(str(path))])
    lines = read(path).split(b"\r\n")
    assert lines[0] == b"epoch,loss,val_loss" and lines[2].endswith(b",NA") and lines[3] == b""
