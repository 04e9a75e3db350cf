"""A step that fails inside torch, explained in Keras's terms (issue 15).

Every batch is checked against the model's declared shapes before its step (data_adapters/standardize.py), but
a model may leave a size open (``None``: a sequence's time axis), and then a target of another length only
meets the output inside the loss, where torch says ``The size of tensor a (5) must match the size of tensor b
(6)``. ``explained`` runs only after a step raised (no cost in the loop): it runs the forward pass again
without gradients to learn this batch's output shapes, and names the output whose target does not fit, with
Keras 2.3.1's "Error when checking target" wording. Other torch ``RuntimeError``s keep their type and text,
with the call and step in front. The original is chained (``raise ... from err``).
"""
from __future__ import annotations

import torch


def explained(err: BaseException, model, x, y, caller: str, where: str = "") -> BaseException | None:
    """What to raise ``from err``; None: re-raise ``err`` unchanged (not an error from torch's ops).
    ``where``: the step, e.g. "step 3 of epoch 2" (empty for ``train_on_batch``)."""
    prefix = f"{caller} ({where})" if where else caller
    mismatch = _target_mismatch(model, x, y)
    if mismatch is not None:
        return ValueError(f"{prefix}: Error when checking target: {mismatch}")
    if type(err) is RuntimeError:  # torch's own; subclasses (out of memory ...) stay as they are
        return RuntimeError(f"{prefix}: the step failed inside torch: {err}")
    return None


def _target_mismatch(model, x, y) -> str | None:
    if y is None:
        return None
    was_training = model.training
    model.train(False)  # no moving statistics updated by this second forward
    try:
        with torch.no_grad():
            output, _ = model.compute_output(x, training=False, logits=False)
    except Exception:  # the forward itself fails: nothing to compare
        return None
    finally:
        model.train(was_training)
    outputs = output if isinstance(output, (list, tuple)) else [output]
    targets = y if isinstance(y, (list, tuple)) else [y]
    losses = model._data_spec().output_losses or [None] * len(outputs)
    for name, out, target, loss in zip(model.output_names, outputs, targets, losses):
        if target is None or loss is None or getattr(loss, "fn", None) is None:
            continue
        expected, got = tuple(out.shape[1:]), tuple(target.shape[1:])
        if loss.is_sparse:  # class indices: the output's shape without its class axis (and an optional 1)
            expected = expected[:-1]
            got = got[:-1] if len(got) == len(expected) + 1 and got[-1:] == (1,) else got
        if got != expected:
            return (f"expected {name} to have shape {expected} for this batch's input but got array with shape "
                    f"{got}")
    return None
