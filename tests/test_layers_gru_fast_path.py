"""Keras's default GRU (``reset_after=False``) on its hand-written sequence kernel
(``recurrent_kernels.run_gru_reset_before``) against the autograd step loop it replaces (``GRUCell.recurrent_step``
under ``K.rnn``'s masking) and against NumPy's Keras equations (rnn_reference.py): forward values and every
gradient (inputs, initial state, kernel, recurrent kernel, bias) with masks, go_backwards, initial states,
return_sequences and stateful layers; ``gradcheck`` of the autograd Function; and which configurations take it.
"""
import numpy as np
import pytest
import torch

import kerasish.layers.recurrent as recurrent
import kerasish.layers.recurrent_kernels as kernels
from kerasish.layers import GRU
from kerasish.layers.recurrent import GRUCell
from rnn_reference import keras_rnn, random_weights, reference_step

BATCH, STEPS, FEATURES, UNITS = 5, 6, 3, 4
MASKS = {
    "none": None,
    "left_padded": [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 1, 1],
                    [0, 1, 1, 1, 1, 1]],
    "right_padded": [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0],
                     [1, 1, 0, 0, 0, 0]],
    "holes": [[1, 0, 1, 0, 1, 1], [1, 1, 0, 0, 1, 0], [0, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1]],
    "fully_masked_row": [[1, 1, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0],
                         [1, 0, 0, 1, 0, 0]],
}


@pytest.fixture
def kernel_calls(monkeypatch):
    """How many times the GRU kernel ran (spied on, not changed)."""
    calls = []
    original = recurrent.run_gru_reset_before

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(recurrent, "run_gru_reset_before", spy)
    return calls


def step_loop(monkeypatch):
    """From here on GRUs run the autograd step loop, the reference."""
    monkeypatch.setattr(GRUCell, "_reset_before_kernel_allowed", lambda *args: False)


def make_gru(dtype="float64", seed=0, **kwargs):
    layer = GRU(UNITS, dtype=dtype, **kwargs)
    batch = BATCH if kwargs.get("stateful") else None
    layer._build_once((batch, None, FEATURES))
    layer.set_weights(random_weights("gru", FEATURES, UNITS, np.random.RandomState(seed)))
    return layer


def values_and_grads(layer, x, mask=None, initial_state=None, training=None):
    """The layer's outputs (and states) and the gradients of a random weighting of all of them with respect to
    the inputs, the initial state (when given) and the weights."""
    x = x.detach().requires_grad_()
    leaves = [x]
    kwargs = {"mask": mask, "training": training}
    if initial_state is not None:
        initial_state = initial_state.detach().requires_grad_()
        leaves.append(initial_state)
        kwargs["initial_state"] = [initial_state]
    outputs = layer(x, **kwargs)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    weighting = torch.Generator().manual_seed(1)
    loss = sum((out * torch.randn(out.shape, generator=weighting, dtype=out.dtype)).sum() for out in outputs)
    leaves += [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]
    return [out.detach() for out in outputs] + list(torch.autograd.grad(loss, leaves))


def inputs(dtype=torch.float64, seed=2):
    rng = np.random.RandomState(seed)
    return (torch.tensor(rng.randn(BATCH, STEPS, FEATURES), dtype=dtype),
            torch.tensor(rng.randn(BATCH, UNITS), dtype=dtype))


def as_mask(name):
    return None if MASKS[name] is None else torch.tensor(MASKS[name], dtype=torch.bool)


# ============================================================================================== kernel = loop
@pytest.mark.parametrize("mask_name", sorted(MASKS))
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero_state", "initial_state"])
def test_kernel_values_and_gradients_equal_the_step_loop_in_float64(mask_name, return_sequences, go_backwards,
                                                                    with_initial_state, monkeypatch, kernel_calls):
    x, h0 = inputs()
    mask = as_mask(mask_name)
    initial_state = h0 if with_initial_state else None
    arguments = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    fast = values_and_grads(make_gru(**arguments), x, mask, initial_state)
    assert len(kernel_calls) == 1
    step_loop(monkeypatch)
    slow = values_and_grads(make_gru(**arguments), x, mask, initial_state)
    assert len(kernel_calls) == 1
    assert len(fast) == len(slow) == 2 + (5 if with_initial_state else 4)  # values, then gradients
    for got, want in zip(fast, slow):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mask_name", ["none", "holes", "fully_masked_row"])
def test_kernel_equals_the_step_loop_in_float32(mask_name, monkeypatch):
    x, h0 = inputs(torch.float32)
    fast = values_and_grads(make_gru("float32", return_sequences=True), x, as_mask(mask_name), h0)
    step_loop(monkeypatch)
    slow = values_and_grads(make_gru("float32", return_sequences=True), x, as_mask(mask_name), h0)
    for got, want in zip(fast, slow):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
def test_kernel_with_masks_matches_keras_equations(go_backwards):
    mask = np.array(MASKS["fully_masked_row"], dtype=bool)
    x, h0 = inputs()
    weights = random_weights("gru", FEATURES, UNITS, np.random.RandomState(0))
    layer = make_gru(return_sequences=True, return_state=True, go_backwards=go_backwards)
    outputs, state = layer(x, mask=torch.tensor(mask), initial_state=[h0])
    _, expected, expected_states = keras_rnn(reference_step("gru", weights), x.numpy(), [h0.numpy()], mask=mask,
                                             go_backwards=go_backwards)
    np.testing.assert_allclose(outputs.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state.detach().numpy(), expected_states[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(outputs[1].detach().numpy(), 0.0)  # the fully masked row: zeros throughout
    np.testing.assert_array_equal(state[1].detach().numpy(), h0[1].numpy())  # and its initial state


def test_stateful_layer_carries_the_kernel_states_across_batches(monkeypatch):
    batches = [inputs(seed=seed)[0] for seed in (3, 4)]
    mask = as_mask("holes")

    def two_batches():
        layer = make_gru(stateful=True, return_sequences=True)
        results = [values_and_grads(layer, x, mask) for x in batches]
        return results + [[state.clone() for state in layer.states]]

    fast = two_batches()
    step_loop(monkeypatch)
    slow = two_batches()
    assert not torch.equal(fast[2][0], torch.zeros(BATCH, UNITS))
    for got_list, want_list in zip(fast, slow):
        for got, want in zip(got_list, want_list):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("implementation", [1, 2])
def test_input_dropout_while_training_takes_the_kernel_and_equals_the_loop(implementation, monkeypatch,
                                                                          kernel_calls):
    x, _ = inputs()

    def run():
        torch.manual_seed(5)  # the same dropout masks on both paths
        return values_and_grads(make_gru(dropout=0.4, implementation=implementation), x, training=True)

    fast = run()
    step_loop(monkeypatch)
    slow = run()
    assert len(kernel_calls) == 1
    for got, want in zip(fast, slow):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_gradients_of_gradients_equal_the_step_loop(monkeypatch):
    """A gradient penalty (``K.gradients`` with a graph) differentiates the kernel's backward pass."""
    x, h0 = inputs()
    mask = as_mask("holes")

    def penalty_grads():
        layer = make_gru(return_sequences=True)
        xs = x.clone().requires_grad_()
        (grad_x,) = torch.autograd.grad(layer(xs, mask=mask, initial_state=[h0]).square().sum(), xs,
                                        create_graph=True)
        return torch.autograd.grad(grad_x.square().sum(), [layer.cell.kernel, layer.cell.recurrent_kernel])

    fast = penalty_grads()
    step_loop(monkeypatch)
    for got, want in zip(fast, penalty_grads()):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


# ============================================================================================== the Function
@pytest.mark.parametrize("factor_elements", [1, 3 * 4, 2 ** 16], ids=["chunks_of_1", "chunks_of_3", "one_chunk"])
@pytest.mark.parametrize("masked", [False, True])
def test_function_passes_gradcheck(factor_elements, masked, monkeypatch):
    # chunks_of_3: 3 steps of batch 2 x units 2 per chunk; 7 steps leave a last chunk of 1
    monkeypatch.setattr(kernels, "_FACTOR_ELEMENTS", factor_elements)
    gen = torch.Generator().manual_seed(7)
    batch, steps, units = 2, 7, 2
    projected = torch.randn(batch, steps, 3 * units, generator=gen, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(batch, units, generator=gen, dtype=torch.float64, requires_grad=True)
    recurrent_kernel = torch.randn(3 * units, units, generator=gen, dtype=torch.float64, requires_grad=True)
    keep = torch.tensor([[1, 0, 1, 1, 0, 0, 1], [0, 0, 1, 1, 1, 0, 1]], dtype=torch.bool).t()[..., None] \
        if masked else None

    def states(p, h, w):
        return kernels._GRUResetBefore.apply(p, h, w, keep)

    assert torch.autograd.gradcheck(states, (projected, h0, recurrent_kernel))
    assert torch.autograd.gradgradcheck(states, (projected, h0, recurrent_kernel))


# ============================================================================================== when it runs
@pytest.mark.parametrize("arguments, training, taken", [
    ({}, True, True),
    ({"recurrent_dropout": 0.3}, True, False),
    ({"recurrent_dropout": 0.3}, False, True),  # no recurrent dropout outside training
    ({"activation": "relu"}, True, False),
    ({"recurrent_activation": "hard_sigmoid"}, True, False),
    ({"reset_after": True}, True, False),  # torch's fused GRU instead
], ids=["default", "recurrent_dropout", "recurrent_dropout_at_inference", "relu", "hard_sigmoid", "reset_after"])
def test_kernel_runs_for_the_default_gru_only(arguments, training, taken, kernel_calls):
    layer = GRU(UNITS, **arguments)
    layer(torch.randn(2, 3, FEATURES), training=training)
    assert len(kernel_calls) == (1 if taken else 0)


def test_unroll_and_autocast_keep_the_step_loop(kernel_calls):
    unrolled = GRU(UNITS, unroll=True)
    unrolled._build_once((None, 3, FEATURES))
    unrolled(torch.randn(2, 3, FEATURES))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        GRU(UNITS)(torch.randn(2, 3, FEATURES))
    assert kernel_calls == []
