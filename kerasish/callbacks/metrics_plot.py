"""``MetricsPlot``: live plots of the epoch metrics, R keras's ``view_metrics`` for Python.

R keras (``fit(..., view_metrics=TRUE)``) redraws one chart per metric against its ``val_`` twin at every epoch
end; no Python Keras has it. Here the chart is a PNG beside a small HTML page that reloads itself, so a person
watching a headless GPU run opens the page (through a file browser, ``python -m http.server`` or a synced
folder) and sees it grow; in a Jupyter notebook the image is redrawn inline instead. The drawing lives in
``kerasish.utils.plotting``.

Cost: only epoch-end logs are read (plain floats; no batch hook, so no per-batch device sync) and one small Agg
figure is rendered per refresh (tens of milliseconds; ``every`` thins it for very short epochs).
"""
from __future__ import annotations

import os
import warnings
from typing import Iterable

from kerasish.callbacks.callback import Callback
from kerasish.utils import plotting

DEFAULT_PATH = "training_metrics.png"


class MetricsPlot(Callback):
    """Redraws each metric against its ``val_`` twin at every epoch end, as a PNG plus a self-refreshing HTML
    page, or inline in a notebook.

    ```python
    model.fit(x, y, epochs=50, validation_split=0.2, callbacks=[MetricsPlot('run1/metrics.png')])
    # open run1/metrics.html in a browser: it reloads every 5 seconds
    ```

    Arguments:
        path: where to write the PNG. Default (None): inline display in a Jupyter/IPython kernel, else
            ``'training_metrics.png'`` in the working directory. Given a path, a notebook gets the files too.
        html: also write the page ``<path without extension>.html`` showing the PNG, the epoch and the latest
            values, reloading itself every ``refresh`` seconds.
        every: redraw every ``every`` epochs (and always at the end of training).
        metrics: the metric names to draw (``['loss', 'accuracy']``); default: every logged metric.
        figsize: the figure size in inches; default ``kerasish.utils.plotting.default_figsize``. The PNG is
            ``figsize * dpi`` pixels.
        dpi: resolution of the PNG.
        refresh: seconds between reloads of the HTML page.

    Attributes:
        png_path, html_path: the files written (None where nothing is written there).

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: an argument is out of range; ``metrics`` names a metric ``fit`` does not log (at the start
            of training).
    """

    def __init__(self, path: str | os.PathLike | None = None, html: bool = True, every: int = 1,
                 metrics: str | Iterable[str] | None = None, figsize: tuple[float, float] | None = None,
                 dpi: float = plotting.DEFAULT_DPI, refresh: int = 5):
        super().__init__()
        plotting.require_matplotlib("MetricsPlot")
        for name, value in (("every", every), ("refresh", refresh)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MetricsPlot: {name} must be a positive int; received: {name}={value!r}")
        if figsize is not None and (len(figsize) != 2 or min(figsize) <= 0):
            raise ValueError(f"MetricsPlot: figsize must be (width, height) in inches; received: figsize={figsize!r}")
        self.every = every
        self.metrics = [metrics] if isinstance(metrics, str) else (None if metrics is None else list(metrics))
        self.figsize = figsize
        self.dpi = dpi
        self.refresh = refresh
        self.inline = path is None and plotting.in_notebook()
        self.png_path = None if self.inline else os.fspath(path if path is not None else DEFAULT_PATH)
        self.html_path = plotting.html_path_for(self.png_path) if html and self.png_path else None
        self._reset()

    def _reset(self):
        self._series: dict[str, tuple[list[int], list[float]]] = {}
        self._latest: dict[str, float] = {}
        self._epochs_seen = 0
        self._last_epoch = None
        self._drawn_epoch = None
        self._png = None
        self._display_handle = None

    def should_write(self) -> bool:
        """Whether this process draws and writes. Always here; in a distributed run only rank 0 must."""
        return True

    def on_train_begin(self, logs=None):
        self._reset()
        logged = (self.params or {}).get("metrics")
        if self.metrics is not None and logged:
            plotting.metric_families(logged, self.metrics, caller="MetricsPlot")  # raises on unknown names
        if self.html_path and self.should_write():
            self._write_page(plotting.status_line(None, self._total_epochs(), {}), with_image=False)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            number = _scalar(value)
            if number is None:
                continue
            x, y = self._series.setdefault(key, ([], []))
            x.append(epoch + 1)
            y.append(number)
            self._latest[key] = number
        self._epochs_seen += 1
        self._last_epoch = epoch + 1
        if self._epochs_seen % self.every == 0:
            self._draw()

    def on_train_end(self, logs=None):
        if self._last_epoch is None:
            return
        if self._drawn_epoch != self._last_epoch:
            self._draw(finished=True)
        elif self.html_path and self.should_write():
            self._write_page(self._status(finished=True))

    def _total_epochs(self):
        return (self.params or {}).get("epochs")

    def _status(self, finished=False):
        line = plotting.status_line(self._last_epoch, self._total_epochs(), self._latest)
        return ("Training finished. " if finished else "") + line

    def _draw(self, finished=False):
        if not self.should_write() or not self._series:
            return
        total = self._total_epochs()
        fig = plotting.plot_metrics(self._series, total_epochs=total, metrics=self.metrics, figsize=self.figsize,
                                    dpi=self.dpi, caller="MetricsPlot",
                                    title=f"Epoch {self._last_epoch}/{total}" if total else f"Epoch {self._last_epoch}")
        self._drawn_epoch = self._last_epoch
        if self.inline:
            self._display_handle = plotting.display_png(plotting.png_bytes(fig), self._display_handle)
            return
        try:
            self._png = plotting.write_png(fig, self.png_path)
        except OSError as error:
            # A full disk or a vanished folder must not end a long run over a picture.
            warnings.warn(f"MetricsPlot: could not write {self.png_path}: {error}; training continues.")
            return
        if self.html_path:
            self._write_page(self._status(finished))

    def _write_page(self, status, with_image=True):
        try:
            plotting.write_refresh_page(self.html_path, self.png_path if with_image else None, png=self._png,
                                        refresh_seconds=self.refresh, status=status)
        except OSError as error:
            warnings.warn(f"MetricsPlot: could not write {self.html_path}: {error}; training continues.")


def _scalar(value):
    """The log value as a float, or None for what is not a number (a string, an array of several values)."""
    if isinstance(value, (str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
