"""``History.plot`` and ``MetricsPlot``: R keras's ``view_metrics`` (one chart per metric with its ``val_`` twin,
x axis pre-sized to ``epochs``, accuracy capped at 1.0) as PNG files, a self-refreshing HTML page, or inline."""
import hashlib
import os
import re
import struct
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from kerasish.callbacks import Callback, CallbackList, History, MetricsPlot  # noqa: E402
from kerasish.layers import Dense  # noqa: E402
from kerasish.models import Sequential  # noqa: E402
from kerasish.optimizers import SGD  # noqa: E402
from kerasish.utils import plotting, to_categorical  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data):
    """(width, height) from the IHDR chunk, which the PNG spec puts first, right after the signature."""
    assert data[:8] == PNG_SIGNATURE
    length, chunk, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, chunk) == (13, b"IHDR")
    return width, height


def fit_model(epochs=3, callbacks=(), validation_freq=1, **fit_kwargs):
    rng = np.random.RandomState(0)
    x = rng.randn(40, 4).astype("float32")
    y = to_categorical(rng.randint(0, 3, size=40), 3)
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=SGD(lr=0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=10, validation_split=0.25, verbose=0,
                     callbacks=list(callbacks), validation_freq=validation_freq, **fit_kwargs)


EPOCH_LOGS = [{"val_loss": 1.0 - 0.1 * e, "val_accuracy": 0.5 + 0.1 * e, "loss": 0.9 - 0.1 * e,
               "accuracy": 0.6 + 0.1 * e} for e in range(3)]


def drive(callback, logs_per_epoch=EPOCH_LOGS, epochs=None, after_epoch=None):
    """Calls the hooks as fit does (K231 order), with fixed epoch logs."""
    callback.set_params({"epochs": epochs or len(logs_per_epoch), "metrics": list(logs_per_epoch[0])})
    callback.on_train_begin()
    for epoch, logs in enumerate(logs_per_epoch):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, dict(logs))
        if after_epoch:
            after_epoch(epoch)
    callback.on_train_end()


@pytest.fixture(scope="module")
def three_epoch_history():
    return fit_model(epochs=3)


class FileWatcher(Callback):
    """Reads the files at each epoch end, after the MetricsPlot before it in the list has written them."""

    def __init__(self, *paths):
        super().__init__()
        self.paths = paths
        self.seen = []

    def read(self):
        return tuple(p.read_bytes() if p.exists() else None for p in self.paths)

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.read())


class StopAfter(Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            self.model.stop_training = True


@pytest.fixture
def no_notebook(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


@pytest.fixture
def fake_notebook(monkeypatch):
    shown = []

    def display_png(data, handle=None):
        shown.append((data, handle))
        return "handle-%d" % len(shown)

    monkeypatch.setattr(plotting, "in_notebook", lambda: True)
    monkeypatch.setattr(plotting, "display_png", display_png)
    return shown


# ---------------------------------------------------------------------------- MetricsPlot through fit
def test_metrics_plot_rewrites_png_and_refresh_page_every_epoch(tmp_path, no_notebook):
    png, page = tmp_path / "run" / "metrics.png", tmp_path / "run" / "metrics.html"
    watcher = FileWatcher(png, page)
    fit_model(epochs=3, callbacks=[MetricsPlot(str(png), figsize=(4, 5), dpi=30), watcher])

    images = [seen[0] for seen in watcher.seen]
    assert all(png_size(image) == (4 * 30, 5 * 30) for image in images)
    assert len({hashlib.sha256(image).digest() for image in images}) == 3  # a new picture each epoch
    assert png.read_bytes() == images[-1]
    for image, html in [(seen[0], seen[1].decode()) for seen in watcher.seen]:
        assert '<meta http-equiv="refresh" content="5">' in html
        # relative to the page, with the image's hash as the cache-busting query: reloaded exactly when it changed
        assert '<img src="metrics.png?v=%s"' % hashlib.sha1(image).hexdigest()[:12] in html
    assert re.search(r"Epoch 2/3 - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - loss: ", watcher.seen[1][1].decode())
    assert "Training finished. Epoch 3/3" in page.read_text()
    assert not [f for f in os.listdir(png.parent) if f.endswith(".tmp")]  # atomic writes left no temp files


def test_metrics_plot_default_size_and_files(tmp_path, monkeypatch, no_notebook):
    monkeypatch.chdir(tmp_path)
    callback = MetricsPlot()
    fit_model(epochs=2, callbacks=[callback])
    assert callback.png_path == "training_metrics.png" and callback.html_path == "training_metrics.html"
    # two metric families stacked: 6 x (2 * 2.6 + 0.5) inches at 100 dpi
    assert png_size((tmp_path / "training_metrics.png").read_bytes()) == (600, 570)
    assert (tmp_path / "training_metrics.html").exists()


def test_metrics_plot_html_false_writes_only_the_png(tmp_path, no_notebook):
    drive(MetricsPlot(str(tmp_path / "m.png"), html=False, figsize=(4, 5), dpi=20), EPOCH_LOGS[:1])
    assert sorted(os.listdir(tmp_path)) == ["m.png"]


def test_metrics_plot_every_draws_on_those_epochs_and_at_train_end(tmp_path, no_notebook):
    png = tmp_path / "m.png"
    watcher = FileWatcher(png)
    drive(MetricsPlot(str(png), every=2, figsize=(4, 5), dpi=20), after_epoch=watcher.on_epoch_end)
    first, second, third = (seen[0] for seen in watcher.seen)
    assert first is None and second is not None and third == second  # drawn at epoch 2 only
    assert png.read_bytes() != second  # on_train_end drew epoch 3


def test_page_before_the_first_epoch_has_no_image(tmp_path, no_notebook):
    callback = MetricsPlot(str(tmp_path / "m.png"))
    callback.set_params({"epochs": 4, "metrics": ["loss"]})
    callback.on_train_begin()
    html = (tmp_path / "m.html").read_text()
    assert "Waiting for the first epoch" in html and "<img" not in html and 'http-equiv="refresh"' in html


def test_metrics_plot_draws_inline_in_a_notebook_and_writes_no_file(tmp_path, monkeypatch, fake_notebook):
    monkeypatch.chdir(tmp_path)
    drive(MetricsPlot(figsize=(4, 5), dpi=20))
    assert os.listdir(tmp_path) == []
    assert [handle for _, handle in fake_notebook] == [None, "handle-1", "handle-2"]  # one image updated in place
    assert all(png_size(data) == (80, 100) for data, _ in fake_notebook)


def test_metrics_plot_with_a_path_writes_files_in_a_notebook(tmp_path, fake_notebook):
    drive(MetricsPlot(str(tmp_path / "m.png"), figsize=(4, 5), dpi=20), EPOCH_LOGS[:1])
    assert fake_notebook == [] and (tmp_path / "m.png").exists()


def test_should_write_false_writes_nothing(tmp_path, no_notebook):
    class NotRankZero(MetricsPlot):
        def should_write(self):
            return False

    drive(NotRankZero(str(tmp_path / "m.png")))
    assert os.listdir(tmp_path) == []


def test_metrics_plot_uses_no_batch_hook():
    # No batch hook means the loop builds no batch logs for it: no per-batch device read.
    callbacks = CallbackList([MetricsPlot(str("unused.png"))])
    assert not callbacks.needs_batch_hooks("train") and not callbacks.needs_batch_hooks("test")


def test_metrics_plot_places_sparse_validation_on_its_epochs(tmp_path, no_notebook):
    callback = MetricsPlot(str(tmp_path / "m.png"), figsize=(4, 5), dpi=20)
    history = fit_model(epochs=4, validation_freq=2, callbacks=[callback])
    assert callback._series["val_loss"] == ([2, 4], history.history["val_loss"])
    fig = history.plot()
    loss_lines = {line.get_gid(): list(line.get_xdata()) for line in fig.axes[0].lines}
    assert loss_lines == {"loss": [1, 2, 3, 4], "val_loss": [2, 4]}


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"every": 1.5}, {"refresh": 0}, {"figsize": (3, 0)}])
def test_metrics_plot_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="MetricsPlot: " + next(iter(kwargs))):
        MetricsPlot("m.png", **kwargs)


def test_metrics_plot_unknown_metric_fails_before_training(tmp_path, no_notebook):
    history_before = None
    with pytest.raises(ValueError, match=r"names \['auc'\].*logged metrics are \['loss', 'accuracy'\]"):
        history_before = fit_model(epochs=1, callbacks=[MetricsPlot(str(tmp_path / "m.png"), metrics=["auc"])])
    assert history_before is None and not (tmp_path / "m.png").exists()


# ---------------------------------------------------------------------------- the figure
def test_one_subplot_per_metric_with_training_and_validation_lines(three_epoch_history, no_notebook):
    history = three_epoch_history
    fig = history.plot()
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    for ax, family in zip(axes, ["loss", "accuracy"]):
        assert [line.get_label() for line in ax.lines] == ["training", "validation"]
        assert [line.get_gid() for line in ax.lines] == [family, "val_" + family]
        for line in ax.lines:
            assert list(line.get_xdata()) == [1, 2, 3]
            assert list(line.get_ydata()) == history.history[line.get_gid()]
        assert ax.get_xlabel() == "epoch"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    assert axes[1].get_ylim()[1] == 1.0  # accuracy capped at 1, as R keras's viewer


def test_x_axis_is_presized_to_the_epochs_of_the_run(tmp_path, no_notebook):
    history = fit_model(epochs=10, callbacks=[StopAfter(3)])
    assert history.epoch == [0, 1, 2]
    left, right = history.plot().axes[0].get_xlim()
    assert left < 1 and 10 <= right < 11


def test_history_plot_writes_a_png_of_the_figure_size(three_epoch_history, tmp_path, no_notebook):
    fig = three_epoch_history.plot(path=str(tmp_path / "h.png"))
    width, height = fig.get_size_inches() * fig.dpi
    assert png_size((tmp_path / "h.png").read_bytes()) == (round(width), round(height)) == (600, 570)


def test_history_plot_metrics_selects_families():
    history = History()
    history.epoch = [0, 1]
    history.history = {"val_loss": [0.5, 0.4], "val_mae": [1.0, 0.9], "loss": [0.6, 0.5], "mae": [1.1, 1.0],
                       "lr": [0.1, 0.01]}
    assert [ax.get_title() for ax in history.plot().axes] == ["loss", "mae", "lr"]
    fig = history.plot(metrics="val_mae")
    assert [ax.get_title() for ax in fig.axes] == ["mae"]
    assert [line.get_label() for line in history.plot(metrics=["mae"]).axes[0].lines] == ["training", "validation"]
    with pytest.raises(ValueError, match=r"history.plot: metrics=\['acc'\] names \['acc'\]"):
        history.plot(metrics=["acc"])


def test_learning_rate_has_its_own_subplot_on_a_log_axis():
    # K231's ReduceLROnPlateau logs ``lr`` each epoch: a rate divided by 10 twice reads as equal steps.
    history = History()
    history.epoch, history.history = [0, 1, 2], {"loss": [0.6, 0.5, 0.4], "lr": [0.1, 0.01, 0.001]}
    lr_axes = history.plot().axes[1]
    assert lr_axes.get_title() == "lr" and lr_axes.get_yscale() == "log"
    assert [line.get_label() for line in lr_axes.lines] == ["learning rate"]


def test_history_plot_of_an_empty_history_says_so():
    with pytest.raises(ValueError, match="history.plot: there is nothing to plot"):
        History().plot()


def test_history_plot_displays_inline_in_a_notebook(fake_notebook):
    history = History()
    history.epoch, history.history = [0], {"loss": [0.5]}
    fig = history.plot()
    assert len(fake_notebook) == 1 and png_size(fake_notebook[0][0]) == tuple(fig.get_size_inches() * fig.dpi)
    history.plot(show=False)
    assert len(fake_notebook) == 1


def test_history_plot_show_true_outside_a_kernel_says_what_to_do(no_notebook):
    history = History()
    history.epoch, history.history = [0], {"loss": [0.5]}
    with pytest.raises(ValueError, match="show=True needs a Jupyter/IPython kernel.*path="):
        history.plot(show=True)


def test_plots_never_touch_pyplot(tmp_path, no_notebook):
    # The figures are drawn with FigureCanvasAgg; importing pyplot would select a backend for the user.
    pyplot_was_imported = "matplotlib.pyplot" in sys.modules
    drive(MetricsPlot(str(tmp_path / "m.png"), figsize=(4, 5), dpi=20), EPOCH_LOGS[:1])
    history = History()
    history.epoch, history.history = [0], {"loss": [0.5]}
    history.plot()
    if pyplot_was_imported:
        import matplotlib.pyplot as plt
        assert plt.get_fignums() == []
    else:
        assert "matplotlib.pyplot" not in sys.modules


# ---------------------------------------------------------------------------- matplotlib missing
def test_missing_matplotlib_gives_a_clear_import_error(monkeypatch):
    history = History()
    history.epoch, history.history = [0], {"loss": [0.5]}
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="MetricsPlot needs matplotlib: pip install matplotlib"):
        MetricsPlot("m.png")
    with pytest.raises(ImportError, match="history.plot needs matplotlib: pip install matplotlib"):
        history.plot()
