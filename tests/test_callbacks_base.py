"""Keras 2.3.1 Callback, CallbackList, History and ProgbarLogger (K231 ``keras/callbacks/callbacks.py``)."""
import sys
import warnings
from collections.abc import Mapping
from unittest import mock

import pytest

from kerasish.callbacks import Callback, CallbackList, History, ProgbarLogger
from kerasish.utils import progbar

METRICS = ["loss", "accuracy", "val_loss", "val_accuracy"]
EPOCH_LOGS = {"loss": 0.2914, "accuracy": 0.9160, "val_loss": 0.1407, "val_accuracy": 0.9577}


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    fake = FakeClock()
    monkeypatch.setattr(progbar, "_clock", fake)
    return fake


class LazyLogs(Mapping):
    """Stands in for the trainer's batch logs: ``batch``/``size`` are ints, metric values cost a device sync."""

    def __init__(self, batch, size, averages, counters):
        self._plain = {"batch": batch, "size": size}
        self._averages = averages
        self._counters = counters

    def running_averages(self):
        self._counters["running_averages"] += 1
        return dict(self._averages)

    def __getitem__(self, key):
        if key in self._plain:
            return self._plain[key]
        self._counters["metric_reads"] += 1
        return self._averages[key]

    def __iter__(self):
        yield from self._plain
        yield from self._averages

    def __len__(self):
        return len(self._plain) + len(self._averages)


def _params(verbose=1, samples=100, steps=None, epochs=2):
    return {"batch_size": 32, "epochs": epochs, "steps": steps, "samples": samples, "verbose": verbose,
            "do_validation": True, "metrics": list(METRICS)}


# ------------------------------------------------------------------------------------------- CallbackList

def test_hooks_reach_every_callback_in_order_with_keras_231_arguments():
    manager = mock.Mock()
    first, second = mock.MagicMock(spec=Callback), mock.MagicMock(spec=Callback)
    manager.attach_mock(first, "first")
    manager.attach_mock(second, "second")
    callbacks = CallbackList([first, second])
    params, model, batch_logs = _params(), object(), {"batch": 0, "size": 32}

    callbacks.set_params(params)
    callbacks.set_model(model)
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    callbacks.on_train_batch_begin(0, batch_logs)
    callbacks.on_train_batch_end(0, batch_logs)
    callbacks.on_test_begin()
    callbacks.on_test_batch_begin(0, batch_logs)
    callbacks.on_test_batch_end(0, batch_logs)
    callbacks.on_test_end()
    callbacks.on_epoch_end(0, EPOCH_LOGS)
    callbacks.on_train_end()
    callbacks.on_predict_begin()
    callbacks.on_predict_batch_begin(0, batch_logs)
    callbacks.on_predict_batch_end(0)
    callbacks.on_predict_end()

    expected = []
    for name, args in (("set_params", (params,)), ("set_model", (model,)), ("on_train_begin", (None,)),
                       ("on_epoch_begin", (0, {})), ("on_train_batch_begin", (0, batch_logs)),
                       ("on_train_batch_end", (0, batch_logs)), ("on_test_begin", (None,)),
                       ("on_test_batch_begin", (0, batch_logs)), ("on_test_batch_end", (0, batch_logs)),
                       ("on_test_end", (None,)), ("on_epoch_end", (0, EPOCH_LOGS)), ("on_train_end", (None,)),
                       ("on_predict_begin", (None,)), ("on_predict_batch_begin", (0, batch_logs)),
                       ("on_predict_batch_end", (0, {})), ("on_predict_end", (None,))):
        expected.append(getattr(mock.call.first, name)(*args))
        expected.append(getattr(mock.call.second, name)(*args))
    assert manager.mock_calls == expected
    assert list(callbacks) == [first, second]


class BatchRecorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch, dict(logs)))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch, dict(logs)))


def test_on_batch_begin_and_end_receive_train_batches_only():
    recorder = BatchRecorder()
    callbacks = CallbackList([recorder])
    callbacks.on_train_batch_begin(3, {"batch": 3, "size": 8})
    callbacks.on_train_batch_end(3, {"batch": 3, "size": 8, "loss": 0.5})
    callbacks.on_batch_end(4, {"loss": 0.25})  # Keras 2 alias on the list as well
    callbacks.on_test_batch_end(0, {"loss": 1.0})
    callbacks.on_predict_batch_end(0, {})
    assert recorder.calls == [("begin", 3, {"batch": 3, "size": 8}),
                              ("end", 3, {"batch": 3, "size": 8, "loss": 0.5}),
                              ("end", 4, {"loss": 0.25})]


def test_callback_attributes_exist_before_fit_even_without_super_init():
    class NoInit(Callback):
        def __init__(self):
            pass

    for callback in (Callback(), NoInit()):
        assert callback.model is None and callback.params is None and callback.validation_data is None
    callback = Callback()
    callback.set_params({"epochs": 3})
    callback.set_model("model")
    assert callback.params == {"epochs": 3} and callback.model == "model"


def test_needs_batch_hooks_only_when_some_callback_overrides_one():
    assert not any(CallbackList().needs_batch_hooks(mode) for mode in ("train", "test", "predict"))
    defaults_only = CallbackList([Callback(), History()])
    assert not any(defaults_only.needs_batch_hooks(mode) for mode in ("train", "test", "predict"))

    logger = CallbackList([ProgbarLogger()])
    assert logger.needs_batch_hooks("train")
    assert not logger.needs_batch_hooks("test") and not logger.needs_batch_hooks("predict")

    class TrainBatchBegin(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            pass

    class TestBatchEnd(Callback):
        def on_test_batch_end(self, batch, logs=None):
            pass

    assert CallbackList([TrainBatchBegin()]).needs_batch_hooks("train")
    assert CallbackList([BatchRecorder()]).needs_batch_hooks("train")  # via the on_batch_* aliases
    only_test = CallbackList([History(), TestBatchEnd()])
    assert only_test.needs_batch_hooks("test") and not only_test.needs_batch_hooks("train")

    # A function assigned to the instance (as K231's LambdaCallback does) counts, once the list is refreshed.
    assigned = Callback()
    callbacks = CallbackList()
    callbacks.append(History())
    assert not callbacks.needs_batch_hooks("predict")
    assigned.on_predict_batch_end = lambda batch, logs: None
    callbacks.append(assigned)
    assert callbacks.needs_batch_hooks("predict")

    with pytest.raises(ValueError, match="mode must be one of"):
        callbacks.needs_batch_hooks("training")


def test_batch_hooks_skip_callbacks_that_keep_the_defaults():
    plain = Callback()
    with mock.patch.object(Callback, "on_batch_end") as default:
        callbacks = CallbackList([plain])  # built while the default is patched: nothing overrides it
    recorder = BatchRecorder()
    callbacks.append(recorder)
    callbacks.on_train_batch_end(0, {"size": 1})
    default.assert_not_called()
    assert recorder.calls == [("end", 0, {"size": 1})]


# ------------------------------------------------------------------------------------------------- History

def test_history_records_epochs_and_values_in_log_order():
    history = History()
    callbacks = CallbackList([history])
    callbacks.on_train_begin()
    callbacks.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7})
    callbacks.on_epoch_end(1, {"loss": 0.4, "accuracy": 0.85, "val_loss": 0.55, "val_accuracy": 0.75})
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [0.5, 0.4], "accuracy": [0.8, 0.85], "val_loss": [0.6, 0.55],
                               "val_accuracy": [0.7, 0.75]}
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]  # not sorted


def test_history_starts_afresh_on_train_begin():
    history = History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_train_begin()
    history.on_epoch_end(3, {"loss": 0.5})
    assert history.epoch == [3] and history.history == {"loss": [0.5]}


# ------------------------------------------------------------------------------------------- ProgbarLogger

def _start(logger, params, clock):
    callbacks = CallbackList([logger])
    callbacks.set_params(params)
    callbacks.on_train_begin()
    clock.t = 0.0
    callbacks.on_epoch_begin(0)
    return callbacks


def test_progbar_logger_prints_epoch_header_running_line_and_final_line(clock, capsys):
    counters = {"running_averages": 0, "metric_reads": 0}
    callbacks = _start(ProgbarLogger(stateful_metrics=["accuracy"]), _params(), clock)
    for batch, size in enumerate((32, 32, 32, 4)):
        clock.t = 0.01 * (batch + 1)
        logs = LazyLogs(batch, size, {"loss": 0.6931, "accuracy": 0.5}, counters)
        callbacks.on_train_batch_begin(batch, logs)
        callbacks.on_train_batch_end(batch, logs)
    clock.t = 3.78
    callbacks.on_epoch_end(0, dict(EPOCH_LOGS))
    assert capsys.readouterr().out == (
        "Epoch 1/2\n"
        "\n 32/100 [========>.....................] - ETA: 0s - loss: 0.6931 - accuracy: 0.5000"
        "\n100/100 [==============================] - 4s 38ms/step - loss: 0.2914 - accuracy: 0.9160"
        " - val_loss: 0.1407 - val_accuracy: 0.9577\n")
    assert counters == {"running_averages": 1, "metric_reads": 0}
    callbacks.on_epoch_begin(1)
    assert capsys.readouterr().out == "Epoch 2/2\n"


def test_progbar_logger_reads_values_only_when_it_draws(clock, capsys):
    counters = {"running_averages": 0, "metric_reads": 0}
    callbacks = _start(ProgbarLogger(), _params(samples=32000), clock)
    for batch in range(1000):
        # 61 us per batch: the 0.05 s throttle lets batch 0 and batch 820 draw (820 / 16384 s >= 0.05 s);
        # the last batch is left to on_epoch_end.
        clock.t = (batch + 1) / 16384
        logs = LazyLogs(batch, 32, {"loss": 0.5, "accuracy": 0.75}, counters)
        callbacks.on_train_batch_begin(batch, logs)
        callbacks.on_train_batch_end(batch, logs)
    callbacks.on_epoch_end(0, dict(EPOCH_LOGS))
    assert counters == {"running_averages": 2, "metric_reads": 0}
    lines = capsys.readouterr().out.split("\n")
    assert [line[:11] for line in lines[2:5]] == ["   32/32000", "26272/32000", "32000/32000"]


def test_progbar_logger_verbose_2_prints_one_line_per_epoch_and_reads_nothing_per_batch(clock, capsys):
    counters = {"running_averages": 0, "metric_reads": 0}
    callbacks = _start(ProgbarLogger(), _params(verbose=2), clock)
    for batch, size in enumerate((32, 32, 32, 4)):
        clock.t = 1.0 * (batch + 1)
        logs = LazyLogs(batch, size, {"loss": 0.6931, "accuracy": 0.5}, counters)
        callbacks.on_train_batch_end(batch, logs)
    clock.t = 3.78
    callbacks.on_epoch_end(0, dict(EPOCH_LOGS))
    assert capsys.readouterr().out == (
        "Epoch 1/2\n - 4s - loss: 0.2914 - accuracy: 0.9160 - val_loss: 0.1407 - val_accuracy: 0.9577\n")
    assert counters == {"running_averages": 0, "metric_reads": 0}


def test_progbar_logger_steps_mode_counts_batches(clock, capsys):
    callbacks = _start(ProgbarLogger(count_mode="steps"), _params(verbose=2, samples=None, steps=4), clock)
    counters = {"running_averages": 0, "metric_reads": 0}
    for batch in range(4):
        callbacks.on_train_batch_end(batch, LazyLogs(batch, 32, {"loss": 1.0}, counters))
    assert callbacks.callbacks[0].seen == 4


def test_progbar_logger_with_plain_dict_logs_averages_like_keras_231(clock, capsys):
    # Per-batch loss is averaged by the bar weighted by batch size; 'accuracy' (stateful) is shown as given.
    callbacks = _start(ProgbarLogger(stateful_metrics=["accuracy"]), _params(), clock)
    for batch, (size, loss, accuracy) in enumerate(((40, 1.0, 0.5), (40, 0.5, 0.6), (20, 0.25, 0.8))):
        clock.t = float(batch + 1)
        logs = {"batch": batch, "size": size, "loss": loss, "accuracy": accuracy}
        callbacks.on_train_batch_begin(batch, logs)
        callbacks.on_train_batch_end(batch, logs)
    # Epoch loss (40 * 1.0 + 40 * 0.5 + 20 * 0.25) / 100 = 0.65. K231 shows the last batch's loss and the
    # epoch loss together, each weighted 20: (60 + 5 + 13) / 120 = 0.65 again.
    callbacks.on_epoch_end(0, {"loss": 0.65, "accuracy": 0.8, "val_loss": 0.9, "val_accuracy": 0.55})
    assert capsys.readouterr().out == (
        "Epoch 1/2\n"
        "\n 40/100 [===========>..................] - ETA: 1s - loss: 1.0000 - accuracy: 0.5000"
        "\n 80/100 [=======================>......] - ETA: 0s - loss: 0.7500 - accuracy: 0.6000"
        "\n100/100 [==============================] - 3s 30ms/step - loss: 0.6500 - accuracy: 0.8000"
        " - val_loss: 0.9000 - val_accuracy: 0.5500\n")


def test_progbar_logger_verbose_0_prints_nothing(clock, capsys):
    callbacks = _start(ProgbarLogger(), _params(verbose=0), clock)
    callbacks.on_train_batch_end(0, {"batch": 0, "size": 32, "loss": 1.0})
    callbacks.on_epoch_end(0, dict(EPOCH_LOGS))
    assert capsys.readouterr().out == ""


def test_progbar_logger_rejects_unknown_count_mode():
    with pytest.raises(ValueError, match="Unknown `count_mode`: batches"):
        ProgbarLogger(count_mode="batches")


def test_evaluation_progbar_draws_counter_and_bar_without_values(clock, capsys):
    from kerasish.callbacks.progbar_logger import EvaluationProgbar
    callbacks = CallbackList([EvaluationProgbar(target=10)])
    assert callbacks.needs_batch_hooks("test") and callbacks.needs_batch_hooks("predict")
    callbacks.on_test_begin()
    for batch, (t, size) in enumerate(((0.5, 4), (0.52, 4), (2.0, 2))):
        clock.t = t
        callbacks.on_test_batch_end(batch, {"batch": batch, "size": size, "loss": 1.0})
    callbacks.on_test_end()
    # 4/10 after 0.5 s: ETA 0.125 s * 6 = 0s; 8/10 within 0.05 s is skipped; 10/10 after 2 s: 200ms/step.
    assert capsys.readouterr().out == ("\n 4/10 [===========>..................] - ETA: 0s"
                                       "\n10/10 [==============================] - 2s 200ms/step\n")


def test_evaluation_progbar_counts_steps_and_is_silent_unless_verbose_1(clock, capsys):
    from kerasish.callbacks.progbar_logger import EvaluationProgbar
    steps = EvaluationProgbar(target=2, count_mode="steps")
    silent = EvaluationProgbar(target=2, count_mode="steps", verbose=2)
    callbacks = CallbackList([steps, silent])
    callbacks.on_predict_begin()
    clock.t = 1.0
    callbacks.on_predict_batch_end(0, {"batch": 0, "size": 32})
    clock.t = 2.0
    callbacks.on_predict_batch_end(1, {"batch": 1, "size": 32})
    assert steps.seen == 2 and silent.progbar is None
    assert capsys.readouterr().out == ("\n1/2 [==============>...............] - ETA: 1s"
                                       "\n2/2 [==============================] - 2s 1s/step\n")


def test_callback_list_queue_length_other_than_the_default_warns_that_it_is_ignored():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CallbackList([], queue_length=10)
    with pytest.warns(UserWarning, match=r"CallbackList: queue_length=20 is ignored: it sizes Keras 2.3.1's "
                                         "timing of the batch hooks"):
        CallbackList([], queue_length=20)
