"""Callbacks that read log keys fail or warn before the first epoch trains (issue 15).

Keras 2.3.1 formats ModelCheckpoint's file name at the end of each epoch, so a wrong placeholder costs an epoch of
training, and it warns about a monitor that is never logged at every epoch. Here ``fit`` knows the keys it will log
(the model's metric names, their ``val_`` twins with validation data, ``lr`` from the learning-rate callbacks), so
a wrong placeholder raises before training (weights and optimizer untouched, no file written) and a wrong
monitor is said once, at the user's ``fit`` line, with the closest key.
"""
import os
import warnings

import numpy as np
import pytest

from kerasish.callbacks import Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from helpers import tiny_data, tiny_model


def fit_with(callbacks, epochs=2, validation=False, metrics=("acc",)):
    model = tiny_model(metrics=metrics)
    x, y = tiny_data()
    model.fit(x, y, batch_size=10, epochs=epochs, verbose=0, callbacks=callbacks,
              validation_split=0.25 if validation else 0.0)
    return model


def assert_fails_before_training(callback, error, match, validation=False):
    model = tiny_model()
    x, y = tiny_data()
    model.build((None, 4))
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[callback],
                  validation_split=0.25 if validation else 0.0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


# ------------------------------------------------------------------------------ ModelCheckpoint placeholders
def test_an_unknown_placeholder_fails_before_the_first_epoch(tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "m_{foo}.h5"))
    assert_fails_before_training(callback, KeyError, r"Failed to format this callback filepath: .*m_\{foo\}\.h5.*"
                                 r"Reason: \{foo\} will not be among the logs of this fit \(epoch, loss, acc\)")
    assert os.listdir(tmp_path) == []


def test_a_misspelt_placeholder_names_the_closest_key(tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "m_{val_los:.2f}.h5"))
    assert_fails_before_training(callback, KeyError, r"\(epoch, loss, acc, val_loss, val_acc\)\. Did you mean "
                                 r"\W+val_loss\W+\?", validation=True)


def test_a_val_placeholder_without_validation_data_fails_before_training(tmp_path):
    assert_fails_before_training(ModelCheckpoint(str(tmp_path / "{val_loss:.2f}.h5")), KeyError,
                                 r"\{val_loss\} will not be among the logs of this fit \(epoch, loss, acc\)")


@pytest.mark.parametrize("pattern, reason", [("{epoch:s}.h5", "Unknown format code 's'"),
                                             ("{}.h5", "Replacement index 0"),
                                             ("{loss:d}.h5", "Unknown format code 'd'")])
def test_a_format_that_does_not_fit_the_value_fails_before_training(tmp_path, pattern, reason):
    assert_fails_before_training(ModelCheckpoint(str(tmp_path / pattern)), ValueError,
                                 rf"ModelCheckpoint: cannot format the filepath .*{pattern[:3]}.*{reason}.*epoch "
                                 r"and batch are ints")


def test_a_directory_or_write_protected_checkpoint_path_fails_before_training(tmp_path):
    folder = tmp_path / "models.h5"
    folder.mkdir()
    assert_fails_before_training(ModelCheckpoint(str(folder)), IsADirectoryError, "models.h5")
    protected = tmp_path / "best.h5"
    protected.write_bytes(b"keep me")
    protected.chmod(0o444)
    assert_fails_before_training(ModelCheckpoint(str(protected)), PermissionError, "best.h5")
    assert protected.read_bytes() == b"keep me"


def test_batch_saves_have_no_val_keys_but_have_batch(tmp_path):
    assert_fails_before_training(ModelCheckpoint(str(tmp_path / "{val_loss}.h5"), save_freq=1), KeyError,
                                 r"\(epoch, batch, size, loss, acc\)", validation=True)
    fit_with([ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}-{loss:.1f}.h5"), save_freq=2)], epochs=1)
    assert sorted(os.listdir(tmp_path))[0].startswith("b1-2-")


def test_valid_placeholders_still_save_every_epoch(tmp_path):
    fit_with([ReduceLROnPlateau(monitor="val_loss"),
              ModelCheckpoint(str(tmp_path / "m{epoch:02d}-{val_acc:.2f}-{lr:.3f}.h5"))], validation=True)
    names = sorted(os.listdir(tmp_path))
    assert [n[:3] for n in names] == ["m01", "m02"] and all(n.endswith("-0.100.h5") for n in names)


class AddsFoo(Callback):
    """A user's callback that writes its own key into the epoch logs: Keras lets later callbacks use it."""

    def on_epoch_end(self, epoch, logs=None):
        logs["foo"] = 7


def test_a_key_written_by_the_users_callback_is_not_refused(tmp_path):
    fit_with([AddsFoo(), ModelCheckpoint(str(tmp_path / "m_{foo}.h5"))], epochs=1)
    assert os.listdir(tmp_path) == ["m_7.h5"]


# ------------------------------------------------------------------------------ monitor names
def fit_recording_warnings(callbacks, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit_with(callbacks, epochs=3, **kwargs)
    return [w for w in record if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("make", [lambda: EarlyStopping(monitor="val_acuracy"),
                                  lambda: ReduceLROnPlateau(monitor="val_acuracy"),
                                  lambda: ModelCheckpoint("unused.h5", monitor="val_acuracy", save_best_only=True)])
def test_a_misspelt_monitor_is_said_once_at_the_users_line_with_the_closest_key(make, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    callback = make()
    record = fit_recording_warnings([callback], validation=True, metrics=("accuracy",))
    assert len(record) == 1, [str(w.message) for w in record]
    message = str(record[0].message)
    assert message.startswith(f"{type(callback).__name__}: monitor='val_acuracy' will not be among the logs")
    assert "Available keys: loss, accuracy, val_loss, val_accuracy" in message
    assert "Did you mean 'val_accuracy'" in message
    assert record[0].filename == __file__  # fit_with's model.fit line, not kerasish's


def test_val_loss_without_validation_data_says_why():
    record = fit_recording_warnings([EarlyStopping(monitor="val_loss", patience=5)])
    assert len(record) == 1
    assert "`val_` values exist only when fit has validation data" in str(record[0].message)


def test_a_monitor_that_exists_gives_no_warning(tmp_path):
    callbacks = [EarlyStopping(monitor="val_acc", patience=5), ReduceLROnPlateau(monitor="loss"),
                 ModelCheckpoint(str(tmp_path / "best.h5"), monitor="lr", save_best_only=True)]
    assert fit_recording_warnings(callbacks, validation=True) == []


def test_the_monitor_of_a_checkpoint_that_saves_every_epoch_is_not_checked(tmp_path):
    assert fit_recording_warnings([ModelCheckpoint(str(tmp_path / "m.h5"), monitor="nonsense")]) == []
