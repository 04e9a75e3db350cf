"""Embedding (Keras 2.3.1 ``keras/layers/embeddings.py``): lookups against NumPy indexing of the Keras-layout
matrix, index dtypes, masks, Keras's errors and config, and integer token arrays through Sequential.fit."""
import json

import numpy as np
import pytest
import torch

from kerasish import regularizers
from kerasish.layers import Dense, Flatten, Input
from kerasish.layers.embeddings import Embedding
from kerasish.models import Model, Sequential, load_model

RNG = np.random.RandomState(0)


def embedding_with(matrix, **kwargs):
    layer = Embedding(matrix.shape[0], matrix.shape[1], **kwargs)
    layer._build_once((None, None))
    layer.set_weights([matrix])
    return layer


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.int16, torch.uint8])
def test_lookup_is_row_indexing_for_every_integer_dtype(dtype):
    matrix = RNG.randn(7, 3).astype("float32")
    indices = np.array([[0, 6, 2], [5, 5, 1]])
    out = embedding_with(matrix)(torch.tensor(indices, dtype=dtype))
    np.testing.assert_array_equal(out.detach().numpy(), matrix[indices])


def test_float_inputs_holding_integers_are_cast_truncating_as_keras():
    matrix = RNG.randn(5, 2).astype("float32")
    out = embedding_with(matrix)(torch.tensor([[1.0, 4.0, 2.7]]))
    np.testing.assert_array_equal(out.detach().numpy(), matrix[[[1, 4, 2]]])  # K.cast to int32 truncates


def test_inputs_of_rank_three_give_rank_four_outputs():
    matrix = RNG.randn(9, 4).astype("float32")
    indices = RNG.randint(0, 9, size=(2, 3, 5))
    out = embedding_with(matrix)(torch.tensor(indices))
    assert out.shape == (2, 3, 5, 4)
    np.testing.assert_array_equal(out.detach().numpy(), matrix[indices])


@pytest.mark.parametrize("bad, position", [(10, "1,2"), (-1, "1,2")])
def test_out_of_range_index_raises_tensorflows_message_on_the_cpu(bad, position):
    layer = embedding_with(np.zeros((10, 2), "float32"))
    indices = torch.tensor([[0, 1, 2], [3, 4, bad]])
    with pytest.raises(IndexError, match=rf"indices\[{position}\] = {bad} is not in \[0, 10\)"):
        layer(indices)


def test_mask_zero_masks_index_zero_and_is_none_otherwise():
    indices = torch.tensor([[0, 0, 3, 1], [2, 0, 1, 0]])
    masking = embedding_with(np.ones((4, 2), "float32"), mask_zero=True)
    assert masking.supports_masking
    np.testing.assert_array_equal(masking.compute_mask(indices).numpy(), indices.numpy() != 0)
    plain = embedding_with(np.ones((4, 2), "float32"))
    assert not plain.supports_masking
    # Keras 2.3.1 Embedding.compute_mask returns None without mask_zero, even when a mask comes in
    assert plain.compute_mask(indices, mask=torch.ones(2, 4, dtype=torch.bool)) is None


def test_input_length_sets_the_input_shape_and_must_agree_with_the_input():
    assert Embedding(10, 3, input_length=6).batch_input_shape == (None, 6)
    assert Embedding(10, 3).batch_input_shape == (None, None)
    x = Input(shape=(12,), dtype="int32")
    with pytest.raises(ValueError, match=r'"input_length" is 6, but received input has shape \(None, 12\)'):
        Embedding(10, 3, input_length=6)(x)
    y = Embedding(10, 3, input_length=12)(x)
    assert y.shape == (None, 12, 3)
    assert Embedding(10, 3, input_length=(None, 4)).compute_output_shape((None, 7, 4)) == (None, 7, 4, 3)


def test_constructor_rejects_a_non_positive_vocabulary():
    with pytest.raises(ValueError, match="`input_dim` must be an integer >= 1; received 0"):
        Embedding(0, 3)


def test_config_has_keras_2_3_1_keys_in_order_and_round_trips():
    layer = Embedding(20, 4, embeddings_regularizer=regularizers.l2(0.1), mask_zero=True, input_length=5,
                      name="emb")
    config = layer.get_config()
    assert list(config) == ["name", "trainable", "dtype", "batch_input_shape", "input_dim", "output_dim",
                            "embeddings_initializer", "embeddings_regularizer", "activity_regularizer",
                            "embeddings_constraint", "mask_zero", "input_length"]
    assert config["embeddings_initializer"] == {"class_name": "RandomUniform",
                                                "config": {"minval": -0.05, "maxval": 0.05, "seed": None}}
    clone = Embedding.from_config(json.loads(json.dumps(config)) | {"embeddings_regularizer": "l2"})
    assert (clone.input_dim, clone.output_dim, clone.mask_zero, clone.input_length) == (20, 4, True, 5)


def test_uniform_initializer_draws_within_keras_bounds():
    layer = Embedding(200, 50)
    layer._build_once((None, None))
    values = layer.get_weights()[0]
    assert values.shape == (200, 50) and values.min() >= -0.05 and values.max() <= 0.05 and values.std() > 0.02


def test_regularizer_penalises_the_keras_matrix():
    layer = embedding_with(np.full((3, 2), 2.0, "float32"), embeddings_regularizer=regularizers.l2(0.5))
    (penalty,) = layer.regularization_losses()
    assert float(penalty.detach()) == pytest.approx(0.5 * 6 * 4.0)


def test_sequential_feeds_integer_tokens_exactly_and_trains():
    model = Sequential([Embedding(1000, 8, input_length=10), Flatten(), Dense(1, activation="sigmoid")])
    assert model.inputs[0].dtype == torch.int32
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    rng = np.random.RandomState(1)
    x = rng.randint(0, 1000, size=(256, 10))  # int64 tokens
    y = (x[:, 3] < 500).astype("float32")
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    assert history.history["acc"][-1] > 0.8
    matrix = model.layers[0].get_weights()[0]
    kernel, bias = model.layers[2].get_weights()
    expected = 1 / (1 + np.exp(-(matrix[x[:5]].reshape(5, -1) @ kernel + bias)))
    np.testing.assert_allclose(model.predict(x[:5]), expected, rtol=1e-5, atol=1e-6)


def test_functional_model_with_integer_input_round_trips_through_a_file(tmp_path):
    tokens = Input(shape=(6,), dtype="int32")
    model = Model(tokens, Dense(2)(Flatten()(Embedding(30, 3)(tokens))))
    x = np.random.RandomState(2).randint(0, 30, size=(4, 6))
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5", compile=False)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    sequential = Sequential([Embedding(30, 3, input_length=6)])
    sequential.save(tmp_path / "s.h5")
    np.testing.assert_array_equal(load_model(tmp_path / "s.h5", compile=False).predict(x), sequential.predict(x))
