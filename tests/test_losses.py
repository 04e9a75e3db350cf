"""kerasish.losses against NumPy references of the Keras 2.3.1 formulas (keras/losses.py and the tf.keras
backend crossentropies), written here independently of the code under test."""
import numpy as np
import pytest
import torch

from kerasish import losses
from kerasish.training.compile_utils import CompiledLoss

EPS = 1e-7
SHAPES = [(6, 4), (3, 5, 4), (6, 1)]


# ---------------------------------------------------------------------------- NumPy references
def np_mse(y, p):
    return np.mean((p - y) ** 2, axis=-1)


def np_mae(y, p):
    return np.mean(np.abs(p - y), axis=-1)


def np_mape(y, p):
    return 100.0 * np.mean(np.abs((y - p) / np.clip(np.abs(y), EPS, None)), axis=-1)


def np_msle(y, p):
    return np.mean((np.log(np.clip(p, EPS, None) + 1) - np.log(np.clip(y, EPS, None) + 1)) ** 2, axis=-1)


def np_pm1(y):
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def np_hinge(y, p):
    return np.mean(np.maximum(1 - np_pm1(y) * p, 0), axis=-1)


def np_squared_hinge(y, p):
    return np.mean(np.maximum(1 - np_pm1(y) * p, 0) ** 2, axis=-1)


def np_categorical_hinge(y, p):
    return np.maximum(np.max((1 - y) * p, axis=-1) - np.sum(y * p, axis=-1) + 1, 0)


def np_logcosh(y, p):
    return np.mean(np.log(np.cosh(p - y)), axis=-1)


def np_huber(y, p, delta=1.0):
    err = np.abs(p - y)
    return np.mean(np.where(err <= delta, 0.5 * err ** 2, 0.5 * delta ** 2 + delta * (err - delta)), axis=-1)


def np_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(y * np.log(p), axis=-1)


def np_scce(labels, p):
    p = np.clip(p, EPS, 1 - EPS)
    p = p / p.sum(-1, keepdims=True)  # softmax(log(p)) renormalises the clipped probabilities
    return -np.log(np.take_along_axis(p, labels[..., None].astype(int), axis=-1)[..., 0])


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(y * np.log(p + EPS) + (1 - y) * np.log(1 - p + EPS)), axis=-1)


def np_kld(y, p):
    y, p = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    return np.sum(y * np.log(y / p), axis=-1)


def np_poisson(y, p):
    return np.mean(p - y * np.log(p + EPS), axis=-1)


def np_cosine(y, p):
    def norm(x):
        return x / np.sqrt(np.maximum(np.sum(x ** 2, axis=-1, keepdims=True), 1e-12))
    return -np.sum(norm(y) * norm(p), axis=-1)


def np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------------------- data
def probabilities(shape, seed):
    rng = np.random.default_rng(seed)
    return np_softmax(rng.normal(size=shape) * 2).astype(np.float32) if shape[-1] > 1 else \
        rng.uniform(0.01, 0.99, size=shape).astype(np.float32)


def one_hot(shape, seed):
    rng = np.random.default_rng(seed)
    return np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], size=shape[:-1])]


def check(fn, ref, y, p, **kwargs):
    got = fn(torch.from_numpy(y), torch.from_numpy(p), **kwargs)
    # float32 references, as Keras computes in floatx: 1 - 1e-7 rounds to 1 - 1.19e-7 there.
    want = ref(y.astype(np.float32), p.astype(np.float32))
    assert tuple(got.shape) == p.shape[:-1]
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-5, atol=2e-6)


# ---------------------------------------------------------------------------- formulas
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn,ref", [
    (losses.mean_squared_error, np_mse), (losses.mean_absolute_error, np_mae),
    (losses.mean_absolute_percentage_error, np_mape), (losses.mean_squared_logarithmic_error, np_msle),
    (losses.logcosh, np_logcosh), (losses.huber_loss, np_huber), (losses.poisson, np_poisson),
    (losses.cosine_proximity, np_cosine), (losses.categorical_hinge, np_categorical_hinge),
])
def test_regression_losses_match_keras_formulas_and_reduce_the_last_axis(fn, ref, shape):
    rng = np.random.default_rng(1)
    y = rng.uniform(0.1, 3.0, size=shape).astype(np.float32)
    p = rng.uniform(0.1, 3.0, size=shape).astype(np.float32)
    check(fn, ref, y, p)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn,ref", [(losses.hinge, np_hinge), (losses.squared_hinge, np_squared_hinge)])
def test_hinge_losses_match_keras_formulas(fn, ref, shape):
    rng = np.random.default_rng(2)
    p = rng.normal(size=shape).astype(np.float32)
    check(fn, ref, rng.integers(0, 2, size=shape).astype(np.float32), p)        # 0/1 labels -> -1/1
    check(fn, ref, rng.choice([-1.0, 1.0], size=shape).astype(np.float32), p)   # already -1/1


def test_hinge_converts_0_1_labels_to_minus_1_1_only_when_the_whole_batch_is_binary():
    p = torch.tensor([[0.3], [-0.2]])
    assert losses.hinge(torch.tensor([[1.0], [0.0]]), p).tolist() == pytest.approx([0.7, 0.8])
    # a -1 in the batch: nothing is converted, the 0 stays 0 -> max(1 - 0, 0) = 1
    assert losses.hinge(torch.tensor([[-1.0], [0.0]]), p).tolist() == pytest.approx([1.3, 1.0])


def test_huber_delta_switches_from_quadratic_to_linear():
    y, p = torch.zeros(1, 2), torch.tensor([[0.5, 3.0]])
    # delta=2: 0.5*0.25 = 0.125 ; 0.5*4 + 2*(3-2) = 4 -> mean 2.0625
    assert float(losses.huber_loss(y, p, delta=2.0)[0]) == pytest.approx(2.0625)
    assert float(losses.Huber(delta=2.0)(y, p)) == pytest.approx(2.0625)


@pytest.mark.parametrize("shape", SHAPES)
def test_kld_matches_keras_formula_with_clipped_distributions(shape):
    y, p = probabilities(shape, 3), probabilities(shape, 4)
    y[..., 0] = 0.0  # zeros are clipped to eps before the log
    check(losses.kullback_leibler_divergence, np_kld, y, p)


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4)])
def test_categorical_crossentropy_renormalises_and_clips_probabilities(shape):
    y = one_hot(shape, 5)
    p = probabilities(shape, 6) * 3.0  # not normalised: Keras divides by the sum first
    p[0, ..., 0] = 0.0
    check(losses.categorical_crossentropy, np_cce, y, p)


@pytest.mark.parametrize("shape", SHAPES)
def test_binary_crossentropy_clips_then_adds_epsilon_inside_the_logs(shape):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=shape).astype(np.float32)
    p = rng.uniform(0, 1, size=shape).astype(np.float32)
    p.flat[0], p.flat[-1] = 0.0, 1.0
    check(losses.binary_crossentropy, np_bce, y, p)


def test_binary_crossentropy_of_a_certain_wrong_prediction_is_about_16_1():
    # -log(eps + eps) with eps = 1e-7, the Keras 2.3.1 ceiling for one element
    got = float(losses.binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]))[0])
    assert got == pytest.approx(-np.log(2e-7), rel=1e-4)


@pytest.mark.parametrize("label_shape,pred_shape", [
    ((6,), (6, 4)), ((6, 1), (6, 4)), ((3, 5), (3, 5, 4)), ((3, 5, 1), (3, 5, 4))])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32])
def test_sparse_categorical_crossentropy_accepts_int_or_float_labels_with_or_without_trailing_1(
        label_shape, pred_shape, dtype):
    rng = np.random.default_rng(8)
    labels = rng.integers(0, pred_shape[-1], size=label_shape)
    p = probabilities(pred_shape, 9)
    p[0, ..., 1] = 0.0
    got = losses.sparse_categorical_crossentropy(torch.from_numpy(labels.astype(dtype)), torch.from_numpy(p))
    want = np_scce(labels.reshape(pred_shape[:-1]), p)
    assert tuple(got.shape) == pred_shape[:-1]
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-5, atol=2e-6)


def test_sparse_categorical_crossentropy_takes_the_class_axis_from_axis():
    p = probabilities((2, 3, 4), 10)          # channels last: (N, T, C)
    labels = np.array([[0, 3, 1], [2, 2, 0]])
    channels_first = torch.from_numpy(p).permute(0, 2, 1)  # (N, C, T)
    got = losses.sparse_categorical_crossentropy(torch.from_numpy(labels), channels_first, axis=1)
    np.testing.assert_allclose(got.numpy(), np_scce(labels, p), rtol=2e-5)


def test_sparse_categorical_crossentropy_rejects_labels_of_the_wrong_size():
    with pytest.raises(ValueError) as err:
        losses.sparse_categorical_crossentropy(torch.zeros(4, 3), torch.rand(4, 3))
    assert str(err.value) == (
        "sparse_categorical_crossentropy: expected class indices of shape (4,) or (4, 1) for predictions of "
        "shape (4, 3); received targets of shape (4, 3). Pass one integer class index per prediction.")


def test_label_smoothing_moves_targets_towards_uniform():
    y, p = one_hot((5, 4), 11), probabilities((5, 4), 12)
    smoothed = y * 0.8 + 0.2 / 4
    got = losses.categorical_crossentropy(torch.from_numpy(y), torch.from_numpy(p), label_smoothing=0.2)
    np.testing.assert_allclose(got.numpy(), np_cce(smoothed, p), rtol=2e-5)
    yb = (np.random.default_rng(13).uniform(size=(5, 1)) > 0.5).astype(np.float32)
    pb = probabilities((5, 1), 14)
    got = losses.binary_crossentropy(torch.from_numpy(yb), torch.from_numpy(pb), label_smoothing=0.2)
    np.testing.assert_allclose(got.numpy(), np_bce(yb * 0.8 + 0.1, pb), rtol=2e-5)


# ---------------------------------------------------------------------------- from_logits
@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4)])
def test_from_logits_equals_the_probability_path_for_moderate_logits(shape):
    rng = np.random.default_rng(15)
    z = rng.normal(size=shape).astype(np.float32) * 3
    y = one_hot(shape, 16)
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
    probs = torch.softmax(zt, -1)
    torch.testing.assert_close(losses.categorical_crossentropy(yt, zt, from_logits=True),
                               losses.categorical_crossentropy(yt, probs), rtol=1e-5, atol=1e-5)
    labels = torch.from_numpy(y.argmax(-1))
    torch.testing.assert_close(losses.sparse_categorical_crossentropy(labels, zt, from_logits=True),
                               losses.sparse_categorical_crossentropy(labels, probs), rtol=1e-5, atol=1e-5)
    yb = torch.from_numpy((rng.uniform(size=shape) > 0.5).astype(np.float32))
    torch.testing.assert_close(losses.binary_crossentropy(yb, zt, from_logits=True),
                               losses.binary_crossentropy(yb, torch.sigmoid(zt)), rtol=1e-4, atol=1e-5)


def test_from_logits_is_finite_and_exact_for_extreme_logits():
    z = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    y = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    cce = losses.categorical_crossentropy(y, z, from_logits=True)
    assert cce.tolist() == pytest.approx([0.0, 2e4])
    scce = losses.sparse_categorical_crossentropy(torch.tensor([0, 0]), z, from_logits=True)
    assert scce.tolist() == pytest.approx([0.0, 2e4])
    bce = losses.binary_crossentropy(torch.tensor([[1.0], [1.0]]), torch.tensor([[1e4], [-1e4]]), from_logits=True)
    assert bce.tolist() == pytest.approx([0.0, 1e4])
    for value in (cce, scce, bce):
        assert torch.isfinite(value).all()


def test_from_logits_gradients_are_finite_for_extreme_logits():
    z = torch.tensor([[80.0, -80.0, 0.0]], requires_grad=True)
    losses.categorical_crossentropy(torch.tensor([[0.0, 1.0, 0.0]]), z, from_logits=True).sum().backward()
    assert torch.isfinite(z.grad).all()


def np_log_softmax(z):
    shifted = z - z.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4), (6, 1)])
def test_compiled_crossentropies_from_logits_are_the_batch_means_of_the_per_value_losses(shape):
    # compile's loss takes these means in torch's fused reduction when a batch has no sample weights
    rng = np.random.default_rng(19)
    z = (rng.normal(size=shape) * 3).astype(np.float64)
    y = one_hot(shape, 20)
    labels = y.argmax(-1)
    yb = (rng.uniform(size=shape) > 0.5).astype(np.float32)
    zt = torch.from_numpy(z.astype(np.float32))
    softplus_neg = np.log1p(np.exp(-np.abs(z))) + np.maximum(-z, 0)  # -log(sigmoid(z)), stably
    expected = {
        "categorical_crossentropy": (y, -(y * np_log_softmax(z)).sum(-1).mean()),
        "sparse_categorical_crossentropy": (labels, -np.take_along_axis(np_log_softmax(z), labels[..., None],
                                                                         -1).mean()),
        "binary_crossentropy": (yb, (yb * softplus_neg + (1 - yb) * (softplus_neg + z)).mean()),
    }
    for name, (target, want) in expected.items():
        loss = CompiledLoss(name)
        got = loss(torch.from_numpy(target), zt, from_logits=True)
        assert got.dim() == 0 and float(got) == pytest.approx(want, rel=1e-5), name
        weighted = loss(torch.from_numpy(target), zt, torch.ones(shape[:-1]), from_logits=True)
        assert float(weighted) == pytest.approx(want, rel=1e-5), name  # the per-value path, weights of 1


def test_logit_activation_table_names_the_activation_each_crossentropy_absorbs():
    assert losses.LOGIT_ACTIVATION == {losses.categorical_crossentropy: "softmax",
                                       losses.sparse_categorical_crossentropy: "softmax",
                                       losses.binary_crossentropy: "sigmoid"}
    assert losses.logit_activation("categorical_crossentropy") == "softmax"
    assert losses.logit_activation(losses.BinaryCrossentropy()) == "sigmoid"
    assert losses.logit_activation(losses.BinaryCrossentropy(from_logits=True)) is None
    assert losses.logit_activation("mse") is None
    assert losses.is_sparse(losses.SparseCategoricalCrossentropy())
    assert losses.is_sparse("sparse_categorical_crossentropy")
    assert not losses.is_sparse("categorical_crossentropy")


# ---------------------------------------------------------------------------- reduction and Loss classes
def test_sum_over_batch_size_divides_by_number_of_values_not_by_weights():
    # Keras 2.3.1 MeanSquaredError docstring example: per-sample [0.5, 0.5]
    y, p = torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    assert float(losses.MeanSquaredError()(y, p)) == pytest.approx(0.5)
    assert float(losses.MeanSquaredError()(y, p, sample_weight=torch.tensor([0.7, 0.3]))) == pytest.approx(0.25)
    # a zero weight still counts in the denominator: (0.5 * 1 + 0.5 * 0) / 2
    assert float(losses.MeanSquaredError()(y, p, sample_weight=[1.0, 0.0])) == pytest.approx(0.25)
    assert float(losses.MeanSquaredError(reduction="sum")(y, p)) == pytest.approx(1.0)
    assert losses.MeanSquaredError(reduction="none")(y, p).tolist() == pytest.approx([0.5, 0.5])


def test_per_sample_weights_on_temporal_losses_divide_by_samples_times_timesteps():
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert float(losses.compute_weighted_loss(values, torch.tensor([1.0, 0.0]))) == pytest.approx(6.0 / 6)
    assert float(losses.compute_weighted_loss(values, torch.tensor([[2.0], [1.0]]))) == pytest.approx(27.0 / 6)
    timestep_weights = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert float(losses.compute_weighted_loss(values, timestep_weights)) == pytest.approx(7.0 / 6)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        losses.compute_weighted_loss(values, torch.ones(3))


def test_loss_instances_expose_call_name_and_keras_defaults():
    y, p = one_hot((4, 3), 17), probabilities((4, 3), 18)
    cce = losses.CategoricalCrossentropy(label_smoothing=0.1)
    assert cce.name == "categorical_crossentropy" and cce.from_logits is False and cce.label_smoothing == 0.1
    per_sample = cce.call(torch.from_numpy(y), torch.from_numpy(p))
    np.testing.assert_allclose(per_sample.numpy(), np_cce(y * 0.9 + 0.1 / 3, p), rtol=2e-5)
    assert float(cce(torch.from_numpy(y), torch.from_numpy(p))) == pytest.approx(float(per_sample.mean()))
    assert losses.SparseCategoricalCrossentropy(from_logits=True).fn_kwargs == {"from_logits": True}
    assert losses.Huber().name == "huber_loss" and losses.KLDivergence().name == "kullback_leibler_divergence"
    assert losses.MeanSquaredError(name="custom").name == "custom"
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="mean")
    with pytest.raises(TypeError, match="unexpected keyword"):
        losses.MeanSquaredError(from_logits=True)


def test_half_precision_predictions_are_computed_in_float32():
    p = torch.tensor([[1.0, 0.0]], dtype=torch.float16)
    got = losses.categorical_crossentropy(torch.tensor([[0.0, 1.0]]), p)
    assert got.dtype == torch.float32 and float(got[0]) == pytest.approx(-np.log(1e-7), rel=1e-4)


def test_a_1d_target_is_fed_as_a_column_as_keras_expands_it():
    got = losses.mean_squared_error(torch.tensor([1.0, 2.0]), torch.tensor([[1.5], [2.0]]))
    assert got.tolist() == pytest.approx([0.25, 0.0])
    # (N,) -> (N, 1), then broadcast against every unit, as Keras 2.3.1 computes it
    got = losses.mean_squared_error(torch.tensor([1.0, 0.0]), torch.tensor([[1.0, 3.0], [2.0, 0.0]]))
    assert got.tolist() == pytest.approx([2.0, 2.0])
    # (N, T) targets meet a (N, T, 1) output
    assert losses.mean_absolute_error(torch.ones(2, 3), torch.zeros(2, 3, 1)).shape == (2, 3)


# ---------------------------------------------------------------------------- get / serialize
def test_get_resolves_every_keras_name_and_alias():
    expected = {
        "mse": "mean_squared_error", "MSE": "mean_squared_error", "mae": "mean_absolute_error",
        "MAE": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
        "MAPE": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
        "MSLE": "mean_squared_logarithmic_error", "kld": "kullback_leibler_divergence",
        "KLD": "kullback_leibler_divergence", "cosine": "cosine_proximity", "cosine_similarity": "cosine_proximity",
    }
    for name in ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
                 "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge", "logcosh",
                 "huber_loss", "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "binary_crossentropy", "kullback_leibler_divergence", "poisson", "cosine_proximity"]:
        expected[name] = name
    assert set(losses.LOSSES) == set(expected)
    for name, fn_name in expected.items():
        assert losses.get(name).__name__ == fn_name
        assert losses.serialize(losses.get(name)) == fn_name


def test_get_passes_callables_and_instances_through_and_none_stays_none():
    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().mean(-1)
    instance = losses.Huber()
    assert losses.get(my_loss) is my_loss and losses.get(instance) is instance and losses.get(None) is None
    rebuilt = losses.get({"class_name": "CategoricalCrossentropy", "config": {"label_smoothing": 0.2}})
    assert isinstance(rebuilt, losses.CategoricalCrossentropy) and rebuilt.label_smoothing == 0.2
    assert losses.serialize(my_loss) == "my_loss" and losses.serialize(instance) == "huber_loss"


def test_get_rejects_an_unknown_name_listing_the_known_ones():
    with pytest.raises(ValueError) as err:
        losses.get("mean_sqared_error")
    names = sorted(["mean_squared_error", "mse", "MSE", "mean_absolute_error", "mae", "MAE",
                    "mean_absolute_percentage_error", "mape", "MAPE", "mean_squared_logarithmic_error", "msle",
                    "MSLE", "squared_hinge", "hinge", "categorical_hinge", "logcosh", "huber_loss",
                    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
                    "kullback_leibler_divergence", "kld", "KLD", "poisson", "cosine_proximity", "cosine",
                    "cosine_similarity"])
    assert str(err.value) == (f"loss: Unknown loss function: 'mean_sqared_error'. Did you mean "
                              f"'mean_squared_error'? Expected one of the Keras "
                              f"loss names {names}, a function fn(y_true, y_pred) or a Loss instance.")
    with pytest.raises(ValueError, match="Could not interpret loss function identifier: 3"):
        losses.get(3)


# ---------------------------------------------------------------------------- validate_targets
CCE_MESSAGE = (
    "You are passing a target array of shape {shape} while using as loss `categorical_crossentropy`. "
    "`categorical_crossentropy` expects targets to be binary matrices (1s and 0s) of shape (samples, classes). "
    "If your targets are integer classes, you can convert them to the expected format via:\n"
    "```\nfrom keras.utils import to_categorical\ny_binary = to_categorical(y_int)\n```\n\n"
    "Alternatively, you can use the loss function `sparse_categorical_crossentropy` instead, "
    "which does expect integer targets.")


@pytest.mark.parametrize("shape", [(8,), (8, 1)])
def test_validate_targets_rejects_integer_labels_with_categorical_crossentropy(shape):
    y = np.zeros(shape, dtype=np.int64)
    with pytest.raises(ValueError) as err:
        losses.validate_targets(losses.categorical_crossentropy, y, (10,))
    assert str(err.value) == CCE_MESSAGE.format(shape=shape)
    with pytest.raises(ValueError) as err:  # a Loss instance and a tensor get the same check
        losses.validate_targets(losses.CategoricalCrossentropy(), torch.zeros(shape), (10,))
    assert str(err.value) == CCE_MESSAGE.format(shape=shape)


def test_validate_targets_rejects_sequence_labels_with_categorical_crossentropy():
    with pytest.raises(ValueError) as err:
        losses.validate_targets("categorical_crossentropy", np.zeros((4, 7)), (7, 10))
    assert str(err.value) == CCE_MESSAGE.format(shape=(4, 7))


@pytest.mark.parametrize("loss,loss_name", [
    ("categorical_crossentropy", "categorical_crossentropy"),
    (losses.CategoricalCrossentropy(name="my_cce"), "my_cce"),
    ("binary_crossentropy", "binary_crossentropy"), ("mse", "mean_squared_error")])
def test_validate_targets_rejects_targets_whose_width_differs_from_the_output(loss, loss_name):
    with pytest.raises(ValueError) as err:
        losses.validate_targets(loss, np.zeros((8, 3)), (5,))
    assert str(err.value) == (
        f"A target array with shape (8, 3) was passed for an output of shape (None, 5) while using as loss "
        f"`{loss_name}`. This loss expects targets to have the same shape as the output. Reshape the targets "
        f"to (samples,) + (5,), or give the last layer 3 unit(s) to match the targets.")


@pytest.mark.parametrize("shape", [(8, 10), (2, 4, 10)])
def test_validate_targets_rejects_one_hot_targets_with_sparse_crossentropy(shape):
    output_shape = shape[1:]
    with pytest.raises(ValueError) as err:
        losses.validate_targets("sparse_categorical_crossentropy", np.zeros(shape, dtype=np.float32), output_shape)
    batch_free = output_shape[:-1]
    assert str(err.value) == (
        f"A target array with shape {shape} was passed for an output of shape {(None,) + output_shape} while using "
        f"as loss `sparse_categorical_crossentropy`. This loss expects integer class indices of shape "
        f"(samples,) + {batch_free} or (samples,) + {batch_free + (1,)}, not one-hot vectors. Either convert "
        f"the targets with `y.argmax(axis=-1)` or use the loss `categorical_crossentropy`.")


def test_validate_targets_rejects_sparse_labels_of_another_shape():
    with pytest.raises(ValueError) as err:
        losses.validate_targets(losses.SparseCategoricalCrossentropy(), np.zeros((8, 3)), (10,))
    assert str(err.value) == (
        "A target array with shape (8, 3) was passed for an output of shape (None, 10) while using as loss "
        "`sparse_categorical_crossentropy`. This loss expects integer class indices of shape (samples,) + () "
        "or (samples,) + (1,); reshape the targets or check the model's output shape.")


@pytest.mark.parametrize("labels,low,high", [([0, 3, 10], 0, 10), ([-1, 2, 4], -1, 4)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_validate_targets_rejects_class_indices_outside_the_output_units(labels, low, high, as_tensor):
    y = torch.tensor(labels) if as_tensor else np.array(labels)
    with pytest.raises(ValueError) as err:
        losses.validate_targets("sparse_categorical_crossentropy", y, (10,))
    assert str(err.value) == (
        f"`sparse_categorical_crossentropy`: target class indices must lie in [0, 10) for an output with 10 units; "
        f"received labels from {low} to {high}. Give the last layer one unit per class (here at least {high + 1} "
        f"if labels start at 0) or re-map the labels to 0..9.")


@pytest.mark.parametrize("as_tensor", [False, True])
def test_validate_targets_rejects_non_integer_sparse_labels(as_tensor):
    y = np.array([[0.0], [1.5], [2.0], [np.nan]], dtype=np.float32)
    with pytest.raises(ValueError) as err:
        losses.validate_targets("sparse_categorical_crossentropy", torch.from_numpy(y) if as_tensor else y, (3,))
    assert str(err.value) == (
        "`sparse_categorical_crossentropy` expects integer class indices, but 2 target value(s) are not whole "
        "numbers (for example 1.5). Pass integer labels (e.g. `y.astype('int64')` after checking them), or use "
        "`categorical_crossentropy` for one-hot/soft targets.")


@pytest.mark.parametrize("loss,y,output_shape", [
    ("sparse_categorical_crossentropy", np.array([0, 2, 1]), (3,)),
    ("sparse_categorical_crossentropy", np.array([[0.0], [2.0]]), (3,)),
    ("sparse_categorical_crossentropy", torch.tensor([[0, 1], [2, 2]]), (2, 3)),
    ("sparse_categorical_crossentropy", np.zeros((2, 5, 1)), (None, 3)),
    ("categorical_crossentropy", np.eye(3), (3,)),
    ("binary_crossentropy", np.array([0, 1, 1]), (1,)),
    ("binary_crossentropy", np.zeros((2, 5)), (5, 1)),
    ("mse", np.zeros((4, 2)), (2,)),
    ("mae", np.zeros((4, 7)), (2,)),            # Keras checks only mse and the crossentropies
    (lambda y_true, y_pred: y_pred, np.zeros((4, 7)), (2,)),
])
def test_validate_targets_accepts_compatible_targets(loss, y, output_shape):
    losses.validate_targets(loss, y, output_shape)
