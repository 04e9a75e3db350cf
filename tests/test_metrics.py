"""kerasish.metrics against NumPy references of Keras 2.3.1 keras/metrics.py, and compile's metric resolution
(training_utils.get_metric_function / get_metric_name)."""
import numpy as np
import pytest
import torch

from kerasish import losses, metrics


# ---------------------------------------------------------------------------- NumPy references
def np_binary_accuracy(y, p, threshold=0.5):
    predicted = np.round(p) if threshold == 0.5 else (p > threshold).astype(p.dtype)  # np.round: half to even
    return np.mean(y == predicted, axis=-1)


def np_categorical_accuracy(y, p):
    return (np.argmax(y, -1) == np.argmax(p, -1)).astype(np.float32)


def np_in_top_k(p, targets, k):
    target_score = np.take_along_axis(p, targets[..., None], axis=-1)
    return (np.sum(p > target_score, axis=-1) < k).astype(np.float32)


def np_cosine_similarity(y, p):
    def norm(x):
        return x / np.sqrt(np.maximum(np.sum(x ** 2, axis=-1, keepdims=True), 1e-12))
    return np.sum(norm(y) * norm(p), axis=-1)


def t(x):
    return torch.from_numpy(np.asarray(x))


SHAPES = [(7, 5), (3, 4, 5)]


# ---------------------------------------------------------------------------- accuracy functions
@pytest.mark.parametrize("shape", [(8, 1), (8, 3), (2, 5, 1)])
@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.7])
def test_binary_accuracy_matches_keras_rounding_and_threshold(shape, threshold):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=shape).astype(np.float32)
    p = rng.uniform(size=shape).astype(np.float32)
    p.flat[:3] = [0.5, threshold, 0.49999]
    got = metrics.binary_accuracy(t(y), t(p), threshold=threshold)
    assert tuple(got.shape) == shape[:-1]
    np.testing.assert_allclose(got.numpy(), np_binary_accuracy(y, p, threshold))


def test_binary_accuracy_counts_a_prediction_of_exactly_one_half_as_class_0():
    y, p = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.5], [0.5]])
    assert metrics.binary_accuracy(y, p).tolist() == [1.0, 0.0]
    assert metrics.binary_accuracy(y, p, threshold=0.5).tolist() == [1.0, 0.0]
    assert metrics.binary_accuracy(y, torch.tensor([[0.5000001], [0.5000001]])).tolist() == [0.0, 1.0]


def test_binary_accuracy_takes_1d_targets_for_a_single_unit_output():
    assert metrics.binary_accuracy(torch.tensor([1, 0, 1]), torch.tensor([[0.9], [0.2], [0.1]])).tolist() == [1, 1, 0]


@pytest.mark.parametrize("shape", SHAPES)
def test_categorical_accuracy_compares_argmaxes(shape):
    rng = np.random.default_rng(1)
    y = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], size=shape[:-1])]
    p = rng.uniform(size=shape).astype(np.float32)
    got = metrics.categorical_accuracy(t(y), t(p))
    assert tuple(got.shape) == shape[:-1]
    np.testing.assert_array_equal(got.numpy(), np_categorical_accuracy(y, p))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("trailing_one", [False, True])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float32])
def test_sparse_categorical_accuracy_takes_int_or_float_labels_with_or_without_trailing_1(shape, trailing_one, dtype):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    p = rng.uniform(size=shape).astype(np.float32)
    labels[0] = np.argmax(p[0], -1)  # at least one hit
    y = (labels[..., None] if trailing_one else labels).astype(dtype)
    got = metrics.sparse_categorical_accuracy(t(y), t(p))
    assert tuple(got.shape) == shape[:-1]
    np.testing.assert_array_equal(got.numpy(), (np.argmax(p, -1) == labels).astype(np.float32))


def test_sparse_categorical_accuracy_never_matches_a_fractional_label():
    p = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
    assert metrics.sparse_categorical_accuracy(torch.tensor([1.0, 0.5]), p).tolist() == [1.0, 0.0]


def test_sparse_accuracy_rejects_one_hot_targets():
    with pytest.raises(ValueError) as err:
        metrics.sparse_categorical_accuracy(torch.eye(3), torch.rand(3, 3))
    assert str(err.value) == ("sparse_categorical_accuracy: expected class indices of shape (3,) or (3, 1) for "
                              "predictions of shape (3, 3); received targets of shape (3, 3).")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_accuracies_match_in_top_k(shape, k):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    p = rng.uniform(size=shape).astype(np.float32)
    want = np_in_top_k(p, labels, k)
    y = np.eye(shape[-1], dtype=np.float32)[labels]
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(t(y), t(p), k=k).numpy(), want)
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(t(labels), t(p), k=k).numpy(), want)
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(t(labels[..., None].astype(np.float32)), t(p), k=k).numpy(), want)


def test_top_k_counts_every_class_tied_at_the_boundary_and_fails_non_finite_rows():
    p = torch.tensor([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3], [float("nan"), 0.9, 0.1]])
    got = metrics.sparse_top_k_categorical_accuracy(torch.tensor([2, 0, 1]), p, k=2)
    assert got.tolist() == [1.0, 1.0, 0.0]
    assert metrics.sparse_top_k_categorical_accuracy(torch.tensor([2, 0, 1]), p, k=1).tolist() == [0.0, 1.0, 0.0]


def test_cosine_proximity_metric_is_positive_while_the_loss_is_negative():
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=(6, 3)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    want = np_cosine_similarity(y, p)
    np.testing.assert_allclose(metrics.cosine_proximity(t(y), t(p)).numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses.cosine_proximity(t(y), t(p)).numpy(), -want, rtol=1e-5, atol=1e-6)
    assert metrics.get("cosine") is metrics.cosine_proximity and losses.get("cosine") is losses.cosine_proximity


def test_loss_names_usable_as_metrics_are_the_loss_functions_themselves():
    for name in ["mean_squared_error", "mse", "MSE", "mean_absolute_error", "mae", "MAE",
                 "mean_absolute_percentage_error", "mape", "MAPE", "mean_squared_logarithmic_error", "msle",
                 "MSLE", "hinge", "squared_hinge", "categorical_hinge", "logcosh", "categorical_crossentropy",
                 "sparse_categorical_crossentropy", "binary_crossentropy", "kullback_leibler_divergence",
                 "poisson"]:
        assert metrics.get(name) is losses.get(name)
    # Keras 2.3.1 metrics.py does not import these loss names
    for name in ["kld", "KLD", "huber_loss"]:
        with pytest.raises(ValueError, match="Unknown metric function"):
            metrics.get(name)


# ---------------------------------------------------------------------------- resolve
@pytest.mark.parametrize("metric", ["accuracy", "acc"])
@pytest.mark.parametrize("loss,output_shape,expected", [
    ("binary_crossentropy", (3,), "binary_accuracy"),
    ("mse", (1,), "binary_accuracy"),
    ("categorical_crossentropy", (1,), "binary_accuracy"),
    ("sparse_categorical_crossentropy", (4,), "sparse_categorical_accuracy"),
    (losses.SparseCategoricalCrossentropy(), (5, 4), "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (4,), "categorical_accuracy"),
    ("mse", (4,), "categorical_accuracy"),
])
def test_accuracy_resolves_from_the_loss_and_output_shape_and_keeps_the_written_name(
        metric, loss, output_shape, expected):
    name, fn = metrics.resolve(metric, losses.get(loss) if isinstance(loss, str) else loss, output_shape)
    assert name == metric and fn.__name__ == expected


@pytest.mark.parametrize("metric", ["crossentropy", "ce"])
@pytest.mark.parametrize("loss,output_shape,expected", [
    ("binary_crossentropy", (3,), "binary_crossentropy"),
    ("mse", (1,), "binary_crossentropy"),
    ("sparse_categorical_crossentropy", (4,), "sparse_categorical_crossentropy"),
    ("categorical_crossentropy", (4,), "categorical_crossentropy"),
])
def test_crossentropy_resolves_from_the_loss_and_output_shape(metric, loss, output_shape, expected):
    name, fn = metrics.resolve(metric, loss, output_shape)
    assert name == metric and fn is losses.get(expected)


def test_resolve_names_strings_as_written_functions_by_name_and_instances_by_their_name():
    assert metrics.resolve("mse", "mse", (1,)) == ("mse", losses.mean_squared_error)
    assert metrics.resolve("mean_squared_error", "mse", (1,))[0] == "mean_squared_error"

    def my_metric(y_true, y_pred):
        return y_pred.mean(-1)
    assert metrics.resolve(my_metric, "mse", (1,)) == ("my_metric", my_metric)
    assert metrics.resolve(metrics.categorical_accuracy, "mse", (3,))[0] == "categorical_accuracy"
    binary = metrics.BinaryAccuracy(threshold=0.7)
    name, fn = metrics.resolve(binary, "mse", (1,))
    assert name == "binary_accuracy" and fn(torch.tensor([[1.0]]), torch.tensor([[0.6]])).tolist() == [0.0]
    rmse = metrics.RootMeanSquaredError()
    assert metrics.resolve(rmse, "mse", (1,)) == ("root_mean_squared_error", rmse)
    name, fn = metrics.resolve(losses.Huber(), "mse", (1,))
    assert name == "huber_loss" and fn(torch.zeros(2, 1), torch.ones(2, 1)).tolist() == [0.5, 0.5]


def test_weighted_metrics_keep_the_keras_name_and_duplicates_get_a_numeric_suffix():
    assert metrics.resolve("acc", "binary_crossentropy", (1,), weighted=True)[0] == "acc"
    assert metrics.resolve("accuracy", "binary_crossentropy", (1,), weighted=True)[0] == "accuracy"
    assert metrics.unique_name("acc", ["loss", "acc"]) == "acc_1"
    assert metrics.unique_name("acc", ["loss", "acc", "acc_1"]) == "acc_2"
    assert metrics.unique_name("acc", ["loss"], output_name="dense_2") == "dense_2_acc"


def test_resolve_rejects_an_unknown_metric_name_listing_the_known_ones():
    with pytest.raises(ValueError) as err:
        metrics.resolve("accuracyy", "mse", (1,))
    known = sorted(["accuracy", "acc", "crossentropy", "ce", "binary_accuracy", "categorical_accuracy",
                    "sparse_categorical_accuracy", "top_k_categorical_accuracy",
                    "sparse_top_k_categorical_accuracy", "cosine_proximity", "cosine", "cosine_similarity",
                    "mean_squared_error", "mse", "MSE", "mean_absolute_error", "mae", "MAE",
                    "mean_absolute_percentage_error", "mape", "MAPE", "mean_squared_logarithmic_error", "msle",
                    "MSLE", "hinge", "squared_hinge", "categorical_hinge", "logcosh", "categorical_crossentropy",
                    "sparse_categorical_crossentropy", "binary_crossentropy", "kullback_leibler_divergence",
                    "poisson"])
    assert str(err.value) == (f"metrics: Unknown metric function: 'accuracyy'. Did you mean 'accuracy'? Expected "
                              f"one of {known}, a function "
                              "fn(y_true, y_pred) or a Metric instance.")
    with pytest.raises(ValueError, match="metrics: Could not interpret metric 3"):
        metrics.resolve(3, "mse", (1,))


# ---------------------------------------------------------------------------- stateful metrics
def test_mean_is_the_weighted_mean_over_all_updates_and_resets():
    m = metrics.Mean()
    m.update_state(torch.tensor([1.0, 3.0]))
    m.update_state(torch.tensor([5.0, 7.0]), sample_weight=torch.tensor([1.0, 0.0]))
    assert isinstance(m.result(), torch.Tensor) and float(m.result()) == pytest.approx(9.0 / 3)
    m.reset_states()
    m.update_state(torch.tensor([[1.0, 3.0], [5.0, 7.0]]), sample_weight=torch.tensor([2.0, 0.0]))
    assert float(m.result()) == pytest.approx(2.0)  # (2*1 + 2*3) / (2 + 2)
    assert np.isnan(float(metrics.Mean().result()))  # Keras 2.3.1: total / count = 0 / 0


def test_metric_classes_average_their_function_over_batches():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=(10, 1)).astype(np.float32)
    p = rng.uniform(size=(10, 1)).astype(np.float32)
    acc = metrics.BinaryAccuracy()
    acc.update_state(t(y[:6]), t(p[:6]))
    acc.update_state(t(y[6:]), t(p[6:]))
    assert float(acc.result()) == pytest.approx(np.mean(np_binary_accuracy(y, p)))
    assert acc.name == "binary_accuracy"
    top2 = metrics.SparseTopKCategoricalAccuracy(k=2)
    assert top2.name == "sparse_top_k_categorical_accuracy"
    assert float(top2(torch.tensor([2, 0]), torch.tensor([[0.1, 0.5, 0.4], [0.1, 0.5, 0.4]]))) == 0.5
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(torch.tensor([[0.0], [0.0]]), torch.tensor([[3.0], [4.0]]))
    assert float(rmse.result()) == pytest.approx(np.sqrt(12.5))
    assert metrics.CosineSimilarity().name == "cosine_similarity"
    assert metrics.Sum()(torch.tensor([1.0, 2.0])).item() == 3.0


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4)])
def test_argmax_metrics_read_the_same_class_from_logits_as_from_softmax_or_sigmoid_outputs(shape):
    # the loop gives these metrics a softmax model's logits (compile_utils.CompiledMetrics.argmax_only)
    assert metrics.ARGMAX_METRICS == {metrics.categorical_accuracy, metrics.sparse_categorical_accuracy}
    rng = np.random.default_rng(21)
    z = (rng.normal(size=shape) * 3).astype(np.float32)
    y = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], size=shape[:-1])]
    targets = {metrics.categorical_accuracy: torch.from_numpy(y),
               metrics.sparse_categorical_accuracy: torch.from_numpy(y.argmax(-1))}
    zt = torch.from_numpy(z)
    e = np.exp(z - z.max(-1, keepdims=True))
    for probabilities in (e / e.sum(-1, keepdims=True), 1 / (1 + np.exp(-z))):
        want = np_categorical_accuracy(y, probabilities)
        for fn in metrics.ARGMAX_METRICS:
            np.testing.assert_array_equal(fn(targets[fn], zt).numpy(), want)


# ---------------------------------------------------------------------------- accuracy in the training loop
@pytest.mark.parametrize("loss, labels", [
    ("sparse_categorical_crossentropy", np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 1])),
    ("sparse_categorical_crossentropy", np.array([0.0, 1.0, 1.0, 0.0, 2.0, 2.0, 0.0, 1.0, 2.0, 1.0])),  # floats
    ("categorical_crossentropy", np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1, 2, 1]]),
])
def test_the_loops_accuracy_is_the_mean_of_the_hits_over_every_batch(loss, labels):
    """The loop counts the hits of an unweighted accuracy (no per-sample floats); a weighted one and the model's
    output (probabilities from a softmax) give the same NumPy means."""
    from kerasish.layers import Dense
    from kerasish.models import Sequential
    x = np.random.RandomState(0).randn(10, 3).astype("float32")  # identity kernel: the class is argmax(x)
    weights = np.linspace(0.5, 2.0, 10).astype("float32")
    model = Sequential([Dense(3, input_shape=(3,), use_bias=False, activation="softmax")])
    model.compile("sgd", loss, metrics=["accuracy"], weighted_metrics=["accuracy"])
    model.set_weights([np.eye(3, dtype="float32")])
    true_class = labels.argmax(-1) if labels.ndim == 2 else labels
    hits = (np.argmax(x, -1) == true_class).astype(np.float64)
    _, accuracy, weighted = model.evaluate(x, labels, batch_size=4, verbose=0)
    assert accuracy == pytest.approx(hits.mean()) and weighted == pytest.approx(hits.mean())
    _, accuracy, weighted = model.evaluate(x, labels, sample_weight=weights, batch_size=4, verbose=0)
    assert accuracy == pytest.approx(hits.mean())
    assert weighted == pytest.approx(np.sum(hits * weights) / np.sum(weights))
