"""The learning phase, conditionals, gradients and loops over tensors (Keras 2.3.1 ``tensorflow_backend.py``).

TensorFlow builds ``switch``/``rnn``/``map_fn`` into its graph as ``cond``/``while_loop``/``map_fn`` ops; here
they run eagerly as Python over torch ops, so autograd differentiates through them like any other code.
"""
from __future__ import annotations

import contextlib

import torch

from kerasish.backend import config
from kerasish.backend.variables import as_torch_dtype, int_shape, operands, to_tensor

_learning_phase: int | None = None  # the value set_learning_phase (or a learning_phase_scope) set
_model_phase = 0  # the mode a model last entered: 1 while fit trains, 0 in evaluate and predict


# ---------------------------------------------------------------- learning phase and session
def learning_phase() -> int:
    """0 (test) or 1 (train): the value ``set_learning_phase`` or ``learning_phase_scope`` set; when none did,
    the mode of the model running (Keras 2.3.1 feeds 1 during ``fit``, 0 in ``evaluate``/``predict``), so
    ``K.in_train_phase`` in a Lambda or custom layer follows training as in Keras."""
    return _model_phase if _learning_phase is None else _learning_phase


def follow_model_mode(training: bool) -> None:
    """Called by ``Model.train(mode)``: the learning phase that applies while nothing fixed one."""
    global _model_phase
    _model_phase = 1 if training else 0


def _check_phase(value) -> int:
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    return int(value)


def set_learning_phase(value) -> None:
    """Fixes the learning phase to 0 (test) or 1 (train) until ``clear_session`` or the next call."""
    global _learning_phase
    _learning_phase = _check_phase(value)


@contextlib.contextmanager
def learning_phase_scope(value):
    """``with K.learning_phase_scope(1): ...``: the learning phase inside the block (tf.keras's name)."""
    global _learning_phase
    previous, _learning_phase = _learning_phase, _check_phase(value)
    try:
        yield value
    finally:
        _learning_phase = previous


def clear_session() -> None:
    """Resets layer-name counters and the learning phase, and frees cached device memory (Keras: destroys the
    current graph and makes a new one)."""
    global _learning_phase
    config.clear_session()
    _learning_phase = None


# ---------------------------------------------------------------- conditionals
def _value(expression):
    return expression() if callable(expression) else expression


def switch(condition, then_expression, else_expression):
    """``then_expression`` where ``condition`` is true, else ``else_expression`` (each a tensor or a callable
    returning one). A condition of lower rank applies along the leading axes of the expressions.

    A tensor condition selects elementwise with ``torch.where``, so both expressions are evaluated (TF's
    ``cond`` runs one branch for a scalar condition; reading the scalar on the host here would stall the
    device). A Python bool runs only the chosen callable.
    """
    if not isinstance(condition, torch.Tensor):
        return _value(then_expression if condition else else_expression)
    then_value, else_value = operands(_value(then_expression), _value(else_expression))
    cond_ndim, expr_ndim = condition.dim(), then_value.dim()
    if cond_ndim > expr_ndim:
        raise ValueError(f"Rank of `condition` should be less than or equal to rank of `then_expression` and "
                         f"`else_expression`. ndim(condition)={cond_ndim}, ndim(then_expression)={expr_ndim}")
    condition = condition.bool()[(...,) + (None,) * (expr_ndim - cond_ndim)]
    return torch.where(condition, then_value, else_value)


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, ``alt`` otherwise (either may be a callable). ``training`` defaults to
    ``learning_phase()``; a tensor ``training`` selects with ``switch``."""
    if training is None:
        training = learning_phase()
    if isinstance(training, torch.Tensor):
        return switch(training, x, alt)
    return _value(x if training else alt)


def in_test_phase(x, alt, training=None):
    """``x`` in the test phase, ``alt`` otherwise."""
    return in_train_phase(alt, x, training=training)


# ---------------------------------------------------------------- gradients
def gradients(loss, variables) -> list:
    """The gradients of ``loss`` (summed, if it has several elements) with respect to ``variables``: a list
    with one tensor per variable, or ``None`` for a variable ``loss`` does not depend on.

    The gradients are part of the autograd graph (``create_graph=True``): a loss computed from them (a gradient
    penalty in a Lambda layer, for example) trains the weights through them. Autograd only knows tensors it
    tracked when ``loss`` was computed, hence the two errors below.
    """
    variables = [variables] if isinstance(variables, torch.Tensor) else list(variables)
    if not torch.is_grad_enabled():
        raise RuntimeError(
            "gradients: autograd is off here (inside torch.no_grad() or torch.inference_mode(), as evaluate and "
            "predict run models), so the loss records no graph to differentiate. Compute the loss and its gradients "
            "under `with torch.enable_grad():`.")
    for i, v in enumerate(variables):
        if not isinstance(v, torch.Tensor) or not v.requires_grad:
            raise ValueError(
                f"gradients: variables[{i}] is not tracked by autograd (requires_grad=False), so no gradient with "
                "respect to it can be taken after the fact. Call `x.requires_grad_()` on it before computing the "
                "loss from it (model inputs and frozen weights are not tracked).")
    if not loss.requires_grad:
        return [None] * len(variables)  # nothing tracked reaches the loss: TF's None for unconnected variables
    grad_outputs = None if loss.dim() == 0 else torch.ones_like(loss)
    return list(torch.autograd.grad(loss, variables, grad_outputs=grad_outputs, create_graph=True,
                                    allow_unused=True))


def stop_gradient(variables):
    """``variables`` (a tensor or a list of them) cut out of the gradient computation."""
    if isinstance(variables, (list, tuple)):
        return [to_tensor(v).detach() for v in variables]
    return to_tensor(variables).detach()


# ---------------------------------------------------------------- loops
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    """Iterates ``step_function(input_t, states + constants) -> (output_t, new_states)`` over the time axis of
    ``inputs`` ``(samples, time, ...)``. Returns ``(last_output, outputs, new_states)``: the last step's output,
    all outputs ``(samples, time, ...)`` in the order processed (reversed with ``go_backwards``) and the final
    states (a list).

    ``mask`` ``(samples, time)``: at a masked step a sample keeps its previous output (zeros before its first
    unmasked step) and its previous states (tf.keras ``rnn``, which Keras 2.3.1 calls). The loop always runs in
    Python, so ``unroll`` changes nothing but its check; ``input_length``, when given, must be the number of steps.
    """
    inputs = to_tensor(inputs)
    if inputs.dim() < 3:
        raise ValueError(f"rnn: inputs should be at least 3D (samples, time, ...); received shape "
                         f"{tuple(inputs.shape)}.")
    time_steps = int_shape(inputs)[1]
    if unroll and time_steps is None:
        raise ValueError("Unrolling requires a fixed number of timesteps.")
    if input_length is not None and time_steps is not None and input_length != time_steps:
        raise ValueError(f"rnn: input_length={input_length} but the inputs have {time_steps} time steps.")
    if mask is not None and not initial_states and not unroll:
        raise ValueError("No initial states provided! When using masking in an RNN, you should provide initial "
                         "states (and your step function should return as its first state at time `t` the output "
                         "at time `t-1`).")
    steps = torch.unbind(inputs, dim=1)
    if not steps:
        raise ValueError("rnn: inputs have no time steps; there is no output to return.")
    step_masks = None if mask is None else torch.unbind(to_tensor(mask, device=inputs.device).bool(), dim=1)
    states, constants = list(initial_states), list(constants or [])
    outputs, previous_output = [], None
    for t in (reversed(range(len(steps))) if go_backwards else range(len(steps))):
        output, new_states = step_function(steps[t], states + constants)
        new_states = list(new_states)
        if step_masks is not None:
            keep = step_masks[t]
            if previous_output is None:
                previous_output = torch.zeros_like(output)
            output = torch.where(_along(keep, output), output, previous_output)
            new_states = [torch.where(_along(keep, new), new, old) for new, old in zip(new_states, states)]
        outputs.append(output)
        previous_output, states = output, new_states
    return outputs[-1], torch.stack(outputs, dim=1), states


def _along(mask_t, x):
    """A ``(samples, ...)`` mask with trailing axes added to broadcast against ``x``."""
    return mask_t[(...,) + (None,) * (x.dim() - mask_t.dim())]


def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` applied to each slice along the first axis of ``elems`` (a tensor, or a list/tuple of tensors
    sliced together), the results stacked."""
    if isinstance(elems, (list, tuple)):
        slices = [type(elems)(parts) for parts in zip(*(torch.unbind(to_tensor(e), 0) for e in elems))]
    else:
        slices = torch.unbind(to_tensor(elems), 0)
    out = torch.stack([to_tensor(fn(s)) for s in slices])
    return out if dtype is None else out.to(as_torch_dtype(dtype))


def _fold(fn, items, initializer):
    if initializer is None:
        accumulator, items = items[0], items[1:]
    else:
        accumulator = initializer
    for item in items:
        accumulator = fn(accumulator, item)
    return accumulator


def foldl(fn, elems, initializer=None, name=None):
    """``fn(accumulator, x)`` over the slices of ``elems`` from first to last (the first slice starts it when
    there is no ``initializer``)."""
    return _fold(fn, list(torch.unbind(to_tensor(elems), 0)), initializer)


def foldr(fn, elems, initializer=None, name=None):
    """As ``foldl``, from the last slice to the first."""
    return _fold(fn, list(torch.unbind(to_tensor(elems), 0))[::-1], initializer)
