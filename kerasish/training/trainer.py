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
at epoch ends (with the NaN/inf record of streamed batches, nonfinite.py), and when a callback reads a batch log.
A step that raises inside torch is explained after the fact (step_errors.py); the ``try`` costs nothing otherwise.

Under torchrun (``kerasish.distributed``) the loop is the same on every rank: each step is this replica's share
of the global batch, the forward goes through DistributedDataParallel, and ``_data_parallel_loss`` scales the
loss; reading logs sums them over the replicas (compile_utils), and predict gathers the replicas' outputs.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import warnings

import numpy as np
import torch

from kerasish import backend, distributed
from kerasish.training.compile_utils import MetricsTracker, with_mask
from kerasish.training.epoch_iterator import EpochIterator
from kerasish.training.logs import BatchLogs
from kerasish.training.nonfinite import LossWatch
from kerasish.training.step_errors import explained
from kerasish.utils.nest import batch_rows


# ---------------------------------------------------------------------------- steps
def train_step(model, x, y, sample_weight, tracker: MetricsTracker) -> None:
    optimizer = model.optimizer
    optimizer.zero_grad(set_to_none=True)
    if getattr(model, "_data_parallel", None) is not None:  # torchrun
        loss, batch_loss, output, from_logits = _data_parallel_loss(model, x, y, sample_weight)
        masks = _output_masks(model, output)
    else:
        output, from_logits = model.compute_output(x, training=True)
        masks = _output_masks(model, output)
        loss = model.compiled_loss(y, output, _masked_weights(sample_weight, masks, output), from_logits=from_logits)
        loss = batch_loss = model.add_regularization(loss)
    scaler = model._grad_scaler
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:  # mixed_float16: scale the loss so float16 gradients do not underflow; skip steps with inf/nan
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    model.apply_constraints()
    tracker.update(batch_loss, y, _metric_input(model, output, from_logits, tracker), sample_weight, masks)


def _output_masks(model, output):
    """The masks the last forward pass gave the outputs, shaped like ``output`` (one tensor, or a list per
    output); None when the model's outputs carry no mask."""
    masks = model._last_output_masks()
    if masks is None:
        return None
    return masks if isinstance(output, (list, tuple)) else masks[0]


def _masked_weights(sample_weight, masks, output):
    """The weights the loss applies: the sample weights, times the output masks where there are some."""
    if masks is None:
        return sample_weight
    if not isinstance(output, (list, tuple)):
        return with_mask(sample_weight, masks, output)
    weights = sample_weight if sample_weight is not None else [None] * len(output)
    return [with_mask(w, m, o) for w, m, o in zip(weights, masks, output)]


def _data_parallel_loss(model, x, y, sample_weight):
    """One replica's step under DDP: ``(loss to differentiate, this replica's batch loss for the logs, output,
    from_logits)``.

    DDP averages gradients over the W replicas, so each differentiates ``(sum of its weighted per-sample
    losses) / (loss elements in the whole global batch) * W``: the average is the gradient of the global
    batch's mean loss, as one process computes it for the same batch, also when the replicas hold different
    numbers of rows. Regularization penalties (the same on every replica) are added whole, and average to
    themselves. A replica with no rows (a short last batch) still runs forward and backward, a zero loss
    connected to every weight, so that DDP's gradient all-reduce runs on every replica; it runs in inference
    mode so that BatchNormalization does not fold zero rows into its moving statistics.
    """
    empty = batch_rows(x) == 0
    if empty:
        model.train(False)
    try:
        output, from_logits = model.compute_output(x, training=True)
    finally:
        if empty:
            model.train(True)
    weights = _masked_weights(sample_weight, _output_masks(model, output), output)
    total, count = model.compiled_loss.sum_and_count(y, output, weights, from_logits=from_logits)
    global_count = distributed.all_reduce_sum(count.clone())  # one small collective per step; no host sync
    data_loss = total / global_count.clamp_min(1.0) * distributed.world_size()
    loss = model.add_regularization(data_loss)
    with torch.no_grad():
        batch_loss = loss - data_loss + total / count.clamp_min(1.0)  # penalties + this replica's mean loss
    return loss, batch_loss, output, from_logits


@torch.no_grad()
def test_step(model, x, y, sample_weight, tracker: MetricsTracker) -> None:
    output, from_logits = model.compute_output(x, training=False)
    masks = _output_masks(model, output)
    loss = model.compiled_loss(y, output, _masked_weights(sample_weight, masks, output), from_logits=from_logits)
    loss = model.add_regularization(loss)
    tracker.update(loss, y, _metric_input(model, output, from_logits, tracker), sample_weight, masks)


def _metric_input(model, output, from_logits, tracker):
    # Metrics see probabilities, as in Keras. The softmax/sigmoid is paid only when there are metrics, and not
    # when they are all accuracies that read the argmax of the output (which the activation keeps); it runs on
    # the detached output (no graph is recorded, without a no_grad context to enter and leave every step).
    if not (from_logits and tracker.has_metrics) or tracker.compiled_metrics.argmax_only:
        return output
    if isinstance(output, list):  # several outputs
        return model.final_activation([t.detach() for t in output])
    return model.final_activation(output.detach())


@torch.no_grad()
def predict_step(model, x) -> torch.Tensor:
    output, _ = model.compute_output(x, training=False, logits=False)
    return output


# ---------------------------------------------------------------------------- loops
def run_fit(model, iterator: EpochIterator, *, epochs: int, initial_epoch: int, callbacks,
            validation: EpochIterator | None = None, validation_freq=1) -> None:
    tracker = MetricsTracker(model.compiled_metrics, model.device, model._accumulator_dtype,
                             model._has_output_masks())
    model.stop_training = False
    loss_watch = LossWatch(iterator.caller)
    callbacks.on_train_begin()
    initial_epoch, initial_step = _resume_point(model, iterator, initial_epoch)
    try:
        for epoch in range(initial_epoch, epochs):
            tracker.reset()
            callbacks.on_epoch_begin(epoch)
            model.train(True)
            steps_done, completed = _run_train_epoch(model, iterator, epoch, tracker, callbacks,
                                                     skip=initial_step if epoch == initial_epoch else 0)
            if steps_done == 0:
                break  # the data ran out before this epoch could start
            distributed.broadcast_buffers(model)  # torchrun: end every epoch with rank 0's moving statistics
            epoch_logs = {}
            # Keras 2.3.1 validates only after the last batch of an epoch (not when a callback stopped it early).
            if (completed or iterator.ran_out) and validation is not None \
                    and should_run_validation(validation_freq, epoch):
                val_logs = run_evaluate(model, validation, callbacks)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            # Keras 2.3.1's BaseLogger writes the training values after the val_ ones, so History keys come
            # out as val_loss, val_acc, loss, acc: keep that order.
            epoch_logs.update(tracker.results())
            # NaN/inf: read where the epoch's logs are read anyway; said once, before the callbacks see the logs
            loss_watch.check(epoch_logs.get("loss"), epoch, iterator.non_finite_findings())
            callbacks.on_epoch_end(epoch, epoch_logs)
            if model.stop_training or iterator.ran_out:
                break
        if iterator.ran_out:
            _warn_ran_out(iterator, epochs - initial_epoch)
    finally:
        iterator.close()
        if validation is not None:
            validation.close()
        model.train(False)
    callbacks.on_train_end()


def _warn_ran_out(iterator: EpochIterator, epochs: int) -> None:
    # tf.keras 2.x data_adapter.py wording (DataHandler.catch_stop_iteration); training ends, weights are kept.
    total = f" (in this case, {epochs * iterator.steps} batches)" if iterator.steps else ""
    warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset or generator can "
                  f"generate at least `steps_per_epoch * epochs` batches{total}. You may need to use the repeat() "
                  "function when building your dataset.", UserWarning, stacklevel=4)


def _resume_point(model, iterator: EpochIterator, initial_epoch: int) -> tuple[int, int]:
    """``(epoch, step)`` this fit starts at: ``(initial_epoch, 0)``, unless a callback restored a backup in
    ``on_train_begin`` and set ``model._resume_from`` (BackupAndRestore; tf.keras r2.15's
    ``maybe_load_initial_counters_from_ckpt``). The backup also restored the model's shuffle seed, which the
    data adapter copied when fit created it: hand the restored one over, so resumed epochs keep their order."""
    resume = getattr(model, "_resume_from", None)
    if resume is None:
        return initial_epoch, 0
    model._resume_from = None
    if hasattr(iterator.adapter, "seed"):
        iterator.adapter.seed = model._shuffle_seed
    return resume


def _run_train_epoch(model, iterator, epoch, tracker, callbacks, skip: int = 0) -> tuple[int, bool]:
    """Returns (steps run, whether the epoch ran to its end without a callback stopping it). The first
    ``skip`` batches (run before the backup this fit resumes from) are drawn but not trained on."""
    want_batch_logs = callbacks.needs_batch_hooks("train")
    steps_done = 0
    with deferred_interrupts() as interrupts:
        for step, (x, y, sample_weight) in iterator.epoch(epoch):
            if step < skip:
                continue
            logs = BatchLogs(step, iterator.logged_size(step, batch_rows(x)), tracker) if want_batch_logs else None
            if want_batch_logs:
                callbacks.on_train_batch_begin(step, logs)
            try:  # free when nothing is raised (Python 3.11 zero-cost try)
                interrupts.run_step(train_step, model, x, y, sample_weight, tracker)
            except (RuntimeError, IndexError) as err:
                raise_explained(err, model, x, y, iterator.caller, f"step {step} of epoch {epoch + 1}")
            steps_done += 1
            if want_batch_logs:
                callbacks.on_train_batch_end(step, logs)
            if model.stop_training:
                return steps_done, False
    return steps_done, not iterator.ran_out


def run_evaluate(model, iterator: EpochIterator, callbacks) -> dict[str, float]:
    tracker = MetricsTracker(model.compiled_metrics, model.device, model._accumulator_dtype,
                             model._has_output_masks())
    want_batch_logs = callbacks.needs_batch_hooks("test")
    was_training = model.training
    model.train(False)
    callbacks.on_test_begin()
    for step, (x, y, sample_weight) in iterator.epoch(0):
        logs = BatchLogs(step, iterator.logged_size(step, batch_rows(x)), tracker) if want_batch_logs else None
        if want_batch_logs:
            callbacks.on_test_batch_begin(step, logs)
        try:
            test_step(model, x, y, sample_weight, tracker)
        except (RuntimeError, IndexError) as err:
            raise_explained(err, model, x, y, iterator.caller, f"step {step}")
        if want_batch_logs:
            callbacks.on_test_batch_end(step, logs)
    if iterator.ran_out:
        raise iterator.ran_out_error()
    results = tracker.results()
    iterator.non_finite_findings()  # warns once per argument
    callbacks.on_test_end(dict(results))
    model.train(was_training)
    return results


def raise_explained(err: BaseException, model, x, y, caller: str, where: str = ""):
    """Re-raise a step's error, in Keras's terms where it came from torch (step_errors.py)."""
    better = explained(err, model, x, y, caller, where)
    if better is None:
        raise err
    raise better from err


def run_predict(model, iterator: EpochIterator, callbacks) -> np.ndarray:
    want_batch_logs = callbacks.needs_batch_hooks("predict")
    model.train(False)
    callbacks.on_predict_begin()
    outputs = []
    for step, batch in iterator.epoch(0):
        x = batch[0]
        size = iterator.logged_size(step, batch_rows(x))
        if want_batch_logs:
            callbacks.on_predict_batch_begin(step, {"batch": step, "size": size})
        out = predict_step(model, x)
        outputs.append(out)
        if want_batch_logs:
            callbacks.on_predict_batch_end(step, {"batch": step, "size": size, "outputs": out})
    if iterator.ran_out:
        raise iterator.ran_out_error()
    iterator.non_finite_findings()  # warns once per argument
    callbacks.on_predict_end()
    if not outputs:
        raise ValueError("predict: the input produced no batches.")
    if isinstance(outputs[0], (list, tuple)):  # a model of several outputs: one array per output
        return [_joined(list(per_output), iterator) for per_output in zip(*outputs)]
    return _joined(outputs, iterator)


def _joined(outputs: list, iterator: EpochIterator) -> np.ndarray:
    if getattr(iterator.adapter, "sharded", False):
        # torchrun: every replica predicted its share; all of them, in the data's order, on every rank.
        return backend.to_numpy(distributed.gather_in_order(outputs))
    # One device->host copy at the end instead of one per batch.
    return backend.to_numpy(torch.cat(outputs))


class StepInterrupts:
    """Ctrl-C during a training step takes effect when the step is complete, so the model is left at its last
    completed step (never with half of an optimizer update applied); Ctrl-C between steps (loading a batch, a
    callback) interrupts at once, as Python's own handler does.

    ``deferred_interrupts()`` installs ``handle`` once for an epoch's steps rather than around every step:
    ``signal.signal`` and ``signal.getsignal`` cost ~10 us, 1% of a small model's step on a CPU.
    """

    def __init__(self):
        self.in_step = False
        self.pending = False

    def handle(self, signum, frame):
        if not self.in_step:
            raise KeyboardInterrupt  # what signal.default_int_handler does
        self.pending = True

    def run_step(self, step, *args) -> None:
        """``step(*args)``; a SIGINT that arrived while it ran raises KeyboardInterrupt once it has returned."""
        self.in_step = True
        try:
            step(*args)
        finally:
            self.in_step = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


@contextlib.contextmanager
def deferred_interrupts():
    """A ``StepInterrupts`` whose handler is SIGINT's handler inside the block (the previous handler is put back
    after it). Outside the main thread, or when the program installed its own SIGINT handler, the handler is
    not installed and nothing changes; a handler something installs inside the block is left in place."""
    current = signal.getsignal(signal.SIGINT)
    outer = getattr(current, "__self__", None)
    if isinstance(outer, StepInterrupts):
        yield outer  # a fit called from a callback of another fit's epoch: one handler serves both
        return
    interrupts = StepInterrupts()
    if threading.current_thread() is not threading.main_thread() or current is not signal.default_int_handler:
        yield interrupts
        return
    signal.signal(signal.SIGINT, interrupts.handle)
    try:
        yield interrupts
    finally:
        if signal.getsignal(signal.SIGINT) == interrupts.handle:  # bound methods: equal, not identical
            signal.signal(signal.SIGINT, current)


def should_run_validation(validation_freq, epoch: int) -> bool:
    """Keras 2.3.1 ``training_utils.should_run_validation``: ``validation_freq`` is an int period or a
    container of 1-based epochs."""
    one_based = epoch + 1
    if isinstance(validation_freq, int):
        return one_based % validation_freq == 0
    return one_based in validation_freq
