"""Masks made by Keras's own layers flowing through real models: Embedding(mask_zero=True) and Masking into
recurrent layers, pooling, wrappers, merges and the loss (Keras 2.3.1 semantics)."""
import numpy as np
import pytest
import torch

from kerasish import layers as L
from kerasish import models
from kerasish.optimizers import SGD

TOKENS = np.array([[0, 0, 3, 4, 5], [1, 2, 0, 0, 0], [6, 7, 8, 9, 1]])


def test_a_padded_sequence_gives_what_its_unpadded_part_gives():
    torch.manual_seed(0)
    inputs = L.Input((None,), dtype="int64")
    hidden = L.Bidirectional(L.LSTM(4, return_sequences=True))(L.Embedding(10, 3, mask_zero=True)(inputs))
    model = models.Model(inputs, L.GRU(5)(hidden))
    padded = model.predict(TOKENS)
    for row, tokens in enumerate(TOKENS):
        alone = model.predict(tokens[tokens != 0][None])
        np.testing.assert_allclose(padded[row], alone[0], rtol=1e-4, atol=1e-5)


def test_masking_layer_skips_the_steps_whose_features_all_equal_mask_value():
    torch.manual_seed(1)
    x = np.random.RandomState(0).randn(2, 6, 3).astype("float32")
    x[0, 4:] = -1.0
    model = models.Sequential([L.Masking(mask_value=-1.0, input_shape=(None, 3)), L.LSTM(4)])
    np.testing.assert_allclose(model.predict(x)[0], model.predict(x[:1, :4])[0], rtol=1e-4, atol=1e-5)


def test_global_average_pooling_1d_takes_the_mean_of_unmasked_steps():
    model = models.Sequential([L.Embedding(10, 3, mask_zero=True, input_length=5), L.GlobalAveragePooling1D()])
    table = model.layers[0].get_weights()[0]
    expected = np.stack([table[row[row != 0]].mean(0) for row in TOKENS])
    np.testing.assert_allclose(model.predict(TOKENS), expected, rtol=1e-5, atol=1e-6)


def test_a_layer_without_mask_support_after_embedding_raises_keras_error():
    with pytest.raises(TypeError, match=r"Layer flatten_\d+ does not support masking"):
        models.Sequential([L.Embedding(10, 3, mask_zero=True, input_length=5), L.Flatten()])


def test_concatenate_joins_masks_of_masked_and_unmasked_features():
    inputs = L.Input((5,), dtype="int64")
    embedded = L.Embedding(10, 3, mask_zero=True)(inputs)
    plain = L.Embedding(10, 2)(inputs)
    joined = L.Concatenate()([embedded, plain])
    model = models.Model(inputs, L.GlobalAveragePooling1D()(joined))
    values = L.Concatenate()([embedded, plain])  # the same join, read out through a second model
    full = models.Model(inputs, values).predict(TOKENS)
    mask = (TOKENS != 0)[..., None]  # Keras 2.3.1: AND of the masks, unmasked inputs count as all-True
    np.testing.assert_allclose(model.predict(TOKENS), (full * mask).sum(1) / mask.sum(1), rtol=1e-5, atol=1e-6)


def sequence_labeller():
    torch.manual_seed(2)
    inputs = L.Input((5,), dtype="int64")
    hidden = L.LSTM(4, return_sequences=True)(L.Embedding(10, 3, mask_zero=True)(inputs))
    return models.Model(inputs, L.TimeDistributed(L.Dense(2, activation="softmax"))(hidden))


def test_padded_steps_do_not_count_in_loss_or_accuracy():
    model = sequence_labeller()
    model.compile(SGD(lr=0.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    labels = np.random.RandomState(3).randint(0, 2, size=TOKENS.shape)
    probs = model.predict(TOKENS)
    mask = (TOKENS != 0).astype("float64")
    nll = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    hits = (probs.argmax(-1) == labels).astype("float64")
    loss, accuracy = model.evaluate(TOKENS, labels[..., None], verbose=0)
    np.testing.assert_allclose(loss, (nll * mask).sum() / mask.size, rtol=1e-4)
    np.testing.assert_allclose(accuracy, (hits * mask).sum() / mask.sum(), rtol=1e-5)


def test_temporal_sample_weights_multiply_the_mask():
    model = sequence_labeller()
    model.compile(SGD(lr=0.0), loss="sparse_categorical_crossentropy", sample_weight_mode="temporal")
    labels = np.random.RandomState(4).randint(0, 2, size=TOKENS.shape)
    weights = np.random.RandomState(5).rand(*TOKENS.shape).astype("float32")
    probs = model.predict(TOKENS)
    nll = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    expected = (nll * weights * (TOKENS != 0)).sum() / nll.size
    loss = model.evaluate(TOKENS, labels[..., None], sample_weight=weights, verbose=0)
    np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_a_masked_sequence_model_learns_and_round_trips(tmp_path):
    rng = np.random.RandomState(6)
    lengths = rng.randint(2, 8, size=400)
    tokens = np.zeros((400, 8), "int64")
    for row, length in enumerate(lengths):
        tokens[row, 8 - length:] = rng.randint(1, 6, size=length)
    y = (tokens == 3).any(1).astype("float32")  # does token 3 occur
    torch.manual_seed(3)
    model = models.Sequential([L.Embedding(6, 8, mask_zero=True, input_length=8), L.LSTM(8),
                               L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(tokens, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    path = str(tmp_path / "masked.keras")
    model.save(path)
    np.testing.assert_allclose(models.load_model(path).predict(tokens), model.predict(tokens), rtol=1e-5)
