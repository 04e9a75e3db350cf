"""The threshold and confusion-matrix metrics of Keras 2.3.1 keras/metrics.py (TruePositives ... FalseNegatives,
Precision, Recall, AUC, SensitivityAtSpecificity, SpecificityAtSensitivity, MeanIoU) standalone and compiled.

Expected values come from NumPy transcriptions of Keras 2.3.1's formulas (keras/utils/metrics_utils.py
``update_confusion_matrix_variables``: every prediction against every float32 threshold with ``>``; ``AUC.result``
and ``interpolate_pr_auc``; tf.keras 2.0 ``MeanIoU.result``) and from scikit-learn where it computes the same
quantity. In fit, SGD with lr=0 keeps the weights fixed, so the epoch values must equal the metric of
``model.predict`` on the same rows.
"""
import numpy as np
import pytest
import sklearn.metrics
import torch

from kerasish import backend, metrics, optimizers
from kerasish.layers import Dense, Input, Masking, TimeDistributed
from kerasish.models import Model, Sequential, load_model
from kerasish.training import compile_utils
from kerasish.utils import progbar


# ---------------------------------------------------------------------------- NumPy references
def np_counts(y_true, y_pred, thresholds, sample_weight=None):
    """(tp, fp, tn, fn) per threshold, as Keras 2.3.1 tiles predictions against float32 thresholds."""
    labels = (np.asarray(y_true, np.float32) != 0).reshape(1, -1)
    predictions = np.asarray(y_pred, np.float32).reshape(1, -1)
    above = predictions > np.asarray(thresholds, np.float32).reshape(-1, 1)
    w = np.ones(labels.shape, np.float64) if sample_weight is None else \
        np.broadcast_to(np.asarray(sample_weight, np.float64).reshape(len(y_pred), *([1] * (np.ndim(y_pred) - 1))),
                        np.shape(y_pred)).reshape(1, -1)
    return tuple(np.sum(w * (lab & dec), axis=1) for lab, dec in
                 ((labels, above), (~labels, above), (~labels, ~above), (labels, ~above)))


def np_div(a, b, condition=None):
    condition = b > 0 if condition is None else condition
    return np.where(condition, a / np.where(b == 0, 1, b), 0.0)


def np_auc(tp, fp, tn, fn, curve="ROC", summation_method="interpolation"):
    """Keras 2.3.1 AUC.result / interpolate_pr_auc, transcribed."""
    if curve == "PR" and summation_method == "interpolation":
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = np.maximum(p[:-1] - p[1:], 0)
        slope = np_div(dtp, dp)
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), np_div(p[:-1], p[1:]), 1.0)
        numerator = slope * (dtp + intercept * np.log(ratio))
        return float(np.sum(np_div(numerator, np.maximum(tp[1:] + fn[1:], 0))))
    recall = np_div(tp, tp + fn, tp > 0)
    if curve == "ROC":
        x, y = np_div(fp, fp + tn, fp > 0), recall
    else:
        x, y = recall, np_div(tp, tp + fp, tp > 0)
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[summation_method]
    return float(np.sum((x[:-1] - x[1:]) * heights))


def keras_auc_thresholds(num_thresholds=200, epsilon=1e-7):
    return [0.0 - epsilon] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0 + epsilon]


def binary_data(n=60, seed=0, columns=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=(n, columns)).astype(np.float32)
    p = np.clip(0.35 * y + rng.uniform(0, 0.7, size=(n, columns)), 0, 1).astype(np.float32)
    p[:3] = [[0.0], [1.0], [0.5]] if columns == 1 else p[:3]  # the edges: exactly 0, 1 and the threshold
    w = rng.uniform(0, 2, size=n).astype(np.float32)
    return y, p, w


def t(x):
    return torch.from_numpy(np.asarray(x))


# ---------------------------------------------------------------------------- counts, precision, recall
@pytest.mark.parametrize("weighted", [False, True])
def test_the_four_counts_equal_keras_tiled_comparison_at_unsorted_thresholds(weighted):
    y, p, w = binary_data()
    thresholds = [0.7, 0.0, 0.5, 0.3, 1.0, 0.5]
    kwargs = {"sample_weight": t(w)} if weighted else {}
    expected = np_counts(y, p, thresholds, w if weighted else None)
    for cls, want in zip([metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives,
                          metrics.FalseNegatives], expected):
        metric = cls(thresholds=thresholds)
        metric.update_state(t(y), t(p), **kwargs)
        np.testing.assert_allclose(metric.result().numpy(), want, rtol=1e-5)
    single = metrics.TruePositives()  # default threshold 0.5: a scalar, 0.5 itself is negative
    single.update_state(t(y), t(p))
    assert single.result().dim() == 0 and float(single.result()) == np_counts(y, p, [0.5])[0][0]


def test_precision_and_recall_equal_scikit_learn_with_sample_weights():
    y, p, w = binary_data(n=80, seed=1)
    decided = (p > 0.5).astype(int).ravel()
    precision, recall = metrics.Precision(), metrics.Recall()
    for metric in (precision, recall):
        metric.update_state(t(y), t(p), sample_weight=t(w))
    assert float(precision.result()) == pytest.approx(
        sklearn.metrics.precision_score(y.ravel(), decided, sample_weight=w), rel=1e-5)
    assert float(recall.result()) == pytest.approx(
        sklearn.metrics.recall_score(y.ravel(), decided, sample_weight=w), rel=1e-5)


def test_precision_and_recall_give_one_value_per_threshold_in_the_given_order():
    y, p, _ = binary_data(seed=2)
    thresholds = [0.8, 0.2, 0.5]
    tp, fp, _, fn = np_counts(y, p, thresholds)
    precision, recall = metrics.Precision(thresholds=thresholds), metrics.Recall(thresholds=thresholds)
    precision.update_state(t(y), t(p))
    recall.update_state(t(y), t(p))
    np.testing.assert_allclose(precision.result().numpy(), tp / (tp + fp), rtol=1e-6)
    np.testing.assert_allclose(recall.result().numpy(), tp / (tp + fn), rtol=1e-6)


def test_precision_and_recall_are_zero_before_any_positive():
    precision, recall = metrics.Precision(), metrics.Recall()
    assert float(precision.result()) == 0.0 and float(recall.result()) == 0.0
    precision.update_state(t([[0.0], [1.0]]), t([[0.1], [0.2]]))  # no positive prediction: 0 / 0 -> 0
    assert float(precision.result()) == 0.0


def np_top_k_filter(p, k):
    kept = np.full(p.shape, -1e10, np.float32)
    top = np.argsort(-p, axis=-1)[..., :k]
    np.put_along_axis(kept, top, np.take_along_axis(p, top, -1), -1)
    return kept


@pytest.mark.parametrize("top_k, class_id", [(2, None), (None, 1), (1, 2), (None, None)])
def test_top_k_and_class_id_follow_keras_filtering(top_k, class_id):
    rng = np.random.default_rng(3)
    y = (rng.uniform(size=(30, 4)) > 0.6).astype(np.float32)
    p = rng.permutation(np.linspace(0.01, 0.99, 120)).reshape(30, 4).astype(np.float32)  # no ties
    w = rng.uniform(0, 1, size=30).astype(np.float32)
    ref_p = np_top_k_filter(p, top_k) if top_k else p
    ref_y, ref_w = y, np.broadcast_to(w[:, None], p.shape)
    if class_id is not None:
        ref_y, ref_p, ref_w = ref_y[:, class_id], ref_p[:, class_id], ref_w[:, class_id]
    threshold = -1e10 if top_k else 0.5
    labels, above = ref_y.ravel() != 0, ref_p.ravel() > np.float32(threshold)
    tp = np.sum(ref_w.ravel() * (labels & above))
    fp = np.sum(ref_w.ravel() * (~labels & above))
    fn = np.sum(ref_w.ravel() * (labels & ~above))
    precision = metrics.Precision(top_k=top_k, class_id=class_id)
    recall = metrics.Recall(top_k=top_k, class_id=class_id)
    for metric in (precision, recall):
        metric.update_state(t(y), t(p), sample_weight=t(w))
    assert float(precision.result()) == pytest.approx(tp / (tp + fp), rel=1e-5)
    assert float(recall.result()) == pytest.approx(tp / (tp + fn), rel=1e-5)


# ---------------------------------------------------------------------------- AUC, sensitivity, specificity
@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation_method", ["interpolation", "minoring", "majoring"])
def test_auc_equals_keras_riemann_sum_over_its_thresholds(curve, summation_method):
    y, p, w = binary_data(n=90, seed=4)
    expected = np_auc(*np_counts(y, p, keras_auc_thresholds(), w), curve=curve, summation_method=summation_method)
    auc = metrics.AUC(curve=curve, summation_method=summation_method)
    auc.update_state(t(y), t(p), sample_weight=t(w))
    assert float(auc.result()) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_auc_approaches_scikit_learn_with_many_thresholds():
    y, p, _ = binary_data(n=200, seed=5)
    auc, pr = metrics.AUC(num_thresholds=5000), metrics.AUC(num_thresholds=5000, curve="PR")
    auc.update_state(t(y), t(p))
    pr.update_state(t(y), t(p))
    assert float(auc.result()) == pytest.approx(sklearn.metrics.roc_auc_score(y.ravel(), p.ravel()), abs=2e-3)
    assert float(pr.result()) == pytest.approx(sklearn.metrics.average_precision_score(y.ravel(), p.ravel()),
                                               abs=2e-2)


def test_auc_given_thresholds_sorts_them_and_adds_epsilon_ends():
    y, p, _ = binary_data(seed=6)
    auc = metrics.AUC(thresholds=[0.7, 0.2, 0.5])
    assert auc.num_thresholds == 5 and auc.thresholds == [-1e-7, 0.2, 0.5, 0.7, 1 + 1e-7]
    auc.update_state(t(y), t(p))
    # a prediction of exactly 1 is positive at every threshold but 1 + epsilon, one of 0 at -epsilon only
    assert float(auc.result()) == pytest.approx(np_auc(*np_counts(y, p, auc.thresholds)), rel=1e-6)
    assert metrics.AUC(curve="pr", summation_method="Majoring").get_config()["curve"] == "PR"


@pytest.mark.parametrize("num_thresholds", [1, 2, 50])
def test_sensitivity_at_specificity_and_specificity_at_sensitivity(num_thresholds):
    y, p, w = binary_data(n=120, seed=7)
    thresholds = [0.5] if num_thresholds == 1 else \
        [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
    tp, fp, tn, fn = np_counts(y, p, thresholds, w)
    specificity, sensitivity = np_div(tn, tn + fp), np_div(tp, tp + fn)
    at_spec = metrics.SensitivityAtSpecificity(0.8, num_thresholds=num_thresholds)
    at_sens = metrics.SpecificityAtSensitivity(0.6, num_thresholds=num_thresholds)
    for metric in (at_spec, at_sens):
        metric.update_state(t(y), t(p), sample_weight=t(w))
    assert float(at_spec.result()) == pytest.approx(sensitivity[np.argmin(np.abs(specificity - 0.8))], rel=1e-5)
    assert float(at_sens.result()) == pytest.approx(specificity[np.argmin(np.abs(sensitivity - 0.6))], rel=1e-5)


# ---------------------------------------------------------------------------- MeanIoU
def test_mean_iou_equals_scikit_learn_macro_jaccard_over_present_classes():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 4, size=(40, 3))
    p = np.where(rng.uniform(size=(40, 3)) < 0.6, y, rng.integers(0, 4, size=(40, 3)))
    y[y == 3] = 0  # class 3 only among the predictions; class 4 nowhere: left out of the mean
    miou = metrics.MeanIoU(num_classes=5)
    miou.update_state(t(y.astype(np.float32)), t(p.astype(np.float32) + 0.9))  # floats truncate to the class
    expected = sklearn.metrics.jaccard_score(y.ravel(), p.ravel(), average="macro")
    assert float(miou.result()) == pytest.approx(expected, rel=1e-6)
    weighted = metrics.MeanIoU(num_classes=5)
    w = rng.uniform(0, 1, size=40).astype(np.float32)
    weighted.update_state(t(y), t(p), sample_weight=t(w))
    expected = sklearn.metrics.jaccard_score(y.ravel(), p.ravel(), average="macro", sample_weight=np.repeat(w, 3))
    assert float(weighted.result()) == pytest.approx(expected, rel=1e-5)
    assert float(metrics.MeanIoU(2).result()) == 0.0


def test_mean_iou_refuses_class_indices_outside_the_range_before_counting():
    miou = metrics.MeanIoU(num_classes=2)
    with pytest.raises(ValueError, match=r"MeanIoU: y_pred holds class indices outside \[0, 2\).*\[2\]"):
        miou.update_state(t([0, 1]), t([1, 2]))
    assert float(miou.result()) == 0.0 and miou._state is None
    # the loop's batch_state leaves such pairs out rather than wait for the device to check
    assert metrics.MeanIoU(2).batch_state(t([0, 1]), t([1, 2])).tolist() == [[0.0, 1.0], [0.0, 0.0]]


# ---------------------------------------------------------------------------- the stateful API
ALL_METRICS = [
    lambda: metrics.TruePositives(thresholds=[0.3, 0.6]), lambda: metrics.FalsePositives(),
    lambda: metrics.TrueNegatives(thresholds=0.4), lambda: metrics.FalseNegatives(),
    lambda: metrics.Precision(thresholds=[0.5, 0.2]), lambda: metrics.Recall(class_id=0),
    lambda: metrics.AUC(num_thresholds=30, curve="PR"), lambda: metrics.AUC(thresholds=[0.25, 0.5]),
    lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=20),
    lambda: metrics.SpecificityAtSensitivity(0.5, num_thresholds=20), lambda: metrics.MeanIoU(2),
    lambda: metrics.RootMeanSquaredError(),
]


@pytest.mark.parametrize("make", ALL_METRICS)
def test_batches_accumulate_to_the_value_of_one_big_batch_and_reset_starts_again(make):
    y, p, w = binary_data(n=50, seed=9)
    if isinstance(make(), metrics.MeanIoU):
        p = np.round(p)
    whole, parts = make(), make()
    whole.update_state(t(y), t(p), sample_weight=t(w))
    for rows in (slice(0, 7), slice(7, 30), slice(30, 50)):
        parts.update_state(t(y[rows]), t(p[rows]), sample_weight=t(w[rows]))
    np.testing.assert_allclose(parts.result().numpy(), whole.result().numpy(), rtol=1e-5)
    parts.reset_states()
    np.testing.assert_allclose(parts.result().numpy(), make().result().numpy())
    value = parts(t(y[:5]), t(p[:5]))  # __call__: update, then the result
    fresh = make()
    fresh.update_state(t(y[:5]), t(p[:5]))
    np.testing.assert_allclose(value.numpy(), fresh.result().numpy())


@pytest.mark.parametrize("make", ALL_METRICS)
def test_config_round_trip_and_clone_give_the_same_metric(make):
    y, p, _ = binary_data(n=20, seed=10)
    original = make()
    config = original.get_config()
    rebuilt = type(original).from_config(config)
    clone = metrics.clone_metric(original)
    serialized = metrics.serialize(original)
    assert serialized == {"class_name": type(original).__name__, "config": config}
    deserialized = metrics.deserialize(serialized)
    assert type(metrics.get(serialized)) is type(original)
    for metric in (original, rebuilt, clone, deserialized):
        assert metric.get_config() == config and metric.name == original.name
        metric.update_state(t(y), t(np.round(p) if isinstance(metric, metrics.MeanIoU) else p))
    for metric in (rebuilt, clone, deserialized):
        np.testing.assert_allclose(metric.result().numpy(), original.result().numpy())
    assert config["dtype"] == "float32"


def test_default_names_count_from_one_per_class_as_keras_2_3_1():
    assert [metrics.Precision().name, metrics.Precision().name, metrics.AUC().name] == \
        ["precision_1", "precision_2", "auc_1"]
    assert metrics.SensitivityAtSpecificity(0.5).name == "sensitivity_at_specificity_1"
    assert metrics.TruePositives(name="tp").name == "tp"
    # MeanIoU is tf.keras's, which counts from 0
    assert [metrics.MeanIoU(2).name, metrics.MeanIoU(2).name] == ["mean_io_u", "mean_io_u_1"]
    backend.clear_session()
    assert metrics.Precision().name == "precision_1"


def test_counts_are_readable_as_keras_state_variables():
    precision = metrics.Precision(thresholds=[0.5, 0.9])
    precision.update_state(t([[1.0], [0.0], [1.0]]), t([[0.6], [0.7], [0.95]]))
    assert precision.true_positives.tolist() == [2.0, 1.0]
    assert precision.false_positives.tolist() == [1.0, 0.0]
    assert metrics.AUC().false_negatives.shape == (200,)


def test_predictions_and_labels_take_keras_shapes_and_weights():
    precision = metrics.Precision()
    # (N,) labels meet (N, 1) predictions; (N, 1) weights meet (N,) predictions; labels true where not 0
    precision.update_state(t([2.0, 0.0, 1.0]), t([[0.9], [0.8], [0.2]]), sample_weight=t([[1.0], [3.0], [1.0]]))
    assert float(precision.result()) == pytest.approx(1 / 4)
    recall = metrics.Recall()
    recall.update_state(np.ones((2, 3, 2)), np.full((2, 3, 2), 0.7), sample_weight=np.array([[1, 0, 0], [0, 0, 1]]))
    assert float(recall.result()) == 1.0 and float(recall.true_positives[0]) == 4.0  # (N, T) weights, C each


def test_errors_say_what_was_expected_in_keras_wording():
    with pytest.raises(ValueError, match=r"Precision: Threshold values must be in \[0, 1\]\. Invalid values: "
                                         r"\[1\.5, -0\.1\]"):
        metrics.Precision(thresholds=[0.5, 1.5, -0.1])
    with pytest.raises(ValueError, match=r"TruePositives: Threshold values must be in \[0, 1\]\. Invalid values: "
                                         r"\[None\]"):
        metrics.TruePositives(thresholds=[None])
    with pytest.raises(ValueError, match=r"`num_thresholds` must be > 1\. Received: num_thresholds=1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match='Invalid AUC curve value "XY"'):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match='Invalid AUC summation method value "mean"'):
        metrics.AUC(summation_method="mean")
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]"):
        metrics.SensitivityAtSpecificity(1.2)
    with pytest.raises(ValueError, match=r"`sensitivity` must be in the range \[0, 1\]"):
        metrics.SpecificityAtSensitivity(-0.2)
    with pytest.raises(ValueError, match=r"`num_thresholds` must be > 0"):
        metrics.SpecificityAtSensitivity(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match=r"MeanIoU: num_classes must be a positive integer"):
        metrics.MeanIoU(0)
    with pytest.raises(ValueError, match=r"Precision: top_k=5 needs predictions with at least 5 values"):
        metrics.Precision(top_k=5).update_state(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Recall: class_id=3 must index the last axis"):
        metrics.Recall(class_id=3).update_state(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"AUC: y_true of shape \(4,\) and y_pred of shape \(2, 3\) must hold one "
                                         "label per prediction"):
        metrics.AUC().update_state(np.ones(4), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"FalseNegatives: sample_weight of shape \(3, 1\) cannot be broadcast"):
        metrics.FalseNegatives().update_state(np.ones((2, 3)), np.ones((2, 3)), sample_weight=np.ones(3))


# ---------------------------------------------------------------------------- compiled: fit, evaluate, on_batch
def frozen_model(metric_list, weighted=None, units=1):
    """Sigmoid outputs and SGD with lr=0: the weights never change, so every epoch sees the same predictions."""
    model = Sequential([Dense(units, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizers.SGD(lr=0.0), "binary_crossentropy", metrics=metric_list, weighted_metrics=weighted)
    rng = np.random.default_rng(11)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def classification(n=48, seed=12, units=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (rng.uniform(size=(n, units)) < 0.5).astype(np.float32)
    return x, y


def test_fit_logs_epoch_values_of_the_whole_epoch_with_keras_names_and_val_prefix():
    x, y = classification()
    x_val, y_val = classification(n=20, seed=13)
    model = frozen_model([metrics.Precision(), metrics.Recall(name="recall"), metrics.AUC(),
                          metrics.TruePositives(thresholds=[0.3, 0.7]), metrics.RootMeanSquaredError()])
    history = model.fit(x, y, batch_size=7, epochs=2, verbose=0, validation_data=(x_val, y_val))
    assert model.metrics_names == ["loss", "precision_1", "recall", "auc_1", "true_positives_1",
                                   "root_mean_squared_error"]
    assert list(history.history) == ["val_" + n for n in model.metrics_names] + model.metrics_names
    for prefix, (xs, ys) in (("", (x, y)), ("val_", (x_val, y_val))):
        p = model.predict(xs)
        tp, fp, tn, fn = np_counts(ys, p, [0.5])
        tps = np_counts(ys, p, [0.3, 0.7])[0]
        for epoch in range(2):  # the same values in both epochs: the state starts again at each epoch
            assert history.history[prefix + "precision_1"][epoch] == pytest.approx(tp[0] / (tp[0] + fp[0]))
            assert history.history[prefix + "recall"][epoch] == pytest.approx(tp[0] / (tp[0] + fn[0]))
            assert history.history[prefix + "auc_1"][epoch] == pytest.approx(
                np_auc(*np_counts(ys, p, keras_auc_thresholds())), rel=1e-5)
            np.testing.assert_array_equal(history.history[prefix + "true_positives_1"][epoch], tps)
            assert history.history[prefix + "root_mean_squared_error"][epoch] == pytest.approx(
                np.sqrt(np.mean((p - ys) ** 2)), rel=1e-5)


def test_evaluate_accumulates_over_batches_and_weighted_metrics_take_sample_weights():
    x, y = classification(n=50, seed=14)
    w = np.random.default_rng(15).uniform(0, 2, size=50).astype(np.float32)
    model = frozen_model([metrics.Precision(name="p")], weighted=[metrics.Precision(name="p")])
    loss, plain, weighted = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    assert model.metrics_names == ["loss", "p", "p_1"]
    p = model.predict(x)
    decided = (p > 0.5).astype(int).ravel()
    assert plain == pytest.approx(sklearn.metrics.precision_score(y.ravel(), decided), rel=1e-6)
    assert weighted == pytest.approx(sklearn.metrics.precision_score(y.ravel(), decided, sample_weight=w), rel=1e-5)


def test_train_and_test_on_batch_reset_the_state_unless_asked_to_keep_it():
    x, y = classification(n=40, seed=16)
    model = frozen_model([metrics.FalsePositives(name="fp")])
    p = model.predict(x)
    fp = [np_counts(y[rows], p[rows], [0.5])[1][0] for rows in (slice(0, 20), slice(20, 40))]
    assert model.train_on_batch(x[:20], y[:20])[1] == fp[0]
    assert model.train_on_batch(x[20:], y[20:])[1] == fp[1]  # reset_metrics=True: this batch only
    assert model.test_on_batch(x[:20], y[:20], reset_metrics=False)[1] == fp[0]
    assert model.test_on_batch(x[20:], y[20:], reset_metrics=False)[1] == fp[0] + fp[1]


def test_the_compiled_metric_object_shows_the_loops_state_as_in_keras():
    x, y = classification(n=30, seed=17)
    precision = metrics.Precision()
    model = frozen_model([precision])
    value = model.evaluate(x, y, batch_size=4, verbose=0)[1]
    assert float(precision.result()) == pytest.approx(value)


def test_several_outputs_each_get_their_own_copy_of_a_metric_given_once():
    x, y = classification(n=36, seed=18, units=2)
    inputs = Input(shape=(4,))
    model = Model(inputs, [Dense(1, activation="sigmoid", name="a")(inputs),
                           Dense(1, activation="sigmoid", name="b")(inputs)])
    recall = metrics.Recall()
    model.compile(optimizers.SGD(lr=0.0), "binary_crossentropy", metrics=[recall, metrics.AUC(name="auc")])
    values = dict(zip(model.metrics_names, model.evaluate(x, [y[:, :1], y[:, 1:]], batch_size=5, verbose=0)))
    assert model.metrics_names == ["loss", "a_loss", "b_loss", "a_recall_1", "a_auc", "b_recall_1", "b_auc"]
    for name, p, target in zip("ab", model.predict(x), (y[:, :1], y[:, 1:])):
        tp, _, _, fn = np_counts(target, p, [0.5])
        assert values[f"{name}_recall_1"] == pytest.approx(tp[0] / (tp[0] + fn[0]))
        assert values[f"{name}_auc"] == pytest.approx(np_auc(*np_counts(target, p, keras_auc_thresholds())), rel=1e-5)
    assert recall._state is None  # Keras clones a metric given for every output


def test_masked_time_steps_count_for_nothing():
    rng = np.random.default_rng(19)
    x = rng.normal(size=(6, 5, 3)).astype(np.float32)
    x[:, 3:] = 0.0  # the last two steps masked
    y = (rng.uniform(size=(6, 5, 1)) < 0.5).astype(np.float32)
    model = Sequential([Masking(0.0, input_shape=(5, 3)), TimeDistributed(Dense(1, activation="sigmoid"))])
    model.compile("sgd", "binary_crossentropy", metrics=[metrics.TruePositives(thresholds=0.0, name="tp")])
    assert model.evaluate(x, y, verbose=0)[1] == np.sum(y[:, :3])  # threshold 0: every unmasked positive


def test_a_step_never_reads_the_device():
    x, y = classification(n=16, seed=20)
    model = frozen_model([metrics.Precision(), metrics.AUC(), metrics.MeanIoU(2), metrics.RootMeanSquaredError()])
    model.evaluate(x, y, verbose=0)  # builds the model
    tracker = compile_utils.MetricsTracker(model.compiled_metrics, model.device)
    output = torch.sigmoid(torch.from_numpy(x[:, :1]))
    reads = []
    with pytest.MonkeyPatch.context() as patch:
        for method in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__"):
            original = getattr(torch.Tensor, method)
            patch.setattr(torch.Tensor, method, lambda self, *a, _m=method, _o=original, **k: (reads.append(_m),
                                                                                              _o(self, *a, **k))[1])
        tracker.update(torch.tensor(0.5), t(y), output, t(np.ones(16, np.float32)))
    assert reads == []
    assert set(tracker.results()) == set(model.metrics_names)


def test_under_torchrun_the_states_are_summed_over_replicas(monkeypatch):
    x, y = classification(n=24, seed=21)
    model = frozen_model([metrics.Precision(name="p"), metrics.FalseNegatives(name="fn")])
    model.evaluate(x, y, verbose=0)
    tracker = compile_utils.MetricsTracker(model.compiled_metrics, model.device)
    p = torch.from_numpy(model.predict(x))
    tracker.update(torch.tensor(0.5), t(y), p, None)
    # two replicas that saw the same rows: every sum doubles, the ratios stay
    monkeypatch.setattr(compile_utils.distributed, "is_distributed", lambda: True)
    monkeypatch.setattr(compile_utils.distributed, "all_reduce_sum", lambda tensor: tensor * 2)
    tp, fp, _, fn = np_counts(y, p.numpy(), [0.5])
    assert tracker.results() == pytest.approx({"loss": 0.5, "p": tp[0] / (tp[0] + fp[0]), "fn": 2 * fn[0]})


def test_the_progress_bar_shows_the_mean_of_a_metric_of_several_thresholds():
    assert progbar.format_value(np.array([1.0, 3.0], np.float32)) == "2.0000"


# ---------------------------------------------------------------------------- saving
@pytest.mark.parametrize("filename", ["model.h5", "model.kerasish"])
def test_a_saved_model_compiles_again_with_the_same_metrics(tmp_path, filename):
    x, y = classification(n=30, seed=22)
    model = frozen_model([metrics.Precision(thresholds=[0.4, 0.6]), metrics.AUC(curve="PR", num_thresholds=50),
                          metrics.SpecificityAtSensitivity(0.5, num_thresholds=10), "acc"])
    before = model.evaluate(x, y, verbose=0)
    model.save(str(tmp_path / filename))
    again = load_model(str(tmp_path / filename))
    assert again.metrics_names == model.metrics_names == ["loss", "precision_1", "auc_1",
                                                          "specificity_at_sensitivity_1", "acc"]
    after = again.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(after[1], before[1], rtol=1e-6)
    np.testing.assert_allclose(after[2:], before[2:], rtol=1e-6)
    config = again.compiled_metrics.entries[1][1].get_config()
    assert config["curve"] == "PR" and config["num_thresholds"] == 50
