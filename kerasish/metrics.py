"""Keras metric names -> torch functions returning per-sample values, ``compile``'s metric resolution and naming,
and simple stateful metric classes (Keras 2.3.1 ``keras/metrics.py``, ``engine/training_utils.py``).

A metric function takes ``(y_true, y_pred)`` shaped ``(N, ..., C)`` and returns one value per sample (per
timestep for ``(N, T, C)`` outputs). Keras 2.3.1 wraps each in ``MeanMetricWrapper``, a running mean over the
epoch: ``sum(values * w) / sum(w)`` with weights only for ``weighted_metrics`` (otherwise ``/ count``).
"""
from __future__ import annotations

from typing import Callable

import torch

from kerasish import backend, losses
from kerasish.utils.generic_utils import deserialize_keras_object, get_custom_objects
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
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_true.argmax(-1) == y_pred.argmax(-1)).to(y_pred.dtype)


def sparse_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_pred = _floating(y_pred)
    labels = _sparse_targets(y_true, y_pred, "sparse_categorical_accuracy")
    predicted = y_pred.argmax(-1)
    # Keras compares the labels as floats with the argmax cast to float: 1.0 matches class 1, 1.5 matches none.
    if labels.is_floating_point():
        return (labels == predicted.to(labels.dtype)).to(y_pred.dtype)
    return (labels == predicted).to(y_pred.dtype)  # any integer labels: == promotes them to int64


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
    labels = torch.as_tensor(y_true, device=y_pred.device)
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
ARGMAX_METRICS = frozenset({categorical_accuracy, sparse_categorical_accuracy})


# ---------------------------------------------------------------------------- stateful metrics
class Metric:
    """A running metric with device-resident state: ``update_state`` never reads back to the host;
    ``result()`` returns a tensor."""

    def __init__(self, name: str | None = None, dtype: torch.dtype | None = None):
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self.dtype = dtype or torch.float32

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__}.update_state: subclasses of Metric must implement it.")

    def result(self) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__}.result: subclasses of Metric must implement it.")

    def reset_states(self) -> None:
        raise NotImplementedError(f"{type(self).__name__}.reset_states: subclasses of Metric must implement it.")

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        """Keras ``Metric.__call__``: accumulate, then return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Reduce(Metric):
    """Sum or (weighted) mean of values (Keras 2.3.1 ``metrics.Reduce``)."""

    def __init__(self, reduction: str, name: str | None = None, dtype: torch.dtype | None = None):
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction
        self.total: torch.Tensor | None = None  # created on the first update's device
        self.count: torch.Tensor | None = None

    def update_state(self, values, sample_weight=None) -> None:
        values = torch.as_tensor(values).to(self.dtype)
        if sample_weight is not None:
            weight = losses.broadcast_sample_weight(values, sample_weight)
            values = values * weight
            count = weight.expand_as(values).sum()  # WEIGHTED_MEAN divides by the sum of the weights
        else:
            count = values.numel()
        if self.total is None:
            self.total = torch.zeros((), dtype=self.dtype, device=values.device)
            self.count = torch.zeros((), dtype=self.dtype, device=values.device)
        self.total += values.sum()
        self.count += count

    def result(self) -> torch.Tensor:
        if self.total is None:
            return torch.tensor(0.0 if self.reduction == "sum" else float("nan"), dtype=self.dtype)
        return self.total if self.reduction == "sum" else self.total / self.count

    def reset_states(self) -> None:
        if self.total is not None:
            self.total.zero_()
            self.count.zero_()


class Sum(Reduce):
    def __init__(self, name: str = "sum", dtype: torch.dtype | None = None):
        super().__init__("sum", name=name, dtype=dtype)


class Mean(Reduce):
    def __init__(self, name: str = "mean", dtype: torch.dtype | None = None):
        super().__init__("weighted_mean", name=name, dtype=dtype)


class MeanMetricWrapper(Mean):
    """The running (weighted) mean of a per-sample metric function (Keras 2.3.1 ``metrics.MeanMetricWrapper``)."""

    def __init__(self, fn: MetricFunction, name: str | None = None, dtype: torch.dtype | None = None, **kwargs):
        super().__init__(name=name if name is not None else fn.__name__, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def values(self, y_true, y_pred) -> torch.Tensor:
        """Per-sample values, without touching the state."""
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self.values(y_true, y_pred), sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.fn_kwargs}


def _wrapper(fn: MetricFunction, default_name: str):
    class Wrapped(MeanMetricWrapper):
        def __init__(self, name: str = default_name, dtype: torch.dtype | None = None):
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
    def __init__(self, name: str = "binary_accuracy", dtype: torch.dtype | None = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: torch.dtype | None = None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: torch.dtype | None = None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name: str = "cosine_similarity", dtype: torch.dtype | None = None, axis: int = -1):
        super().__init__(cosine_proximity, name=name, dtype=dtype, axis=axis)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_crossentropy", dtype: torch.dtype | None = None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_crossentropy", dtype: torch.dtype | None = None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: torch.dtype | None = None,
                 from_logits: bool = False, axis: int = -1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the running (weighted) mean squared error -- not a mean of per-sample values."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: torch.dtype | None = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _prepare(y_true, y_pred)
        super().update_state((y_pred - y_true).square(), sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(super().result())


def _snake_case(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


# ---------------------------------------------------------------------------- compile-time resolution
def get(identifier):
    """Keras 2.3.1 ``metrics.get``: a metric name -> its function; a callable or Metric instance as is."""
    if isinstance(identifier, str):
        fn = METRICS.get(identifier)
        if fn is None:
            raise ValueError(_unknown_metric_message(identifier))
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"metrics: Could not interpret metric function identifier: {identifier!r}. Expected a "
                     "metric name such as 'accuracy', a function fn(y_true, y_pred) or a Metric instance.")


def serialize(metric) -> str:
    return getattr(metric, "name", None) or getattr(metric, "__name__", type(metric).__name__)


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
      per-sample function, to be averaged like any other; other Metric instances are returned as they are.
    """
    del weighted  # Keras 2.3.1 get_metric_name takes `weighted` and ignores it
    if isinstance(metric, str):
        if metric in _LOSS_DEPENDENT:
            return metric, _loss_dependent_metric(metric, loss_fn, output_shape)
        return metric, get(metric)
    if isinstance(metric, MeanMetricWrapper):
        return metric.name, metric.values
    if isinstance(metric, Metric):
        return metric.name, metric
    if isinstance(metric, losses.Loss):
        return metric.name or type(metric).__name__, metric.call
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise ValueError(f"metrics: Could not interpret metric {metric!r}. Expected a metric name such as "
                     "'accuracy', a function fn(y_true, y_pred) or a Metric instance.")


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
    return (f"metrics: Unknown metric function: {identifier!r}. Expected one of "
            f"{sorted(set(METRICS) | set(_LOSS_DEPENDENT))}, a function fn(y_true, y_pred) or a Metric instance.")
