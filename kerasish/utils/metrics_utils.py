"""Confusion counts and the curves built on them: the pure tensor functions behind the threshold metrics
(Keras 2.3.1 ``keras/utils/metrics_utils.py``; ``MeanIoU``'s class matrix as tf.keras 2.0 ``metrics.MeanIoU``,
which Keras 2.3.1's ``MeanIoU`` is).

Tensors in, tensors out, no state and no host sync: the metric classes in ``kerasish.metrics`` hold the state.

Counting. Keras 2.3.1 (``update_confusion_matrix_variables``) compares every prediction with every threshold,
``prediction > threshold`` in float32, and sums the weights of the four (label, decision) combinations: a
``(thresholds, values)`` matrix per count. Here the thresholds are sorted once (by the metric), each prediction
is placed among them by one ``bucketize`` (the number of thresholds strictly below it, so it is predicted
positive exactly at the thresholds of lower index: Keras's strict ``>``), the weights are summed per
(label, bucket) with one scatter, and cumulative sums over the buckets give the four counts at every threshold:
``O(values * log thresholds)`` work, no ``(thresholds, values)`` matrix, the same decisions as Keras.
"""
from __future__ import annotations

from enum import Enum

import torch

# Keras 2.3.1: the value given to the predictions outside the top k, and the threshold that then separates them
NEG_INF = -1e10


# ---------------------------------------------------------------------------- thresholds
def to_list(x) -> list:
    """A list as is, a tuple as a list, anything else as a list of one (Keras 2.3.1 ``to_list``, which also
    takes the tuples its docstrings promise)."""
    if isinstance(x, list):
        return x
    if isinstance(x, tuple):
        return list(x)
    return [x]


def assert_thresholds_range(thresholds, caller: str = "") -> None:
    """Keras 2.3.1's check: every threshold a number in [0, 1]."""
    invalid = [t for t in to_list(thresholds) if t is None or not 0 <= t <= 1]
    if invalid:
        prefix = f"{caller}: " if caller else ""
        raise ValueError(f"{prefix}Threshold values must be in [0, 1]. Invalid values: {invalid}")


def parse_init_thresholds(thresholds, default_threshold: float = 0.5, caller: str = "") -> list[float]:
    """The thresholds a metric counts at: ``thresholds`` checked (a number or a list in [0, 1]), or the default."""
    if thresholds is not None:
        assert_thresholds_range(thresholds, caller)
    return to_list(default_threshold if thresholds is None else thresholds)


def evenly_spaced_thresholds(num_thresholds: int) -> list[float]:
    """The ``num_thresholds - 2`` thresholds strictly inside (0, 1) that AUC and the sensitivity/specificity
    metrics use, ``(i + 1) / (num_thresholds - 1)`` in double precision as Keras 2.3.1 computes them."""
    return [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]


class AUCCurve(Enum):
    """Which curve ``AUC`` integrates (Keras 2.3.1)."""
    ROC = "ROC"
    PR = "PR"

    @staticmethod
    def from_str(key):
        if key in ("pr", "PR"):
            return AUCCurve.PR
        if key in ("roc", "ROC"):
            return AUCCurve.ROC
        raise ValueError(f'Invalid AUC curve value "{key}". Expected \'ROC\' or \'PR\'.')


class AUCSummationMethod(Enum):
    """How ``AUC`` sums the areas between consecutive thresholds (Keras 2.3.1): the mean of the two heights
    (for PR: Davis & Goadrich's interpolation), the smaller one, or the larger one."""
    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key):
        if key in ("interpolation", "Interpolation"):
            return AUCSummationMethod.INTERPOLATION
        if key in ("majoring", "Majoring"):
            return AUCSummationMethod.MAJORING
        if key in ("minoring", "Minoring"):
            return AUCSummationMethod.MINORING
        raise ValueError(f'Invalid AUC summation method value "{key}". Expected \'interpolation\', '
                         "'minoring' or 'majoring'.")


# ---------------------------------------------------------------------------- inputs
def filter_top_k(x: torch.Tensor, k: int) -> torch.Tensor:
    """``x`` with every value outside the ``k`` largest of its last axis replaced by ``NEG_INF`` (Keras 2.3.1)."""
    top = x.topk(k, dim=-1, sorted=False).indices
    keep = torch.zeros_like(x, dtype=torch.bool).scatter_(-1, top, True)
    return x.masked_fill(~keep, NEG_INF)


def prediction_dtype(y_pred: torch.Tensor) -> torch.dtype:
    # Keras casts predictions to floatx: float32, or float64 for a float64 model (never half precision)
    return torch.float64 if y_pred.dtype == torch.float64 else torch.float32


def weights_like(sample_weight, values: torch.Tensor, caller: str) -> torch.Tensor:
    """``sample_weight`` broadcast to the shape of ``values`` (Keras 2.3.1 ``squeeze_or_expand_dimensions`` then
    ``broadcast_weights``): a scalar everywhere; one rank more with a last dimension of 1 squeezed, one rank less
    given a last dimension; then trailing dimensions of 1 added, so ``(N,)`` weights weigh every value of a
    sample and ``(N, T)`` masks every value of a time step."""
    weight = torch.as_tensor(sample_weight, device=values.device).to(values.dtype)
    if weight.dim() == values.dim() + 1 and weight.shape[-1] == 1:
        weight = weight.squeeze(-1)
    while 0 < weight.dim() < values.dim():
        weight = weight.unsqueeze(-1)
    try:
        return weight.expand(values.shape)
    except RuntimeError:
        raise ValueError(f"{caller}: sample_weight of shape {tuple(weight.shape)} cannot be broadcast to the "
                         f"predictions of shape {tuple(values.shape)}; pass one weight per sample (N,) or one per "
                         "prediction.") from None


def confusion_inputs(y_true, y_pred, sample_weight=None, top_k: int | None = None, class_id: int | None = None,
                     caller: str = "metric"):
    """Flat ``(labels, predictions, weights)`` as Keras 2.3.1's ``update_confusion_matrix_variables`` prepares
    them: a last dimension of 1 squeezed from the one of higher rank; weights broadcast to the predictions; only
    the top ``top_k`` predictions of the last axis kept; then only class ``class_id`` of the last axis; labels
    are true where ``y_true`` is not 0. ``weights`` is None without ``sample_weight``."""
    y_pred = torch.as_tensor(y_pred)
    y_pred = y_pred.to(prediction_dtype(y_pred))
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_pred.dim() == y_true.dim() + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred.squeeze(-1)
    elif y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    weights = None if sample_weight is None else weights_like(sample_weight, y_pred, caller)
    if top_k is not None or class_id is not None:
        classes = y_pred.shape[-1] if y_pred.dim() else 0
        if top_k is not None:
            if not 0 < top_k <= classes:
                raise ValueError(f"{caller}: top_k={top_k} needs predictions with at least {top_k} values on their "
                                 f"last axis; received predictions of shape {tuple(y_pred.shape)}.")
            y_pred = filter_top_k(y_pred, top_k)
        if class_id is not None:
            if not (0 <= class_id < classes and y_true.dim() and y_true.shape[-1] == classes):
                raise ValueError(f"{caller}: class_id={class_id} must index the last axis of both y_true and y_pred "
                                 f"(it must be in [0, num_classes)); received y_true of shape "
                                 f"{tuple(y_true.shape)} and y_pred of shape {tuple(y_pred.shape)}.")
            y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
            weights = None if weights is None else weights[..., class_id]
    if y_true.numel() != y_pred.numel():
        raise ValueError(f"{caller}: y_true of shape {tuple(y_true.shape)} and y_pred of shape "
                         f"{tuple(y_pred.shape)} must hold one label per prediction.")
    labels = (y_true != 0).reshape(-1)
    return labels, y_pred.reshape(-1).contiguous(), None if weights is None else weights.reshape(-1)


# ---------------------------------------------------------------------------- counting
def confusion_counts(labels: torch.Tensor, predictions: torch.Tensor, weights: torch.Tensor | None,
                     sorted_thresholds: torch.Tensor) -> torch.Tensor:
    """``(4, T)``: the weight sums of true positives, false positives, true negatives and false negatives at each
    of the T ``sorted_thresholds`` (ascending, the dtype of ``predictions``), a prediction being positive at t
    when ``prediction > t``. ``labels`` bool ``(M,)``, ``predictions`` ``(M,)``, ``weights`` ``(M,)`` or None."""
    # bucket b = the number of thresholds strictly below the prediction: positive at thresholds 0 .. b-1
    buckets = torch.bucketize(predictions, sorted_thresholds)
    rows = (~labels).long()  # 0: positive label, 1: negative label
    values = weights if weights is not None else torch.ones_like(predictions)
    histogram = predictions.new_zeros(2, len(sorted_thresholds) + 1)
    histogram.index_put_((rows, buckets), values, accumulate=True)
    at_or_below = histogram.cumsum(1)[:, :-1]  # [:, t]: buckets 0..t, predicted negative at threshold t
    above = histogram.flip(1).cumsum(1).flip(1)[:, 1:]  # [:, t]: buckets t+1..T, predicted positive
    return torch.stack([above[0], above[1], at_or_below[1], at_or_below[0]])


def divide_where_positive(numerator: torch.Tensor, denominator: torch.Tensor,
                          condition: torch.Tensor | None = None) -> torch.Tensor:
    """``numerator / denominator`` where ``condition`` (default ``denominator > 0``) holds, else 0: Keras's
    ``K.switch(K.greater(x, 0), a / b, K.zeros_like(a))``."""
    condition = denominator > 0 if condition is None else condition
    return torch.where(condition, numerator / denominator, torch.zeros_like(numerator))


def auc(counts: torch.Tensor, curve: AUCCurve, summation_method: AUCSummationMethod) -> torch.Tensor:
    """The Riemann sum of Keras 2.3.1 ``AUC.result`` over the ``(4, T)`` counts at ascending thresholds."""
    tp, fp, tn, fn = counts
    if curve == AUCCurve.PR and summation_method == AUCSummationMethod.INTERPOLATION:
        return interpolate_pr_auc(tp, fp, fn)
    # Keras tests tp > 0 (not tp + fn > 0) for recall, fp > 0 for the false positive rate
    recall = divide_where_positive(tp, tp + fn, tp > 0)
    if curve == AUCCurve.ROC:
        x, y = divide_where_positive(fp, fp + tn, fp > 0), recall
    else:
        x, y = recall, divide_where_positive(tp, tp + fp, tp > 0)
    if summation_method == AUCSummationMethod.INTERPOLATION:
        heights = (y[:-1] + y[1:]) / 2.0
    elif summation_method == AUCSummationMethod.MINORING:
        heights = torch.minimum(y[:-1], y[1:])
    else:
        heights = torch.maximum(y[:-1], y[1:])
    return ((x[:-1] - x[1:]) * heights).sum()


def interpolate_pr_auc(tp: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor) -> torch.Tensor:
    """Area under the precision-recall curve, Keras 2.3.1 ``AUC.interpolate_pr_auc`` (Davis & Goadrich 2006).

    Between consecutive thresholds A and B, TP and P = TP + FP vary linearly, so precision = TP / P follows
    ``(TP_A + slope * (P - P_A)) / P`` with ``slope = dTP / dP``; integrating over P gives
    ``slope * (dTP + intercept * log(P_A / P_B))`` with ``intercept = TP_B - slope * P_B``, divided by the
    positives (TP_B + FN_B) to integrate over recall. Where P_A or P_B is 0 the log term is 0.
    """
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = torch.clamp_min(p[:-1] - p[1:], 0)
    slope = divide_where_positive(dtp, dp)
    intercept = tp[1:] - slope * p[1:]
    both_positive = (p[:-1] > 0) & (p[1:] > 0)
    p_ratio = torch.where(both_positive, divide_where_positive(p[:-1], p[1:]), torch.ones_like(p[1:]))
    numerator = slope * (dtp + intercept * torch.log(p_ratio))
    denominator = torch.clamp_min(tp[1:] + fn[1:], 0)
    return divide_where_positive(numerator, denominator).sum()


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int,
                     weights: torch.Tensor | None) -> torch.Tensor:
    """``(C, C)`` weight sums, rows the true class and columns the predicted one (``tf.math.confusion_matrix``),
    from flat integer ``labels`` and ``predictions``. A pair with a class outside [0, C) adds nothing (TensorFlow
    raises; checking here would cost a host sync every step: ``MeanIoU.update_state`` checks, see there)."""
    valid = (labels >= 0) & (labels < num_classes) & (predictions >= 0) & (predictions < num_classes)
    index = torch.where(valid, labels * num_classes + predictions, torch.zeros_like(labels))
    values = valid.to(weights.dtype if weights is not None else torch.float32)
    if weights is not None:
        values = values * weights
    matrix = values.new_zeros(num_classes * num_classes)
    matrix.index_put_((index,), values, accumulate=True)
    return matrix.view(num_classes, num_classes)


def mean_iou(matrix: torch.Tensor) -> torch.Tensor:
    """tf.keras ``MeanIoU.result``: per class ``TP / (TP + FP + FN)``, averaged over the classes that occur in the
    labels or the predictions (0 when none does)."""
    true_positives = matrix.diagonal()
    denominator = matrix.sum(0) + matrix.sum(1) - true_positives
    iou = divide_where_positive(true_positives, denominator, denominator != 0)
    present = (denominator != 0).sum().to(matrix.dtype)
    return divide_where_positive(iou.sum(), present, present != 0)
