"""Metric plots: epoch series -> a matplotlib ``Figure``, PNG files, a self-refreshing HTML page, inline display.

What R keras's ``view_metrics`` shows (tfruns ``metrics_viewer``): one chart per metric with its ``val_`` twin,
the x axis pre-sized to all the epochs of the run, the y axis of accuracies capped at 1.0. Used by
``History.plot`` and the ``MetricsPlot`` callback; the drawing here knows nothing about training.

matplotlib is optional and imported only when a plot is asked for. Figures are plain ``matplotlib.figure.Figure``
objects rendered by ``FigureCanvasAgg``: pyplot, its global figure list and the user's chosen backend are never
touched, so this works headless, from any thread, and beside the user's own pyplot figures.

A *series* is ``(epochs, values)``: 1-based epoch numbers and the value logged at each.
"""
from __future__ import annotations

import hashlib
import html
import io
import math
import os
import sys
import time
import urllib.parse
from typing import Iterable, Mapping, Sequence

from kerasish.utils.io_utils import atomic_write
from kerasish.utils.progbar import format_values

Series = tuple[Sequence[int], Sequence[float]]

VAL_PREFIX = "val_"
TRAIN_LABEL = "training"
VALIDATION_LABEL = "validation"
LEARNING_RATE_KEYS = ("lr", "learning_rate")  # logged by K231's ReduceLROnPlateau / tf.keras's schedulers
LEARNING_RATE_LABEL = "learning rate"
DEFAULT_DPI = 100


def require_matplotlib(caller: str) -> None:
    """Raises the ImportError users see when matplotlib is missing; ``caller`` names what needed it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(f"{caller} needs matplotlib: pip install matplotlib") from error


# ---------------------------------------------------------------------------- what to draw
def metric_families(keys: Iterable[str], metrics: str | Iterable[str] | None = None,
                    caller: str = "plot") -> list[tuple[str, str | None, str | None]]:
    """``[(family, train_key, val_key)]``: each metric paired with its ``val_`` twin, in order of first appearance.

    ``keys`` are log names (``['val_loss', 'val_accuracy', 'loss', 'accuracy']`` gives ``loss`` then
    ``accuracy``). A key without a twin gets ``None`` for the missing one. ``metrics`` keeps only the named
    families (``'loss'`` or ``'val_loss'`` both name the loss family), in the order given.
    """
    pairs: dict[str, list] = {}
    for key in keys:
        is_val = key.startswith(VAL_PREFIX)
        family = key[len(VAL_PREFIX):] if is_val else key
        pairs.setdefault(family, [None, None])[1 if is_val else 0] = key
    if metrics is None:
        wanted = list(pairs)
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        wanted = [n[len(VAL_PREFIX):] if n.startswith(VAL_PREFIX) and n[len(VAL_PREFIX):] in pairs else n
                  for n in names]
        unknown = [n for n in wanted if n not in pairs]
        if unknown:
            raise ValueError(f"{caller}: metrics={names!r} names {unknown!r}, which were not logged; "
                             f"the logged metrics are {list(pairs)!r}.")
    return [(family, *pairs[family]) for family in wanted]


def is_accuracy_like(family: str) -> bool:
    """``acc``, ``accuracy``, ``binary_accuracy``, ``top_k_categorical_accuracy``...: values in [0, 1]."""
    return family in ("acc", "accuracy") or family.endswith(("_accuracy", "_acc"))


def history_series(history: Mapping[str, Sequence[float]], epochs: Sequence[int]) -> dict[str, Series]:
    """Series from ``History.history`` and ``History.epoch`` (0-based epoch indices).

    Keras's History keeps only the values, not the epochs they came from, so a list shorter than ``epochs``
    (``val_*`` with ``validation_freq`` > 1) is placed by :func:`_guess_sparse_epochs`.
    """
    numbers = [e + 1 for e in epochs]
    series = {}
    for key, values in history.items():
        values = [_as_float(v) for v in values]
        if len(values) == len(numbers):
            series[key] = (numbers, values)
        elif 0 < len(values) < len(numbers):
            series[key] = (_guess_sparse_epochs(numbers, len(values)), values)
    return series


def _guess_sparse_epochs(numbers: Sequence[int], count: int) -> list[int]:
    # fit validates on the epochs whose 1-based number is a multiple of an int validation_freq (K231
    # training_utils.should_run_validation): take the smallest period that yields ``count`` epochs, exact for
    # epochs=10, validation_freq=2 or 5. A list-valued validation_freq matches no period: the last epochs.
    first, last = numbers[0], numbers[-1]
    for period in range(2, last + 1):
        if last // period - (first - 1) // period == count:  # multiples of period in [first, last], O(1)
            hits = [n for n in numbers if n % period == 0]
            if len(hits) == count:
                return hits
    return list(numbers[-count:])


def _as_float(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


# ---------------------------------------------------------------------------- drawing
def grid_shape(n_families: int) -> tuple[int, int]:
    """``(rows, columns)``: one column up to three metrics (R's viewer stacks them), then two."""
    columns = 1 if n_families <= 3 else 2
    return math.ceil(n_families / columns), columns


def default_figsize(n_families: int) -> tuple[float, float]:
    """Figure size in inches for ``n_families`` subplots: 6 wide per column, 2.6 high per row, plus the title."""
    rows, columns = grid_shape(max(n_families, 1))
    return (6.0 if columns == 1 else 10.0, 2.6 * rows + 0.5)


def plot_metrics(series: Mapping[str, Series], *, total_epochs: int | None = None,
                 metrics: str | Iterable[str] | None = None, figsize: tuple[float, float] | None = None,
                 dpi: float = DEFAULT_DPI, title: str | None = None, caller: str = "plot"):
    """A ``Figure`` with one subplot per metric family, its training and validation lines against the epoch.

    Arguments:
        series: ``{log key: (1-based epochs, values)}``, e.g. from :func:`history_series`.
        total_epochs: the run's ``epochs``; the x axis is pre-sized to it, as in R's viewer.
        metrics: family names to draw (default: all, in log order).
        figsize, dpi: the figure's size in inches and resolution; the PNG is ``figsize * dpi`` pixels.
            Default size: :func:`default_figsize`.
        title: the figure's title (e.g. ``'epoch 3/10'``).

    Each line's label is ``'training'`` or ``'validation'`` and its gid the log key it draws.
    """
    require_matplotlib(caller)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = {key: xy for key, xy in series.items() if len(xy[0])}
    families = metric_families(series, metrics, caller)
    if not families:
        raise ValueError(f"{caller}: there is nothing to plot: no metric was logged (did fit run any epoch?).")
    rows, columns = grid_shape(len(families))
    fig = Figure(figsize=figsize or default_figsize(len(families)), dpi=dpi, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    first = min(min(x) for x, _ in series.values())
    last = max(max(x) for x, _ in series.values())
    right = max(total_epochs or 0, last)
    pad = max(0.25, 0.02 * (right - first))
    marker = "o" if right - first < 30 else None  # a dot per epoch while they can be told apart
    for ax, (family, train_key, val_key) in zip(axes, families):
        capped = is_accuracy_like(family)
        train_label = LEARNING_RATE_LABEL if family in LEARNING_RATE_KEYS else TRAIN_LABEL
        drawn = []
        for key, label, color in ((train_key, train_label, "C0"), (val_key, VALIDATION_LABEL, "C1")):
            if key is not None:
                x, y = series[key]
                y = [v if math.isfinite(v) else math.nan for v in y]  # a nan/inf epoch leaves a gap
                # Above the spines and unclipped on capped axes, so that a run at 100% stays visible on the top edge.
                ax.plot(x, y, label=label, color=color, marker=marker, markersize=3.5, gid=key,
                        clip_on=not capped, zorder=3)
                drawn.extend(v for v in y if not math.isnan(v))
        ax.set_title(family)
        ax.set_xlabel("epoch")
        ax.set_xlim(first - pad, right + pad)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        if capped:
            # R keras's viewer caps accuracy axes at 1.0; keep a visible range when all values are at 1.
            bottom = ax.get_ylim()[0]
            ax.set_ylim(min(bottom, 0.95), 1.0)
        elif family in LEARNING_RATE_KEYS and drawn and min(drawn) > 0 and max(drawn) > 2 * min(drawn):
            ax.set_yscale("log")  # ReduceLROnPlateau divides the rate: equal steps on a log axis
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    for ax in axes[len(families):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------------------- output
def png_bytes(fig) -> bytes:
    """The figure as PNG bytes, ``figsize * dpi`` pixels, through the Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


def write_png(fig, path: str | os.PathLike) -> bytes:
    """Writes the figure to ``path`` atomically (readers never see half an image); returns the bytes."""
    data = png_bytes(fig)
    with atomic_write(path, "wb") as f:
        f.write(data)
    return data


def html_path_for(png_path: str | os.PathLike) -> str:
    """``run/metrics.png`` -> ``run/metrics.html``."""
    return os.path.splitext(os.fspath(png_path))[0] + ".html"


def write_refresh_page(path: str | os.PathLike, png_path: str | os.PathLike | None, *, png: bytes | None = None,
                       refresh_seconds: int = 5, status: str = "") -> None:
    """Writes (atomically) an HTML page that shows the PNG and reloads itself every ``refresh_seconds``.

    The image is referenced relative to the page, with a query string made from the PNG's content hash, so the
    browser fetches it again exactly when it has changed. ``png_path=None`` writes the page without an image
    (before the first epoch).
    """
    image = ""
    if png_path is not None:
        source = urllib.parse.quote(os.path.relpath(os.fspath(png_path), os.path.dirname(os.path.abspath(path))))
        version = hashlib.sha1(png).hexdigest()[:12] if png is not None else str(time.time_ns())
        image = f'<img src="{html.escape(source)}?v={version}" alt="training metrics">'
    page = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
            f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">\n'
            f'<title>{html.escape(status or "training metrics")}</title>\n'
            f'<style>body{{font-family:sans-serif;margin:1em}} img{{max-width:100%}}</style></head>\n'
            f'<body><p>{html.escape(status)}</p>\n{image}\n</body></html>\n')
    with atomic_write(path, "w") as f:
        f.write(page)


def status_line(epoch: int | None, total_epochs: int | None, latest: Mapping[str, float]) -> str:
    """``'Epoch 3/10 - loss: 0.2914 - val_loss: 0.1407 - updated 12:01:33'`` (values as the progress bar shows)."""
    head = "Waiting for the first epoch" if epoch is None else (
        f"Epoch {epoch}/{total_epochs}" if total_epochs else f"Epoch {epoch}")
    return head + format_values(latest.items(), verbose=2) + time.strftime(" - updated %H:%M:%S")


def in_notebook() -> bool:
    """Whether we run in a Jupyter/IPython kernel, where images can be shown inline."""
    if "ipykernel" not in sys.modules:  # cheap test first; never imports IPython
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def display_png(data: bytes, handle=None):
    """Shows PNG bytes in the notebook; with the ``handle`` a previous call returned, replaces that image in
    place (other output of the cell, such as the progress bar, stays). Returns the handle."""
    from IPython.display import Image, display

    image = Image(data=data, format="png")
    if handle is None:
        return display(image, display_id=True)
    handle.update(image)
    return handle


def output_figure(fig, *, path: str | os.PathLike | None, show: bool | None, caller: str):
    """``History.plot``'s output: writes ``path`` if given, shows inline when ``show`` (default: in a kernel)."""
    if show is None:
        show = in_notebook()
    elif show and not in_notebook():
        raise ValueError(f"{caller}: show=True needs a Jupyter/IPython kernel to display in; elsewhere pass "
                         f"path='metrics.png' (or call savefig on the returned Figure).")
    data = write_png(fig, path) if path is not None else None
    if show:
        display_png(data if data is not None else png_bytes(fig))
    return fig
