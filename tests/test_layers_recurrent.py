"""Recurrent layers and cells (Keras 2.3.1 ``keras/layers/recurrent.py``) against NumPy references of Keras's
equations (rnn_reference.py): every cell, both GRU variants, go_backwards, return_state, masks, the fused and
loop paths, dropout, weight layouts, parameter counts and configs.

Weights go in through ``set_weights`` in Keras's layouts and gate orders, so every value test also pins them.
"""
import json

import numpy as np
import pytest
import torch

import kerasish.layers.recurrent as recurrent
from kerasish import backend as K
from kerasish import initializers, saving
from kerasish.layers import (GRU, LSTM, RNN, GRUCell, Input, Layer, LSTMCell, SimpleRNN, SimpleRNNCell,
                             StackedRNNCells)
from kerasish.models import Model, Sequential
from rnn_reference import keras_rnn, random_weights, reference_step

RNG = np.random.RandomState(0)
LAYERS = {"simple": SimpleRNN, "lstm": LSTM, "gru": GRU}
CASES = [("simple", False), ("lstm", False), ("gru", False), ("gru", True)]
CASE_IDS = ["simple_rnn", "lstm", "gru", "gru_reset_after"]


def make_layer(cell_name, weights, input_dim, reset_after=False, **kwargs):
    units = weights[1].shape[0]
    extra = {"reset_after": reset_after} if cell_name == "gru" else {}
    layer = LAYERS[cell_name](units, **extra, **kwargs)
    time_steps = 1 if kwargs.get("unroll") else None  # unroll builds only with a known number of steps
    layer._build_once((None, time_steps, input_dim))
    layer.set_weights(weights)
    return layer


def run(layer, x, **kwargs):
    out = layer(torch.tensor(x, dtype=torch.float32), **kwargs)
    return [t.detach().numpy() for t in out] if isinstance(out, list) else out.detach().numpy()


def zeros_states(cell_name, batch, units):
    return [np.zeros((batch, units))] * (2 if cell_name == "lstm" else 1)


@pytest.fixture
def fused_calls(monkeypatch):
    """The fused kernel modes run, in order (the fused path is spied on, not changed)."""
    calls = []
    original = recurrent.run_fused

    def spy(mode, *args, **kwargs):
        calls.append(mode)
        return original(mode, *args, **kwargs)

    monkeypatch.setattr(recurrent, "run_fused", spy)
    return calls


# ============================================================================================== equations
@pytest.mark.parametrize("cell_name, reset_after", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("unroll", [False, True], ids=["fast_path", "step_loop"])
def test_sequences_and_states_match_keras_equations(cell_name, reset_after, go_backwards, unroll):
    x = RNG.randn(3, 5, 4)
    weights = random_weights(cell_name, 4, 6, RNG, reset_after)
    layer = make_layer(cell_name, weights, 4, reset_after, return_sequences=True, return_state=True,
                       go_backwards=go_backwards, unroll=unroll)
    outputs, *states = run(layer, x)
    _, expected, expected_states = keras_rnn(reference_step(cell_name, weights, reset_after), x,
                                             zeros_states(cell_name, 3, 6), go_backwards=go_backwards)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    for state, want in zip(states, expected_states):
        np.testing.assert_allclose(state, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell_name, reset_after", CASES, ids=CASE_IDS)
def test_last_output_without_return_sequences(cell_name, reset_after):
    x = RNG.randn(2, 4, 3)
    weights = random_weights(cell_name, 3, 5, RNG, reset_after)
    last, _, _ = keras_rnn(reference_step(cell_name, weights, reset_after), x, zeros_states(cell_name, 2, 5))
    np.testing.assert_allclose(run(make_layer(cell_name, weights, 3, reset_after), x), last, rtol=1e-5, atol=1e-5)


MASKS = {
    "right_padded": [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]],
    "left_padded": [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 1, 1]],
    "one_inner_block": [[0, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0], [0, 0, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]],
    "holes": [[1, 0, 1, 0, 1, 1], [1, 1, 0, 0, 1, 0], [0, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1]],
}


@pytest.mark.parametrize("cell_name, reset_after", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("mask_name", sorted(MASKS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_steps_keep_states_and_repeat_outputs_as_keras(cell_name, reset_after, mask_name, go_backwards):
    mask = np.array(MASKS[mask_name], dtype=bool)
    x = RNG.randn(4, 6, 3)
    weights = random_weights(cell_name, 3, 5, RNG, reset_after)
    layer = make_layer(cell_name, weights, 3, reset_after, return_sequences=True, return_state=True,
                       go_backwards=go_backwards)
    outputs, *states = run(layer, x, mask=torch.tensor(mask))
    _, expected, expected_states = keras_rnn(reference_step(cell_name, weights, reset_after), x,
                                             zeros_states(cell_name, 4, 5), mask=mask, go_backwards=go_backwards)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    for state, want in zip(states, expected_states):
        np.testing.assert_allclose(state, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell_name, reset_after, mode", [("simple", False, "rnn_tanh"), ("lstm", False, "lstm"),
                                                          ("gru", True, "gru")])
def test_fused_path_runs_where_torch_has_the_equations_and_equals_the_step_loop(cell_name, reset_after, mode,
                                                                                fused_calls):
    x = RNG.randn(4, 6, 3)
    mask = torch.tensor(MASKS["left_padded"], dtype=torch.bool)
    weights = random_weights(cell_name, 3, 5, RNG, reset_after)
    fast = make_layer(cell_name, weights, 3, reset_after, return_sequences=True, return_state=True)
    loop = make_layer(cell_name, weights, 3, reset_after, return_sequences=True, return_state=True, unroll=True)
    for kwargs in ({}, {"mask": mask}):
        for a, b in zip(run(fast, x, **kwargs), run(loop, x, **kwargs)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert fused_calls == [mode, mode]
    run(fast, x, mask=torch.tensor(MASKS["holes"], dtype=torch.bool))  # not one block per sample: the step loop
    assert fused_calls == [mode, mode]


@pytest.mark.parametrize("cell_name, reset_after", [("lstm", False), ("gru", True)], ids=["lstm", "gru_reset_after"])
@pytest.mark.parametrize("masked", [False, True])
def test_fused_and_loop_paths_give_the_same_gradients(cell_name, reset_after, masked):
    x = torch.tensor(RNG.randn(4, 6, 3), dtype=torch.float32)
    mask = torch.tensor(MASKS["left_padded"], dtype=torch.bool) if masked else None
    weights = random_weights(cell_name, 3, 5, RNG, reset_after)
    grads = []
    for unroll in (False, True):
        layer = make_layer(cell_name, weights, 3, reset_after, unroll=unroll, return_sequences=True)
        layer(x, mask=mask).square().sum().backward()
        grads.append([p.grad.clone() for p in layer.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", [lambda: GRU(4), lambda: LSTM(4, recurrent_activation="hard_sigmoid"),
                                   lambda: SimpleRNN(4, activation="elu"), lambda: LSTM(4, unroll=True)],
                         ids=["gru_reset_before", "hard_sigmoid", "elu", "unroll"])
def test_configurations_outside_torchs_equations_take_the_step_loop(layer, fused_calls):
    layer()(torch.randn(2, 3, 5))
    assert fused_calls == []


def test_relu_simple_rnn_uses_torchs_relu_kernel(fused_calls):
    weights = random_weights("simple", 3, 4, RNG)
    layer = make_layer("simple", weights, 3, activation="relu", return_sequences=True)
    x = RNG.randn(2, 5, 3)
    def relu_step(xt, states):
        output = np.maximum(xt @ weights[0] + weights[2] + states[0] @ weights[1], 0.0)
        return output, [output]

    _, expected, _ = keras_rnn(relu_step, x, [np.zeros((2, 4))])
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-5, atol=1e-6)
    assert fused_calls == ["rnn_relu"]


def test_use_bias_false_has_no_bias_weight_and_matches_the_equations():
    weights = random_weights("gru", 3, 4, RNG, reset_after=True)
    layer = GRU(4, use_bias=False, reset_after=True, return_sequences=True)
    layer._build_once((None, None, 3))
    assert [w.shape for w in layer.get_weights()] == [(3, 12), (4, 12)]
    layer.set_weights(weights[:2])
    x = RNG.randn(2, 3, 3)
    _, expected, _ = keras_rnn(reference_step("gru", weights[:2] + [np.zeros((2, 12))], True), x, [np.zeros((2, 4))])
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-5, atol=1e-6)


# ============================================================================================== cells and stacks
@pytest.mark.parametrize("cell_class, cell_name, kwargs", [(SimpleRNNCell, "simple", {}), (LSTMCell, "lstm", {}),
                                                           (GRUCell, "gru", {"reset_after": True})])
def test_a_cell_called_alone_is_one_keras_step(cell_class, cell_name, kwargs):
    weights = random_weights(cell_name, 3, 4, RNG, kwargs.get("reset_after", False))
    cell = cell_class(4, **kwargs)
    cell._build_once((None, 3))
    cell.set_weights(weights)
    x = RNG.randn(2, 3)
    states = [RNG.randn(2, 4) for _ in range(2 if cell_name == "lstm" else 1)]
    output, new_states = cell(torch.tensor(x, dtype=torch.float32), [torch.tensor(s, dtype=torch.float32)
                                                                        for s in states])
    want, want_states = reference_step(cell_name, weights, kwargs.get("reset_after", False))(x, states)
    np.testing.assert_allclose(output.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    for state, expected in zip(new_states, want_states):
        np.testing.assert_allclose(state.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_stacked_cells_feed_each_output_to_the_next_cell_and_list_all_states():
    w1, w2 = random_weights("lstm", 3, 4, RNG), random_weights("gru", 4, 5, RNG)
    layer = RNN([LSTMCell(4), GRUCell(5)], return_sequences=True, return_state=True)
    layer._build_once((None, None, 3))
    assert isinstance(layer.cell, StackedRNNCells) and layer.cell.state_size == (4, 4, 5)
    layer.set_weights(w1 + w2)
    x = RNG.randn(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], dtype=bool)
    outputs, h1, c1, h2 = run(layer, x, mask=torch.tensor(mask))
    step1, step2 = reference_step("lstm", w1), reference_step("gru", w2)

    def stacked(xt, states):
        out1, s1 = step1(xt, states[:2])
        out2, s2 = step2(out1, states[2:])
        return out2, s1 + s2

    _, expected, states = keras_rnn(stacked, x, [np.zeros((2, 4))] * 2 + [np.zeros((2, 5))], mask=mask)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)
    for got, want in zip((h1, c1, h2), states):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


class MinimalRNNCell(Layer):
    """The Keras 2.3.1 docstring's custom cell, as Keras 2 users write it."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        output = K.dot(inputs, self.kernel) + K.dot(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_a_keras_2_custom_cell_runs_in_rnn_alone_and_stacked():
    x = RNG.randn(2, 4, 3)
    layer = RNN(MinimalRNNCell(5), return_sequences=True, go_backwards=True)
    layer._build_once((None, None, 3))
    kernel, recurrent_kernel = RNG.randn(3, 5) * 0.3, RNG.randn(5, 5) * 0.3
    layer.set_weights([kernel, recurrent_kernel])
    step = lambda xt, s: (xt @ kernel + s[0] @ recurrent_kernel, [xt @ kernel + s[0] @ recurrent_kernel])  # noqa
    _, expected, _ = keras_rnn(step, x, [np.zeros((2, 5))], go_backwards=True)
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-5, atol=1e-6)
    stacked = RNN([MinimalRNNCell(5), MinimalRNNCell(2)])
    assert stacked(torch.randn(2, 4, 3)).shape == (2, 2)
    assert [w.shape for w in stacked.get_weights()] == [(3, 5), (5, 5), (5, 2), (2, 2)]


def test_constants_reach_a_cell_that_takes_them():
    class ConditionedCell(Layer):
        state_size = 2

        def call(self, inputs, states, constants=None):
            output = inputs + states[0] + constants[0]
            return output, [output]

    layer = RNN(ConditionedCell(), return_sequences=True)
    x, constant = np.ones((1, 3, 2)), np.full((1, 2), 10.0)
    out = layer(torch.tensor(x, dtype=torch.float32), constants=torch.tensor(constant, dtype=torch.float32))
    np.testing.assert_allclose(out.detach().numpy(), [[[11, 11], [22, 22], [33, 33]]])
    with pytest.raises(ValueError, match="RNN cell does not support constants"):
        LSTM(2)(torch.ones(1, 3, 2), constants=torch.ones(1, 2))


# ============================================================================================== dropout
def identity_simple_rnn(units, **kwargs):
    layer = SimpleRNN(units, activation=None, use_bias=False, return_sequences=True, **kwargs)
    layer._build_once((None, None, units))
    return layer


def test_input_dropout_mask_is_fixed_across_steps_and_redrawn_per_batch():
    layer = identity_simple_rnn(64, dropout=0.5)
    layer.set_weights([np.eye(64), np.zeros((64, 64))])
    layer.train()
    x = torch.ones(3, 6, 64)
    first, second = layer(x).detach(), layer(x).detach()
    assert set(np.unique(first.numpy())) == {0.0, 2.0}  # inverted dropout: kept units scaled by 1 / 0.5
    assert torch.equal(first, first[:, :1].expand_as(first))  # the same units dropped at every step
    assert not torch.equal(first, second)
    layer.eval()
    assert torch.equal(layer(x), x)  # inference: no dropout


def test_recurrent_dropout_mask_is_fixed_across_steps():
    layer = identity_simple_rnn(64, recurrent_dropout=0.5)
    layer.set_weights([np.zeros((64, 64)), np.eye(64)])
    layer.train()
    out = layer(torch.zeros(2, 3, 64), initial_state=torch.ones(2, 64)).detach()
    mask = out[:, 0]  # h1 = (h0 * m) @ I = m
    torch.testing.assert_close(out[:, 1], mask * mask)
    torch.testing.assert_close(out[:, 2], mask * mask * mask)


@pytest.mark.parametrize("implementation, count", [(1, 4), (2, 1)])
def test_implementation_1_draws_one_input_mask_per_gate_and_2_one_for_all(implementation, count, fused_calls):
    layer = LSTM(3, dropout=0.3, implementation=implementation)
    layer.train()
    layer(torch.randn(2, 4, 5))
    assert len(layer.cell._dropout_mask) == count and layer.cell._dropout_mask[0].shape == (2, 5)
    assert fused_calls == ([] if implementation == 1 else ["lstm"])  # one mask: applied to the sequence up front


@pytest.mark.parametrize("implementation", [1, 2])
def test_implementations_agree_without_dropout(implementation):
    weights = random_weights("gru", 3, 4, RNG)
    x = RNG.randn(2, 5, 3)
    _, expected, _ = keras_rnn(reference_step("gru", weights), x, [np.zeros((2, 4))])
    layer = make_layer("gru", weights, 3, implementation=implementation, return_sequences=True)
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-5, atol=1e-6)


def test_dropout_in_training_still_trains_through_the_loop_path():
    layer = GRU(4, dropout=0.2, recurrent_dropout=0.2, implementation=1)
    layer.train()
    layer(torch.randn(3, 5, 2)).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in layer.parameters())


# ============================================================================================== weights
@pytest.mark.parametrize("layer, input_dim, count", [(lambda: LSTM(128), 128, 131_584),
                                                     (lambda: GRU(32), 32, 6_240),
                                                     (lambda: GRU(32, reset_after=True), 32, 6_336),
                                                     (lambda: SimpleRNN(10), 5, 160)])
def test_parameter_counts_equal_keras(layer, input_dim, count):
    model = Sequential([layer()])
    model.build((None, 7, input_dim))
    assert model.count_params() == count


def test_weights_are_in_keras_order_and_layouts_and_round_trip():
    for layer, shapes in ((LSTM(3), [(2, 12), (3, 12), (12,)]), (GRU(3), [(2, 9), (3, 9), (9,)]),
                          (GRU(3, reset_after=True), [(2, 9), (3, 9), (2, 9)])):
        layer._build_once((None, None, 2))
        assert [w.shape for w in layer.get_weights()] == shapes
        values = [RNG.randn(*shape) for shape in shapes]
        layer.set_weights(values)
        for got, want in zip(layer.get_weights(), values):
            np.testing.assert_allclose(got, want, rtol=1e-6)
        assert layer.kernel is layer.cell.kernel and layer.weights[0] is layer.cell.kernel


def test_lstm_forget_gate_bias_starts_at_one_and_identity_recurrent_init_is_tiled():
    layer = LSTM(3, bias_initializer="zeros", recurrent_initializer="identity")
    layer._build_once((None, None, 2))
    _, recurrent_kernel, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(recurrent_kernel, np.tile(np.eye(3), (1, 4)))
    plain = LSTM(3, unit_forget_bias=False, bias_initializer="ones")
    plain._build_once((None, None, 2))
    np.testing.assert_array_equal(plain.get_weights()[2], np.ones(12))


def test_recurrent_kernel_starts_orthogonal_per_keras_shape():
    layer = GRU(8)
    layer._build_once((None, None, 3))
    recurrent_kernel = layer.get_weights()[1]  # (8, 24): orthonormal rows
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(8), atol=1e-5)
    assert isinstance(layer.recurrent_initializer, initializers.Orthogonal)


def test_regularizers_and_constraints_act_on_the_keras_weights():
    layer = GRU(2, kernel_regularizer="l2", recurrent_constraint="non_neg", activity_regularizer="l1")
    layer._build_once((None, None, 3))
    kernel = layer.get_weights()[0]
    (penalty,) = layer.cell.regularization_losses()
    assert float(penalty.detach()) == pytest.approx(0.01 * np.square(kernel).sum(), rel=1e-5)
    layer.cell.apply_constraints()
    assert (layer.get_weights()[1] >= 0).all()
    layer.train()
    out = layer(torch.ones(1, 2, 3))
    (activity,) = layer.regularization_losses()
    assert float(activity.detach()) == pytest.approx(0.01 * out.abs().sum().item(), rel=1e-5)


def test_trainable_false_freezes_the_cell_weights():
    layer = LSTM(2, trainable=False)
    layer._build_once((None, None, 3))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    layer.trainable = True
    assert len(layer.trainable_weights) == 3


# ============================================================================================== masks and configs
def test_compute_mask_follows_keras():
    mask = torch.tensor([[True, False]])
    assert LSTM(2).compute_mask(None, mask) is None
    assert LSTM(2, return_sequences=True).compute_mask(None, [mask]) is mask
    assert LSTM(2, return_sequences=True, return_state=True).compute_mask(None, mask) == [mask, None, None]
    assert GRU(2, return_state=True).compute_mask(None, mask) == [None, None]
    assert LSTM(2).supports_masking


def test_lstm_and_gru_configs_have_keras_2_3_1_keys_in_order():
    base = ["name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
            "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
            "bias_initializer"]
    penalties = ["kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                 "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
                 "implementation"]
    assert list(LSTM(3).get_config()) == base + ["unit_forget_bias"] + penalties
    assert list(GRU(3).get_config()) == base + penalties + ["reset_after"]
    simple = [k for k in base if k != "recurrent_activation"] + penalties[:-1]
    assert list(SimpleRNN(3).get_config()) == simple
    config = LSTM(3, recurrent_activation="hard_sigmoid", dropout=1.0).get_config()
    assert config["recurrent_activation"] == "hard_sigmoid" and config["dropout"] == 1.0
    # Keras 2.3.1 clips 1.5 to 1.0 (and then drops nothing): refused instead (issue 15)
    with pytest.raises(ValueError, match=r"LSTMCell: argument `dropout` must be a number in \[0, 1\]"):
        LSTM(3, dropout=1.5)


@pytest.mark.parametrize("layer", [lambda: LSTM(3, go_backwards=True, kernel_regularizer="l1", dropout=0.1),
                                   lambda: GRU(4, reset_after=True, return_sequences=True, implementation=1),
                                   lambda: SimpleRNN(2, activation="relu", recurrent_constraint="max_norm"),
                                   lambda: RNN([LSTMCell(2), SimpleRNNCell(3)], return_state=True)])
def test_config_rebuilds_the_same_layer(layer):
    original = layer()
    clone = saving.deserialize_layer(json.loads(json.dumps(saving.layer_config(original))))
    assert type(clone) is type(original)
    assert clone.get_config() | {"name": None} == original.get_config() | {"name": None}


def test_implementation_0_is_read_as_1_with_keras_warning():
    with pytest.warns(UserWarning, match="`implementation=0` has been deprecated"):
        assert LSTM(2, implementation=0).implementation == 1
    with pytest.warns(UserWarning, match="The `implementation` argument in `SimpleRNN` has been deprecated"):
        SimpleRNN(2, implementation=2)
    with pytest.raises(ValueError, match="implementation must be 1 or 2; received 3"):
        GRU(2, implementation=3)


def test_constructor_errors_use_keras_wording():
    with pytest.raises(ValueError, match="`cell` should have a `call` method"):
        RNN(object())
    with pytest.raises(ValueError, match="should have an attribute `state_size`"):
        RNN(type("NoSize", (), {"call": lambda self, x, s: (x, s)})())
    with pytest.raises(ValueError, match="`units` must be an integer >= 1; received 0"):
        LSTM(0)
    with pytest.raises(ValueError, match="Cannot unroll a RNN if the time dimension is undefined"):
        LSTM(2, unroll=True)(Input(shape=(None, 3)))


def test_float64_layer_computes_in_float64():
    layer = LSTM(3, dtype="float64", return_sequences=True)
    out = layer(torch.randn(2, 4, 5, dtype=torch.float64))
    assert out.dtype == torch.float64 and layer.cell.kernel.dtype == torch.float64


def test_symbolic_shapes_of_every_output():
    x = Input(shape=(7, 3))
    outputs = LSTM(4, return_sequences=True, return_state=True)(x)
    assert [t.shape for t in outputs] == [(None, 7, 4), (None, 4), (None, 4)]
    assert GRU(5)(x).shape == (None, 5)
    assert Model(x, SimpleRNN(2, return_sequences=True)(x)).output_shape == (None, 7, 2)
    assert LSTM(4, return_state=True).compute_output_shape((None, 7, 3)) == [(None, 4), (None, 4), (None, 4)]


def test_activity_regularizer_covers_every_output_with_return_state():
    layer = LSTM(2, activity_regularizer="l2", return_state=True)
    layer.train()
    outputs = layer(torch.randn(3, 4, 2))
    (penalty,) = layer.regularization_losses()
    expected = sum(0.01 * t.square().sum() for t in outputs)
    assert float(penalty.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
