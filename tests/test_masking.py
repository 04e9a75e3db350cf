"""Mask propagation through functional graphs, and masks in the loss and metrics (Keras 2.3.1 semantics:
``engine/base_layer.py`` ``__call__``/``compute_mask``, ``engine/training.py`` ``_prepare_total_loss`` and
``training_utils.call_metric_function``).

The layers here are written as Keras 2 users write custom layers, so the tests pin the protocol itself, not
the built-in layers (their own mask behaviour is tested beside them)."""
import numpy as np
import pytest
import torch

from kerasish import layers as L
from kerasish import models
from kerasish.layers.base import Layer
from kerasish.optimizers import SGD


class ZeroMaskEmbedding(Layer):
    """Embedding-like: token 0 is padding (its mask is False)."""

    supports_masking = True

    def __init__(self, input_dim, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim), initializer="uniform")

    def call(self, inputs):
        return self.embeddings[inputs.long()]

    def compute_mask(self, inputs, mask=None):
        return inputs != 0

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim}


class MaskedMean(Layer):
    """Mean over the unmasked time steps; records the masks it was called with."""

    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen_masks = []

    def call(self, inputs, mask=None):
        self.seen_masks.append(mask)
        if mask is None:
            return inputs.mean(1)
        weights = mask.to(inputs.dtype).unsqueeze(-1)
        return (inputs * weights).sum(1) / weights.sum(1).clamp_min(1)

    def compute_mask(self, inputs, mask=None):
        return None


class PassThrough(Layer):
    """Scales its input; passes the mask on (supports_masking, no compute_mask of its own)."""

    supports_masking = True

    def call(self, inputs):
        return inputs * 2.0


class NoMasking(Layer):
    def call(self, inputs):
        return inputs


CUSTOM = {"ZeroMaskEmbedding": ZeroMaskEmbedding, "MaskedMean": MaskedMean, "PassThrough": PassThrough}
TOKENS = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7]])


def masked_mean_model():
    inputs = L.Input((4,), dtype="int64")
    embedded = ZeroMaskEmbedding(10, 3, name="embed")(inputs)
    scaled = PassThrough(name="scale")(embedded)
    pooled = MaskedMean(name="pool")(scaled)
    return models.Model(inputs, L.Dense(1, name="out")(pooled))


def test_a_computed_mask_rides_on_the_output_and_a_supporting_layer_passes_the_same_one_on():
    inputs = L.Input((4,), dtype="int64")
    embedded = ZeroMaskEmbedding(10, 3)(inputs)
    scaled = PassThrough()(embedded)
    assert embedded._keras_mask is not None and embedded._keras_mask.shape == (None, 4)
    assert embedded._keras_mask.dtype == torch.bool
    assert scaled._keras_mask is embedded._keras_mask
    assert inputs._keras_mask is None


def test_call_receives_the_mask_values_and_the_masked_mean_matches_numpy():
    model = masked_mean_model()
    out = model.predict(TOKENS)
    table = model.get_layer("embed").get_weights()[0] * 2.0
    kernel, bias = model.get_layer("out").get_weights()
    expected = np.stack([table[row[row != 0]].mean(0) for row in TOKENS]) @ kernel + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    seen = model.get_layer("pool").seen_masks[-1]
    np.testing.assert_array_equal(seen.cpu().numpy(), TOKENS != 0)


def test_a_mask_passed_explicitly_wins_over_the_propagated_one():
    inputs = L.Input((4,), dtype="int64")
    embedded = ZeroMaskEmbedding(10, 3, name="embed")(inputs)
    all_steps = L.Lambda(lambda t: torch.ones_like(t[..., 0], dtype=torch.bool))(embedded)
    pooled = MaskedMean(name="pool")(embedded, mask=all_steps)
    model = models.Model(inputs, pooled)
    table = model.get_layer("embed").get_weights()[0]
    np.testing.assert_allclose(model.predict(TOKENS), table[TOKENS].mean(1), rtol=1e-5, atol=1e-6)


def test_a_layer_without_masking_support_refuses_a_mask_with_keras_error():
    embedded = ZeroMaskEmbedding(10, 3)(L.Input((4,), dtype="int64"))
    with pytest.raises(TypeError, match=r"Layer no_masking_\d+ does not support masking, but was passed an "
                                        r"input_mask"):
        NoMasking()(embedded)


def test_no_mask_no_mask_argument():
    pool = MaskedMean()
    model = models.Model(*(lambda i: (i, pool(i)))(L.Input((4, 3))))
    model.predict(np.ones((2, 4, 3), "float32"))
    assert pool.seen_masks[-1] is None


def test_config_and_summary_leave_the_propagated_mask_out_and_loading_restores_it():
    model = masked_mean_model()
    config = model.get_config()
    pool = next(layer for layer in config["layers"] if layer["name"] == "pool")
    assert pool["inbound_nodes"] == [[["scale", 0, 0, {}]]]
    rebuilt = models.Model.from_config(config, custom_objects=CUSTOM)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(TOKENS), model.predict(TOKENS), rtol=1e-6)
    assert rebuilt.get_layer("scale").output._keras_mask is not None
    lines = []
    model.summary(print_fn=lines.append)
    assert not any("Connected to" in line or "compute_mask" in line for line in lines)
    assert [layer.name for layer in model.layers][1:] == ["embed", "scale", "pool", "out"]


def test_clone_model_propagates_masks_again():
    model = masked_mean_model()
    clone = models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(TOKENS), model.predict(TOKENS), rtol=1e-6)


def temporal_model():
    """(batch, 4) tokens -> per-step (batch, 4, 1) outputs whose mask is the tokens' non-zeros."""
    inputs = L.Input((4,), dtype="int64")
    embedded = ZeroMaskEmbedding(10, 3, name="embed")(inputs)
    return models.Model(inputs, PassThrough(name="scale")(embedded))


def test_the_output_mask_weighs_the_loss_like_a_temporal_sample_weight():
    model = temporal_model()
    model.compile(SGD(lr=0.0), loss="mse", metrics=["mae"])
    y = np.random.RandomState(0).randn(3, 4, 3).astype("float32")
    pred = model.predict(TOKENS)
    mask = (TOKENS != 0).astype("float32")
    per_step = ((pred - y) ** 2).mean(-1)
    # Keras 2.3.1: the mask becomes the sample weight; SUM_OVER_BATCH_SIZE divides by all N*T elements
    expected_loss = (per_step * mask).sum() / per_step.size
    expected_mae = (np.abs(pred - y).mean(-1) * mask).sum() / mask.sum()  # metrics: sum(v*w)/sum(w)
    loss, mae = model.evaluate(TOKENS, y, verbose=0)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(mae, expected_mae, rtol=1e-5)
    history = model.fit(TOKENS, y, batch_size=3, epochs=1, verbose=0)  # lr 0: the training pass sees the same
    np.testing.assert_allclose(history.history["loss"][0], expected_loss, rtol=1e-5)


def test_sample_weights_multiply_the_mask():
    model = temporal_model()
    model.compile(SGD(lr=0.0), loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    y = np.random.RandomState(1).randn(3, 4, 3).astype("float32")
    weights = np.array([1.0, 2.0, 0.5], "float32")
    pred = model.predict(TOKENS)
    mask = (TOKENS != 0).astype("float32")
    combined = weights[:, None] * mask
    per_step = ((pred - y) ** 2).mean(-1)
    abs_err = np.abs(pred - y).mean(-1)
    loss, mae, weighted_mae = model.evaluate(TOKENS, y, sample_weight=weights, verbose=0)
    np.testing.assert_allclose(loss, (per_step * combined).sum() / per_step.size, rtol=1e-5)
    np.testing.assert_allclose(mae, (abs_err * mask).sum() / mask.sum(), rtol=1e-5)
    np.testing.assert_allclose(weighted_mae, (abs_err * combined).sum() / combined.sum(), rtol=1e-5)


def test_masked_steps_get_no_gradient():
    model = temporal_model()
    model.compile(SGD(lr=1.0), loss="mse")
    before = model.get_layer("embed").get_weights()[0]
    tokens = np.array([[1, 0, 0, 0]])
    model.train_on_batch(tokens, np.ones((1, 4, 3), "float32"))
    after = model.get_layer("embed").get_weights()[0]
    changed = np.where(np.any(after != before, axis=1))[0]
    np.testing.assert_array_equal(changed, [1])  # row 0 (the padding token) got no gradient


def test_a_model_used_as_a_layer_gives_its_output_mask_and_refuses_one_from_outside():
    inner = temporal_model()
    outer_input = L.Input((4,), dtype="int64")
    outer_output = inner(outer_input)
    assert outer_output._keras_mask is not None
    pooled = MaskedMean(name="outer_pool")(outer_output)
    outer = models.Model(outer_input, pooled)
    table = inner.get_layer("embed").get_weights()[0] * 2.0
    expected = np.stack([table[row[row != 0]].mean(0) for row in TOKENS])
    np.testing.assert_allclose(outer.predict(TOKENS), expected, rtol=1e-5, atol=1e-6)
    masked = ZeroMaskEmbedding(10, 3)(L.Input((4,), dtype="int64"))
    float_model = models.Model(*(lambda i: (i, PassThrough()(i)))(L.Input((4, 3))))
    with pytest.raises(ValueError, match="a mask cannot be passed into a model used as a layer"):
        float_model(masked)


def test_several_outputs_each_weighed_by_its_own_mask():
    inputs = L.Input((4,), dtype="int64")
    embedded = ZeroMaskEmbedding(10, 3, name="embed")(inputs)
    masked_out = PassThrough(name="masked")(embedded)
    plain_out = L.Dense(3, name="plain")(L.Lambda(lambda t: t * 1.0, name="unmask")(MaskedMean()(embedded)))
    model = models.Model(inputs, [masked_out, plain_out])
    model.compile(SGD(lr=0.0), loss="mse")
    y1 = np.random.RandomState(2).randn(3, 4, 3).astype("float32")
    y2 = np.random.RandomState(3).randn(3, 3).astype("float32")
    p1, p2 = model.predict(TOKENS)
    mask = (TOKENS != 0).astype("float32")
    l1 = (((p1 - y1) ** 2).mean(-1) * mask).sum() / mask.size
    l2 = ((p2 - y2) ** 2).mean()
    total, masked_loss, plain_loss = model.evaluate(TOKENS, [y1, y2], verbose=0)
    np.testing.assert_allclose([masked_loss, plain_loss, total], [l1, l2, l1 + l2], rtol=1e-5)


def test_targets_of_a_variable_length_sequence_output_are_accepted_and_checked():
    inputs = L.Input((None, 3))
    model = models.Model(inputs, L.Dense(2, name="per_step")(inputs))
    model.compile(SGD(lr=0.0), loss="mse")
    model.train_on_batch(np.ones((2, 5, 3), "float32"), np.zeros((2, 5, 2), "float32"))
    with pytest.raises(ValueError, match=r"A target array with shape \(2, 5, 3\) was passed for an output of shape "
                                         r"\(None, None, 2\)"):
        model.train_on_batch(np.ones((2, 5, 3), "float32"), np.zeros((2, 5, 3), "float32"))
