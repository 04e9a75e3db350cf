"""kerasish.backend.control: the learning phase, switch/in_train_phase, gradients (inside a forward pass, so
that a loss on the gradient trains), rnn against a NumPy loop with masks and go_backwards, map_fn and folds."""
import numpy as np
import pytest
import torch

from kerasish import backend as K
from kerasish.layers import Dense
from kerasish.layers.core import Lambda
from kerasish.models import Sequential
from kerasish.optimizers import SGD

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- learning phase
def test_learning_phase_is_0_until_set_and_clear_session_resets_it():
    assert K.learning_phase() == 0
    K.set_learning_phase(1)
    assert K.learning_phase() == 1
    K.clear_session()
    assert K.learning_phase() == 0


def test_set_learning_phase_accepts_only_0_or_1():
    with pytest.raises(ValueError, match="Expected learning phase to be 0 or 1."):
        K.set_learning_phase(2)


def test_learning_phase_scope_sets_the_phase_inside_the_block_only():
    K.set_learning_phase(0)
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1
    assert K.learning_phase() == 0


def test_in_train_phase_picks_by_the_learning_phase_or_training():
    assert K.in_train_phase("train", "test") == "test"
    K.set_learning_phase(1)
    assert K.in_train_phase("train", "test") == "train"
    assert K.in_train_phase("train", "test", training=False) == "test"
    assert K.in_test_phase("test", "train", training=False) == "test"
    assert K.in_test_phase("test", "train") == "train"


def test_in_train_phase_calls_only_the_chosen_callable():
    def fail():
        raise AssertionError("the other branch ran")

    assert K.in_train_phase(lambda: 1, fail, training=True) == 1
    assert K.in_train_phase(fail, lambda: 2, training=0) == 2


def test_in_train_phase_with_a_tensor_training_selects_elementwise():
    x, alt = torch.ones(2, 3), torch.zeros(2, 3)
    assert torch.equal(K.in_train_phase(x, alt, training=torch.tensor(True)), x)
    out = K.in_train_phase(x, alt, training=torch.tensor([True, False]))
    assert out.tolist() == [[1.0] * 3, [0.0] * 3]


# ---------------------------------------------------------------- switch
def test_switch_broadcasts_a_lower_rank_condition_along_the_leading_axes():
    condition = np.array([[True, False], [False, True]])
    then_x = RNG.standard_normal((2, 2, 3)).astype("float32")
    else_x = RNG.standard_normal((2, 2, 3)).astype("float32")
    out = K.switch(torch.from_numpy(condition), torch.from_numpy(then_x), lambda: torch.from_numpy(else_x))
    np.testing.assert_array_equal(out.numpy(), np.where(condition[..., None], then_x, else_x))


def test_switch_casts_a_numeric_condition_to_bool_and_accepts_a_scalar_condition():
    out = K.switch(torch.tensor([0, 2, 0]), torch.ones(3), torch.zeros(3))
    assert out.tolist() == [0.0, 1.0, 0.0]
    assert K.switch(torch.tensor(0.0), torch.ones(2), torch.zeros(2)).tolist() == [0.0, 0.0]
    assert K.switch(True, lambda: torch.ones(1), lambda: torch.zeros(1)).tolist() == [1.0]


def test_switch_refuses_a_condition_of_higher_rank_than_the_expressions():
    with pytest.raises(ValueError, match=r"ndim\(condition\)=2, ndim\(then_expression\)=1"):
        K.switch(torch.ones(2, 2, dtype=torch.bool), torch.ones(2), torch.zeros(2))


# ---------------------------------------------------------------- gradients
def test_gradients_returns_one_gradient_per_variable_and_none_when_unconnected():
    w = K.variable([1.0, 2.0])
    b = K.variable(3.0)
    unused = K.variable([0.0])
    loss = K.sum(K.square(w)) * b
    grads = K.gradients(loss, [w, b, unused])
    assert isinstance(grads, list) and grads[2] is None
    np.testing.assert_allclose(grads[0].detach().numpy(), [2 * 1.0 * 3, 2 * 2.0 * 3])
    np.testing.assert_allclose(K.get_value(grads[1]), 5.0)


def test_gradients_of_a_non_scalar_loss_is_that_of_its_sum():
    w = K.variable([1.0, 2.0])
    (grad,) = K.gradients(w * w, w)
    np.testing.assert_allclose(grad.detach().numpy(), [2.0, 4.0])


def test_gradients_refuses_a_tensor_autograd_does_not_track():
    x = torch.ones(3)
    with pytest.raises(ValueError, match=r"variables\[0\] is not tracked by autograd.*requires_grad_\(\)"):
        K.gradients(K.sum(x), [x])


def test_gradients_with_autograd_off_says_so():
    w = K.variable([1.0])
    with torch.no_grad():
        loss = K.sum(w * 2)
        with pytest.raises(RuntimeError, match=r"autograd is off.*torch.enable_grad"):
            K.gradients(loss, [w])


class GradientPenalty(torch.nn.Module):
    """forward: the squared norm of d/dw sum((w * x)^2) = 2 w x^2, i.e. sum(4 w^2 x^4)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([1.5, -0.5]))

    def forward(self, x):
        (grad,) = K.gradients(K.sum(K.square(self.w * x)), [self.w])
        return K.sum(K.square(grad))


def test_gradients_inside_a_forward_pass_lets_a_loss_on_the_gradient_train():
    module, x = GradientPenalty(), torch.tensor([1.0, 2.0])
    loss = module(x)
    np.testing.assert_allclose(K.get_value(loss), np.sum(4 * np.array([1.5, -0.5]) ** 2 * np.array([1.0, 2.0]) ** 4))
    loss.backward()
    # d/dw sum(4 w^2 x^4) = 8 w x^4: the second derivative flows through the gradient (create_graph)
    np.testing.assert_allclose(module.w.grad.numpy(), 8 * np.array([1.5, -0.5]) * np.array([1.0, 2.0]) ** 4)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.005)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = module(x)
        loss.backward()
        optimizer.step()
        losses.append(float(K.get_value(loss)))
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0] / 2


def _three_layer_model(middle):
    torch.manual_seed(0)
    model = Sequential([Dense(3, input_shape=(4,)), Lambda(middle), Dense(1)])
    model.compile(optimizer=SGD(lr=0.01), loss="mse")
    return model


def test_gradients_in_a_lambda_layer_trains_through_the_gradient():
    # h + d/dh sum(h^2) = 3h: trained like a Lambda computing 3h only if the gradient stays in the graph
    with_gradient = _three_layer_model(lambda h: h + K.gradients(K.sum(K.square(h)), [h])[0])
    plain = _three_layer_model(lambda h: 3.0 * h)
    plain.set_weights(with_gradient.get_weights())
    x = RNG.standard_normal((16, 4)).astype("float32")
    y = RNG.standard_normal((16, 1)).astype("float32")
    for model in (with_gradient, plain):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(with_gradient.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_stop_gradient_detaches_a_tensor_or_each_of_a_list():
    w = K.variable([1.0])
    assert not K.stop_gradient(w * 2).requires_grad
    assert [g.requires_grad for g in K.stop_gradient([w * 2, w * 3])] == [False, False]


# ---------------------------------------------------------------- rnn
W = RNG.standard_normal((3, 4)).astype("float32")
U = RNG.standard_normal((4, 4)).astype("float32") * 0.5


def np_rnn(x, h0, mask=None, go_backwards=False):
    """A tanh RNN in NumPy with tf.keras's masking: a masked step repeats the previous output (zeros at first)
    and keeps the state."""
    h, previous, outputs = h0, np.zeros_like(h0), []
    steps = range(x.shape[1])
    for t in (reversed(steps) if go_backwards else steps):
        out = np.tanh(x[:, t] @ W + h @ U)
        new_h = out
        if mask is not None:
            keep = mask[:, t][:, None]
            out, new_h = np.where(keep, out, previous), np.where(keep, new_h, h)
        outputs.append(out)
        previous, h = out, new_h
    return outputs[-1], np.stack(outputs, 1), h


def step(x_t, states):
    out = torch.tanh(x_t @ torch.from_numpy(W) + states[0] @ torch.from_numpy(U))
    return out, [out]


X_SEQ = RNG.standard_normal((2, 5, 3)).astype("float32")
H0 = RNG.standard_normal((2, 4)).astype("float32")
MASK = np.array([[0, 1, 1, 0, 1], [1, 1, 0, 0, 1]], dtype=bool)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("unroll", [False, True])
def test_rnn_matches_a_numpy_loop_with_masks_and_go_backwards(go_backwards, mask, unroll):
    last, outputs, states = K.rnn(step, torch.from_numpy(X_SEQ), [torch.from_numpy(H0)], go_backwards=go_backwards,
                                  mask=None if mask is None else torch.from_numpy(mask), unroll=unroll)
    np_last, np_outputs, np_h = np_rnn(X_SEQ, H0, mask, go_backwards)
    assert isinstance(states, list) and len(states) == 1
    np.testing.assert_allclose(last.numpy(), np_last, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs.numpy(), np_outputs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[0].numpy(), np_h, rtol=1e-5, atol=1e-6)


def test_rnn_masked_first_steps_output_zeros_and_keep_the_initial_state():
    mask = torch.tensor([[False, False, True, True, True]] * 2)
    _, outputs, _ = K.rnn(step, torch.from_numpy(X_SEQ), [torch.from_numpy(H0)], mask=mask)
    assert float(outputs[:, :2].abs().sum()) == 0.0
    expected_third = np.tanh(X_SEQ[:, 2] @ W + H0 @ U)
    np.testing.assert_allclose(outputs[:, 2].numpy(), expected_third, rtol=1e-5, atol=1e-6)


def test_rnn_passes_states_then_constants_to_the_step_function():
    def counting_step(x_t, states):
        h, count, offset = states
        return x_t.sum(-1, keepdim=True) + offset, [h + x_t.sum(-1, keepdim=True), count + 1]

    x = torch.ones(2, 3, 4)
    last, outputs, (h, count) = K.rnn(counting_step, x, [torch.zeros(2, 1), torch.zeros(2, 1)],
                                      constants=[torch.full((2, 1), 10.0)])
    assert outputs.shape == (2, 3, 1) and last.tolist() == [[14.0], [14.0]]
    assert h.tolist() == [[12.0], [12.0]] and count.tolist() == [[3.0], [3.0]]


def test_rnn_input_length_must_be_the_number_of_steps():
    x, h0 = torch.from_numpy(X_SEQ), [torch.from_numpy(H0)]
    assert K.rnn(step, x, h0, input_length=5)[1].shape == (2, 5, 4)
    with pytest.raises(ValueError, match="input_length=3 but the inputs have 5 time steps"):
        K.rnn(step, x, h0, input_length=3)


def test_rnn_with_a_mask_needs_initial_states_unless_unrolled():
    def stateless(x_t, states):
        return x_t, []

    x, mask = torch.from_numpy(X_SEQ), torch.from_numpy(MASK)
    with pytest.raises(ValueError, match="No initial states provided!"):
        K.rnn(stateless, x, [], mask=mask)
    assert K.rnn(stateless, x, [], mask=mask, unroll=True)[1].shape == x.shape


def test_rnn_requires_at_least_3d_inputs():
    with pytest.raises(ValueError, match="at least 3D"):
        K.rnn(step, torch.ones(2, 3), [torch.zeros(2, 4)])


# ---------------------------------------------------------------- map_fn and folds
def test_map_fn_applies_fn_to_each_slice_and_stacks():
    x = torch.arange(6.0).reshape(3, 2)
    assert K.map_fn(lambda row: row.sum(), x).tolist() == [1.0, 5.0, 9.0]
    assert K.map_fn(lambda row: row.sum(), x, dtype="int64").dtype == torch.int64
    pairs = K.map_fn(lambda ab: ab[0] * ab[1], (x, x))
    assert pairs.tolist() == (x * x).tolist()


def test_foldl_and_foldr_fold_from_either_end():
    x = torch.tensor([1.0, 2.0, 3.0])
    assert float(K.foldl(lambda acc, v: acc * 10 + v, x)) == 123.0
    assert float(K.foldr(lambda acc, v: acc * 10 + v, x)) == 321.0
    assert float(K.foldl(lambda acc, v: acc + v, x, initializer=torch.tensor(100.0))) == 106.0
