"""Learning rates as Keras 2.3.1 scripts and callbacks touch them: ``K.get_value``/``K.set_value`` on
``model.optimizer.lr``, ``LearningRateScheduler`` and ``ReduceLROnPlateau`` (K231 ``keras/callbacks/callbacks.py``).

K231 keeps the learning rate in a float32 variable: ``float(K.get_value(lr))`` of 0.001 is
0.0010000000474974513, and the expected values below follow that arithmetic in NumPy.
"""
import copy
import pickle

import numpy as np
import pytest
import torch

from kerasish import backend as K
from kerasish.callbacks import Callback, LearningRateScheduler, ReduceLROnPlateau
from kerasish.optimizers import SGD, Adam, learning_rate_of

from helpers import ScriptedLogs, tiny_data, tiny_model


def make_model(optimizer=None):
    return tiny_model(optimizer=optimizer if optimizer is not None else SGD(lr=0.001))


make_data, Scripted = tiny_data, ScriptedLogs


def fit(model, callbacks, epochs, **kwargs):
    return model.fit(*make_data(), batch_size=5, epochs=epochs, verbose=0, callbacks=callbacks, **kwargs)


def f32(value):
    """What K231's float(K.get_value(lr)) gives for a rate stored in its float32 variable."""
    return float(np.float32(value))


# ------------------------------------------------------------------------------------------ K.get_value / set_value
def test_get_value_reads_the_learning_rate_as_a_float32_numpy_scalar():
    model = make_model(SGD(lr=0.001))
    value = K.get_value(model.optimizer.lr)
    assert type(value) is np.float32 and float(value) == 0.0010000000474974513
    assert K.get_value(model.optimizer.learning_rate) == value
    assert model.optimizer.lr == 0.001 and isinstance(model.optimizer.lr, float)


def test_set_value_changes_the_rate_the_next_steps_use():
    model = make_model(SGD(lr=0.001))
    fit(model, None, 1)  # binds the optimizer to the weights
    K.set_value(model.optimizer.lr, 0.5)
    assert model.optimizer.param_groups[0]["lr"] == 0.5 and type(model.optimizer.param_groups[0]["lr"]) is float
    model.optimizer.lr = np.float32(0.25)  # attribute assignment, as Keras scripts also do
    assert model.optimizer.lr == 0.25 and type(model.optimizer.param_groups[0]["lr"]) is float
    # the rate is live: a value read before the change reads the new rate through get_value
    handle = model.optimizer.lr
    model.optimizer.learning_rate = 0.125
    assert K.get_value(handle) == np.float32(0.125)


def test_set_value_lr_takes_effect_in_training():
    model = make_model(SGD(lr=0.1))
    fit(model, None, 1)
    K.set_value(model.optimizer.lr, 0.0)
    before = model.get_weights()
    fit(model, None, 1)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_set_value_on_a_plain_float_explains_what_to_pass():
    with pytest.raises(TypeError, match=r"K.set_value\(model.optimizer.lr, value\)"):
        K.set_value(0.01, 0.1)


def test_a_kept_lr_value_pickles_and_copies_as_a_plain_float():
    model = make_model(Adam(lr=0.002))
    lr = model.optimizer.lr
    for clone in (pickle.loads(pickle.dumps(lr)), copy.copy(lr), copy.deepcopy(lr)):
        assert type(clone) is float and clone == 0.002


def test_learning_rate_of_a_torch_optimizer_reads_and_writes_its_param_groups():
    p = torch.nn.Parameter(torch.zeros(2))
    q = torch.nn.Parameter(torch.zeros(2))
    torch_opt = torch.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=0.1)
    lr = learning_rate_of(torch_opt)
    assert lr == 0.1 and K.get_value(lr) == np.float32(0.1)
    K.set_value(lr, 0.05)  # Keras has one rate: every group gets it
    assert [g["lr"] for g in torch_opt.param_groups] == [0.05, 0.05] and torch_opt.defaults["lr"] == 0.05
    assert type(torch_opt) is torch.optim.SGD and not hasattr(torch_opt, "lr")  # the torch class is untouched


def test_learning_rate_of_a_keras_optimizer_is_its_lr_and_an_optimizer_without_one_is_refused():
    opt = Adam(lr=0.002)
    assert K.get_value(learning_rate_of(opt)) == K.get_value(opt.lr)
    with pytest.raises(ValueError, match='^Optimizer must have a "lr" attribute.$'):
        learning_rate_of(object())


def test_lr_callbacks_drive_a_torch_optimizer_given_to_compile():
    model = make_model(SGD())
    torch_opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.compile(optimizer=torch_opt, loss="categorical_crossentropy")
    history = fit(model, [LearningRateScheduler(lambda epoch, lr: lr * 0.5)], 2)
    assert [float(v) for v in history.history["lr"]] == [f32(f32(0.1) * 0.5), f32(f32(f32(0.1) * 0.5) * 0.5)]
    assert model.optimizer is torch_opt


def test_reduce_lr_on_a_torch_optimizer_class_built_by_fit():
    model = make_model(SGD())
    model.compile(optimizer=torch.optim.Adam, loss="categorical_crossentropy")
    history = fit(model, [ReduceLROnPlateau(monitor="loss", patience=0, min_delta=100.0)], 2)
    assert isinstance(model.optimizer, torch.optim.Adam)
    # torch's Adam default 1e-3; epoch 0 improves on +inf, epoch 1 does not improve by 100 -> reduced after it
    assert [float(v) for v in history.history["lr"]] == [f32(1e-3)] * 2
    assert model.optimizer.param_groups[0]["lr"] == f32(1e-3) * 0.1


# ------------------------------------------------------------------------------------------ LearningRateScheduler
def test_scheduler_calls_schedule_with_epoch_and_lr_and_logs_lr():
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    model = make_model(SGD(lr=0.1))
    history = fit(model, [LearningRateScheduler(schedule)], 3)
    assert [e for e, _ in seen] == [0, 1, 2]
    expected_inputs = [f32(0.1), f32(f32(0.1) * 0.5), f32(f32(f32(0.1) * 0.5) * 0.5)]
    assert [lr for _, lr in seen] == expected_inputs
    assert [float(v) for v in history.history["lr"]] == [f32(x * 0.5) for x in expected_inputs]
    assert type(history.history["lr"][0]) is np.float32  # K231 logs K.get_value(lr)


def test_scheduler_falls_back_to_schedule_of_epoch_only():
    model = make_model(SGD(lr=0.1))
    history = fit(model, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], 2)
    assert [float(v) for v in history.history["lr"]] == [f32(0.01), f32(0.02)]
    assert model.optimizer.lr == 0.02


def test_scheduler_sets_the_rate_before_the_epoch_trains():
    weights = []
    record = Callback()
    record.on_epoch_end = lambda epoch, logs: weights.append(model.get_weights())
    model = make_model(SGD(lr=0.1))
    fit(model, [LearningRateScheduler(lambda epoch, lr: 0.0 if epoch == 1 else 0.1), record], 3)
    np.testing.assert_array_equal(weights[0][0], weights[1][0])  # epoch 1 trained with lr 0
    assert not np.array_equal(weights[1][0], weights[2][0])


@pytest.mark.parametrize("bad", [1, "0.1", None, torch.tensor(0.1)])
def test_scheduler_output_must_be_a_float(bad):
    model = make_model()
    with pytest.raises(ValueError, match='^The output of the "schedule" function should be float.$'):
        fit(model, [LearningRateScheduler(lambda epoch, lr: bad)], 1)


def test_scheduler_accepts_numpy_floats_and_get_value_results():
    model = make_model(SGD(lr=0.1))
    fit(model, [LearningRateScheduler(lambda epoch: K.get_value(model.optimizer.lr) * np.float32(0.5))], 2)
    assert model.optimizer.lr == pytest.approx(0.025)


def test_scheduler_verbose_prints_keras_message(capsys):
    model = make_model(SGD(lr=0.001))
    fit(model, [LearningRateScheduler(lambda epoch, lr: lr, verbose=1)], 2)
    line = "\nEpoch %05d: LearningRateScheduler setting learning rate to 0.0010000000474974513.\n"
    assert capsys.readouterr().out == line % 1 + line % 2


def test_scheduler_needs_an_optimizer_with_a_learning_rate():
    class Model:
        optimizer = object()

    scheduler = LearningRateScheduler(lambda epoch: 0.1)
    scheduler.set_model(Model())
    with pytest.raises(ValueError, match='Optimizer must have a "lr" attribute.'):
        scheduler.on_epoch_begin(0)


# ------------------------------------------------------------------------------------------ ReduceLROnPlateau
def test_factor_of_one_or_more_is_rejected():
    with pytest.raises(ValueError, match=r"^ReduceLROnPlateau does not support a factor >= 1.0.$"):
        ReduceLROnPlateau(factor=1.0)


def test_legacy_epsilon_is_min_delta_with_a_deprecation_warning():
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated and will be removed, use `min_delta` "
                                         "instead."):
        reduce = ReduceLROnPlateau(epsilon=0.5)
    assert reduce.min_delta == 0.5


def test_unknown_keyword_is_ignored_with_a_did_you_mean_warning():
    with pytest.warns(UserWarning, match="ignoring the unknown keyword argument 'minlr'.*did you mean 'min_lr'"):
        reduce = ReduceLROnPlateau(minlr=0.1)
    assert reduce.min_lr == 0


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(RuntimeWarning, match="Learning Rate Plateau Reducing mode up is unknown, fallback to auto"):
        reduce = ReduceLROnPlateau(monitor="val_acc", mode="up")
    assert reduce.mode == "auto" and reduce.best == -np.inf


def test_reduces_after_patience_epochs_without_improvement_and_logs_the_epoch_rate():
    # min mode, min_delta 1e-4: 1.0 best; 1.0, 1.0 -> reduce at epoch 2; 0.5 improves; 0.6, 0.7 -> reduce at 5
    model = make_model(SGD(lr=0.001))
    script = Scripted("score", [1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8])
    reduce = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2)
    history = fit(model, [script, reduce], 7)
    lr0 = f32(0.001)
    lr1 = f32(lr0 * 0.5)
    lr2 = lr1 * 0.5
    assert [float(v) for v in history.history["lr"]] == [lr0, lr0, lr0, lr1, lr1, lr1, f32(lr2)]
    assert model.optimizer.lr == lr2 and reduce.wait == 1


def test_min_delta_must_be_exceeded_to_count_as_improvement():
    model = make_model(SGD(lr=0.001))
    script = Scripted("score", [1.0, 0.95, 0.9, 0.85])
    history = fit(model, [script, ReduceLROnPlateau(monitor="score", factor=0.1, patience=1, min_delta=0.1)], 4)
    # each gain is 0.05 < 0.1: every epoch after the first reduces
    lrs = [float(v) for v in history.history["lr"]]
    assert lrs == [f32(0.001), f32(0.001), f32(f32(0.001) * 0.1), f32(f32(f32(0.001) * 0.1) * 0.1)]


def test_auto_mode_maximises_acc():
    model = make_model(SGD(lr=0.001))
    script = Scripted("val_acc", [0.5, 0.6, 0.7, 0.7])
    history = fit(model, [script, ReduceLROnPlateau(monitor="val_acc", patience=1)], 4)
    assert [float(v) for v in history.history["lr"]] == [f32(0.001)] * 4  # reduced only after the last epoch
    assert model.optimizer.lr == f32(0.001) * 0.1


def test_cooldown_pauses_counting_after_a_reduction():
    # patience 1, cooldown 2, no improvement after epoch 0. K231's counters give reductions at epochs 1, 3, 5:
    # the cooldown epoch that brings the counter to 0 also counts towards patience.
    model = make_model(SGD(lr=1.0))
    script = Scripted("score", [1.0] * 7)
    history = fit(model, [script, ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, cooldown=2)], 7)
    assert [float(v) for v in history.history["lr"]] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_min_lr_is_a_floor_and_no_message_once_reached(capsys):
    model = make_model(SGD(lr=1.0))
    script = Scripted("score", [1.0] * 5)
    history = fit(model, [script, ReduceLROnPlateau(monitor="score", factor=0.1, patience=1, min_lr=0.25,
                                                    verbose=1)], 5)
    assert [float(v) for v in history.history["lr"]] == [1.0, 1.0, 0.25, 0.25, 0.25]
    assert capsys.readouterr().out == "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.25.\n"


def test_min_lr_not_exact_in_float32_is_set_again_at_each_patience_as_in_keras(capsys):
    # K231 compares float(float32 variable) 0.05000000074505806 > min_lr 0.05, so it "reduces" to 0.05 again
    model = make_model(SGD(lr=1.0))
    script = Scripted("score", [1.0] * 4)
    history = fit(model, [script, ReduceLROnPlateau(monitor="score", factor=0.1, patience=1, min_lr=0.05,
                                                    verbose=1)], 4)
    assert [float(v) for v in history.history["lr"]] == [1.0, 1.0, f32(0.1), f32(0.05)]
    line = "\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s.\n"
    assert capsys.readouterr().out == line % (2, "0.1") + line % (3, "0.05") + line % (4, "0.05")


def test_verbose_message_shows_the_float32_arithmetic_of_keras(capsys):
    model = make_model(SGD(lr=0.001))
    fit(model, [Scripted("score", [1.0, 1.0]), ReduceLROnPlateau(monitor="score", patience=1, verbose=1)], 2)
    assert capsys.readouterr().out == ("\nEpoch 00002: ReduceLROnPlateau reducing learning rate to "
                                       "0.00010000000474974513.\n")


def test_missing_monitor_warns_with_the_available_metrics():
    model = make_model()
    with pytest.warns(RuntimeWarning) as record:
        history = fit(model, [ReduceLROnPlateau(patience=0)], 2)
    # kerasish (issue 15): said once, before training, with the keys this fit will log (Keras 2.3.1 repeats
    # "Reduce LR on plateau conditioned on metric `val_loss` which is not available" every epoch).
    assert [str(w.message) for w in record] == [
        "ReduceLROnPlateau: monitor='val_loss' will not be among the logs of this fit, so it is ignored every "
        "epoch. Available keys: loss, acc, lr. Did you mean 'loss'? `val_` values exist only when fit has "
        "validation data (validation_data=... or validation_split=...)."]
    assert [float(v) for v in history.history["lr"]] == [f32(0.001)] * 2


def test_real_plateau_of_a_model_that_barely_learns():
    # lr 1e-6: val_loss moves by far less than min_delta=1e-4, so every 2 epochs the rate is halved
    model = make_model(SGD(lr=1e-6))
    history = fit(model, [ReduceLROnPlateau(factor=0.5, patience=2)], 6, validation_split=0.25)
    lr0 = f32(1e-6)
    lr1 = f32(lr0 * 0.5)
    assert [float(v) for v in history.history["lr"]] == [lr0, lr0, lr0, lr1, lr1, f32(lr1 * 0.5)]
    assert model.optimizer.lr == lr1 * 0.5
