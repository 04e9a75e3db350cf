"""Steps and epochs: how many batches an epoch takes, and what happens when the data runs out.

Without ``steps`` an epoch is one pass over the adapter's data, in the order of that epoch. With ``steps``
(``steps_per_epoch``), epochs are windows of one continuous stream of passes: an epoch may end mid-pass and
the next continues there (Keras 2.3.1 ``OrderedEnqueuer`` wraps a Sequence around the same way). A finite
source that ends before an epoch is complete sets ``ran_out``; the trainer then stops training with
tf.keras's "Your input ran out of data" warning.
"""
from __future__ import annotations

import itertools
from typing import Iterator


class EpochIterator:
    def __init__(self, adapter, steps: int | None = None, caller: str = "fit", steps_name: str = "steps"):
        self.adapter = adapter
        self.steps = steps
        self.caller = caller  # for the error of a source that ran out (ran_out_error)
        self.steps_name = steps_name
        self.batches_done = 0
        # NaN/inf found in the data (nonfinite.py): a StreamMonitor or KnownFindings; report() reads it
        self.monitor = None
        self.ran_out = False
        self._stream: Iterator | None = None
        self._current: Iterator | None = None

    def steps_per_epoch(self) -> int | None:
        return self.steps if self.steps is not None else self.adapter.num_batches

    def epoch(self, epoch: int) -> Iterator[tuple[int, tuple]]:
        if self.steps is None:
            self._current = self.adapter.pass_batches(epoch)
            return self._counted(self._current, self.adapter.num_batches)
        if self._stream is None:
            self._stream = _passes(self.adapter, *self._stream_position(epoch))
        return self._counted(itertools.islice(self._stream, self.steps), self.steps)

    def _stream_position(self, epoch: int) -> tuple[int, int]:
        """Where epoch ``epoch`` starts in the stream: ``(pass, batches to skip)``, so that a fit started at
        ``initial_epoch=k`` (a resume) sees the batches an uninterrupted run would. Plain generators, whose
        length is unknown, start where they are."""
        batches_per_pass = self.adapter.num_batches
        if not batches_per_pass:
            return 0, 0
        return divmod(epoch * self.steps, batches_per_pass)

    def _counted(self, batches, expected: int | None):
        step = -1
        for step, batch in enumerate(batches):
            yield step, batch
        self.batches_done = step + 1
        if expected is not None and step + 1 < expected:
            self.ran_out = True

    def non_finite_findings(self) -> list[str]:
        """What the data's NaN/inf checks found so far (a stream's: one small device read, warned once)."""
        return self.monitor.report() if self.monitor is not None else []

    def ran_out_error(self) -> ValueError:
        """evaluate/predict on a generator that ended before ``steps`` batches: Keras 2.3.1 stops with the
        generator's ``StopIteration`` (training_generator.py), so this is an error, not fit's warning."""
        return ValueError(f"{self.caller}: the generator ran out of data after {self.batches_done} batches, but "
                          f"{self.steps_name}={self.steps} asks for {self.steps}. Make sure that it can generate at "
                          f"least `{self.steps_name}` batches (e.g. loop with `while True:`), or pass a smaller "
                          f"`{self.steps_name}`.")

    def logged_size(self, step: int, rows: int) -> int:
        """``size`` for the batch logs of a batch of ``rows`` rows: the rows of the global batch when the adapter
        splits each batch across replicas (torchrun), so that rank 0's progress bar counts every sample."""
        if self.steps is None and getattr(self.adapter, "sharded", False) and hasattr(self.adapter,
                                                                                     "global_batch_size"):
            return self.adapter.global_batch_size(step)
        return rows

    def close(self) -> None:
        """Stop loaders now (worker threads and processes), also when an error or Ctrl-C interrupted an epoch."""
        for generator in (self._current, self._stream):
            if generator is not None and hasattr(generator, "close"):
                generator.close()
        self._current = self._stream = None
        self.adapter.close()


def _passes(adapter, first_pass: int = 0, skip: int = 0):
    """Pass after pass over the adapter's data from ``first_pass``, less the first ``skip`` batches; ends when a
    pass yields nothing (an exhausted generator)."""
    for pass_index in itertools.count(first_pass):
        produced = False
        batches = adapter.pass_batches(pass_index)
        try:
            for batch in batches:
                produced = True
                if skip:
                    skip -= 1
                    continue
                yield batch
        finally:
            batches.close()
        if not produced:
            return
