"""CuDNNLSTM and CuDNNGRU (Keras 2.3.1 ``keras/layers/cudnn_recurrent.py``) against NumPy references of cuDNN's
equations on Keras-layout weights, and ``convert_rnn_weights`` against Keras 2.3.1's weight loading
(``engine/saving.py _convert_rnn_weights``).

How the references read Keras's weights: Keras 2.3.1 flattens each gate's ``(rows, units)`` block of a kernel
row-major into cuDNN's parameter buffer (``_canonical_to_params``: ``tf.reshape(x, (-1,))``), where cuDNN reads
it as its row-major ``(units, rows)`` matrix ``W`` and computes ``W @ x``. The gate equations are NVIDIA's (cuDNN
``cudnnRNNMode_t``): a true sigmoid, two biases, and for the GRU the reset gate applied to ``R_h @ h + b_Rh``.
"""
import numpy as np
import pytest
import torch

import kerasish.layers as L
from kerasish.layers.cudnn_recurrent import convert_rnn_weights
from kerasish.models import Sequential, load_model
from kerasish.optimizers import Adam
from rnn_reference import keras_rnn, reference_step, sigmoid

RNG = np.random.RandomState(0)
GATES = {"lstm": 4, "gru": 3}
LAYERS = {"lstm": L.CuDNNLSTM, "gru": L.CuDNNGRU}


# ============================================================================================== references
def cudnn_matrices(kernel, units, gates):
    """cuDNN's ``W`` per gate from a Keras kernel: each block's row-major memory read as ``(units, rows)``."""
    return [block.reshape(units, -1) for block in np.split(kernel, gates, axis=1)]


def cudnn_gate_inputs(x, h, weights, gates):
    """``W_g @ x + b_Wg`` and ``R_g @ h + b_Rg`` per gate (Keras's gate order)."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = np.split(bias, 2)
    from_x = [x @ w.T + b for w, b in zip(cudnn_matrices(kernel, units, gates), np.split(input_bias, gates))]
    from_h = [h @ r.T + b for r, b in zip(cudnn_matrices(recurrent_kernel, units, gates),
                                          np.split(recurrent_bias, gates))]
    return from_x, from_h


def cudnn_lstm_step(weights):
    def step(x, states):
        h, c = states
        from_x, from_h = cudnn_gate_inputs(x, h, weights, 4)
        i, f, g, o = (a + b for a, b in zip(from_x, from_h))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, [h, c]
    return step


def cudnn_gru_step(weights):
    def step(x, states):
        h = states[0]
        (x_z, x_r, x_h), (h_z, h_r, h_h) = cudnn_gate_inputs(x, h, weights, 3)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        candidate = np.tanh(x_h + r * h_h)
        h = (1 - z) * candidate + z * h
        return h, [h]
    return step


STEPS = {"lstm": cudnn_lstm_step, "gru": cudnn_gru_step}


def random_cudnn_weights(kind, input_dim, units, scale=0.5):
    gates = GATES[kind]
    return [RNG.randn(input_dim, gates * units) * scale, RNG.randn(units, gates * units) * scale,
            RNG.randn(2 * gates * units) * scale]


def zero_states(kind, batch, units):
    return [np.zeros((batch, units))] * (2 if kind == "lstm" else 1)


def make_layer(kind, weights, **kwargs):
    layer = LAYERS[kind](weights[1].shape[0], **kwargs)
    layer._build_once((None, None, weights[0].shape[0]))
    layer.set_weights(weights)
    return layer


def run(layer, x, **kwargs):
    out = layer(torch.tensor(x, dtype=torch.float32), **kwargs)
    return [t.detach().numpy() for t in out] if isinstance(out, list) else out.detach().numpy()


# ============================================================================================== equations
@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_sequences_and_states_match_cudnn_equations(kind, go_backwards):
    x = RNG.randn(3, 5, 4)
    weights = random_cudnn_weights(kind, 4, 6)
    layer = make_layer(kind, weights, return_sequences=True, return_state=True, go_backwards=go_backwards)
    outputs, *states = run(layer, x)
    _, expected, expected_states = keras_rnn(STEPS[kind](weights), x, zero_states(kind, 3, 6),
                                             go_backwards=go_backwards)
    assert len(states) == len(expected_states)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    for state, want in zip(states, expected_states):
        np.testing.assert_allclose(state, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_last_output_by_default_and_initial_state(kind):
    x = RNG.randn(2, 4, 3)
    weights = random_cudnn_weights(kind, 3, 5)
    initial = [RNG.randn(2, 5) for _ in zero_states(kind, 2, 5)]
    last, _, _ = keras_rnn(STEPS[kind](weights), x, initial)
    given = [torch.tensor(s, dtype=torch.float32) for s in initial]
    np.testing.assert_allclose(run(make_layer(kind, weights), x, initial_state=given), last, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_the_cell_called_alone_is_one_cudnn_step(kind):
    weights = random_cudnn_weights(kind, 3, 4)
    cell = make_layer(kind, weights).cell
    x, states = RNG.randn(2, 3), [RNG.randn(2, 4) for _ in zero_states(kind, 2, 4)]
    output, new_states = cell(torch.tensor(x, dtype=torch.float32),
                              [torch.tensor(s, dtype=torch.float32) for s in states])
    want, want_states = STEPS[kind](weights)(x, states)
    np.testing.assert_allclose(output.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    for state, expected in zip(new_states, want_states):
        np.testing.assert_allclose(state.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_stateful_layer_carries_states_between_batches_until_reset():
    weights = random_cudnn_weights("lstm", 4, 5)
    model = Sequential([L.CuDNNLSTM(5, stateful=True, batch_input_shape=(2, 3, 4))])
    model.set_weights(weights)
    first, second = RNG.randn(2, 3, 4).astype("float32"), RNG.randn(2, 3, 4).astype("float32")
    step = cudnn_lstm_step(weights)
    _, _, states = keras_rnn(step, first, zero_states("lstm", 2, 5))
    np.testing.assert_allclose(model.predict(first, batch_size=2), keras_rnn(step, first, zero_states("lstm", 2, 5))[0],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(second, batch_size=2), keras_rnn(step, second, states)[0], rtol=1e-5,
                               atol=1e-6)
    model.reset_states()
    assert all(not state.any() for state in model.layers[0].states)
    np.testing.assert_allclose(model.predict(second, batch_size=2),
                               keras_rnn(step, second, zero_states("lstm", 2, 5))[0], rtol=1e-5, atol=1e-6)


# ============================================================================================== weights
@pytest.mark.parametrize("layer, input_dim, count", [(lambda: L.CuDNNLSTM(128), 128, 132_096),
                                                     (lambda: L.CuDNNGRU(32), 32, 6_336)])
def test_parameter_counts_equal_keras(layer, input_dim, count):
    # Keras 2.3.1: kernel + recurrent kernel + two biases, e.g. 4 * 128 * (128 + 128) + 8 * 128
    model = Sequential([layer()])
    model.build((None, 7, input_dim))
    assert model.count_params() == count


@pytest.mark.parametrize("kind, shapes", [("lstm", [(2, 12), (3, 12), (24,)]), ("gru", [(2, 9), (3, 9), (18,)])])
def test_weights_have_keras_shapes_and_round_trip(kind, shapes):
    layer = LAYERS[kind](3)
    layer._build_once((None, None, 2))
    assert [w.shape for w in layer.get_weights()] == shapes
    assert [name for name, _ in layer.keras_weight_specs()] == ["cell.kernel", "cell.recurrent_kernel", "cell.bias"]
    values = [RNG.randn(*shape) for shape in shapes]
    layer.set_weights(values)
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert layer.kernel is layer.cell.kernel and layer.trainable_weights == layer.weights


def test_initial_biases_and_identity_recurrent_kernel_as_keras_builds_them():
    layer = L.CuDNNLSTM(2, recurrent_initializer="identity")
    layer._build_once((None, None, 3))
    _, recurrent_kernel, bias = layer.get_weights()
    # Keras 2.3.1: ones for the 6th of 8 blocks (the recurrent forget bias); K.eye((2, 8)) pads with zeros
    np.testing.assert_array_equal(bias, [0] * 10 + [1, 1] + [0] * 4)
    np.testing.assert_array_equal(recurrent_kernel, np.eye(2, 8))
    plain = L.CuDNNGRU(2, bias_initializer="ones")
    plain._build_once((None, None, 3))
    np.testing.assert_array_equal(plain.get_weights()[2], np.ones(12))
    no_forget = L.CuDNNLSTM(2, unit_forget_bias=False)
    no_forget._build_once((None, None, 3))
    assert not no_forget.get_weights()[2].any()


def test_regularizers_act_on_the_keras_weights():
    layer = L.CuDNNGRU(2, recurrent_regularizer="l1", kernel_constraint="non_neg", activity_regularizer="l2")
    layer._build_once((None, None, 3))
    (penalty,) = layer.cell.regularization_losses()
    assert float(penalty.detach()) == pytest.approx(0.01 * np.abs(layer.get_weights()[1]).sum(), rel=1e-5)
    layer.cell.apply_constraints()
    assert (layer.get_weights()[0] >= 0).all()
    layer.train()
    out = layer(torch.ones(1, 2, 3))
    (activity,) = layer.regularization_losses()
    assert float(activity.detach()) == pytest.approx(0.01 * out.square().sum().item(), rel=1e-5)


# ============================================================================================== Keras's limits and configs
def test_a_mask_is_refused_with_keras_error():
    with pytest.raises(ValueError, match="Masking is not supported for CuDNN RNNs."):
        Sequential([L.Embedding(10, 3, mask_zero=True, input_length=4), L.CuDNNLSTM(2)])
    layer = L.CuDNNGRU(2)
    with pytest.raises(ValueError, match="Masking is not supported for CuDNN RNNs."):
        layer(torch.ones(1, 2, 3), mask=torch.ones(1, 2, dtype=torch.bool))
    assert not layer.supports_masking


def test_unroll_and_constants_are_refused():
    with pytest.raises(TypeError, match=r"CuDNNLSTM: unexpected keyword argument\(s\) \['unroll'\]"):
        L.CuDNNLSTM(2, unroll=True)
    with pytest.raises(TypeError, match="constants"):
        L.CuDNNGRU(2)(torch.ones(1, 2, 3), constants=[torch.ones(1, 2)])


def test_configs_have_keras_2_3_1_keys_in_order_and_rebuild_the_layer():
    base = ["name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful", "units",
            "kernel_initializer", "recurrent_initializer", "bias_initializer"]
    penalties = ["kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                 "kernel_constraint", "recurrent_constraint", "bias_constraint"]
    assert list(L.CuDNNLSTM(3).get_config()) == base + ["unit_forget_bias"] + penalties
    assert list(L.CuDNNGRU(3).get_config()) == base + penalties
    original = L.CuDNNLSTM(3, go_backwards=True, unit_forget_bias=False, kernel_regularizer="l2",
                           bias_constraint="max_norm", return_state=True)
    config = L.serialize(original)
    clone = L.deserialize(config)
    assert type(clone) is L.CuDNNLSTM and clone.go_backwards and not clone.unit_forget_bias
    assert clone.get_config() | {"name": None} == original.get_config() | {"name": None}
    assert original.name.startswith("cu_dnnlstm_")  # Keras's snake case of the class name


def test_load_model_keeps_cudnn_layers(tmp_path):
    model = Sequential([L.CuDNNGRU(3, return_sequences=True, input_shape=(4, 2)), L.CuDNNLSTM(2)])
    x = RNG.randn(3, 4, 2).astype("float32")
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5", compile=False)
    assert [type(layer) for layer in loaded.layers] == [L.CuDNNGRU, L.CuDNNLSTM]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# ============================================================================================== weight conversion
def keras_converted(weights, gates):
    """Keras 2.3.1 ``_convert_rnn_weights`` from CuDNN, written as Keras states it: per gate, the input kernel
    transposed and re-read in Fortran order, the recurrent kernel transposed."""
    kernel, recurrent_kernel, bias = weights
    kernel = np.hstack([k.T.reshape(k.shape, order="F") for k in np.hsplit(kernel, gates)])
    recurrent_kernel = np.hstack([k.T for k in np.hsplit(recurrent_kernel, gates)])
    return kernel, recurrent_kernel, bias


def test_cudnn_lstm_weights_convert_to_an_lstm_with_the_same_outputs():
    weights = random_cudnn_weights("lstm", 3, 4)
    lstm = L.LSTM(4, return_sequences=True)
    lstm._build_once((None, None, 3))
    converted = convert_rnn_weights(lstm, weights)
    kernel, recurrent_kernel, _ = keras_converted(weights, 4)
    np.testing.assert_allclose(converted[0], kernel)
    np.testing.assert_allclose(converted[1], recurrent_kernel)
    np.testing.assert_allclose(converted[2], weights[2][:16] + weights[2][16:])  # the two biases summed
    lstm.set_weights(converted)
    x = RNG.randn(2, 5, 3)
    cudnn = make_layer("lstm", weights, return_sequences=True)
    np.testing.assert_allclose(run(lstm, x), run(cudnn, x), rtol=1e-5, atol=1e-6)
    # the equations of both, independently: Keras's LSTM step on the converted weights
    _, expected, _ = keras_rnn(reference_step("lstm", converted), x, zero_states("lstm", 2, 4))
    np.testing.assert_allclose(run(lstm, x), expected, rtol=1e-5, atol=1e-5)
    # and back: LSTM weights for a CuDNNLSTM (the bias split in halves) give the same outputs again
    back = convert_rnn_weights(cudnn, converted)
    np.testing.assert_allclose(back[2], np.tile(converted[2] / 2, 2))
    np.testing.assert_allclose(run(make_layer("lstm", back, return_sequences=True), x), run(cudnn, x), rtol=1e-5,
                               atol=1e-6)


def test_cudnn_gru_weights_convert_to_gru_reset_after_with_the_same_outputs():
    weights = random_cudnn_weights("gru", 3, 4)
    gru = L.GRU(4, reset_after=True, return_sequences=True)
    gru._build_once((None, None, 3))
    converted = convert_rnn_weights(gru, weights)
    kernel, recurrent_kernel, _ = keras_converted(weights, 3)
    np.testing.assert_allclose(converted[0], kernel)
    np.testing.assert_allclose(converted[1], recurrent_kernel)
    np.testing.assert_allclose(converted[2], weights[2].reshape(2, 12))
    gru.set_weights(converted)
    x = RNG.randn(2, 5, 3)
    _, expected, _ = keras_rnn(reference_step("gru", converted, reset_after=True), x, zero_states("gru", 2, 4))
    np.testing.assert_allclose(run(gru, x), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run(gru, x), run(make_layer("gru", weights, return_sequences=True), x), rtol=1e-5,
                               atol=1e-6)
    back = convert_rnn_weights(L.CuDNNGRU(4), converted)
    for got, want in zip(back, weights):
        np.testing.assert_allclose(got, want)


def test_conversion_leaves_matching_weights_alone_and_refuses_keras_incompatibilities():
    weights = random_cudnn_weights("lstm", 3, 2)
    assert convert_rnn_weights(L.CuDNNLSTM(2), weights) is weights
    assert convert_rnn_weights(L.Dense(2), weights) is weights
    with pytest.raises(ValueError, match=r"Invalid bias shape: \(5,\)"):
        convert_rnn_weights(L.LSTM(2), weights[:2] + [np.zeros(5)])
    with pytest.raises(ValueError, match=r"CuDNNGRU is not compatible with GRU\(reset_after=False\)"):
        convert_rnn_weights(L.GRU(2), random_cudnn_weights("gru", 3, 2))
    gru_weights = [RNG.randn(3, 6), RNG.randn(2, 6), RNG.randn(6)]
    with pytest.raises(ValueError, match=r"GRU\(reset_after=False\) is not compatible with CuDNNGRU"):
        convert_rnn_weights(L.CuDNNGRU(2), gru_weights)


def test_load_weights_converts_cudnn_weights_into_lstm_and_gru_models(tmp_path):
    """Keras 2.3.1's use case: train with CuDNN layers, load the weights into LSTM/GRU models (also inside
    Bidirectional), by order and by name."""
    cudnn = Sequential([L.Bidirectional(L.CuDNNLSTM(3, return_sequences=True), input_shape=(5, 2), name="bi"),
                        L.CuDNNGRU(2, name="gru")])
    cudnn.set_weights([RNG.randn(*w.shape) * 0.5 for w in cudnn.get_weights()])
    cudnn.save_weights(tmp_path / "w.h5")
    x = RNG.randn(4, 5, 2).astype("float32")
    for by_name in (False, True):
        plain = Sequential([L.Bidirectional(L.LSTM(3, return_sequences=True), input_shape=(5, 2), name="bi"),
                            L.GRU(2, reset_after=True, name="gru")])
        plain.load_weights(tmp_path / "w.h5", by_name=by_name)
        np.testing.assert_allclose(plain.predict(x), cudnn.predict(x), rtol=1e-5, atol=1e-6)


# ============================================================================================== training
def test_a_small_model_learns_and_every_weight_gets_a_gradient():
    torch.manual_seed(0)
    rng = np.random.RandomState(1)
    x = rng.randn(256, 6, 2).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("float32")  # the sign of a running sum: needs the recurrence
    model = Sequential([L.CuDNNGRU(8, return_sequences=True, input_shape=(6, 2)), L.CuDNNLSTM(8),
                        L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(lr=0.02), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=12, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    layer = model.layers[1]
    for weight in layer.weights:
        weight.grad = None
    layer(torch.tensor(x[:4])).sum().backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in layer.weights)
