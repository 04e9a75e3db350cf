"""TerminateOnNaN, LambdaCallback, BaseLogger, TensorBoard and RemoteMonitor (Keras 2.3.1
``keras/callbacks/callbacks.py`` and ``tensorboard_v1.py``), unit-level and through real fits."""
import http.server
import json
import socket
import sys
import threading
import urllib.parse
import warnings

import numpy as np
import pytest
import torch

from kerasish.callbacks import (BaseLogger, CallbackList, LambdaCallback, RemoteMonitor, TensorBoard,
                                TerminateOnNaN)
from kerasish.callbacks import tensorboard as tensorboard_module
from kerasish.training import compile_utils

from helpers import tiny_data, tiny_model


make_model, make_data = tiny_model, tiny_data


def fit(model, callbacks, epochs=2, batch_size=5, data=None, **kwargs):
    x, y = data or make_data()
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=False,
                     **kwargs)


# ------------------------------------------------------------------------------------------ TerminateOnNaN
def test_terminate_on_nan_stops_after_the_first_nan_batch(capsys):
    x, y = make_data()
    x[15] = np.nan  # batch 3 with batch_size 5 and no shuffling
    batches = []
    history = fit(make_model(), [TerminateOnNaN(), LambdaCallback(on_batch_end=lambda b, l: batches.append(b))],
                  epochs=3, data=(x, y))
    assert capsys.readouterr().out == "Batch 3: Invalid loss, terminating training\n"
    assert batches == [0, 1, 2, 3] and history.epoch == [0]


@pytest.mark.parametrize("loss", [np.inf, -np.inf, np.nan])
def test_terminate_on_nan_catches_infinite_and_nan_batch_loss(loss, capsys):
    model = make_model()
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_batch_end(7, {"loss": loss})
    assert model.stop_training is True
    assert capsys.readouterr().out == "Batch 7: Invalid loss, terminating training\n"


def test_terminate_on_nan_leaves_finite_losses_alone():
    history = fit(make_model(), [TerminateOnNaN()], epochs=2)
    assert history.epoch == [0, 1]


# ------------------------------------------------------------------------------------------ LambdaCallback
def test_lambda_callback_calls_each_function_with_positional_arguments():
    calls = []
    callback = LambdaCallback(
        on_train_begin=lambda l: calls.append(("train_begin",)),
        on_epoch_begin=lambda e, l: calls.append(("epoch_begin", e)),
        on_batch_begin=lambda b, l: calls.append(("batch_begin", b, l["size"])),
        on_batch_end=lambda b, l: calls.append(("batch_end", b)),
        on_epoch_end=lambda e, l: calls.append(("epoch_end", e, sorted(l))),
        on_train_end=lambda l: calls.append(("train_end",)))
    fit(make_model(), [callback], epochs=1, batch_size=10)
    assert calls == [("train_begin",), ("epoch_begin", 0), ("batch_begin", 0, 10), ("batch_end", 0),
                     ("batch_begin", 1, 10), ("batch_end", 1), ("epoch_end", 0, ["acc", "loss"]), ("train_end",)]


def test_lambda_callback_keyword_arguments_become_attributes():
    callback = LambdaCallback(on_epoch_end=lambda e, l: None, json_log="log.json", count=3)
    assert callback.json_log == "log.json" and callback.count == 3


def test_lambda_callback_without_batch_functions_needs_no_batch_logs():
    epoch_only = CallbackList([LambdaCallback(on_epoch_end=lambda e, l: None)])
    assert not epoch_only.needs_batch_hooks("train")
    assert CallbackList([LambdaCallback(on_batch_end=lambda b, l: None)]).needs_batch_hooks("train")


# ------------------------------------------------------------------------------------------ BaseLogger
def test_base_logger_averages_batch_values_weighted_by_size_and_keeps_stateful_ones():
    logger = BaseLogger(stateful_metrics=["acc"])
    logger.set_params({"metrics": ["loss", "acc", "val_loss"]})
    logger.on_epoch_begin(0)
    logger.on_batch_end(0, {"batch": 0, "size": 2, "loss": 1.0, "acc": 0.5, "other": 4.0})
    logger.on_batch_end(1, {"batch": 1, "size": 3, "loss": 2.0, "acc": 0.6, "other": 9.0})
    logs = {"val_loss": 0.25}
    logger.on_epoch_end(0, logs)
    # (1*2 + 2*3) / 5 = 1.6; acc is the last value; 'other' is not in params['metrics']
    assert logs == {"val_loss": 0.25, "loss": pytest.approx(1.6), "acc": 0.6}
    assert logger.seen == 5


def test_base_logger_restarts_at_each_epoch():
    logger = BaseLogger()
    logger.set_params({"metrics": ["loss"]})
    for epoch, loss in enumerate([4.0, 1.0]):
        logger.on_epoch_begin(epoch)
        logger.on_batch_end(0, {"size": 4, "loss": loss})
        logs = {}
        logger.on_epoch_end(epoch, logs)
    assert logs == {"loss": 1.0}


def test_base_logger_in_fit_leaves_the_exact_epoch_values_and_reads_no_batch_values(monkeypatch):
    reads = []
    original = compile_utils.MetricsTracker.results
    monkeypatch.setattr(compile_utils.MetricsTracker, "results", lambda self: reads.append(1) or original(self))
    torch.manual_seed(0)
    plain = fit(make_model(), None, epochs=2).history
    reads_without = len(reads)
    reads.clear()
    logger = BaseLogger()
    torch.manual_seed(0)
    with_logger = fit(make_model(), [logger], epochs=2).history
    assert with_logger == plain
    assert reads_without >= 2 and len(reads) == reads_without  # only the epoch-end reads: no per-batch device sync
    assert logger.seen == 20


# ------------------------------------------------------------------------------------------ TensorBoard
class FakeWriter:
    """Records what TensorBoard writes; stands in for torch.utils.tensorboard.SummaryWriter."""

    instances = []

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.scalars, self.histograms, self.images = [], [], []
        self.flushes = 0
        self.closed = False
        FakeWriter.instances.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_histogram(self, tag, values, step):
        self.histograms.append((tag, tuple(values.shape), step))

    def add_images(self, tag, images, step, dataformats):
        self.images.append((tag, tuple(images.shape), step, dataformats, float(images.min()), float(images.max())))

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def graph_warning_already_shown(monkeypatch):
    """TensorBoard warns once per process that it writes no graph; that warning has its own test."""
    monkeypatch.setattr(tensorboard_module, "_write_graph_warned", True)


@pytest.fixture
def fake_writer(monkeypatch):
    FakeWriter.instances = []
    monkeypatch.setattr(tensorboard_module, "_summary_writer_class", lambda: FakeWriter)
    return FakeWriter


def test_tensorboard_without_the_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"needs the `tensorboard` package.*`pip install tensorboard`"):
        TensorBoard(log_dir="unused")


def test_tensorboard_writes_epoch_scalars_at_the_epoch_step(fake_writer, tmp_path):
    history = fit(make_model(), [TensorBoard(log_dir=str(tmp_path))], epochs=2, validation_split=0.25)
    (writer,) = fake_writer.instances
    assert writer.log_dir == str(tmp_path) and writer.closed
    h = history.history
    assert sorted(writer.scalars) == sorted((name, h[name][epoch], epoch) for name in h for epoch in (0, 1))
    assert writer.histograms == [] and writer.images == []


def test_tensorboard_epoch_mode_needs_no_batch_logs(fake_writer):
    assert not CallbackList([TensorBoard()]).needs_batch_hooks("train")
    assert CallbackList([TensorBoard(update_freq="batch")]).needs_batch_hooks("train")


def test_tensorboard_update_freq_batch_writes_batch_logs_at_samples_seen(fake_writer):
    history = fit(make_model(), [TensorBoard(update_freq="batch")], epochs=1, batch_size=5)
    (writer,) = fake_writer.instances
    batch_steps = [step for tag, _, step in writer.scalars if tag == "loss"]
    # v1: after every batch at the samples seen (5, 10, 15, 20), then the epoch logs at samples_seen too
    assert batch_steps == [5, 10, 15, 20, 20]
    assert writer.scalars[-2:] == [("loss", history.history["loss"][0], 20), ("acc", history.history["acc"][0], 20)]


def test_tensorboard_integer_update_freq_counts_samples(fake_writer):
    fit(make_model(), [TensorBoard(update_freq=8)], epochs=2, batch_size=5)
    (writer,) = fake_writer.instances
    steps = sorted({step for _, _, step in writer.scalars})
    # writes when 8 or more samples passed since the last write: at 10, 20, 30, 40 (the epoch ends: 20, 40)
    assert steps == [10, 20, 30, 40]


@pytest.mark.parametrize("bad", ["batches", 0, -5, 1.5, True])
def test_tensorboard_rejects_bad_update_freq(bad):
    with pytest.raises(ValueError, match="update_freq must be 'batch', 'epoch' or a positive number"):
        TensorBoard(update_freq=bad)


def test_tensorboard_histograms_every_histogram_freq_epochs(fake_writer):
    fit(make_model(), [TensorBoard(histogram_freq=2, write_grads=True, write_images=True)], epochs=3)
    (writer,) = fake_writer.instances
    assert writer.histograms == [
        ("dense_1/kernel_0", (2, 4), 0), ("dense_1/kernel_0_grad", (2, 4), 0),
        ("dense_1/bias_0", (2,), 0), ("dense_1/bias_0_grad", (2,), 0),
        ("dense_1/kernel_0", (2, 4), 2), ("dense_1/kernel_0_grad", (2, 4), 2),
        ("dense_1/bias_0", (2,), 2), ("dense_1/bias_0_grad", (2,), 2)]
    # v1's images: the Keras (4, 2) kernel turned so its longer side is horizontal, the bias as a column
    assert writer.images[:2] == [("dense_1/kernel_0", (1, 2, 4, 1), 0, "NHWC", 0.0, 1.0),
                                 ("dense_1/bias_0", (1, 2, 1, 1), 0, "NHWC", 0.0, 1.0)]


@pytest.mark.parametrize("argument, value", [
    ("batch_size", 64), ("embeddings_freq", 1), ("embeddings_layer_names", ["dense_1"]),
    ("embeddings_metadata", "metadata.tsv"), ("embeddings_data", np.zeros((2, 4)))])
def test_tensorboard_warns_naming_each_unsupported_argument_given(fake_writer, argument, value):
    with pytest.warns(UserWarning, match=f"not supported and are ignored: {argument}=") as record:
        callback = TensorBoard(write_graph=False, **{argument: value})
    assert len(record) == 1
    assert callback.embeddings_freq == 0 and not callback.write_graph  # what is done, as v1 records it


def test_tensorboard_names_every_unsupported_argument_in_one_warning(fake_writer):
    with pytest.warns(UserWarning) as record:
        TensorBoard(write_graph=False, batch_size=8, embeddings_freq=2, embeddings_layer_names=["dense_1"])
    (message,) = [str(w.message) for w in record]
    assert "batch_size=8 (" in message and "embeddings_freq=2 (" in message and "embeddings_layer_names=" in message


def test_tensorboard_defaults_warn_only_about_the_graph_once_per_process(fake_writer, monkeypatch):
    monkeypatch.setattr(tensorboard_module, "_write_graph_warned", False)
    with pytest.warns(UserWarning, match="does not write the model graph, so write_graph was set to False") as record:
        TensorBoard()
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TensorBoard()  # shown once per process
        monkeypatch.setattr(tensorboard_module, "_write_graph_warned", False)
        TensorBoard(write_graph=False, batch_size=32, embeddings_freq=0)  # False asks for what is done


def test_tensorboard_writes_real_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    history = fit(make_model(), [TensorBoard(log_dir=str(tmp_path), histogram_freq=1)], epochs=2)
    events = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == [0, 1]
    assert [e.value for e in loss] == pytest.approx(history.history["loss"], rel=1e-6)
    assert "dense_1/kernel_0" in events.Tags()["histograms"]


# ------------------------------------------------------------------------------------------ RemoteMonitor
class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    httpd.requests, httpd.status = [], 200
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()


def root_of(httpd):
    return "http://127.0.0.1:%d" % httpd.server_address[1]


def test_remote_monitor_posts_a_form_with_the_epoch_logs_as_json(server):
    history = fit(make_model(), [RemoteMonitor(root=root_of(server))], epochs=2)
    assert [path for path, _, _ in server.requests] == ["/publish/epoch/end/"] * 2
    for epoch, (_, headers, body) in enumerate(server.requests):
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(body.decode())
        assert list(form) == ["data"]
        sent = json.loads(form["data"][0])
        assert sent == {"epoch": epoch, "loss": history.history["loss"][epoch], "acc": history.history["acc"][epoch]}


def test_remote_monitor_json_body_custom_path_and_headers(server):
    monitor = RemoteMonitor(root=root_of(server), path="/metrics", field="ignored", headers={"X-Run": "abc"},
                            send_as_json=True)
    monitor.set_model(make_model())
    monitor.on_epoch_end(4, {"loss": np.float32(0.5), "lr": np.float64(0.25)})
    ((path, headers, body),) = server.requests
    assert path == "/metrics" and headers["X-Run"] == "abc" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"epoch": 4, "loss": 0.5, "lr": 0.25}


def test_remote_monitor_custom_field(server):
    RemoteMonitor(root=root_of(server), field="payload").on_epoch_end(0, {"loss": 1.5})
    ((_, _, body),) = server.requests
    assert json.loads(urllib.parse.parse_qs(body.decode())["payload"][0]) == {"epoch": 0, "loss": 1.5}


def test_remote_monitor_unreachable_server_warns_and_training_goes_on():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = "http://127.0.0.1:%d" % port
    with pytest.warns(UserWarning) as record:
        history = fit(make_model(), [RemoteMonitor(root=root)], epochs=2)
    assert history.epoch == [0, 1]
    assert [str(w.message) for w in record] == ["Warning: could not reach RemoteMonitor root server at " + root] * 2


def test_remote_monitor_ignores_an_error_status_like_keras(server, recwarn):
    server.status = 500  # requests (K231) does not raise on it
    RemoteMonitor(root=root_of(server)).on_epoch_end(0, {"loss": 1.0})
    assert len(server.requests) == 1 and len(recwarn) == 0
