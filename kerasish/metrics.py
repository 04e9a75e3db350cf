"""Keras metric names -> torch functions returning per-sample values, ``compile``'s metric resolution and naming,
and the stateful metric classes (Keras 2.3.1 ``keras/metrics.py``, ``engine/training_utils.py``).

A metric function takes ``(y_true, y_pred)`` shaped ``(N, ..., C)`` and returns one value per sample (per
timestep for ``(N, T, C)`` outputs). Keras 2.3.1 wraps each in ``MeanMetricWrapper``, a running mean over the
epoch: ``sum(values * w) / sum(w)`` with weights only for ``weighted_metrics`` (otherwise ``/ count``).

Other metrics are not means of per-sample values: ``Precision``, ``Recall``, ``AUC``, the confusion counts,
``SensitivityAtSpecificity``, ``MeanIoU``, ``RootMeanSquaredError``. Each is a ``Metric`` whose state (counts per
threshold, a confusion matrix, totals) is a tensor of sums: ``batch_state`` gives one batch's addition,
``result_from`` the value of an accumulated state (see ``Metric``). Standalone they keep the state themselves;
in ``compile(metrics=...)`` the training loop keeps it on the device (``training/compile_utils.MetricsTracker``).
The counting kernels are in ``utils/metrics_utils.py``.
"""
from __future__ import annotations

from typing import Callable

import torch

from kerasish import backend, losses
from kerasish.utils import metrics_utils
from kerasish.utils.generic_utils import (deserialize_keras_object, get_custom_objects, serialize_keras_object,
                                         to_snake_case)
from kerasish.utils.validation import did_you_mean
from kerasish.losses import (_floating, _prepare, binary_crossentropy, categorical_crossentropy,
                             categorical_hinge, hinge, kullback_leibler_divergence, logcosh,
                             mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                             mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                             squared_hinge)

MetricFunction = Callable[..., torch.Tensor]


# ---------------------------------------------------------------------------- metric functions
def accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Exact equality (Keras 2.3.1 ``metrics.accuracy``, for class predictions), averaged over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    matches = (y_true == y_pred).to(y_pred.dtype)
    return matches.mean(-1) if matches.dim() > 1 else matches


def binary_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    # Keras 2.3.1: equal(y_true, round(y_pred)) for threshold 0.5 -- round half to even, so 0.5 -> 0 --
    # otherwise y_pred > threshold (strict). Both give 0 for a prediction of exactly 0.5.
    y_true, y_pred = _prepare(y_true, y_pred)
    if threshold != 0.5:
        y_pred = (y_pred > threshold).to(y_pred.dtype)
    return (y_true == torch.round(y_pred)).to(y_pred.dtype).mean(-1)


def categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return _categorical_hits(y_true, y_pred).to(_floating(y_pred).dtype)


def _categorical_hits(y_true, y_pred) -> torch.Tensor:
    """Per sample, whether the highest prediction is the true (one-hot) class: bools."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return y_true.argmax(-1) == y_pred.argmax(-1)


def sparse_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return _sparse_categorical_hits(y_true, y_pred).to(_floating(y_pred).dtype)


def _sparse_categorical_hits(y_true, y_pred) -> torch.Tensor:
    """Per sample, whether the highest prediction is the labelled class: bools."""
    y_pred = _floating(y_pred)
    labels = _sparse_targets(y_true, y_pred, "sparse_categorical_accuracy")
    predicted = y_pred.argmax(-1)
    # Keras compares the labels as floats with the argmax cast to float: 1.0 matches class 1, 1.5 matches none.
    if labels.is_floating_point():
        return labels == predicted.to(labels.dtype)
    return labels == predicted  # any integer labels: == promotes them to int64


def top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    return backend.in_top_k(y_pred, y_true.argmax(-1), k).to(y_pred.dtype)


def sparse_top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    y_pred = _floating(y_pred)
    labels = _sparse_targets(y_true, y_pred, "sparse_top_k_categorical_accuracy")
    return backend.in_top_k(y_pred, labels.long(), k).to(y_pred.dtype)  # Keras casts the labels to int32


def cosine_proximity(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    # The METRIC is the positive cosine similarity (Keras 2.3.1 metrics.cosine_proximity); the loss of the
    # same name is its negative.
    y_true, y_pred = _prepare(y_true, y_pred)
    return (backend.l2_normalize(y_true, axis) * backend.l2_normalize(y_pred, axis)).sum(axis)


def _sparse_targets(y_true, y_pred: torch.Tensor, caller: str) -> torch.Tensor:
    # a tensor already on the device as it is (as_tensor with a device dispatches a no-op copy every step)
    labels = y_true if isinstance(y_true, torch.Tensor) and y_true.device == y_pred.device \
        else torch.as_tensor(y_true, device=y_pred.device)
    if labels.dim() == y_pred.dim():  # (N, 1) -> (N,), as Keras squeezes
        labels = labels.squeeze(-1)
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"{caller}: expected class indices of shape {tuple(y_pred.shape[:-1])} or "
                         f"{tuple(y_pred.shape[:-1]) + (1,)} for predictions of shape {tuple(y_pred.shape)}; "
                         f"received targets of shape {tuple(torch.as_tensor(y_true).shape)}.")
    return labels


# Keras 2.3.1 metrics.py aliases; 'kld', 'KLD' and 'huber_loss' are losses only (not in metrics.py's namespace).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
cosine = cosine_similarity = cosine_proximity

# Every name Keras 2.3.1 ``metrics.get`` resolves to a metric function ('accuracy', 'acc', 'crossentropy'
# and 'ce' are resolved by ``resolve`` from the loss and output shape).
METRICS: dict[str, MetricFunction] = {
    "accuracy": accuracy,
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "cosine_proximity": cosine_proximity, "cosine": cosine, "cosine_similarity": cosine_similarity,
    "mean_squared_error": mean_squared_error, "mse": mse, "MSE": MSE,
    "mean_absolute_error": mean_absolute_error, "mae": mae, "MAE": MAE,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mape, "MAPE": MAPE,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": msle, "MSLE": MSLE,
    "hinge": hinge, "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge, "logcosh": logcosh,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "kullback_leibler_divergence": kullback_leibler_divergence, "poisson": poisson,
}

_LOSS_DEPENDENT = ("accuracy", "acc", "crossentropy", "ce")

# Metrics whose value depends on the output only through the index of its largest entry on the last axis. A final
# softmax or sigmoid keeps that index (both are increasing along the axis), so the loop gives these metrics the
# logits it already has rather than computing probabilities for them every step (see trainer._metric_input).
# The accuracies whose per-sample value is 1 for a hit of the argmax and 0 for a miss: the training loop counts
# their hits (a sum of bools, no cast to floats first) and gives them no softmax (the argmax is the logits').
ACCURACY_HITS = {categorical_accuracy: _categorical_hits, sparse_categorical_accuracy: _sparse_categorical_hits}
ARGMAX_METRICS = frozenset(ACCURACY_HITS)


# ---------------------------------------------------------------------------- stateful metrics
class Metric:
    """A metric with a state accumulated over batches (Keras 2.3.1 ``metrics.Metric``).

    Standalone, as in Keras: ``m.update_state(y_true, y_pred, sample_weight=None)`` for each batch, ``m.result()``
    (a tensor), ``m.reset_states()``; ``m(y_true, y_pred)`` updates and returns the result.

    A subclass says what its state is and how its value follows from it, and the rest comes from here:

    - ``state_shape``: the shape of its state, a tensor of sums (counts, totals) that starts at zero;
    - ``batch_state(y_true, y_pred, sample_weight=None)``: one batch's addition to that state, a tensor of that
      shape, on the batch's device, computed without reading anything back to the host;
    - ``result_from(state)``: the metric's value for an accumulated state.

    ``compile(metrics=[...])`` uses the same three: the training loop keeps one state per metric on the device,
    adds each batch's ``batch_state`` to it (summed over replicas under torchrun) and calls ``result_from`` when
    it reads the logs; the metric's own ``result()`` then shows the loop's state, as Keras's metric objects do.
    """

    state_shape: tuple = ()

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name if name else _default_name(type(self))
        self.dtype = backend.floatx() if dtype is None else \
            backend.standardize_dtype(dtype, f"{type(self).__name__}: dtype")
        self._state: torch.Tensor | None = None  # created on the first update's device

    # ---- what a subclass defines
    def batch_state(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__}.batch_state: subclasses of Metric must implement it.")

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__}.result_from: subclasses of Metric must implement it.")

    # ---- Keras's stateful API
    def update_state(self, *args, **kwargs) -> None:
        """Adds one batch to the state (Keras: ``update_state(y_true, y_pred, sample_weight=None)``)."""
        addition = self.batch_state(*args, **kwargs)
        if self._state is None:
            self._state = torch.zeros(self.state_shape, dtype=backend.torch_dtype(self.dtype), device=addition.device)
        self._state += addition.to(self._state.device, self._state.dtype)

    def result(self) -> torch.Tensor:
        return self.result_from(self._current_state())

    def _current_state(self) -> torch.Tensor:
        if self._state is not None:
            return self._state
        return torch.zeros(self.state_shape, dtype=backend.torch_dtype(self.dtype))  # before the first update

    def reset_states(self) -> None:
        if self._state is not None:
            self._state.zero_()

    def use_state(self, state: torch.Tensor) -> None:
        """Makes ``state`` (a tensor of ``state_shape``, e.g. a view of the training loop's accumulator) this
        metric's state, so that ``result()`` reads what the loop accumulates."""
        self._state = state

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        """Keras ``Metric.__call__``: accumulate, then return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _default_name(cls: type) -> str:
    """Keras 2.3.1 names an unnamed metric as a layer, ``<snake_case class name>_<n>`` with n counted from 1 per
    class (``precision_1``, ``precision_2``; ``backend.clear_session`` starts again), so ``metrics=[Precision()]``
    logs ``precision_1``. A class may count from 0 as tf.keras does (``MeanIoU``: ``mean_io_u``, ``mean_io_u_1``)."""
    prefix = to_snake_case(cls.__name__)
    uid = backend.get_uid(prefix)
    if getattr(cls, "_zero_based_name", False):
        return prefix if uid == 1 else f"{prefix}_{uid - 1}"
    return f"{prefix}_{uid}"


class Reduce(Metric):
    """Sum or (weighted) mean of values (Keras 2.3.1 ``metrics.Reduce``): ``update_state(values,
    sample_weight=None)``. State: ``[total, count]``."""

    state_shape = (2,)
    _REDUCTIONS = ("sum", "sum_over_batch_size", "weighted_mean")

    def __init__(self, reduction: str, name: str | None = None, dtype=None):
        if reduction not in self._REDUCTIONS:
            raise ValueError(f"Reduce: reduction must be one of {list(self._REDUCTIONS)}; received {reduction!r}.")
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction

    def batch_state(self, values, sample_weight=None) -> torch.Tensor:
        values = torch.as_tensor(values).to(backend.torch_dtype(self.dtype))
        count = torch.full((), float(values.numel()), dtype=values.dtype, device=values.device)
        if sample_weight is not None:
            weight = losses.broadcast_sample_weight(values, sample_weight)
            values = values * weight
            if self.reduction == "weighted_mean":  # divided by the sum of the weights, broadcast to the values
                count = weight.expand_as(values).sum()
        return torch.stack([values.sum(), count])

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        return state[0] if self.reduction == "sum" else state[0] / state[1]  # 0 / 0 = nan before any update

    # Keras's state variables
    @property
    def total(self) -> torch.Tensor:
        return self._current_state()[0]

    @property
    def count(self) -> torch.Tensor:
        return self._current_state()[1]


class Sum(Reduce):
    def __init__(self, name: str = "sum", dtype=None):
        super().__init__("sum", name=name, dtype=dtype)


class Mean(Reduce):
    def __init__(self, name: str = "mean", dtype=None):
        super().__init__("weighted_mean", name=name, dtype=dtype)


class MeanMetricWrapper(Mean):
    """The running (weighted) mean of a per-sample metric function (Keras 2.3.1 ``metrics.MeanMetricWrapper``)."""

    def __init__(self, fn: MetricFunction, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name if name is not None else fn.__name__, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def values(self, y_true, y_pred) -> torch.Tensor:
        """Per-sample values, without touching the state."""
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def batch_state(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        return super().batch_state(self.values(y_true, y_pred), sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.fn_kwargs}


def _wrapper(fn: MetricFunction, default_name: str):
    class Wrapped(MeanMetricWrapper):
        def __init__(self, name: str = default_name, dtype=None):
            super().__init__(fn, name=name, dtype=dtype)
    return Wrapped


class Accuracy(_wrapper(accuracy, "accuracy")):
    pass


class CategoricalAccuracy(_wrapper(categorical_accuracy, "categorical_accuracy")):
    pass


class SparseCategoricalAccuracy(_wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")):
    pass


class MeanSquaredError(_wrapper(mean_squared_error, "mean_squared_error")):
    pass


class MeanAbsoluteError(_wrapper(mean_absolute_error, "mean_absolute_error")):
    pass


class MeanAbsolutePercentageError(_wrapper(mean_absolute_percentage_error, "mean_absolute_percentage_error")):
    pass


class MeanSquaredLogarithmicError(_wrapper(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")):
    pass


class Hinge(_wrapper(hinge, "hinge")):
    pass


class SquaredHinge(_wrapper(squared_hinge, "squared_hinge")):
    pass


class CategoricalHinge(_wrapper(categorical_hinge, "categorical_hinge")):
    pass


class LogCoshError(_wrapper(logcosh, "logcosh")):
    pass


class Poisson(_wrapper(poisson, "poisson")):
    pass


class KLDivergence(_wrapper(kullback_leibler_divergence, "kullback_leibler_divergence")):
    pass


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name: str = "cosine_similarity", dtype=None, axis: int = -1):
        super().__init__(cosine_proximity, name=name, dtype=dtype, axis=axis)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_crossentropy", dtype=None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_crossentropy", dtype=None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype=None,
                 from_logits: bool = False, axis: int = -1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the running (weighted) mean squared error -- not a mean of per-sample values."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def batch_state(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        y_true, y_pred = _prepare(y_true, y_pred)
        return super().batch_state((y_pred - y_true).square(), sample_weight=sample_weight)

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(super().result_from(state))


# ---------------------------------------------------------------------------- threshold metrics
class _ConfusionMetric(Metric):
    """A metric of the confusion counts at some thresholds. State: ``(4, T)``, the weight sums of true positives,
    false positives, true negatives and false negatives at each threshold, in the order of ``self.thresholds``
    (Keras keeps one variable per count; counting all four costs the same here, see ``metrics_utils``)."""

    def __init__(self, thresholds: list, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.state_shape = (4, len(thresholds))
        order = sorted(range(len(thresholds)), key=thresholds.__getitem__)
        self._sorted_thresholds = [thresholds[i] for i in order]
        # the counts come out in ascending threshold order; this puts them back in the given order
        self._unsort = None if order == list(range(len(order))) else [order.index(i) for i in range(len(order))]
        self._constants: dict = {}  # (device, dtype) -> (sorted thresholds, unsort index): no copy per batch

    def batch_state(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        labels, predictions, weights = metrics_utils.confusion_inputs(y_true, y_pred, sample_weight, self.top_k,
                                                                      self.class_id, type(self).__name__)
        thresholds, unsort = self._device_constants(predictions.device, predictions.dtype)
        counts = metrics_utils.confusion_counts(labels, predictions, weights, thresholds)
        return counts if unsort is None else counts[:, unsort]

    def _device_constants(self, device: torch.device, dtype: torch.dtype):
        key = (device, dtype)
        if key not in self._constants:
            thresholds = torch.tensor(self._sorted_thresholds, dtype=dtype, device=device)
            unsort = None if self._unsort is None else torch.tensor(self._unsort, device=device)
            self._constants[key] = (thresholds, unsort)
        return self._constants[key]

    # Keras's state variables, read-only views of the counts
    @property
    def true_positives(self) -> torch.Tensor:
        return self._current_state()[0]

    @property
    def false_positives(self) -> torch.Tensor:
        return self._current_state()[1]

    @property
    def true_negatives(self) -> torch.Tensor:
        return self._current_state()[2]

    @property
    def false_negatives(self) -> torch.Tensor:
        return self._current_state()[3]

    def _per_threshold(self, values: torch.Tensor) -> torch.Tensor:
        # Keras 2.3.1: a scalar for one threshold, a vector for several
        return values[0] if len(self.thresholds) == 1 else values


class _ConfusionMatrixConditionCount(_ConfusionMetric):
    """One of the four counts at each threshold (Keras 2.3.1 ``_ConfusionMatrixConditionCount``): a scalar for
    one threshold, a vector for several."""

    _row = 0  # which count: 0 TP, 1 FP, 2 TN, 3 FN

    def __init__(self, thresholds=None, name: str | None = None, dtype=None):
        super().__init__(metrics_utils.parse_init_thresholds(thresholds, 0.5, type(self).__name__),
                         name=name, dtype=dtype)
        self.init_thresholds = thresholds

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        return self._per_threshold(state[self._row])

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives: ``y_true`` not 0 and ``y_pred > threshold``.

    ``thresholds``: a number or a list in [0, 1] (default 0.5); one value per threshold."""
    _row = 0


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives: ``y_true`` 0 and ``y_pred > threshold``."""
    _row = 1


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives: ``y_true`` 0 and ``y_pred <= threshold``."""
    _row = 2


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives: ``y_true`` not 0 and ``y_pred <= threshold``."""
    _row = 3


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype=None):
        caller = type(self).__name__
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"{caller}: top_k must be a positive integer or None; received {top_k!r}.")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int) or class_id < 0):
            raise ValueError(f"{caller}: class_id must be a class index >= 0 or None; received {class_id!r}.")
        # with top_k, a prediction counts as positive when it is among the k largest (NEG_INF threshold)
        default = 0.5 if top_k is None else metrics_utils.NEG_INF
        super().__init__(metrics_utils.parse_init_thresholds(thresholds, default, caller), top_k=top_k,
                         class_id=class_id, name=name, dtype=dtype)
        self.init_thresholds = thresholds

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``TP / (TP + FP)`` over everything seen, 0 before any positive prediction (Keras 2.3.1 ``Precision``).

    ``thresholds``: a number or a list in [0, 1] (default 0.5; a list gives one value per threshold);
    ``top_k``: count a prediction as positive when it is among the k largest of its last axis;
    ``class_id``: only this class of the last axis. Keras 2.3.1 has ``top_k`` with TensorFlow only; here always.
    """

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        tp, fp = state[0], state[1]
        return self._per_threshold(metrics_utils.divide_where_positive(tp, tp + fp))


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)`` over everything seen, 0 before any positive label (Keras 2.3.1 ``Recall``); the
    arguments as ``Precision``'s."""

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        tp, fn = state[0], state[3]
        return self._per_threshold(metrics_utils.divide_where_positive(tp, tp + fn))


class SensitivitySpecificityBase(_ConfusionMetric):
    """The counts at ``num_thresholds`` thresholds evenly spaced over [0, 1] (0 and 1 included; 0.5 alone for
    one), for the metrics that read one rate where another is closest to ``value`` (Keras 2.3.1)."""

    def __init__(self, value: float, num_thresholds: int = 200, name: str | None = None, dtype=None):
        if num_thresholds <= 0:
            raise ValueError(f"`num_thresholds` must be > 0. Received: num_thresholds={num_thresholds!r}.")
        thresholds = [0.5] if num_thresholds == 1 else \
            [0.0] + metrics_utils.evenly_spaced_thresholds(num_thresholds) + [1.0]
        super().__init__(thresholds, name=name, dtype=dtype)
        self.value = value

    @staticmethod
    def _rates(state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sensitivity ``TP / (TP + FN)`` and specificity ``TN / (TN + FP)`` at each threshold (0 where undefined)."""
        tp, fp, tn, fn = state
        return metrics_utils.divide_where_positive(tp, tp + fn), metrics_utils.divide_where_positive(tn, tn + fp)

    def _rate_at_closest(self, matched: torch.Tensor, read: torch.Tensor) -> torch.Tensor:
        """``read`` at the first threshold where ``matched`` is closest to ``value``."""
        return read[torch.argmin((matched - self.value).abs())]


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The sensitivity ``TP / (TP + FN)`` at the threshold whose specificity ``TN / (TN + FP)`` is closest to
    ``specificity`` (Keras 2.3.1)."""

    def __init__(self, specificity: float, num_thresholds: int = 200, name: str | None = None, dtype=None):
        if specificity < 0 or specificity > 1:
            raise ValueError(f"`specificity` must be in the range [0, 1]. Received: specificity={specificity!r}.")
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, name=name, dtype=dtype)

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        sensitivities, specificities = self._rates(state)
        return self._rate_at_closest(specificities, sensitivities)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The specificity ``TN / (TN + FP)`` at the threshold whose sensitivity ``TP / (TP + FN)`` is closest to
    ``sensitivity`` (Keras 2.3.1)."""

    def __init__(self, sensitivity: float, num_thresholds: int = 200, name: str | None = None, dtype=None):
        if sensitivity < 0 or sensitivity > 1:
            raise ValueError(f"`sensitivity` must be in the range [0, 1]. Received: sensitivity={sensitivity!r}.")
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, name=name, dtype=dtype)

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        sensitivities, specificities = self._rates(state)
        return self._rate_at_closest(sensitivities, specificities)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve, a Riemann sum over thresholds (Keras 2.3.1 ``AUC``).

    ``num_thresholds`` (> 1): evenly spaced thresholds, or ``thresholds``: your own list (then ``num_thresholds``
    is its length + 2); either way -epsilon and 1 + epsilon are added at the ends so that predictions of exactly
    0 and 1 fall inside. ``curve``: 'ROC' or 'PR'; ``summation_method``: 'interpolation' (the mean of the two
    heights; for PR, Davis & Goadrich's interpolation), 'minoring' (the lower) or 'majoring' (the higher).
    """

    def __init__(self, num_thresholds: int = 200, curve="ROC", summation_method="interpolation",
                 name: str | None = None, dtype=None, thresholds=None):
        if thresholds is not None:
            thresholds = sorted(metrics_utils.to_list(thresholds))
            count = len(thresholds) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(f"`num_thresholds` must be > 1. Received: num_thresholds={num_thresholds!r}.")
            thresholds = metrics_utils.evenly_spaced_thresholds(num_thresholds)
            count = num_thresholds
        curve = curve if isinstance(curve, metrics_utils.AUCCurve) else metrics_utils.AUCCurve.from_str(curve)
        summation_method = summation_method if isinstance(summation_method, metrics_utils.AUCSummationMethod) \
            else metrics_utils.AUCSummationMethod.from_str(summation_method)
        epsilon = backend.epsilon()
        super().__init__([0.0 - epsilon] + thresholds + [1.0 + epsilon], name=name, dtype=dtype)
        self.num_thresholds = count
        self.curve = curve
        self.summation_method = summation_method

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        return metrics_utils.auc(state, self.curve, self.summation_method)

    def get_config(self) -> dict:
        # the end thresholds left out, as Keras does, so that the config rebuilds the same thresholds
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve.value,
                "summation_method": self.summation_method.value, "thresholds": self.thresholds[1:-1]}


class BaseMeanIoU(Metric):
    """Mean intersection over union of class predictions (tf.keras 2.0 ``metrics.MeanIoU``, which Keras 2.3.1's
    ``BaseMeanIoU`` is). ``y_true`` and ``y_pred`` are class indices (take the argmax of probabilities first),
    flattened; per class ``TP / (TP + FP + FN)``, averaged over the classes that occur.
    State: the ``(num_classes, num_classes)`` confusion matrix (rows true, columns predicted)."""

    _zero_based_name = True  # a tf.keras class: mean_io_u, mean_io_u_1 ...

    def __init__(self, num_classes: int, name: str | None = None, dtype=None):
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive integer (the number of "
                             f"classes); received {num_classes!r}.")
        super().__init__(name=name, dtype=dtype)
        self.num_classes = num_classes
        self.state_shape = (num_classes, num_classes)

    def batch_state(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        labels, predictions, weights = self._class_ids(y_true, y_pred, sample_weight)
        return metrics_utils.confusion_matrix(labels, predictions, self.num_classes, weights)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """As TensorFlow, refuses class indices outside [0, num_classes) (the training loop, which must not wait
        for the device, leaves such pairs out instead)."""
        labels, predictions, _ = self._class_ids(y_true, y_pred, sample_weight)
        for arg_name, ids in (("y_true", labels), ("y_pred", predictions)):
            outside = ids[(ids < 0) | (ids >= self.num_classes)]
            if outside.numel():
                raise ValueError(f"{type(self).__name__}: {arg_name} holds class indices outside [0, "
                                 f"{self.num_classes}) (num_classes={self.num_classes}): "
                                 f"{sorted(set(outside.tolist()))[:10]}.")
        super().update_state(y_true, y_pred, sample_weight)

    def _class_ids(self, y_true, y_pred, sample_weight):
        y_pred = torch.as_tensor(y_pred)
        y_true = torch.as_tensor(y_true, device=y_pred.device)
        if y_true.numel() != y_pred.numel():
            raise ValueError(f"{type(self).__name__}: y_true of shape {tuple(y_true.shape)} and y_pred of shape "
                             f"{tuple(y_pred.shape)} must hold one class index each per value (take the argmax "
                             "of predicted probabilities first).")
        weights = None
        if sample_weight is not None:
            weights = metrics_utils.weights_like(sample_weight, y_true.to(torch.float32), type(self).__name__)
            weights = weights.reshape(-1)
        return _class_indices(y_true), _class_indices(y_pred), weights

    def result_from(self, state: torch.Tensor) -> torch.Tensor:
        return metrics_utils.mean_iou(state.to(backend.torch_dtype(self.dtype)))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}


def _class_indices(t: torch.Tensor) -> torch.Tensor:
    # TensorFlow casts to the metric's float dtype, then to int64 (truncating toward 0)
    return t.to(torch.float32).to(torch.int64).reshape(-1)


class MeanIoU(BaseMeanIoU):
    """Keras 2.3.1 ``MeanIoU(num_classes, name=None, dtype=None)``: ``BaseMeanIoU`` (Keras 2.3.1 needs
    TensorFlow 2 for it; here it always works)."""


# ---------------------------------------------------------------------------- compile-time resolution
def get(identifier):
    """Keras 2.3.1 ``metrics.get``: a metric name -> its function; a ``{'class_name', 'config'}`` dict -> that
    Metric; a callable or Metric instance as is."""
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        fn = METRICS.get(identifier)
        if fn is None:
            raise ValueError(_unknown_metric_message(identifier))
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"metrics: Could not interpret metric function identifier: {identifier!r}. Expected a "
                     "metric name such as 'accuracy', a function fn(y_true, y_pred) or a Metric instance.")


def serialize(metric):
    """Keras 2.3.1 ``metrics.serialize``: a Metric as ``{'class_name': ..., 'config': ...}``, a function by its
    name (a name as it is)."""
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """Keras 2.3.1 ``metrics.deserialize``: a metric name -> its function (``custom_objects`` and the registered
    custom objects first); a ``{'class_name': ..., 'config': ...}`` dict -> that Metric class built with the config."""
    if isinstance(config, str):
        custom = {**get_custom_objects(), **dict(custom_objects or {})}
        return custom[config] if config in custom else get(config)
    classes = {name: cls for name, cls in globals().items() if isinstance(cls, type) and issubclass(cls, Metric)}
    return deserialize_keras_object(config, classes, custom_objects, "metric function")


def clone_metric(metric):
    """Keras 2.3.1 ``clone_metric``: a new Metric of the same class and configuration, with no accumulated state;
    a metric function is returned as it is."""
    if not isinstance(metric, Metric):
        return metric
    if type(metric) is MeanMetricWrapper:  # its function is not part of its config
        return MeanMetricWrapper(metric.fn, **metric.get_config())
    return type(metric)(**metric.get_config())


def clone_metrics(metrics):
    """Keras 2.3.1 ``clone_metrics``: ``clone_metric`` over a list or the values of a dict (``None`` stays)."""
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {key: clone_metric(value) for key, value in metrics.items()}
    return [clone_metric(metric) for metric in metrics]


def resolve(metric, loss_fn, output_shape: tuple, weighted: bool = False) -> tuple[str, MetricFunction | Metric]:
    """The ``(name, fn)`` that ``compile(metrics=[metric])`` reports and computes (Keras 2.3.1
    ``training_utils.get_metric_name`` / ``get_metric_function``).

    - 'accuracy'/'acc': binary_accuracy if the output's last dimension is 1 or the loss is binary
      crossentropy, else sparse_categorical_accuracy if the loss is sparse categorical crossentropy, else
      categorical_accuracy; 'crossentropy'/'ce' likewise pick the matching crossentropy.
    - The name is the string exactly as written ('acc' stays 'acc'), a function's ``__name__``, a Metric's
      or Loss's ``.name``. ``weighted`` does not change it: Keras 2.3.1 adds no 'weighted_' prefix; a name
      already taken gets '_1', '_2'... from the model (see ``unique_name``).
    - ``fn`` returns per-sample values. A ``MeanMetricWrapper`` instance (``BinaryAccuracy()``...) gives its
      per-sample function, to be averaged like any other; other Metric instances (``Precision()``...) are
      returned as they are and accumulated through their state (``Metric.batch_state``/``result_from``); a
      Metric as a model file records it (a ``{'class_name', 'config'}`` dict) is built first.
    """
    del weighted  # Keras 2.3.1 get_metric_name takes `weighted` and ignores it
    if isinstance(metric, str):
        if metric in _LOSS_DEPENDENT:
            return metric, _loss_dependent_metric(metric, loss_fn, output_shape)
        return metric, get(metric)
    if isinstance(metric, dict):  # a Metric as a model file records it: {'class_name': 'Precision', 'config': ...}
        metric = deserialize(metric)
    if isinstance(metric, MeanMetricWrapper):
        return metric.name, metric.values
    if isinstance(metric, Metric):
        _check_accumulable(metric)
        return metric.name, metric
    if isinstance(metric, losses.Loss):
        return metric.name or type(metric).__name__, metric.call
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise ValueError(f"metrics: Could not interpret metric {metric!r}. Expected a metric name such as "
                     "'accuracy', a function fn(y_true, y_pred) or a Metric instance.")


def _check_accumulable(metric: Metric) -> None:
    cls = type(metric)
    if cls.batch_state is Metric.batch_state or cls.result_from is Metric.result_from:
        raise TypeError(f"compile: the metric {metric.name!r} ({cls.__name__}) does not define batch_state(y_true, "
                        "y_pred, sample_weight=None) and result_from(state), which fit and evaluate accumulate it "
                        "with (see kerasish.metrics.Metric); define them (with state_shape), or pass a function "
                        "fn(y_true, y_pred) returning per-sample values.")


def _loss_dependent_metric(metric: str, loss_fn, output_shape: tuple) -> MetricFunction:
    loss = losses.underlying_function(loss_fn) if loss_fn is not None else None
    output_shape = tuple(output_shape)
    is_binary = (output_shape[-1] if output_shape else 1) == 1 or loss is binary_crossentropy
    is_sparse = loss is sparse_categorical_crossentropy
    if metric in ("accuracy", "acc"):
        if is_binary:
            return binary_accuracy
        return sparse_categorical_accuracy if is_sparse else categorical_accuracy
    if is_binary:
        return binary_crossentropy
    return sparse_categorical_crossentropy if is_sparse else categorical_crossentropy


def unique_name(name: str, existing_names, output_name: str | None = None) -> str:
    """Keras 2.3.1 ``Model._add_unique_metric_name``: multi-output models prefix the output name
    (``dense_2_acc``); a name already in ``existing_names`` gets ``_1``, ``_2``... (so 'acc' in both
    ``metrics`` and ``weighted_metrics`` reports as 'acc' and 'acc_1')."""
    if output_name:
        name = f"{output_name}_{name}"
    base, j = name, 1
    while name in existing_names:
        name = f"{base}_{j}"
        j += 1
    return name


def _unknown_metric_message(identifier: str) -> str:
    known = sorted(set(METRICS) | set(_LOSS_DEPENDENT))
    return (f"metrics: Unknown metric function: {identifier!r}.{did_you_mean(identifier, known)} Expected one of "
            f"{known}, a function fn(y_true, y_pred) or a Metric instance.")
