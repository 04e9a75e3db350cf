"""fit/evaluate/predict semantics of Keras 2.3.1, checked against NumPy references."""
import os
import re
import signal
import threading

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from kerasish.callbacks import Callback
from kerasish.layers import Dense, Dropout, TorchModule
from kerasish.models import Sequential
from kerasish.optimizers import SGD, Adam
from kerasish.training.compile_utils import MetricsTracker
from kerasish.utils import to_categorical

from helpers import InputRecorder


def softmax_np(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def make_data(n=20, features=4, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, features).astype("float32")
    labels = rng.randint(0, classes, size=n)
    return x, labels, to_categorical(labels, classes)


def softmax_model(features=4, classes=3, metrics=("accuracy",), lr=0.0):
    model = Sequential([Dense(classes, activation="softmax", input_shape=(features,))])
    model.compile(optimizer=SGD(lr=lr), loss="categorical_crossentropy", metrics=list(metrics))
    return model


def reference_ce(model, x, y_onehot):
    kernel, bias = model.get_weights()
    probs = softmax_np(x @ kernel + bias)
    return -(y_onehot * np.log(probs)).sum(axis=1), probs


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.epoch_logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_logs.append(dict(logs))


# ------------------------------------------------------------------------------------------ values
def test_epoch_loss_and_accuracy_match_numpy_reference_over_uneven_batches():
    x, labels, y = make_data(n=20)
    model = softmax_model()  # lr=0: weights stay fixed, so every batch sees the same function
    per_sample, probs = reference_ce(model, x, y)
    history = model.fit(x, y, batch_size=7, epochs=1, verbose=0, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(per_sample.mean(), rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx((probs.argmax(1) == labels).mean())


def test_evaluate_returns_loss_then_metrics_in_metrics_names_order():
    x, labels, y = make_data(n=30)
    model = softmax_model(metrics=["acc", "mse"])
    per_sample, probs = reference_ce(model, x, y)
    assert model.metrics_names == ["loss", "acc", "mse"]
    loss, acc, mse = model.evaluate(x, y, batch_size=8, verbose=0)
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5)
    assert acc == pytest.approx((probs.argmax(1) == labels).mean())
    assert mse == pytest.approx(((probs - y) ** 2).mean(), rel=1e-5)


def test_accuracies_read_the_argmax_of_the_logits_and_other_metrics_the_probabilities(monkeypatch):
    x, labels, y = make_data(n=30)
    for metrics, softmax_for_metrics in ((["acc", "categorical_accuracy"], False), (["acc", "mse"], True)):
        model = softmax_model(metrics=metrics)
        _, probs = reference_ce(model, x, y)
        activations = []
        final_activation = model.final_activation
        monkeypatch.setattr(model, "final_activation", lambda out: activations.append(1) or final_activation(out))
        _, acc, second = model.evaluate(x, y, batch_size=8, verbose=0)
        # the softmax keeps the argmax: accuracies need no probabilities, mse does
        assert bool(activations) is softmax_for_metrics
        assert acc == pytest.approx((probs.argmax(1) == labels).mean())
        want = ((probs - y) ** 2).mean() if "mse" in metrics else (probs.argmax(1) == labels).mean()
        assert second == pytest.approx(want, rel=1e-5)


def test_evaluate_without_metrics_returns_a_scalar():
    x, _, y = make_data()
    model = softmax_model(metrics=())
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, float)
    assert result == pytest.approx(reference_ce(model, x, y)[0].mean(), rel=1e-5)


def test_sample_weight_scales_loss_as_keras_sum_over_batch_size():
    x, _, y = make_data(n=12)
    weights = np.linspace(0.0, 2.0, 12).astype("float32")
    model = softmax_model(metrics=())
    per_sample, _ = reference_ce(model, x, y)
    history = model.fit(x, y, sample_weight=weights, batch_size=12, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx((per_sample * weights).sum() / 12, rel=1e-5)


def test_class_weight_equals_the_matching_sample_weights():
    x, labels, y = make_data(n=18)
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    model = softmax_model(metrics=())
    per_sample, _ = reference_ce(model, x, y)
    expected = (per_sample * np.array([class_weight[c] for c in labels])).mean()
    history = model.fit(x, y, class_weight=class_weight, batch_size=18, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_class_weight_missing_a_class_is_an_error():
    x, _, y = make_data(n=18)
    model = softmax_model()
    with pytest.raises(ValueError, match=r"`class_weight` must contain all classes in the data. The classes \[2\]"):
        model.fit(x, y, class_weight={0: 1.0, 1: 1.0}, verbose=0)


def test_predict_matches_numpy_forward_and_predict_classes_takes_argmax():
    x, _, y = make_data(n=10)
    model = softmax_model()
    _, probs = reference_ce(model, x, y)
    np.testing.assert_allclose(model.predict(x, batch_size=3), probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict_classes(x), probs.argmax(1))
    np.testing.assert_allclose(model.predict_on_batch(x), probs, rtol=1e-5, atol=1e-6)


def test_predict_classes_thresholds_a_single_sigmoid_unit_at_half():
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    model.set_weights([np.array([[1.0], [0.0]], "float32"), np.zeros(1, "float32")])
    classes = model.predict_classes(np.array([[2.0, 0.0], [-2.0, 0.0]], "float32"))
    np.testing.assert_array_equal(classes, [[1], [0]])


def test_loss_from_logits_when_the_model_ends_in_softmax_is_exact_for_saturated_outputs():
    model = softmax_model(features=2, classes=2, metrics=())
    model.set_weights([np.array([[500.0, -500.0], [0.0, 0.0]], "float32"), np.zeros(2, "float32")])
    x = np.array([[1.0, 0.0]], "float32")
    y = np.array([[0.0, 1.0]], "float32")
    # logits (500, -500): -log softmax = 1000 exactly; clipped probabilities would give -log(1e-7) = 16.1
    assert model.evaluate(x, y, verbose=0) == pytest.approx(1000.0, rel=1e-6)


# ------------------------------------------------------------------------------------------ training
def test_training_reduces_loss_and_learns_a_separable_problem():
    rng = np.random.RandomState(1)
    x = rng.randn(200, 2).astype("float32")
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = Sequential([Dense(8, activation="relu", input_dim=2), Dense(2, activation="softmax")])
    model.compile(optimizer=Adam(lr=0.05), loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, labels, batch_size=16, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["acc"][-1] > 0.9


def test_fit_again_continues_and_resuming_at_initial_epoch_equals_an_uninterrupted_run():
    x, _, y = make_data(n=40)

    def trained(split):
        torch.manual_seed(3)
        model = Sequential([Dense(5, activation="relu", input_dim=4), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        if split:
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
            model.fit(x, y, batch_size=8, epochs=4, initial_epoch=2, verbose=0)
        else:
            model.fit(x, y, batch_size=8, epochs=4, verbose=0)
        return model.get_weights()

    for a, b in zip(trained(split=True), trained(split=False)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_history_epochs_run_from_initial_epoch_to_epochs():
    x, _, y = make_data()
    history = softmax_model().fit(x, y, epochs=5, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3, 4]
    assert len(history.history["loss"]) == 3


# ------------------------------------------------------------------------------------------ validation
def test_validation_split_takes_last_fraction_before_shuffling():
    x, _, y = make_data(n=20)
    seen = {}

    class Capture(Callback):
        def on_train_begin(self, logs=None):
            seen["val"] = self.validation_data
            seen["samples"] = self.params["samples"]

    softmax_model().fit(x, y, validation_split=0.25, epochs=1, verbose=0, callbacks=[Capture()])
    assert seen["samples"] == 15  # int(20 * (1 - 0.25))
    np.testing.assert_array_equal(seen["val"][0].cpu().numpy(), x[15:])
    np.testing.assert_array_equal(seen["val"][1].cpu().numpy(), y[15:])


def test_history_keys_follow_keras_2_3_1_order_val_first_with_the_users_metric_name():
    x, _, y = make_data(n=20)
    history = softmax_model(metrics=["accuracy"]).fit(x, y, validation_split=0.2, epochs=2, verbose=0)
    assert list(history.history) == ["val_loss", "val_accuracy", "loss", "accuracy"]
    history = softmax_model(metrics=["acc"]).fit(x, y, validation_split=0.2, epochs=1, verbose=0)
    assert list(history.history) == ["val_loss", "val_acc", "loss", "acc"]


def test_validation_values_equal_evaluate_on_the_validation_rows():
    x, _, y = make_data(n=20)
    model = softmax_model()
    history = model.fit(x, y, validation_data=(x[:6], y[:6]), epochs=1, verbose=0)
    loss, acc = model.evaluate(x[:6], y[:6], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(acc)


def test_validation_data_with_sample_weights():
    x, _, y = make_data(n=20)
    weights = np.arange(6, dtype="float32")
    model = softmax_model(metrics=())
    per_sample, _ = reference_ce(model, x[:6], y[:6])
    history = model.fit(x, y, validation_data=(x[:6], y[:6], weights), epochs=1, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx((per_sample * weights).sum() / 6, rel=1e-5)


@pytest.mark.parametrize("freq, expected_epochs", [(2, [1, 3]), ([1, 4], [0, 3])])
def test_validation_freq_runs_validation_only_on_the_chosen_epochs(freq, expected_epochs):
    x, _, y = make_data(n=20)
    recorder = Recorder()
    softmax_model().fit(x, y, validation_split=0.2, epochs=4, validation_freq=freq, verbose=0, callbacks=[recorder])
    assert [i for i, logs in enumerate(recorder.epoch_logs) if "val_loss" in logs] == expected_epochs


# ------------------------------------------------------------------------------------------ data order
def recording_model():
    recorder = InputRecorder()
    model = Sequential([TorchModule(recorder, input_shape=(1,)), Dense(2, activation="softmax")])
    model.compile(optimizer=SGD(lr=0.0), loss="categorical_crossentropy")
    return model, recorder


def test_shuffle_false_visits_samples_in_order_in_batches_of_batch_size():
    model, recorder = recording_model()
    x = np.arange(10, dtype="float32")[:, None]
    model.fit(x, to_categorical(np.arange(10) % 2, 2), batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert recorder.ids == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_shuffle_true_visits_every_sample_once_per_epoch_in_a_new_order():
    model, recorder = recording_model()
    x = np.arange(50, dtype="float32")[:, None]
    model.fit(x, to_categorical(np.arange(50) % 2, 2), batch_size=8, epochs=2, verbose=0)
    first = sum(recorder.ids[:7], [])
    second = sum(recorder.ids[7:], [])
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != list(range(50)) and first != second


def test_shuffle_batch_permutes_whole_batches_and_keeps_the_remainder_last():
    model, recorder = recording_model()
    x = np.arange(10, dtype="float32")[:, None]
    model.fit(x, to_categorical(np.arange(10) % 2, 2), batch_size=3, epochs=1, shuffle="batch", verbose=0)
    full = recorder.ids[:3]
    assert sorted(full) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert recorder.ids[3] == [9]


def test_steps_per_epoch_with_arrays_runs_that_many_batches_per_epoch():
    model, recorder = recording_model()
    x = np.arange(10, dtype="float32")[:, None]
    model.fit(x, to_categorical(np.arange(10) % 2, 2), batch_size=4, epochs=2, steps_per_epoch=5,
              shuffle=False, verbose=0)
    assert len(recorder.ids) == 10
    assert recorder.ids[:4] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]]


@pytest.mark.parametrize("shuffle", [False, True, "batch"])
def test_data_streamed_from_the_host_gives_the_batches_and_order_of_data_on_the_device(monkeypatch, shuffle):
    # Arrays too large for the GPU are gathered on the host (into pinned memory on CUDA) and copied a batch
    # ahead; that path is reached here, on any device, by making the fits-on-device check answer no.
    from kerasish.training.data_adapters import arrays

    rng = np.random.RandomState(0)
    x = rng.randn(30, 3).astype("float32")
    x[:, 0] = np.arange(30)  # the sample's number, recorded by InputRecorder
    y = to_categorical(np.arange(30) % 2, 2)
    weights = np.linspace(0.5, 2.0, 30).astype("float32")

    def run():
        torch.manual_seed(0)
        recorder = InputRecorder()
        model = Sequential([TorchModule(recorder, input_shape=(3,)), Dense(2, activation="softmax")])
        model.compile(optimizer=SGD(lr=0.1), loss="categorical_crossentropy", metrics=["acc"])
        history = model.fit(x, y, sample_weight=weights, batch_size=7, epochs=3, shuffle=shuffle, verbose=0,
                            validation_data=(x[:9], y[:9]))
        return recorder.ids, history.history, model.get_weights(), model.predict(x, batch_size=4)

    on_device = run()
    streamed_passes = []
    real_streamed_batches = arrays.ArrayDataAdapter._streamed_batches
    monkeypatch.setattr(arrays, "fits_on_device", lambda tensors, device: False)

    def counted_streamed_batches(self, order):
        streamed_passes.append(order)
        return real_streamed_batches(self, order)

    monkeypatch.setattr(arrays.ArrayDataAdapter, "_streamed_batches", counted_streamed_batches)
    streamed = run()
    assert len(streamed_passes) == 3 + 3 + 1  # the epochs, their validations and predict all streamed
    assert streamed[0] == on_device[0] and len(streamed[0]) == 3 * 5
    assert streamed[1] == on_device[1]
    for a, b in zip(streamed[2], on_device[2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(streamed[3], on_device[3])


# ------------------------------------------------------------------------------------------ syncs
@pytest.fixture
def device_reads(monkeypatch):
    """Counts MetricsTracker.results() calls: the one place metric values are read back from the device."""
    reads = []
    original = MetricsTracker.results

    def counting(self):
        reads.append(1)
        return original(self)

    monkeypatch.setattr(MetricsTracker, "results", counting)
    return reads


def test_training_reads_metrics_from_the_device_only_at_epoch_ends(device_reads):
    reads = device_reads
    x, _, y = make_data(n=64)
    softmax_model().fit(x, y, batch_size=4, epochs=3, verbose=0)  # 48 steps
    assert len(reads) == 3


class ScalarReads(TorchDispatchMode):
    """Counts reads of single values from tensors (``.item()``, ``float(t)``, ``bool(t)``, ``if t:``): each one
    is a host sync on a GPU. (``.tolist()``, which ``MetricsTracker.results`` uses, is counted above.)"""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


def augmented_image_fit(n_images):
    from kerasish.layers import Conv2D, Flatten
    from kerasish.preprocessing.image import ImageDataGenerator
    rng = np.random.RandomState(0)
    images, labels = rng.rand(n_images, 8, 8, 3).astype("float32"), rng.randint(0, 3, n_images)
    model = Sequential([Conv2D(2, 3, input_shape=(8, 8, 3)), Flatten(), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    flow = ImageDataGenerator(rotation_range=30, zoom_range=0.2, horizontal_flip=True, fill_mode="constant",
                              brightness_range=(0.8, 1.2), channel_shift_range=10.0).flow(images, labels,
                                                                                         batch_size=4, seed=0)
    return lambda: model.fit_generator(flow, epochs=2, verbose=0)


def test_fit_generator_with_augmentation_reads_the_device_only_at_epoch_ends(device_reads):
    augmented_image_fit(24)()  # 12 steps
    assert len(device_reads) == 2


@pytest.mark.parametrize("source", ["arrays", "augmented images"])
def test_training_steps_read_no_single_values_from_tensors(source):
    def run(steps_per_epoch):
        if source == "arrays":
            x, _, y = make_data(n=4 * steps_per_epoch)
            return lambda: softmax_model().fit(x, y, batch_size=4, epochs=2, verbose=0)
        return augmented_image_fit(4 * steps_per_epoch)

    counts = []
    for steps in (3, 12):
        fit = run(steps)
        with ScalarReads() as reads:
            fit()
        counts.append(reads.count)
    assert counts[0] == counts[1], counts  # a read per step would add 18 to the longer run


# ------------------------------------------------------------------------------------------ on_batch
def test_train_on_batch_returns_the_pre_update_loss_and_accuracy():
    x, labels, y = make_data(n=8)
    model = softmax_model(lr=0.5)
    per_sample, probs = reference_ce(model, x, y)
    loss, acc = model.train_on_batch(x, y)
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5)
    assert acc == pytest.approx((probs.argmax(1) == labels).mean())


def test_train_on_batch_applies_one_sgd_step_with_the_hand_derived_mse_gradient():
    rng = np.random.RandomState(1)
    x, y = rng.randn(6, 3).astype("float32"), rng.randn(6, 2).astype("float32")
    kernel, bias = rng.randn(3, 2).astype("float32"), rng.randn(2).astype("float32")
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer=SGD(lr=0.1), loss="mse")
    model.set_weights([kernel, bias])
    loss = model.train_on_batch(x, y)
    # loss = 1/(N*U) * sum((x W + b - y)^2), so dloss/dpred = 2 (pred - y) / (N*U), dW = x^T dpred,
    # db = sum over the batch of dpred; plain SGD: w <- w - lr * grad.
    x64, y64 = x.astype("float64"), y.astype("float64")
    error = x64 @ kernel + bias - y64
    d_pred = 2 * error / error.size
    np.testing.assert_allclose(loss, (error ** 2).mean(), rtol=1e-5)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, kernel - 0.1 * (x64.T @ d_pred), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_bias, bias - 0.1 * d_pred.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_test_on_batch_matches_numpy_and_leaves_weights_alone():
    x, labels, y = make_data(n=8)
    model = softmax_model()
    per_sample, _ = reference_ce(model, x, y)
    before = model.get_weights()
    loss, _acc = model.test_on_batch(x, y)
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_dropout_is_active_in_fit_and_off_in_predict():
    model = Sequential([Dropout(0.5, input_shape=(100,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model.predict(x), x)
    with torch.no_grad():
        model.train(True)
        out = model(torch.ones(4, 100))
    assert set(np.unique(out.numpy())) <= {0.0, 2.0}


# ------------------------------------------------------------------------------------------ output
def test_verbose_2_prints_keras_2_3_1_lines(capsys):
    x, _, y = make_data(n=20)
    model = softmax_model()
    history = model.fit(x, y, validation_split=0.2, epochs=2, verbose=2)
    out = capsys.readouterr().out
    h = history.history
    lines = out.splitlines()
    assert lines[0] == "Train on 16 samples, validate on 4 samples"
    assert lines[1] == "Epoch 1/2"
    assert re.fullmatch(r" - \d+s - loss: (\S+) - accuracy: (\S+) - val_loss: (\S+) - val_accuracy: (\S+)", lines[2])
    assert lines[2].endswith(f"loss: {h['loss'][0]:.4f} - accuracy: {h['accuracy'][0]:.4f} - "
                             f"val_loss: {h['val_loss'][0]:.4f} - val_accuracy: {h['val_accuracy'][0]:.4f}")
    assert lines[3] == "Epoch 2/2"
    assert len(lines) == 5


def test_verbose_1_off_a_terminal_writes_plain_lines_ending_with_the_full_bar(capsys):
    x, _, y = make_data(n=20)
    history = softmax_model().fit(x, y, epochs=1, verbose=1, batch_size=5)
    out = capsys.readouterr().out
    assert "\b" not in out and "\r" not in out
    last = [line for line in out.splitlines() if line][-1]
    h = history.history
    assert re.fullmatch(r"20/20 \[==============================\] - \d+s \d+[mu]?s/step - loss: \S+ - accuracy: \S+",
                        last), last
    assert last.endswith(f"loss: {h['loss'][0]:.4f} - accuracy: {h['accuracy'][0]:.4f}")


def test_verbose_0_prints_nothing(capsys):
    x, _, y = make_data()
    softmax_model().fit(x, y, validation_split=0.2, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_reading_only_the_batch_loss_does_not_read_the_metrics(device_reads):
    reads = device_reads
    losses = []

    class LossReader(Callback):
        def on_batch_end(self, batch, logs=None):
            losses.append(logs["loss"])

    x, _, y = make_data(n=32)
    softmax_model().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[LossReader()])
    assert len(losses) == 16 and all(isinstance(v, float) for v in losses)
    assert len(reads) == 2  # epoch ends only


def test_resuming_at_initial_epoch_with_steps_per_epoch_continues_the_data_stream():
    model, recorder = recording_model()
    x = np.arange(10, dtype="float32")[:, None]
    y = to_categorical(np.arange(10) % 2, 2)
    model.fit(x, y, batch_size=4, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0)
    uninterrupted = recorder.ids[4:]
    resumed_model, resumed = recording_model()
    resumed_model.fit(x, y, batch_size=4, epochs=3, initial_epoch=2, steps_per_epoch=2, shuffle=False, verbose=0)
    # epoch 2 starts at batch 4 of the stream: passes have 3 batches, so pass 1, batch 1
    assert resumed.ids == uninterrupted == [[4, 5, 6, 7], [8, 9]]


def test_ctrl_c_during_a_step_stops_after_the_step_with_the_update_fully_applied(default_sigint_handler):
    class InterruptInForward(torch.nn.Module):
        def __init__(self, at_call):
            super().__init__()
            self.calls, self.at_call = 0, at_call

        def forward(self, x):
            if self.training:
                self.calls += 1
                if self.calls == self.at_call:
                    os.kill(os.getpid(), signal.SIGINT)  # arrives mid-step, before backward and the update
            return x

    x, _, y = make_data(n=32)

    def model_with(layer):
        torch.manual_seed(5)
        model = Sequential([TorchModule(layer, input_shape=(4,)), Dense(3, activation="softmax")])
        model.compile(optimizer=SGD(lr=0.5), loss="categorical_crossentropy")
        return model

    interrupted = model_with(InterruptInForward(at_call=3))
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    reference = model_with(InterruptInForward(at_call=0))
    reference.fit(x[:12], y[:12], batch_size=4, epochs=1, shuffle=False, verbose=0)  # exactly 3 full steps
    for a, b in zip(interrupted.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class SendSigintAtBatchEnd(Callback):
    """Sends SIGINT to this process at the end of training batch ``batch``, between two steps; records the
    batches it saw end and whether the code after the signal ran."""

    def __init__(self, batch):
        super().__init__()
        self.batch, self.ended, self.ran_on = batch, [], False

    def on_train_batch_end(self, batch, logs=None):
        self.ended.append(batch)
        if batch == self.batch:
            os.kill(os.getpid(), signal.SIGINT)
            self.ran_on = True


def test_ctrl_c_between_steps_interrupts_at_once_and_the_handler_is_restored(default_sigint_handler):
    x, _, y = make_data(n=32)
    model = softmax_model(lr=0.1)
    sender = SendSigintAtBatchEnd(batch=2)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[sender])
    assert sender.ended == [0, 1, 2] and not sender.ran_on  # as Python's own handler: no step after batch 2
    assert model.optimizer.iterations == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_handler_is_installed_once_per_epoch_not_per_step(monkeypatch, default_sigint_handler):
    installs = []
    real_signal = signal.signal

    def counting_signal(signum, handler):
        installs.append(handler)
        return real_signal(signum, handler)

    monkeypatch.setattr(signal, "signal", counting_signal)
    x, _, y = make_data(n=32)
    softmax_model().fit(x, y, batch_size=4, epochs=3, verbose=0)  # 8 steps an epoch
    assert len(installs) == 2 * 3  # installed and restored once per epoch
    assert installs[1::2] == [signal.default_int_handler] * 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_sigint_handler_the_program_installed_is_left_alone():
    received = []

    def handler(signum, frame):
        received.append(signum)

    class SeesHandler(Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.seen = signal.getsignal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        x, _, y = make_data(n=32)
        model, seer = softmax_model(lr=0.1), SeesHandler()
        sender = SendSigintAtBatchEnd(batch=1)
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[seer, sender])
        assert received == [signal.SIGINT] and sender.ran_on  # the program's handler decided: training went on
        assert model.optimizer.iterations == 8
        assert seer.seen is handler and signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_sigint_handler_installed_during_training_is_kept_after_fit(default_sigint_handler):
    def handler(signum, frame):
        pass

    class InstallsHandler(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                signal.signal(signal.SIGINT, handler)

    try:
        x, _, y = make_data(n=32)
        softmax_model().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[InstallsHandler()])
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_an_error_in_a_step_restores_the_sigint_handler():
    class FailsInTraining(torch.nn.Module):
        def forward(self, x):
            if self.training:
                raise RuntimeError("boom")
            return x

    model = Sequential([TorchModule(FailsInTraining(), input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer=SGD(lr=0.1), loss="categorical_crossentropy")
    x, _, y = make_data(n=8)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_fit_outside_the_main_thread_trains_and_leaves_sigint_alone():
    x, _, y = make_data(n=32)
    model = softmax_model(lr=0.1)
    errors = []

    def train():
        try:
            model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        except Exception as err:  # surfaced below: an assertion in a thread would be lost
            errors.append(err)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    assert errors == [] and model.optimizer.iterations == 8
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
