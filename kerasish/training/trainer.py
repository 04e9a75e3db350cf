"""THE loop: ``run_fit``, ``run_evaluate``, ``run_predict`` and their one-batch steps.

Who owns what:

=====================  =========================================================================
models.Sequential      validates every argument, builds the model, makes adapters and callbacks
data_adapters          turns the data into batches already on the device (order, gather, copy)
EpochIterator          how many steps an epoch has; a stream across passes when steps_per_epoch is set
trainer (this file)    epochs, steps, callbacks, validation; never inspects the type of the data
compile_utils          loss reduction and on-device metric accumulation (the only host read: results())
=====================  =========================================================================

Host syncs: none per step. Values are read at progress-bar refreshes (throttled by the ProgbarLogger),
at epoch ends, and when a callback reads a batch log.
"""
from __future__ import annotations

import itertools
from typing import Iterator

import numpy as np
import torch

from kerasish.training.compile_utils import MetricsTracker
from kerasish.training.logs import BatchLogs


class EpochIterator:
    """Yields ``(step, batch)`` for one epoch.

    Without ``steps`` an epoch is one pass over the adapter's data, in the order of that epoch. With
    ``steps`` (``steps_per_epoch``) epochs are windows of a continuous stream of passes: an epoch may end
    mid-pass and the next one continues there, reshuffling at each new pass (tf.keras semantics for arrays).
    """

    def __init__(self, adapter, steps: int | None = None):
        self.adapter = adapter
        self.steps = steps
        self._stream: Iterator | None = None

    def steps_per_epoch(self) -> int:
        return self.steps if self.steps is not None else self.adapter.num_batches

    def epoch(self, epoch: int) -> Iterator[tuple[int, tuple]]:
        if self.steps is None:
            return enumerate(self.adapter.pass_batches(epoch))
        if self._stream is None:
            passes = itertools.count()
            self._stream = itertools.chain.from_iterable(self.adapter.pass_batches(p) for p in passes)
        return enumerate(itertools.islice(self._stream, self.steps))


# ---------------------------------------------------------------------------- steps
def train_step(model, x, y, sample_weight, tracker: MetricsTracker) -> None:
    optimizer = model.optimizer
    optimizer.zero_grad(set_to_none=True)
    output, from_logits = model.compute_output(x, training=True)
    loss = model.compiled_loss(y, output, sample_weight, from_logits=from_logits)
    loss = model.add_regularization(loss)
    loss.backward()
    optimizer.step()
    model.apply_constraints()
    tracker.update(loss, y, _metric_input(model, output, from_logits, tracker), sample_weight)


@torch.no_grad()
def test_step(model, x, y, sample_weight, tracker: MetricsTracker) -> None:
    output, from_logits = model.compute_output(x, training=False)
    loss = model.compiled_loss(y, output, sample_weight, from_logits=from_logits)
    loss = model.add_regularization(loss, training=False)
    tracker.update(loss, y, _metric_input(model, output, from_logits, tracker), sample_weight)


def _metric_input(model, output, from_logits, tracker):
    # Metrics see probabilities, as in Keras; the softmax/sigmoid is only paid when there are metrics.
    if from_logits and tracker.has_metrics:
        with torch.no_grad():
            return model.final_activation(output)
    return output


@torch.no_grad()
def predict_step(model, x) -> torch.Tensor:
    output, _ = model.compute_output(x, training=False, logits=False)
    return output


# ---------------------------------------------------------------------------- loops
def run_fit(model, iterator: EpochIterator, *, epochs: int, initial_epoch: int, callbacks,
            validation: EpochIterator | None = None, validation_freq=1) -> None:
    tracker = MetricsTracker(model.compiled_metrics, model.device)
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        tracker.reset()
        callbacks.on_epoch_begin(epoch)
        model.train(True)
        completed = _run_train_epoch(model, iterator, epoch, tracker, callbacks)
        epoch_logs = {}
        # Keras 2.3.1 validates only after the last batch of an epoch (not when a callback stopped it early).
        if completed and validation is not None and should_run_validation(validation_freq, epoch):
            val_logs = run_evaluate(model, validation, callbacks)
            epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
        # Keras 2.3.1's BaseLogger writes the training values after the val_ ones, so History keys come
        # out as val_loss, val_acc, loss, acc: keep that order.
        epoch_logs.update(tracker.results())
        callbacks.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    model.train(False)
    callbacks.on_train_end()


def _run_train_epoch(model, iterator, epoch, tracker, callbacks) -> bool:
    want_batch_logs = callbacks.needs_batch_hooks("train")
    for step, (x, y, sample_weight) in iterator.epoch(epoch):
        logs = BatchLogs(step, len(x), tracker) if want_batch_logs else None
        if want_batch_logs:
            callbacks.on_train_batch_begin(step, logs)
        train_step(model, x, y, sample_weight, tracker)
        if want_batch_logs:
            callbacks.on_train_batch_end(step, logs)
        if model.stop_training:
            return False
    return True


def run_evaluate(model, iterator: EpochIterator, callbacks) -> dict[str, float]:
    tracker = MetricsTracker(model.compiled_metrics, model.device)
    want_batch_logs = callbacks.needs_batch_hooks("test")
    was_training = model.training
    model.train(False)
    callbacks.on_test_begin()
    for step, (x, y, sample_weight) in iterator.epoch(0):
        logs = BatchLogs(step, len(x), tracker) if want_batch_logs else None
        if want_batch_logs:
            callbacks.on_test_batch_begin(step, logs)
        test_step(model, x, y, sample_weight, tracker)
        if want_batch_logs:
            callbacks.on_test_batch_end(step, logs)
    results = tracker.results()
    callbacks.on_test_end(dict(results))
    model.train(was_training)
    return results


def run_predict(model, iterator: EpochIterator, callbacks) -> np.ndarray:
    want_batch_logs = callbacks.needs_batch_hooks("predict")
    model.train(False)
    callbacks.on_predict_begin()
    outputs = []
    for step, batch in iterator.epoch(0):
        x = batch[0]
        if want_batch_logs:
            callbacks.on_predict_batch_begin(step, {"batch": step, "size": len(x)})
        out = predict_step(model, x)
        outputs.append(out)
        if want_batch_logs:
            callbacks.on_predict_batch_end(step, {"batch": step, "size": len(x), "outputs": out})
    callbacks.on_predict_end()
    if not outputs:
        raise ValueError("predict: the input produced no batches.")
    # One device->host copy at the end instead of one per batch.
    return torch.cat(outputs).cpu().numpy()


def should_run_validation(validation_freq, epoch: int) -> bool:
    """Keras 2.3.1 ``training_utils.should_run_validation``: ``validation_freq`` is an int period or a
    container of 1-based epochs."""
    one_based = epoch + 1
    if isinstance(validation_freq, int):
        return one_based % validation_freq == 0
    return one_based in validation_freq
