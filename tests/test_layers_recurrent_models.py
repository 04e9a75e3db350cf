"""Recurrent layers inside models (Keras 2.3.1): stateful layers across batches and ``reset_states``, initial
states given in calls and as graph inputs, masks from ``Embedding(mask_zero=True)``, save/load round trips and
training a small text model. Expected values come from the NumPy references in rnn_reference.py."""
import numpy as np
import pytest
import torch

import kerasish.layers as L
from kerasish.models import Model, Sequential, load_model
from kerasish.optimizers import Adam
from rnn_reference import keras_rnn, random_weights, reference_step

RNG = np.random.RandomState(0)


def lstm_reference(weights, x, states=None):
    batch, units = x.shape[0], weights[1].shape[0]
    states = states if states is not None else [np.zeros((batch, units))] * 2
    return keras_rnn(reference_step("lstm", weights), x, states)


# ============================================================================================== stateful
def stateful_model(batch=2, steps=3, features=4, units=5):
    model = Sequential([L.LSTM(units, stateful=True, batch_input_shape=(batch, steps, features))])
    weights = random_weights("lstm", features, units, RNG)
    model.set_weights(weights)
    return model, weights


def test_stateful_layer_carries_states_between_batches_until_reset():
    model, weights = stateful_model()
    first, second = RNG.randn(2, 3, 4).astype("float32"), RNG.randn(2, 3, 4).astype("float32")
    out1, out2 = model.predict(first, batch_size=2), model.predict(second, batch_size=2)
    _, _, states = lstm_reference(weights, first)
    last, _, after = lstm_reference(weights, second, states)
    np.testing.assert_allclose(out1, lstm_reference(weights, first)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out2, last, rtol=1e-5, atol=1e-6)
    layer = model.layers[0]
    for state, want in zip(layer.states, after):
        np.testing.assert_allclose(state.numpy(), want, rtol=1e-5, atol=1e-6)
    assert model.stateful
    model.reset_states()
    assert all(not state.any() for state in layer.states)
    np.testing.assert_allclose(model.predict(second, batch_size=2), lstm_reference(weights, second)[0], rtol=1e-5,
                               atol=1e-6)


def test_reset_states_with_values_sets_the_states():
    model, weights = stateful_model()
    layer = model.layers[0]
    h, c = RNG.randn(2, 5), RNG.randn(2, 5)
    layer.reset_states([h, c])
    x = RNG.randn(2, 3, 4).astype("float32")
    np.testing.assert_allclose(model.predict(x, batch_size=2), lstm_reference(weights, x, [h, c])[0], rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match=r"expects 2 states, but it received 1 state values"):
        layer.reset_states([h])
    with pytest.raises(ValueError, match=r"State 1 is incompatible with layer lstm_1: expected shape=\(2, 5\), "
                                         r"found shape=\(3, 5\)"):
        layer.reset_states([h, np.zeros((3, 5))])


def test_stateful_training_detaches_states_between_batches():
    model, _ = stateful_model()
    model.compile("sgd", "mse")
    x, y = RNG.randn(4, 3, 4).astype("float32"), RNG.randn(4, 5).astype("float32")
    model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)  # a graph kept across batches would fail
    assert not model.layers[0].states[0].requires_grad


def test_stateful_errors_use_keras_wording():
    with pytest.raises(ValueError, match="If a RNN is stateful, it needs to know its batch size"):
        Sequential([L.GRU(2, stateful=True, input_shape=(3, 4))])
    with pytest.raises(AttributeError, match="Layer must be stateful."):
        L.GRU(2).reset_states()
    model, _ = stateful_model()
    with pytest.raises(ValueError, match="its states are kept for batches of 2 samples, but it received a batch of 3"):
        model.layers[0](torch.zeros(3, 3, 4))


# ============================================================================================== initial states
def test_initial_state_in_an_eager_call_and_its_count_check():
    weights = random_weights("lstm", 3, 4, RNG)
    layer = L.LSTM(4, return_sequences=True)
    layer._build_once((None, None, 3))
    layer.set_weights(weights)
    x, h, c = RNG.randn(2, 5, 3), RNG.randn(2, 4), RNG.randn(2, 4)
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    out = layer(as_tensor(x), initial_state=[as_tensor(h), as_tensor(c)])
    np.testing.assert_allclose(out.detach().numpy(), lstm_reference(weights, x, [h, c])[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Layer has 2 states but was passed 1 initial states."):
        layer(as_tensor(x), initial_state=as_tensor(h))


def encoder_decoder():
    """Keras's seq2seq example: the encoder's final states start the decoder."""
    encoder_inputs, decoder_inputs = L.Input(shape=(6, 3)), L.Input(shape=(4, 2))
    _, h, c = L.LSTM(4, return_state=True)(encoder_inputs)
    decoded = L.LSTM(4, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    return Model([encoder_inputs, decoder_inputs], L.Dense(2, activation="softmax")(decoded))


def test_initial_states_from_graph_tensors_are_inputs_of_the_node_and_survive_saving(tmp_path):
    model = encoder_decoder()
    decoder = model.layers[3]
    assert isinstance(decoder, L.LSTM) and len(decoder.inbound_nodes[0].input_tensors) == 3
    inbound = next(layer for layer in model.get_config()["layers"] if layer["name"] == decoder.name)["inbound_nodes"]
    assert [entry[:3] for entry in inbound[0]] == [["input_2", 0, 0], ["lstm_1", 0, 1], ["lstm_1", 0, 2]]
    x = [RNG.randn(3, 6, 3).astype("float32"), RNG.randn(3, 4, 2).astype("float32")]
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, np.eye(2, dtype="float32")[RNG.randint(0, 2, (3, 4))], epochs=1, verbose=0)
    # the decoder starts from the encoder's states: the reference chains the two
    encoder_w, decoder_w = model.layers[2].get_weights(), decoder.get_weights()
    _, _, states = lstm_reference(encoder_w, x[0])
    _, decoded, _ = lstm_reference(decoder_w, x[1], states)
    kernel, bias = model.layers[4].get_weights()
    logits = decoded @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-5)
    model.save(tmp_path / "seq2seq.h5")
    np.testing.assert_allclose(load_model(tmp_path / "seq2seq.h5").predict(x), model.predict(x), rtol=1e-6)


def test_initial_state_errors_use_keras_wording():
    x = L.Input(shape=(5, 3))
    with pytest.raises(ValueError, match="An `initial_state` was passed that is not compatible with `cell.state_size`"):
        L.LSTM(4)(x, initial_state=[L.Input(shape=(3,)), L.Input(shape=(3,))])
    with pytest.raises(ValueError, match="cannot be specified with a mix of Keras tensors and non-Keras tensors"):
        L.GRU(4)(x, initial_state=[L.Input(shape=(4,)), torch.zeros(1, 4)])


# ============================================================================================== masks
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("layer", [lambda: L.LSTM(4), lambda: L.GRU(4), lambda: L.GRU(4, reset_after=True),
                                   lambda: L.SimpleRNN(4)], ids=["lstm", "gru", "gru_reset_after", "simple_rnn"])
def test_a_padded_batch_gives_each_sequence_its_unpadded_result(padding, layer):
    """What masking is for: padding (before or after, as pad_sequences makes it) changes nothing."""
    embedding = L.Embedding(10, 3, mask_zero=True)
    rnn = layer()
    sequences = [[4, 2, 7, 1, 9], [3, 8], [5]]
    padded = np.zeros((3, 5), dtype="int64")
    for row, sequence in enumerate(sequences):
        if padding == "pre":
            padded[row, 5 - len(sequence):] = sequence
        else:
            padded[row, :len(sequence)] = sequence
    tokens = torch.tensor(padded)
    batch = rnn(embedding(tokens), mask=embedding.compute_mask(tokens)).detach()
    for row, sequence in enumerate(sequences):
        alone = rnn(embedding(torch.tensor([sequence]))).detach()
        torch.testing.assert_close(batch[row], alone[0], rtol=1e-5, atol=1e-6)


# ============================================================================================== models
def test_embedding_lstm_classifier_learns_whether_a_sequence_holds_token_3():
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    x = rng.randint(1, 10, size=(512, 8))  # 1 - (8/9)**8: 61% of the sequences hold a 3
    y = (x == 3).any(axis=1).astype("float32")
    model = Sequential([L.Embedding(10, 8, input_length=8), L.LSTM(16), L.Dense(1, activation="sigmoid")])
    model.compile(Adam(lr=0.01), "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, batch_size=32, epochs=6, verbose=0)
    assert 0.3 < y.mean() < 0.7
    assert history.history["acc"][-1] > 0.85


@pytest.mark.parametrize("make", [
    lambda: Sequential([L.Embedding(12, 4, input_length=6, mask_zero=True), L.LSTM(5, go_backwards=True),
                        L.Dense(2)]),
    lambda: Sequential([L.Embedding(12, 4, input_length=6), L.GRU(3, reset_after=True, return_sequences=True),
                        L.SimpleRNN(2, stateful=False)]),
    lambda: Sequential([L.Embedding(12, 4, input_length=6), L.RNN([L.GRUCell(3), L.LSTMCell(2)])]),
], ids=["lstm", "gru_simple", "stacked"])
def test_models_round_trip_through_files(tmp_path, make):
    model = make()
    x = RNG.randint(0, 12, size=(4, 6))
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5", compile=False)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


class ScaledCell(L.Layer):
    """A custom cell with a weight and a config of its own."""

    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.scale, self.state_size = units, scale, units

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))

    def call(self, inputs, states):
        output = torch.tanh(inputs @ self.kernel * self.scale + states[0])
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "scale": self.scale}


def test_rnn_of_a_custom_cell_loads_with_custom_objects(tmp_path):
    model = Sequential([L.RNN(ScaledCell(3, scale=0.5), return_sequences=True, input_shape=(4, 2))])
    x = RNG.randn(2, 4, 2).astype("float32")
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="Unknown layer: ScaledCell"):
        load_model(tmp_path / "m.h5", compile=False)
    loaded = load_model(tmp_path / "m.h5", custom_objects={"ScaledCell": ScaledCell}, compile=False)
    assert loaded.layers[0].cell.scale == 0.5
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
