"""EarlyStopping as Keras 2.3.1 ``keras/callbacks/callbacks.py`` defines it, through real fits on a tiny model.

The monitored values are scripted by a callback placed before EarlyStopping (callbacks share the epoch logs
dict, in order), so every stopping epoch below is derived by hand from K231's rule
``monitor_op(current - min_delta, best)``.
"""
import warnings

import numpy as np
import pytest

from kerasish.callbacks import EarlyStopping

from helpers import ScriptedLogs, tiny_data, tiny_model


make_model, make_data, Scripted = tiny_model, tiny_data, ScriptedLogs


def fit(callbacks, epochs, model=None, **kwargs):
    model = model or make_model()
    x, y = make_data()
    history = model.fit(x, y, batch_size=5, epochs=epochs, verbose=0, callbacks=callbacks, **kwargs)
    return model, history


def run_scripted(values, epochs=None, **es_kwargs):
    script = Scripted("score", values)
    es = EarlyStopping(monitor="score", **es_kwargs)
    model, history = fit([script, es], epochs or len(values))
    return model, history, es, script


# ------------------------------------------------------------------------------------------ stopping epoch
def test_stops_when_patience_epochs_pass_without_improvement():
    # best 0.9 at epoch 1; epochs 2 and 3 do not improve -> wait reaches 2 at epoch 3
    _, history, es, _ = run_scripted([1.0, 0.9, 0.95, 0.92, 0.5, 0.4], patience=2)
    assert history.epoch == [0, 1, 2, 3]
    assert es.stopped_epoch == 3 and es.wait == 2 and es.best == 0.9


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    _, history, es, _ = run_scripted([1.0, 0.8, 0.8, 0.1], patience=0)
    assert history.epoch == [0, 1, 2] and es.stopped_epoch == 2


def test_min_delta_is_stored_with_the_sign_of_the_direction_and_small_gains_do_not_count():
    # K231: min_delta *= -1 in min mode; improvement iff current + 0.1 < best
    _, history, es, _ = run_scripted([1.0, 0.95, 0.85, 0.7], min_delta=0.1, patience=1)
    assert es.min_delta == -0.1
    assert history.epoch == [0, 1] and es.stopped_epoch == 1
    es_max = EarlyStopping(monitor="val_acc", min_delta=0.1)
    assert es_max.min_delta == 0.1


def test_auto_mode_maximises_names_containing_acc_and_minimises_everything_else():
    assert EarlyStopping(monitor="val_acc").monitor_op is np.greater
    assert EarlyStopping(monitor="val_accuracy").monitor_op is np.greater
    assert EarlyStopping(monitor="val_loss").monitor_op is np.less
    assert EarlyStopping(monitor="val_auc").monitor_op is np.less  # K231's rule only looks for 'acc'
    _, history, _, _ = run_scripted([0.5, 0.6, 0.55, 0.7], patience=1, mode="max")
    assert history.epoch == [0, 1, 2]


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(RuntimeWarning, match="EarlyStopping mode maximum is unknown, fallback to auto mode."):
        es = EarlyStopping(monitor="acc", mode="maximum")
    assert es.monitor_op is np.greater


def test_baseline_is_the_value_to_beat_from_the_first_epoch():
    # best starts at 0.5: 0.6 and 0.55 do not beat it -> stop at epoch 1 with patience 2
    _, history, es, _ = run_scripted([0.6, 0.55, 0.4, 0.3], baseline=0.5, patience=2)
    assert history.epoch == [0, 1] and es.stopped_epoch == 1 and es.best == 0.5
    _, history, _, _ = run_scripted([0.6, 0.45, 0.44, 0.43], baseline=0.5, patience=2)
    assert history.epoch == [0, 1, 2, 3]


def test_a_reused_instance_starts_afresh_on_each_fit():
    script = Scripted("score", [1.0, 1.0, 1.0])
    es = EarlyStopping(monitor="score", patience=1)
    model, history = fit([script, es], 3)
    assert history.epoch == [0, 1]
    script.values = [2.0, 2.0, 2.0]  # worse than the previous fit's best: only a fresh best lets epoch 0 improve
    _, history = fit([script, es], 3, model=model)
    assert history.epoch == [0, 1] and es.best == 2.0


# ------------------------------------------------------------------------------------------ messages
def test_verbose_prints_keras_message_at_train_end(capsys):
    run_scripted([1.0, 0.9, 0.95, 0.92, 0.5], patience=2, verbose=1)
    assert capsys.readouterr().out == "Epoch 00004: early stopping\n"


def test_stopping_at_the_first_epoch_prints_nothing_as_in_keras(capsys):
    # K231 prints only when stopped_epoch > 0
    _, history, es, _ = run_scripted([0.6, 0.1], baseline=0.5, patience=0, verbose=1)
    assert history.epoch == [0] and es.stopped_epoch == 0
    assert capsys.readouterr().out == ""


def test_missing_monitor_warns_with_the_available_metrics_and_does_not_stop():
    es = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(RuntimeWarning) as record:
        _, history = fit([es], 2)
    assert history.epoch == [0, 1]
    # kerasish (issue 15): said once, before training (Keras 2.3.1 repeats "Early stopping conditioned on metric
    # `val_loss` which is not available" every epoch).
    assert [str(w.message) for w in record] == [
        "EarlyStopping: monitor='val_loss' will not be among the logs of this fit, so it is ignored every epoch. "
        "Available keys: loss, acc. Did you mean 'loss'? `val_` values exist only when fit has validation data "
        "(validation_data=... or validation_split=...)."]


# ------------------------------------------------------------------------------------------ best weights
def test_restore_best_weights_restores_the_best_epoch_when_it_stops(capsys):
    model, history, es, script = run_scripted([1.0, 0.4, 0.6, 0.7, 0.8, 0.1], patience=2,
                                              restore_best_weights=True, verbose=1)
    assert history.epoch == [0, 1, 2, 3]
    assert not np.allclose(script.weights[1][0], script.weights[3][0])  # the model did move after epoch 1
    for restored, best in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(restored, best)
    for kept, best in zip(es.best_weights, script.weights[1]):  # K231's list of arrays in Keras layouts
        np.testing.assert_array_equal(kept, best)
    assert capsys.readouterr().out == ("Restoring model weights from the end of the best epoch\n"
                                       "Epoch 00004: early stopping\n")


def test_restore_best_weights_does_nothing_when_training_runs_to_the_end():
    # K231 (keras-team/keras#12511): the best epoch is 1 but fit ends without stopping -> last weights kept
    model, history, es, script = run_scripted([1.0, 0.4, 0.6, 0.7], patience=5, restore_best_weights=True)
    assert history.epoch == [0, 1, 2, 3]
    for final, last in zip(model.get_weights(), script.weights[3]):
        np.testing.assert_array_equal(final, last)
    model.set_weights(es.best_weights)  # the usual workaround still works
    for final, best in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(final, best)


def test_best_weights_are_kept_on_the_device_and_restored_in_place(monkeypatch):
    model = make_model()
    model.fit(*make_data(), epochs=1, verbose=0)  # build and bind the optimizer
    params_before = list(model.weights)

    def no_host_copy():
        raise AssertionError("EarlyStopping must not copy the weights to the host")

    monkeypatch.setattr(model, "get_weights", no_host_copy)
    script = Scripted("score", [1.0, 0.5, 0.9, 0.9])
    script.on_epoch_end = lambda epoch, logs: logs.__setitem__("score", script.values[epoch])
    es = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    fit([script, es], 4, model=model)
    assert es.stopped_epoch == 3
    # same Parameter objects (the optimizer still updates them), now holding the epoch-1 values
    assert all(a is b for a, b in zip(model.weights, params_before))
    for weight, kept in zip(model.weights, es._best_tensors):
        assert kept.device == weight.device and kept.data_ptr() != weight.data_ptr()
        assert bool((weight == kept).all())


def test_no_restore_when_no_epoch_beat_the_baseline():
    # K231 would call set_weights(None) here and crash; the weights of the last epoch stay
    model, history, es, script = run_scripted([0.9, 0.8, 0.7], baseline=0.5, patience=2, restore_best_weights=True)
    assert history.epoch == [0, 1] and es.best_weights is None
    for final, last in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(final, last)


def test_early_stopping_on_real_validation_loss_stops_a_diverging_run():
    # lr large enough to diverge: val_loss rises after the first epochs, and training stops well before 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, history = fit([EarlyStopping(patience=1)], 50, model=make_model(lr=50.0), validation_split=0.25)
    losses = history.history["val_loss"]
    assert len(losses) < 50
    stop = len(losses) - 1
    assert min(losses[:stop]) <= losses[stop]  # the last epoch did not improve on the best before it
