"""ModelCheckpoint: Keras 2.3.1 file names, messages, best tracking and period; tf.keras's save_freq."""
import os

import numpy as np
import pytest

from kerasish.callbacks import ModelCheckpoint
from kerasish.layers import Dense
from kerasish.models import Sequential, load_model


def regression_model():
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1)])
    model.compile("sgd", "mse", metrics=["acc"])
    return model


def regression_data(n=40):
    rng = np.random.RandomState(0)
    x = rng.rand(n, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def fitted_with(callback, epochs=3, **fit_kwargs):
    model = regression_model()
    x, y = regression_data()
    history = model.fit(x, y, batch_size=10, epochs=epochs, verbose=0, callbacks=[callback], **fit_kwargs)
    return model, history


def test_file_names_are_formatted_with_the_1_based_epoch_and_the_epoch_logs(tmp_path):
    pattern = str(tmp_path / "weights.{epoch:02d}-{val_loss:.2f}.hdf5")
    _, history = fitted_with(ModelCheckpoint(pattern), validation_split=0.25)
    expected = sorted(f"weights.{epoch + 1:02d}-{val_loss:.2f}.hdf5"
                      for epoch, val_loss in zip(history.epoch, history.history["val_loss"]))
    assert sorted(os.listdir(tmp_path)) == expected  # and no temporary file left behind
    loaded = load_model(tmp_path / expected[-1])
    assert loaded.metrics_names == ["loss", "acc"]


def test_the_last_checkpoint_holds_the_final_model(tmp_path):
    model, _ = fitted_with(ModelCheckpoint(str(tmp_path / "last.h5")))
    x, _ = regression_data()
    np.testing.assert_array_equal(load_model(tmp_path / "last.h5").predict(x), model.predict(x))


def test_keras_messages_for_improved_not_improved_and_plain_saves(tmp_path, capsys):
    path = str(tmp_path / "best.h5")
    callback = ModelCheckpoint(path, verbose=1, save_best_only=True)
    callback.set_model(regression_model())
    callback.model.build((None, 3))
    callback.on_epoch_end(0, {"val_loss": 0.31})
    callback.on_epoch_end(1, {"val_loss": 0.35})
    callback.on_epoch_end(2, {"val_loss": 0.29})
    plain = ModelCheckpoint(str(tmp_path / "w{epoch}.h5"), verbose=1)
    plain.set_model(callback.model)
    plain.on_epoch_end(6, {"val_loss": 0.5})
    assert capsys.readouterr().out == (
        f"\nEpoch 00001: val_loss improved from inf to 0.31000, saving model to {path}\n"
        "\nEpoch 00002: val_loss did not improve from 0.31000\n"
        f"\nEpoch 00003: val_loss improved from 0.31000 to 0.29000, saving model to {path}\n"
        f"\nEpoch 00007: saving model to {tmp_path / 'w7.h5'}\n")


def test_save_best_only_keeps_the_best_weights(tmp_path):
    path = tmp_path / "best.h5"
    model = regression_model()
    model.build((None, 3))
    callback = ModelCheckpoint(str(path), save_best_only=True, save_weights_only=True)
    callback.set_model(model)
    callback.on_epoch_end(0, {"val_loss": 0.5})
    best = model.get_weights()
    model.set_weights([w + 1 for w in best])
    callback.on_epoch_end(1, {"val_loss": 0.6})  # worse: the file keeps epoch 1's weights
    reader = regression_model()
    reader.load_weights(path)
    for a, b in zip(reader.get_weights(), best):
        np.testing.assert_array_equal(a, b)
    callback.on_epoch_end(2, {"val_loss": 0.4})
    reader.load_weights(path)
    for a, b in zip(reader.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("monitor, mode, greater", [
    ("val_loss", "auto", False), ("val_acc", "auto", True), ("val_accuracy", "auto", True),
    ("fmeasure", "auto", True), ("val_auc", "auto", False),  # Keras 2.3.1: only 'acc' and 'fmeasure*' maximise
    ("val_loss", "max", True), ("val_acc", "min", False)])
def test_mode_picks_the_direction_as_keras_2_3_1(monitor, mode, greater):
    callback = ModelCheckpoint("x.h5", monitor=monitor, mode=mode)
    assert (callback.monitor_op is np.greater) == greater
    assert callback.best == (-np.inf if greater else np.inf)


def test_unknown_mode_and_missing_monitor_warn_with_keras_text(tmp_path):
    with pytest.warns(RuntimeWarning, match="ModelCheckpoint mode sideways is unknown, fallback to auto mode."):
        ModelCheckpoint("x.h5", mode="sideways")
    callback = ModelCheckpoint(str(tmp_path / "m.h5"), monitor="val_acc", save_best_only=True)
    callback.set_model(regression_model())
    with pytest.warns(RuntimeWarning, match="Can save best model only with val_acc available, skipping."):
        callback.on_epoch_end(0, {"loss": 0.1})
    assert not os.listdir(tmp_path)


def test_save_weights_only_writes_a_weights_file(tmp_path):
    model, _ = fitted_with(ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True), epochs=1)
    with pytest.raises(ValueError, match="holds only weights"):
        load_model(tmp_path / "w.h5")
    reader = regression_model()
    reader.load_weights(tmp_path / "w.h5")
    for a, b in zip(reader.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_period_saves_every_n_epochs(tmp_path):
    fitted_with(ModelCheckpoint(str(tmp_path / "m{epoch}.h5"), period=2), epochs=5)
    assert sorted(os.listdir(tmp_path)) == ["m2.h5", "m4.h5"]


def test_integer_save_freq_saves_every_n_batches_across_epochs(tmp_path, capsys):
    # 40 samples / batch 10 = 4 batches per epoch; every 3 batches: epoch 1 batch 3, epoch 2 batch 2, epoch 3 batch 1
    fitted_with(ModelCheckpoint(str(tmp_path / "m{epoch}-{batch}.h5"), save_freq=3, verbose=1), epochs=3)
    assert sorted(os.listdir(tmp_path)) == ["m1-3.h5", "m2-2.h5", "m3-1.h5", "m3-4.h5"]
    assert capsys.readouterr().out.count("saving model to") == 4


def test_epoch_save_freq_does_not_ask_for_batch_hooks():
    from kerasish.callbacks import CallbackList
    assert not CallbackList([ModelCheckpoint("x.h5")]).needs_batch_hooks("train")
    assert CallbackList([ModelCheckpoint("x.h5", save_freq=2)]).needs_batch_hooks("train")


@pytest.mark.parametrize("save_freq", [0, "batch", 2.5, True])
def test_invalid_save_freq_is_refused(save_freq):
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint("x.h5", save_freq=save_freq)


def test_a_log_key_missing_from_the_file_name_is_a_clear_error(tmp_path):
    with pytest.raises(KeyError, match=r"Failed to format this callback filepath.*val_loss"):
        fitted_with(ModelCheckpoint(str(tmp_path / "{val_loss:.2f}.h5")), epochs=1)
