"""``kerasish.utils.Progbar``: Keras 2.3.1's progress bar, byte for byte.

How a line looks is kept apart from when it is written:

* the ``format_*`` functions are pure (numbers in, text out) and reproduce the K231 formats exactly,
  ``keras/utils/generic_utils.py`` class ``Progbar``;
* :class:`Progbar` keeps the state (averages, throttle, previous width) and decides when to write.

Output goes to ``sys.stdout``, looked up at write time. Like K231, the line is rewritten in place
(``\\b``... then ``\\r``) only when stdout is a terminal or an IPython kernel is loaded; anywhere else (a log
file, a pipe, pytest's capture) every drawn update is ``\\n`` + the full line, so files never receive ``\\b`` or
``\\r``. (tf.keras also treats ``"posix" in sys.modules`` as interactive, which sends ``^H`` sequences into
SLURM logs; K231 does not, and neither do we.)
"""
from __future__ import annotations

import math
import sys
import time
from typing import Callable, Iterable

import numpy as np

# The clock behind every Progbar that is not given its own ``time_fn``. Looked up at call time, so tests
# replace it with ``monkeypatch.setattr(progbar, "_clock", fake)`` to pin the printed times.
_clock: Callable[[], float] = time.time


# ---------------------------------------------------------------------------------------------------------
# Pure formatting (K231 generic_utils.py, Progbar.update)
# ---------------------------------------------------------------------------------------------------------

def format_bar(current: int, target: int | None, width: int = 30) -> str:
    """The counter and the bar: ``' 59936/60000 [============================>.]'``.

    The counter is right-aligned to the number of digits of ``target``; the bar has ``int(width * current /
    target)`` cells of ``=``, the last one drawn as ``>`` while ``current < target``, padded with ``.``.
    With an unknown target K231 prints ``'%7d/Unknown'``.
    """
    if target is None:
        return "%7d/Unknown" % current
    # K231: int(np.floor(np.log10(target))) + 1 (it fails for target 0; we print one digit).
    num_digits = int(math.floor(math.log10(target))) + 1 if target >= 1 else 1
    bar = ("%" + str(num_digits) + "d/%d [") % (current, target)
    filled = int(width * (float(current) / target)) if target else width
    if filled > 0:
        bar += "=" * (filled - 1)
        bar += ">" if current < target else "="
    bar += "." * (width - filled)
    return bar + "]"


def format_eta(seconds: float) -> str:
    """K231's ETA: ``'1:02:03'`` above an hour, ``'1:05'`` above a minute, else ``'5s'`` (truncated)."""
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def format_time_per_unit(seconds_per_unit: float, unit_name: str = "step") -> str:
    """``'2s/step'``, ``'12ms/step'`` or ``'63us/step'``.

    K231 always writes ``/step``, even when the ProgbarLogger counts samples (so ``63us/step`` is per sample).
    """
    if seconds_per_unit >= 1:
        return "%.0fs/%s" % (seconds_per_unit, unit_name)
    if seconds_per_unit >= 1e-3:
        return "%.0fms/%s" % (seconds_per_unit * 1e3, unit_name)
    return "%.0fus/%s" % (seconds_per_unit * 1e6, unit_name)


def format_value(value: float, verbose: int = 1) -> str:
    """A metric value: ``'%.4f'`` when it is larger than 1e-3, else ``'%.4e'``.

    K231 compares ``abs(value)`` at verbose=1 but ``value`` itself at verbose=2, so at verbose=2 every
    negative value is printed in ``e`` notation (``-0.5`` -> ``'-5.0000e-01'``).
    """
    if np.ndim(value):  # a metric of several thresholds: K231 shows the mean of its values
        value = float(np.mean(value))
    large = abs(value) > 1e-3 if verbose == 1 else value > 1e-3
    return ("%.4f" if large else "%.4e") % value


def format_values(values: Iterable[tuple[str, float]], verbose: int = 1) -> str:
    """``' - loss: 0.2914 - accuracy: 0.9160'`` from ``(name, displayed value)`` pairs, in the order given."""
    return "".join(" - %s: %s" % (name, format_value(value, verbose)) for name, value in values)


def format_progress_line(current: int, target: int | None, elapsed: float,
                         values: Iterable[tuple[str, float]] = (), width: int = 30,
                         unit_name: str = "step") -> str:
    """One verbose=1 line, without the leading ``\\n``/``\\r``, the padding and the final newline.

    While ``current < target`` the elapsed time is replaced by the ETA (``' - ETA: 5s'``); when done, or with an
    unknown target, it reads ``' - 4s 63us/step'``.
    """
    time_per_unit = elapsed / current if current else 0
    if target is not None and current < target:
        info = " - ETA: %s" % format_eta(time_per_unit * (target - current))
    else:
        info = " - %.0fs %s" % (elapsed, format_time_per_unit(time_per_unit, unit_name))
    return format_bar(current, target, width) + info + format_values(values, verbose=1)


def format_summary_line(elapsed: float, values: Iterable[tuple[str, float]] = ()) -> str:
    """The verbose=2 line, without its newline: ``' - 4s - loss: 0.2914'`` (no counter, leading space)."""
    return " - %.0fs" % elapsed + format_values(values, verbose=2)


def is_dynamic_display(stream=None) -> bool:
    """K231's test for rewriting the line in place: the stream is a terminal, or an IPython kernel is loaded."""
    stream = sys.stdout if stream is None else stream
    return bool(getattr(stream, "isatty", None) and stream.isatty()) or "ipykernel" in sys.modules


def should_redraw(now: float, last_update: float | None, interval: float, current: int,
                  target: int | None) -> bool:
    """K231's verbose=1 throttle: draw at most every ``interval`` seconds, except the update that reaches the
    target (and every update when the target is unknown)."""
    if target is None or current >= target or last_update is None:
        return True
    return now - last_update >= interval


def _to_float(value) -> float:
    # K231 displays np.mean(value): an array is averaged, and a scalar comes back as itself plus 0.0 -- which
    # turns -0.0 (a value times a zero step) into 0.0. Torch tensors are read here.
    if isinstance(value, (int, float)):
        return float(value) + 0.0
    if hasattr(value, "detach"):
        return float(value.detach().float().mean()) + 0.0
    return float(np.mean(value))


# ---------------------------------------------------------------------------------------------------------
# The stateful bar
# ---------------------------------------------------------------------------------------------------------

class Progbar:
    """Displays a progress bar (Keras 2.3.1 ``keras.utils.Progbar``).

    Arguments:
        target: total number of steps expected, None if unknown.
        width: progress bar width on screen.
        verbose: 0 (silent), 1 (a bar), 2 (one line when the target is reached).
        interval: minimum time between two drawn updates, in seconds.
        stateful_metrics: names whose values are displayed as given; all other values are averaged over the
            updates, weighted by how much ``current`` advanced.
        unit_name: the unit after the time per unit (``'step'``, as K231 always prints). From tf.keras.
        time_fn: the clock, ``time.time`` by default (tests inject a fake one).
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, unit_name: str = "step",
                 time_fn: Callable[[], float] | None = None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._time_fn = time_fn
        # Decided once, when the bar is created, as in K231.
        self._dynamic_display = is_dynamic_display()
        self._total_width = 0
        self._seen_so_far = 0
        # name -> [weighted sum, total weight]; a stateful value is stored as [value, 1]. Insertion order is
        # display order (K231 uses an OrderedDict).
        self._values: dict[str, list] = {}
        self._start = self._now()
        # K231 starts from 0, i.e. "long ago" on a wall clock; None says the same for any clock.
        self._last_update: float | None = None

    def _now(self) -> float:
        return (self._time_fn or _clock)()

    def would_display(self, current: int) -> bool:
        """Whether ``update(current)`` would write now. Lets a caller fetch expensive values only when needed."""
        if self.verbose == 1:
            return should_redraw(self._now(), self._last_update, self.interval, current, self.target)
        if self.verbose == 2:
            return self.target is None or current >= self.target
        return False

    def update(self, current: int, values: Iterable[tuple[str, float]] | None = None,
               force: bool = False) -> None:
        """Updates the progress bar.

        Arguments:
            current: index of the current step (or sample count).
            values: ``(name, value_for_last_step)`` pairs. Names in ``stateful_metrics`` are displayed as
                given; the others are averaged over time.
            force: draw even within ``interval`` of the previous drawing (verbose=1).
        """
        step = current - self._seen_so_far
        for name, value in values or ():
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
            elif name in self._values:
                accumulator = self._values[name]
                accumulator[0] += value * step
                accumulator[1] += step
            else:
                self._values[name] = [value * step, step]
        self._seen_so_far = current

        now = self._now()
        if self.verbose == 1:
            if not force and not should_redraw(now, self._last_update, self.interval, current, self.target):
                return
            self._draw(current, now)
        elif self.verbose == 2:
            if self.target is None or current >= self.target:
                self._write(format_summary_line(now - self._start, self._averages()) + "\n")
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, float]] | None = None) -> None:
        """Advances ``current`` by ``n``."""
        self.update(self._seen_so_far + n, values)

    def _averages(self) -> list[tuple[str, float]]:
        return [(name, _to_float(total / max(1, weight))) for name, (total, weight) in self._values.items()]

    def _draw(self, current: int, now: float) -> None:
        line = format_progress_line(current, self.target, now - self._start, self._averages(),
                                    self.width, self.unit_name)
        previous_width, self._total_width = self._total_width, len(line)
        if self._dynamic_display:
            prefix = "\b" * previous_width + "\r"
        else:
            prefix = "\n"
        # K231 pads a shorter line with spaces to erase the previous one -- also off a terminal.
        padding = " " * (previous_width - len(line)) if previous_width > len(line) else ""
        done = "\n" if self.target is not None and current >= self.target else ""
        self._write(prefix + line + padding + done)

    @staticmethod
    def _write(text: str) -> None:
        stream = sys.stdout
        stream.write(text)
        stream.flush()
