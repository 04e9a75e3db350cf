"""NaN and inf in the data: found without a per-step host sync, said once, and named when the loss goes bad.

Keras 2.3.1 trains on NaN data without a word (the weights become NaN). Here:

* arrays (``fit``/``evaluate``), and a ``TensorDataset``'s tensors (``TorchSource.fixed_tensors``): one pass
  over the tensors per call (``check_arrays``), before training;
  ``torch.aminmax`` reads each array once without a temporary, and only an array whose minimum or maximum is
  not finite (NaN propagates through both) is searched for its rows;
* streams (generators, Sequences, image iterators, torch data): ``StreamMonitor.record`` writes each batch's
  min and max per float tensor into a preallocated device buffer (one ``aminmax`` kernel per tensor, no sync;
  ~10 us of Python per batch on a CPU, besides the kernel's pass over the batch);
  ``report()`` reads the buffer in one transfer where logs are read anyway (the end of an epoch, of evaluate,
  of predict) and warns once per argument, naming the first offending batch (under torchrun each replica of
  its own batches);
* ``LossWatch``: when an epoch's training loss is NaN or inf, it says so once, with what the data checks found
  (or that they found nothing, so the cause is the training itself).
"""
from __future__ import annotations

import math
import os
import sys
import warnings

import torch

from kerasish import distributed

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHOWN_ROWS = 5


def warn_from_user_code(message: str, main_only: bool = False) -> None:
    """A UserWarning attributed to the first frame outside kerasish (the user's fit call). ``main_only``: under
    torchrun, on rank 0 only (what every replica finds alike: the arrays, the global loss)."""
    if main_only and not distributed.is_main_process():
        return
    level, frame = 2, sys._getframe(1)  # stacklevel 2: our caller's frame
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, UserWarning, stacklevel=level)


def _named_tensors(arg_name: str, data, names) -> list[tuple[str, torch.Tensor]]:
    """``[(label, tensor)]`` of one argument: ``x``, or ``x['input_name']`` per input of a model of several."""
    if isinstance(data, torch.Tensor):
        return [(arg_name, data)]
    if not isinstance(data, (list, tuple)):
        return []  # None, or data left on disk (LazyRows: read batch by batch, not checked here)
    return [(f"{arg_name}[{name!r}]", t) for name, t in zip(names, data) if isinstance(t, torch.Tensor)]


def _is_checkable(t: torch.Tensor) -> bool:
    return t.is_floating_point() and t.numel() > 0


# ---------------------------------------------------------------------------- arrays, once per call
def check_arrays(caller: str, x, y=None, sample_weight=None, input_names=(), output_names=()) -> list[str]:
    """Warn once per argument holding NaN or inf (which rows); returns the findings (for ``LossWatch``)."""
    findings = []
    for arg_name, data, names in (("x", x, input_names), ("y", y, output_names),
                                  ("sample_weight", sample_weight, output_names)):
        for label, tensor in _named_tensors(arg_name, data, names):
            if not _is_checkable(tensor):
                continue  # integers cannot be NaN
            low, high = torch.aminmax(tensor)
            if math.isfinite(low) and math.isfinite(high):  # the common case: one pass, no temporary
                continue
            bad_rows = (~torch.isfinite(tensor.reshape(len(tensor), -1))).any(dim=1).nonzero().flatten()
            shown = bad_rows[:_SHOWN_ROWS].tolist()
            more = ", ..." if len(bad_rows) > _SHOWN_ROWS else ""
            finding = (f"{label} has NaN or inf in {len(bad_rows)} of {len(tensor)} samples (rows "
                       f"{', '.join(map(str, shown))}{more})")
            findings.append(finding)
            warn_from_user_code(f"{caller}: {finding}; the loss and then the weights become NaN when training on "
                                "them. Remove or replace those values (e.g. np.nan_to_num) first.", main_only=True)
    return findings


# ---------------------------------------------------------------------------- streams, one kernel per tensor
class StreamMonitor:
    """Min and max of every float tensor of every batch, on the device, read in one transfer by ``report``.

    Each batch writes one row of a preallocated ``(CHUNK, tensors, 2)`` buffer through prebuilt 0-dim views
    (``aminmax(out=...)``): one kernel per tensor, no allocation, no sync, a few microseconds of Python."""

    CHUNK = 256  # batches per device buffer

    def __init__(self, caller: str, describe_batch, input_names=(), output_names=()):
        self.caller = caller
        self.describe_batch = describe_batch  # batch key -> "generator batch 3, counting from 0" / "Seq[3]"
        self.input_names, self.output_names = list(input_names), list(output_names)
        self._buffers: list[torch.Tensor] = []  # filled chunks, then the current one
        self._views: tuple = ()  # the current chunk's elements as 0-dim views
        self._keys: list = []  # batch key of each recorded row
        self._labels: list[str] = []  # argument label of each tensor position
        self._reported: set[str] = set()
        self.findings: list[str] = []

    def record(self, key, x, y, sample_weight) -> None:
        tensors = _leaves(x) + _leaves(y) + _leaves(sample_weight)
        if len(tensors) != len(self._labels):  # the first batch (the structure is checked to stay the same)
            self._restart(x, y, sample_weight)
        row = len(self._keys) % self.CHUNK
        if row == 0:
            self._new_chunk(tensors[0].device)
        views, base = self._views, row * len(tensors) * 2
        for position, tensor in enumerate(tensors):
            if tensor is None or not tensor.is_floating_point() or tensor.numel() == 0:
                continue  # its row stays 0, 0 (finite)
            low, high = views[base + 2 * position], views[base + 2 * position + 1]
            if tensor.dtype == torch.float32:  # the batch is on one device: the buffer's (made from x)
                torch.aminmax(tensor, out=(low, high))  # one kernel, written in place
            else:
                low.copy_(tensor.min()), high.copy_(tensor.max())
        self._keys.append(key)

    def _restart(self, x, y, sample_weight) -> None:
        if self._keys:
            self.report()
        self._labels = (_labels("x", x, self.input_names) + _labels("y", y, self.output_names)
                        + _labels("sample_weight", sample_weight, self.output_names))

    def _new_chunk(self, device) -> None:
        buffer = torch.zeros(self.CHUNK, len(self._labels), 2, device=device)
        self._buffers.append(buffer)
        self._views = buffer.view(-1).unbind(0)  # all 0-dim views in one call

    def report(self) -> list[str]:
        """Read what was recorded since the last report (one device read); warn once per argument."""
        if not self._keys:
            return self.findings
        rows = len(self._keys)
        recorded = torch.cat(self._buffers)[:rows]
        finite = torch.isfinite(recorded).all(dim=2).cpu()  # (rows, tensors): the only transfer
        keys = self._keys
        self._keys, self._buffers, self._views = [], [], ()
        for column, label in enumerate(self._labels):
            bad = (~finite[:, column]).nonzero().flatten().tolist()
            if not bad or label in self._reported:
                continue
            self._reported.add(label)
            # warned once per argument, at its first finding: the counts are from the start of the call
            finding = (f"{label} has NaN or inf in {len(bad)} of {rows} batches so far, first in "
                       f"{self.describe_batch(keys[bad[0]])}")
            self.findings.append(finding)
            warn_from_user_code(f"{self.caller}: {finding}; the loss and then the weights become NaN when training "
                                "on them. Remove or replace those values (e.g. np.nan_to_num) in the data source.")
        return self.findings


def _leaves(data) -> list:
    """The tensors of one argument by position (None kept: an output without sample weights)."""
    if data is None:
        return []
    return [data] if isinstance(data, torch.Tensor) else list(data)


def _labels(arg_name: str, data, names) -> list[str]:
    if data is None:
        return []
    if isinstance(data, torch.Tensor):
        return [arg_name]
    return [f"{arg_name}[{name!r}]" for name, _ in zip(names, data)]


class KnownFindings:
    """``report()`` of data checked before the call (arrays, a TensorDataset's tensors): the findings
    ``check_arrays`` returned. Its batches need no scan: ``record`` does nothing."""

    def __init__(self, findings: list[str]):
        self.findings = findings

    def record(self, key, x, y, sample_weight) -> None:
        pass

    def report(self) -> list[str]:
        return self.findings


# ---------------------------------------------------------------------------- the loss
class LossWatch:
    """Says once per fit that the training loss is NaN or inf, with what the data checks found."""

    def __init__(self, caller: str):
        self.caller = caller
        self.said = False

    def check(self, loss, epoch: int, findings: list[str]) -> None:
        if self.said or loss is None or math.isfinite(loss):
            return
        self.said = True
        if findings:
            cause = "The data holds non-finite values: " + "; ".join(findings) + "."
        else:
            cause = ("No NaN or inf was found in x, y or sample_weight, so it comes from the training itself: try a "
                     "lower learning rate, gradient clipping (clipnorm/clipvalue), or check custom losses and "
                     "layers (e.g. a log of 0).")
        warn_from_user_code(f"{self.caller}: the training loss became {loss} in epoch {epoch + 1}. {cause}",
                            main_only=True)
