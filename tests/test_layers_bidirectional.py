"""Bidirectional (Keras 2.3.1 ``layers/wrappers.py``): both directions against a NumPy LSTM of Keras's equations,
every merge mode, states, masks, weights, configs and training."""
import numpy as np
import pytest
import torch

from kerasish import layers as L
from kerasish import models


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_lstm(x, weights, mask=None, go_backwards=False, h0=None, c0=None):
    """Keras 2.3.1 LSTM (gates i, f, c, o; recurrent activation sigmoid; tanh) with K.rnn's masking: a masked
    step keeps the previous output and states. Returns (outputs per step in processing order, h, c)."""
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]
    n, steps, _ = x.shape
    h = np.zeros((n, units)) if h0 is None else h0
    c = np.zeros((n, units)) if c0 is None else c0
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outputs, previous = [], np.zeros((n, units))
    for t in order:
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        new_c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        new_h = sigmoid(o) * np.tanh(new_c)
        if mask is not None:
            keep = mask[:, t:t + 1]
            new_h, new_c = np.where(keep, new_h, h), np.where(keep, new_c, c)
            out = np.where(keep, new_h, previous)
        else:
            out = new_h
        h, c, previous = new_h, new_c, out
        outputs.append(out)
    return np.stack(outputs, 1), h, c


def random_lstm_weights(rng, features, units):
    return [rng.randn(features, 4 * units) * 0.4, rng.randn(units, 4 * units) * 0.4, rng.randn(4 * units) * 0.1]


X = np.random.RandomState(0).randn(3, 5, 4).astype("float32")


def built_bidirectional(merge_mode="concat", return_sequences=False, return_state=False, seed=1):
    layer = L.Bidirectional(L.LSTM(6, return_sequences=return_sequences, return_state=return_state),
                            merge_mode=merge_mode)
    inputs = L.Input((5, 4))
    outputs = layer(inputs)
    rng = np.random.RandomState(seed)
    forward, backward = random_lstm_weights(rng, 4, 6), random_lstm_weights(rng, 4, 6)
    layer.set_weights(forward + backward)
    return models.Model(inputs, outputs), forward, backward


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_each_merge_mode_matches_numpy(merge_mode, return_sequences):
    model, forward, backward = built_bidirectional(merge_mode, return_sequences)
    out = model.predict(X)
    f_seq, f_h, _ = numpy_lstm(X, forward)
    b_seq, b_h, _ = numpy_lstm(X, backward, go_backwards=True)
    y, y_rev = (f_seq, b_seq[:, ::-1]) if return_sequences else (f_h, b_h)
    expected = {"concat": np.concatenate([y, y_rev], -1), "sum": y + y_rev, "mul": y * y_rev,
                "ave": (y + y_rev) / 2, None: [y, y_rev]}[merge_mode]
    if merge_mode is None:
        for got, want in zip(out, expected):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_return_state_gives_forward_then_backward_states():
    model, forward, backward = built_bidirectional("concat", return_state=True)
    out, fh, fc, bh, bc = model.predict(X)
    _, f_h, f_c = numpy_lstm(X, forward)
    _, b_h, b_c = numpy_lstm(X, backward, go_backwards=True)
    for got, want in ((out, np.concatenate([f_h, b_h], -1)), (fh, f_h), (fc, f_c), (bh, b_h), (bc, b_c)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_initial_state_as_keras_tensors_splits_in_halves_and_records_the_inputs():
    inputs, states = L.Input((5, 4)), [L.Input((6,)) for _ in range(4)]
    layer = L.Bidirectional(L.LSTM(6), name="bi")
    model = models.Model([inputs] + states, layer(inputs, initial_state=states))
    rng = np.random.RandomState(3)
    forward, backward = random_lstm_weights(rng, 4, 6), random_lstm_weights(rng, 4, 6)
    layer.set_weights(forward + backward)
    h0, c0, h1, c1 = (rng.randn(3, 6).astype("float32") for _ in range(4))
    out = model.predict([X, h0, c0, h1, c1])
    _, f_h, _ = numpy_lstm(X, forward, h0=h0, c0=c0)
    _, b_h, _ = numpy_lstm(X, backward, go_backwards=True, h0=h1, c0=c1)
    np.testing.assert_allclose(out, np.concatenate([f_h, b_h], -1), rtol=1e-4, atol=1e-5)
    config = model.get_config()
    bi = next(entry for entry in config["layers"] if entry["name"] == "bi")
    # Keras 2.3.1 records the states as inputs of the call: [sequence, *forward states, *backward states]
    assert [entry[0] for entry in bi["inbound_nodes"][0]] == [t._keras_history[0].name for t in [inputs] + states]
    rebuilt = models.Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict([X, h0, c0, h1, c1]), out, rtol=1e-6)


def test_an_odd_number_of_initial_states_is_refused():
    with pytest.raises(ValueError, match="the state should be a list containing the states of the underlying RNNs"):
        L.Bidirectional(L.LSTM(6))(L.Input((5, 4)), initial_state=[L.Input((6,)) for _ in range(3)])


def test_masked_steps_are_skipped_in_both_directions():
    tokens = np.array([[3, 4, 5, 0, 0], [0, 0, 1, 2, 6], [7, 8, 9, 1, 2]])
    inputs = L.Input((5,), dtype="int64")
    embedded = L.Embedding(10, 4, mask_zero=True, name="embed")(inputs)
    layer = L.Bidirectional(L.LSTM(6, return_sequences=True), name="bi")
    sequences = layer(embedded)
    assert sequences._keras_mask is embedded._keras_mask  # passed on for merged sequences
    model = models.Model(inputs, sequences)
    rng = np.random.RandomState(4)
    forward, backward = random_lstm_weights(rng, 4, 6), random_lstm_weights(rng, 4, 6)
    layer.set_weights(forward + backward)
    x = model.get_layer("embed").get_weights()[0][tokens]
    mask = tokens != 0
    f_seq, _, _ = numpy_lstm(x, forward, mask=mask)
    b_seq, _, _ = numpy_lstm(x, backward, mask=mask, go_backwards=True)
    np.testing.assert_allclose(model.predict(tokens), np.concatenate([f_seq, b_seq[:, ::-1]], -1),
                               rtol=1e-4, atol=1e-5)


def test_compute_mask_as_keras():
    layer = L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode=None)
    mask = torch.tensor([[True, False]])
    x = torch.zeros(1, 2, 3)
    assert layer.compute_mask(x, mask) == [mask, mask]
    assert L.Bidirectional(L.LSTM(2)).compute_mask(x, mask) is None
    with_states = L.Bidirectional(L.LSTM(2, return_state=True, return_sequences=True))
    assert with_states.compute_mask(x, mask) == [mask, None, None, None, None]


def test_weights_names_parameter_count_and_config():
    layer = L.Bidirectional(L.LSTM(128, name="lstm_x"), input_shape=(7, 128))
    model = models.Sequential([layer])
    assert layer.forward_layer.name == "forward_lstm_x" and layer.backward_layer.name == "backward_lstm_x"
    assert model.count_params() == 2 * 131584  # Keras 2.3.1: twice LSTM(128) on 128 features
    assert [w.shape for w in layer.get_weights()] == [(128, 512), (128, 512), (512,)] * 2
    config = layer.get_config()
    assert config["merge_mode"] == "concat" and config["layer"]["class_name"] == "LSTM"
    assert config["layer"]["config"]["name"] == "lstm_x"
    again = L.Bidirectional.from_config(config)
    assert again.forward_layer.name == "forward_lstm_x" and again.backward_layer.go_backwards


def test_weights_argument_sets_both_halves_when_built():
    rng = np.random.RandomState(5)
    weights = random_lstm_weights(rng, 4, 3) + random_lstm_weights(rng, 4, 3)
    layer = L.Bidirectional(L.LSTM(3), weights=weights)
    layer(L.Input((5, 4)))
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_invalid_merge_mode_and_backward_layer_checks():
    with pytest.raises(ValueError, match="Invalid merge mode"):
        L.Bidirectional(L.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="should have different `go_backwards` value"):
        L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(2))
    with pytest.raises(ValueError, match='same value for attribute "return_sequences"'):
        L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(2, go_backwards=True, return_sequences=True))


def test_custom_backward_layer_is_used_and_saved():
    layer = L.Bidirectional(L.LSTM(3), backward_layer=L.GRU(3, go_backwards=True, name="gru_back"))
    model = models.Sequential([L.InputLayer(input_shape=(5, 4)), layer])
    assert type(layer.backward_layer).__name__ == "GRU"
    again = models.Sequential.from_config(model.get_config())
    assert type(again.layers[0].backward_layer).__name__ == "GRU"
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(X), model.predict(X), rtol=1e-6)


def test_frozen_wrapper_freezes_both_directions():
    layer = L.Bidirectional(L.LSTM(3), input_shape=(5, 4))
    model = models.Sequential([layer])
    layer.trainable = False
    assert not model.trainable_weights and len(model.non_trainable_weights) == 6


def test_trains_to_tell_a_sequence_from_its_reverse():
    # the label says whether the sequence rises: a model must read order, which both directions do
    rng = np.random.RandomState(6)
    base = np.sort(rng.rand(256, 6, 1), axis=1).astype("float32")
    y = rng.randint(0, 2, 256)
    x = np.where(y[:, None, None] == 1, base, base[:, ::-1])
    torch.manual_seed(0)
    model = models.Sequential([L.Bidirectional(L.LSTM(8), input_shape=(6, 1)), L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=25, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_save_and_load_round_trip(tmp_path):
    model = models.Sequential([L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum",
                                               input_shape=(5, 4)), L.GlobalAveragePooling1D()])
    path = str(tmp_path / "bi.keras")
    model.save(path)
    loaded = models.load_model(path, compile=False)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-6)
