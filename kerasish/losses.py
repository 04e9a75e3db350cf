"""Keras loss names -> torch functions, the Keras 2.3.1 ``Loss`` classes, and target validation.

Every loss function takes ``(y_true, y_pred)`` shaped ``(N, ..., C)`` and returns per-sample values with the
last axis reduced, as Keras 2.3.1 ``keras/losses.py`` does: ``(N, C) -> (N,)``, ``(N, T, C) -> (N, T)``.
Formulas, clipping and epsilons follow Keras 2.3.1 ``keras/losses.py`` and the tf.keras backend functions
its TensorFlow backend delegates to (``keras/backend/tensorflow_backend.py`` -> ``tf.keras.backend``); as in
Keras, the crossentropies and ``l2_normalize`` are the backend's (``kerasish.backend``).

Reduction (Keras 2.3.1 ``keras/utils/losses_utils.py`` ``compute_weighted_loss``, used by ``compile`` for every
loss through ``training_utils.get_loss_function`` -> ``LossFunctionWrapper(SUM_OVER_BATCH_SIZE)``):
``sum(per_sample * sample_weight) / number_of_per_sample_values``. See ``compute_weighted_loss``.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from kerasish import backend
from kerasish.backend.nn import sparse_labels
from kerasish.utils.validation import did_you_mean

LossFunction = Callable[..., torch.Tensor]


# ---------------------------------------------------------------------------- helpers
def _floating(y_pred) -> torch.Tensor:
    if not isinstance(y_pred, torch.Tensor):  # (as_tensor of a tensor returns it, after a dispatch every step)
        y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point():
        return y_pred.to(backend.torch_floatx())
    # Half precision cannot hold 1 - 1e-7 (it rounds to 1): compute losses in float32, as Keras's floatx.
    if y_pred.dtype in (torch.float16, torch.bfloat16):
        return y_pred.float()
    return y_pred


def _prepare(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """Float tensors of matching rank. Keras 2.3.1 feeds every 1-D target as ``(N, 1)``
    (``training_utils.standardize_single_array``); a ``(N, T)`` target meets a ``(N, T, 1)`` output likewise."""
    y_pred = _floating(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    if y_true.dim() == y_pred.dim() - 1 and (y_true.dim() == 1 or y_pred.shape[-1] == 1):
        y_true = y_true.unsqueeze(-1)
    elif y_pred.dim() == y_true.dim() - 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true, y_pred


def _maybe_convert_labels(y_true: torch.Tensor) -> torch.Tensor:
    # Keras 2.3.1 losses._maybe_convert_labels: if every label of the batch is 0 or 1, map them to -1/1.
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


# ---------------------------------------------------------------------------- regression losses
def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_pred - y_true).square().mean(-1)


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_pred - y_true).abs().mean(-1)


def mean_absolute_percentage_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    diff = ((y_true - y_pred) / y_true.abs().clamp_min(backend.epsilon())).abs()
    return 100.0 * diff.mean(-1)


def mean_squared_logarithmic_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    eps = backend.epsilon()
    first_log = torch.log(y_pred.clamp_min(eps) + 1.0)
    second_log = torch.log(y_true.clamp_min(eps) + 1.0)
    return (first_log - second_log).square().mean(-1)


def squared_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _maybe_convert_labels(y_true)
    return (1.0 - y_true * y_pred).clamp_min(0.0).square().mean(-1)


def hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _maybe_convert_labels(y_true)
    return (1.0 - y_true * y_pred).clamp_min(0.0).mean(-1)


def categorical_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return (neg - pos + 1.0).clamp_min(0.0)


def logcosh(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    x = y_pred - y_true
    # log(cosh(x)) = x + softplus(-2x) - log(2), overflow-free (Keras 2.3.1 losses.logcosh)
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(-1)


def huber_loss(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    # Keras 2.3.1 returns huber_loss elementwise (no axis reduction); the mean over the last axis taken here
    # gives the same compiled loss and metric values, since both are means over all values.
    y_true, y_pred = _prepare(y_true, y_pred)
    abs_error = (y_pred - y_true).abs()
    quadratic = abs_error.clamp_max(delta)
    linear = abs_error - quadratic
    return (0.5 * quadratic.square() + delta * linear).mean(-1)


def kullback_leibler_divergence(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    eps = backend.epsilon()
    y_true = y_true.clamp(eps, 1.0)
    y_pred = y_pred.clamp(eps, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(-1)


def poisson(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + backend.epsilon())).mean(-1)


def cosine_proximity(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    # Keras 2.3.1 losses.cosine_proximity is the NEGATIVE cosine similarity (minimised at -1);
    # the metric of the same name (metrics.cosine_proximity) is the positive one.
    y_true, y_pred = _prepare(y_true, y_pred)
    return -(backend.l2_normalize(y_true, axis) * backend.l2_normalize(y_pred, axis)).sum(axis)


# ---------------------------------------------------------------------------- crossentropies
def categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                             label_smoothing: float = 0) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        # Keras 2.3.1 divides by K.shape(y_true)[1], the class count for 2-D targets; the last axis is the
        # class axis for any rank, so it is used here.
        num_classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return backend.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                                    axis: int = -1) -> torch.Tensor:
    return backend.sparse_categorical_crossentropy(y_true, _floating(y_pred), from_logits=from_logits, axis=axis)


def binary_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                        label_smoothing: float = 0) -> torch.Tensor:
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return backend.binary_crossentropy(y_true, y_pred, from_logits=from_logits).mean(-1)


# Keras 2.3.1 aliases (losses.py "# Aliases.")
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_similarity = cosine_proximity

# The final activation each crossentropy can absorb: with it, the model passes the pre-activation output
# and from_logits=True (log_softmax / BCE-with-logits), as tf.keras's backend does when it finds a
# Softmax/Sigmoid op under the output.
LOGIT_ACTIVATION: dict[LossFunction, str] = {
    categorical_crossentropy: "softmax",
    sparse_categorical_crossentropy: "softmax",
    binary_crossentropy: "sigmoid",
}


# ---------------------------------------------------------------------------- batch means from logits
# The unweighted batch mean of each crossentropy above with from_logits=True, in torch's own fused reduction
# (``reduction='mean'``) instead of per-sample values and then ``.mean()``: the same number up to float
# rounding, with one op and one autograd node fewer per training step (~20 us on a CPU), which is what a
# hand-written loop pays. compile's loss uses them when a batch has no sample weights.
def _class_rows(t: torch.Tensor) -> torch.Tensor:
    # (N, ..., C) -> (M, C), class axis last, as tf.keras flattens; (N, C) as it is (no view, no autograd node)
    return t if t.dim() == 2 else t.reshape(-1, t.shape[-1])


def _sparse_crossentropy_mean_from_logits(y_true, logits: torch.Tensor) -> torch.Tensor:
    logits = _floating(logits)
    labels = sparse_labels(y_true, logits.shape, logits.device)
    return F.cross_entropy(_class_rows(logits), labels if labels.dim() == 1 else labels.reshape(-1))


def _crossentropy_mean_from_logits(y_true, logits: torch.Tensor) -> torch.Tensor:
    y_true, logits = _prepare(y_true, logits)
    return F.cross_entropy(_class_rows(logits), _class_rows(y_true))  # class probabilities as targets


def _binary_crossentropy_mean_from_logits(y_true, logits: torch.Tensor) -> torch.Tensor:
    y_true, logits = _prepare(y_true, logits)
    return F.binary_cross_entropy_with_logits(logits, y_true)  # every sample has as many values: mean of means


MEAN_FROM_LOGITS: dict[LossFunction, LossFunction] = {
    categorical_crossentropy: _crossentropy_mean_from_logits,
    sparse_categorical_crossentropy: _sparse_crossentropy_mean_from_logits,
    binary_crossentropy: _binary_crossentropy_mean_from_logits,
}

# Every name Keras 2.3.1 ``losses.get`` resolves to a loss function.
LOSSES: dict[str, LossFunction] = {
    "mean_squared_error": mean_squared_error, "mse": mse, "MSE": MSE,
    "mean_absolute_error": mean_absolute_error, "mae": mae, "MAE": MAE,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mape, "MAPE": MAPE,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": msle, "MSLE": MSLE,
    "squared_hinge": squared_hinge, "hinge": hinge, "categorical_hinge": categorical_hinge,
    "logcosh": logcosh, "huber_loss": huber_loss,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "kullback_leibler_divergence": kullback_leibler_divergence, "kld": kld, "KLD": KLD,
    "poisson": poisson,
    "cosine_proximity": cosine_proximity, "cosine": cosine, "cosine_similarity": cosine_similarity,
}


# ---------------------------------------------------------------------------- reduction
class Reduction:
    """Keras 2.3.1 ``losses_utils.Reduction``."""
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple[str, str, str]:
        return (cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f"reduction: expected one of {list(cls.all())}; received {key!r}.")


def broadcast_sample_weight(values: torch.Tensor, sample_weight) -> torch.Tensor:
    """``sample_weight`` shaped to multiply ``values`` (Keras 2.3.1 ``losses_utils.squeeze_or_expand_dimensions``
    then ``broadcast_weights``): a scalar stays a scalar; ``(N, 1)`` weights meet ``(N,)`` values; ``(N,)``
    weights meet ``(N, T)`` values by repeating along T."""
    weight = torch.as_tensor(sample_weight, device=values.device, dtype=values.dtype)
    if weight.dim() == 0:
        return weight
    if weight.dim() - values.dim() == 1 and weight.shape[-1] == 1:
        weight = weight.squeeze(-1)
    if weight.dim() > values.dim():
        raise ValueError(f"sample_weight: shape {tuple(weight.shape)} has more dimensions than the loss values "
                         f"{tuple(values.shape)}; pass one weight per sample (N,) or per timestep (N, T).")
    weight = weight.reshape(weight.shape + (1,) * (values.dim() - weight.dim()))
    try:
        return weight.expand_as(values)
    except RuntimeError:
        raise ValueError(f"sample_weight: shape {tuple(weight.shape)} cannot be broadcast to the loss values "
                         f"{tuple(values.shape)}; pass one weight per sample (N,) or per timestep (N, T).") from None


def compute_weighted_loss(losses: torch.Tensor, sample_weight=None,
                          reduction: str = Reduction.SUM_OVER_BATCH_SIZE) -> torch.Tensor:
    """Keras 2.3.1 ``losses_utils.compute_weighted_loss``: weights broadcast to the per-sample values, then
    SUM_OVER_BATCH_SIZE = ``sum(values * weights) / values.numel()`` -- divided by the number of values, not
    by the sum (or the non-zero count) of the weights."""
    Reduction.validate(reduction)
    if sample_weight is not None:
        losses = losses * broadcast_sample_weight(losses, sample_weight)
    if reduction == Reduction.NONE:
        return losses
    total = losses.sum()
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return total / max(losses.numel(), 1)
    return total


# ---------------------------------------------------------------------------- Loss classes
class Loss:
    """Keras 2.3.1 ``keras.losses.Loss``: ``loss(y_true, y_pred, sample_weight=None)`` returns the reduced
    value; ``call(y_true, y_pred)`` the per-sample values."""

    def __init__(self, reduction: str = Reduction.SUM_OVER_BATCH_SIZE, name: str | None = None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        return compute_weighted_loss(self.call(y_true, y_pred), sample_weight, reduction=self.reduction)

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__}.call: subclasses of Loss must implement call().")

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class LossFunctionWrapper(Loss):
    """A loss function with fixed keyword arguments, as a ``Loss`` (Keras 2.3.1)."""

    def __init__(self, fn: LossFunction, reduction: str = Reduction.SUM_OVER_BATCH_SIZE,
                 name: str | None = None, **kwargs):
        super().__init__(reduction=reduction, name=name if name is not None else getattr(fn, "__name__", None))
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.fn_kwargs}


def _plain_loss_class(fn: LossFunction, default_name: str) -> type[LossFunctionWrapper]:
    """Base for the Keras 2.3.1 Loss classes without options: ``Cls(reduction=..., name=...)``."""

    class PlainLoss(LossFunctionWrapper):
        def __init__(self, reduction: str = Reduction.SUM_OVER_BATCH_SIZE, name: str = default_name):
            super().__init__(fn, reduction=reduction, name=name)

    return PlainLoss


class MeanSquaredError(_plain_loss_class(mean_squared_error, "mean_squared_error")):
    pass


class MeanAbsoluteError(_plain_loss_class(mean_absolute_error, "mean_absolute_error")):
    pass


class MeanAbsolutePercentageError(_plain_loss_class(mean_absolute_percentage_error,
                                                    "mean_absolute_percentage_error")):
    pass


class MeanSquaredLogarithmicError(_plain_loss_class(mean_squared_logarithmic_error,
                                                    "mean_squared_logarithmic_error")):
    pass


class Hinge(_plain_loss_class(hinge, "hinge")):
    pass


class SquaredHinge(_plain_loss_class(squared_hinge, "squared_hinge")):
    pass


class CategoricalHinge(_plain_loss_class(categorical_hinge, "categorical_hinge")):
    pass


class Poisson(_plain_loss_class(poisson, "poisson")):
    pass


class LogCosh(_plain_loss_class(logcosh, "logcosh")):
    pass


class KLDivergence(_plain_loss_class(kullback_leibler_divergence, "kullback_leibler_divergence")):
    pass


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0,
                 reduction: str = Reduction.SUM_OVER_BATCH_SIZE, name: str = "binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0,
                 reduction: str = Reduction.SUM_OVER_BATCH_SIZE, name: str = "categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits: bool = False, reduction: str = Reduction.SUM_OVER_BATCH_SIZE,
                 name: str = "sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, from_logits=from_logits)
        self.from_logits = from_logits


class Huber(LossFunctionWrapper):
    def __init__(self, delta: float = 1.0, reduction: str = Reduction.SUM_OVER_BATCH_SIZE,
                 name: str = "huber_loss"):
        super().__init__(huber_loss, reduction=reduction, name=name, delta=delta)
        self.delta = delta


LOSS_CLASSES: dict[str, type[Loss]] = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, SquaredHinge,
    CategoricalHinge, Poisson, LogCosh, KLDivergence, Huber)}


# ---------------------------------------------------------------------------- lookup
def get(identifier):
    """Keras 2.3.1 ``losses.get``: ``None`` -> ``None`` (a model whose loss comes only from ``add_loss``);
    a Keras name -> its function; a ``{'class_name', 'config'}`` dict -> a Loss instance; a callable or
    Loss instance as is."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        fn = LOSSES.get(identifier)
        if fn is None:
            raise ValueError(f"loss: Unknown loss function: {identifier!r}.{did_you_mean(identifier, LOSSES)} "
                             f"Expected one of the Keras loss names {sorted(LOSSES)}, a function fn(y_true, y_pred) "
                             "or a Loss instance.")
        return fn
    if isinstance(identifier, dict):
        cls = LOSS_CLASSES.get(identifier.get("class_name"))
        if cls is None:
            name = identifier.get("class_name")
            raise ValueError(f"loss: Unknown loss class {name!r} in {identifier!r}."
                             f"{did_you_mean(name, LOSS_CLASSES)} Expected one of {sorted(LOSS_CLASSES)}.")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"loss: Could not interpret loss function identifier: {identifier!r}. Expected a Keras "
                     f"loss name such as 'mse', a function fn(y_true, y_pred) or a Loss instance.")


def serialize(loss) -> str:
    """The loss's name: a function's ``__name__`` (``mse`` serialises as ``mean_squared_error``), a Loss
    instance's ``.name``. (Keras 2.3.1 serialises a Loss instance as ``{'class_name', 'config'}``; build that
    from ``get_config()`` where the options must survive -- ``get`` accepts it.)"""
    if isinstance(loss, Loss):
        return loss.name or type(loss).__name__
    return getattr(loss, "__name__", type(loss).__name__)


def deserialize(name, custom_objects: dict | None = None):
    if custom_objects and isinstance(name, str) and name in custom_objects:
        return custom_objects[name]
    return get(name)


def is_categorical_crossentropy(loss) -> bool:
    """Keras 2.3.1 ``losses.is_categorical_crossentropy``: whether ``loss`` is categorical crossentropy, by
    name, function or Loss instance."""
    if isinstance(loss, str):
        return loss == "categorical_crossentropy"
    return (underlying_function(loss) is categorical_crossentropy
            or getattr(loss, "__name__", None) == "categorical_crossentropy")


def underlying_function(loss):
    """The plain loss function behind a name, function, or ``LossFunctionWrapper``/Loss class instance."""
    if isinstance(loss, str):
        loss = get(loss)
    return loss.fn if isinstance(loss, LossFunctionWrapper) else loss


def is_sparse(loss) -> bool:
    """Whether ``loss`` takes integer class indices (sparse categorical crossentropy, by name, function or class)."""
    return underlying_function(loss) is sparse_categorical_crossentropy


def logit_activation(loss) -> str | None:
    """``LOGIT_ACTIVATION`` for any form of loss: the final activation it can absorb, or ``None``
    (also ``None`` for an instance already built with ``from_logits=True``)."""
    if isinstance(loss, LossFunctionWrapper) and loss.fn_kwargs.get("from_logits"):
        return None
    return LOGIT_ACTIVATION.get(underlying_function(loss))


# ---------------------------------------------------------------------------- target validation
def validate_targets(loss_fn, y_true, output_shape: tuple, check_values: bool = True) -> None:
    """Raise ``ValueError`` before training when ``y_true`` (the whole target set, NumPy array or tensor) cannot
    work with ``loss_fn`` for an output of shape ``output_shape`` (without the batch axis).

    Keras 2.3.1 ``training_utils.check_loss_and_target_compatibility`` checks categorical crossentropy targets
    of last dimension 1 and shape mismatches for mse / binary / categorical crossentropy; the sparse checks
    (one-hot targets, non-integer labels, labels outside ``[0, C)``) are additions: Keras only fails later,
    inside the loss op (or silently, with NaN, on a GPU). ``check_values=False``: shapes only (no values read,
    so no device sync: a stream's later batches)."""
    fn = underlying_function(loss_fn)
    if fn is None or y_true is None:
        return
    output_shape = tuple(output_shape)
    if not isinstance(y_true, torch.Tensor):
        y_true = np.asarray(y_true)
    y_shape = tuple(y_true.shape)
    if fn is sparse_categorical_crossentropy:
        _validate_sparse_targets(y_true, y_shape, output_shape, check_values)
        return
    # Keras feeds 1-D targets as (N, 1); a (N, ..., T) target meets a (..., T, 1) output the same way.
    target_dims = y_shape[1:]
    if len(target_dims) == len(output_shape) - 1 and output_shape and output_shape[-1] == 1:
        target_dims = target_dims + (1,)
    if fn is categorical_crossentropy and (not target_dims or target_dims[-1] == 1
                                           or _shapes_match(target_dims, output_shape[:-1])):
        raise ValueError(
            f"You are passing a target array of shape {y_shape} while using as loss `categorical_crossentropy`. "
            "`categorical_crossentropy` expects targets to be binary matrices (1s and 0s) of shape "
            "(samples, classes). If your targets are integer classes, you can convert them to the expected "
            "format via:\n```\nfrom keras.utils import to_categorical\ny_binary = to_categorical(y_int)\n```\n\n"
            "Alternatively, you can use the loss function `sparse_categorical_crossentropy` instead, "
            "which does expect integer targets.")
    if fn in (mean_squared_error, binary_crossentropy, categorical_crossentropy) and not _shapes_match(
            target_dims, output_shape):
        loss_name = getattr(loss_fn, "name", None) or fn.__name__
        raise ValueError(
            f"A target array with shape {y_shape} was passed for an output of shape {(None,) + output_shape} "
            f"while using as loss `{loss_name}`. This loss expects targets to have the same shape as the "
            f"output. Reshape the targets to (samples,) + {output_shape}, or give the last layer "
            f"{target_dims[-1] if target_dims else 1} unit(s) to match the targets.")


def _shapes_match(target_dims: tuple, output_shape: tuple) -> bool:
    return len(target_dims) == len(output_shape) and all(
        o is None or t == o for t, o in zip(target_dims, output_shape))


def _validate_sparse_targets(y_true, y_shape: tuple, output_shape: tuple, check_values: bool = True) -> None:
    name = "sparse_categorical_crossentropy"
    num_classes = output_shape[-1] if output_shape else None
    label_dims = y_shape[1:]
    if label_dims[-1:] == (1,) and len(label_dims) == len(output_shape):
        label_dims = label_dims[:-1]
    if not _shapes_match(label_dims, output_shape[:-1]):
        if _shapes_match(y_shape[1:], output_shape) and (num_classes or 0) > 1:
            raise ValueError(
                f"A target array with shape {y_shape} was passed for an output of shape {(None,) + output_shape} "
                f"while using as loss `{name}`. This loss expects integer class indices of shape "
                f"(samples,) + {output_shape[:-1]} or (samples,) + {output_shape[:-1] + (1,)}, not one-hot "
                "vectors. Either convert the targets with `y.argmax(axis=-1)` or use the loss "
                "`categorical_crossentropy`.")
        raise ValueError(
            f"A target array with shape {y_shape} was passed for an output of shape {(None,) + output_shape} "
            f"while using as loss `{name}`. This loss expects integer class indices of shape "
            f"(samples,) + {output_shape[:-1]} or (samples,) + {output_shape[:-1] + (1,)}; reshape the targets "
            "or check the model's output shape.")
    if math.prod(y_shape) == 0 or not check_values:
        return
    if isinstance(y_true, torch.Tensor) and y_true.dtype == torch.bool:
        y_true = y_true.to(torch.uint8)
    elif isinstance(y_true, np.ndarray) and y_true.dtype == np.bool_:
        y_true = y_true.astype(np.uint8)
    if _is_floating(y_true):
        bad = _count_non_integer(y_true)
        if bad:
            example = _first_non_integer(y_true)
            raise ValueError(
                f"`{name}` expects integer class indices, but {bad} target value(s) are not whole numbers "
                f"(for example {example!r}). Pass integer labels (e.g. `y.astype('int64')` after checking "
                "them), or use `categorical_crossentropy` for one-hot/soft targets.")
    low, high = _min_max(y_true)
    if num_classes is not None and (low < 0 or high >= num_classes):
        raise ValueError(
            f"`{name}`: target class indices must lie in [0, {num_classes}) for an output with {num_classes} "
            f"units; received labels from {low} to {high}. Give the last layer one unit per class "
            f"(here at least {high + 1} if labels start at 0) or re-map the labels to 0..{num_classes - 1}.")


def _is_floating(y) -> bool:
    return y.is_floating_point() if isinstance(y, torch.Tensor) else np.issubdtype(y.dtype, np.floating)


def _non_integer_mask(y):
    # NaN and +-inf are not class indices either.
    if isinstance(y, torch.Tensor):
        return (y != torch.floor(y)) | ~torch.isfinite(y)
    return (y != np.floor(y)) | ~np.isfinite(y)


def _count_non_integer(y) -> int:
    return int(_non_integer_mask(y).sum())


def _first_non_integer(y) -> float:
    flat = y.reshape(-1)
    if isinstance(y, torch.Tensor):
        return float(flat[_non_integer_mask(flat).nonzero()[0, 0]])
    return float(flat[np.flatnonzero(_non_integer_mask(flat))[0]])


def _min_max(y) -> tuple[int, int]:
    if isinstance(y, torch.Tensor):
        bounds = torch.stack([y.min(), y.max()]).tolist()  # one transfer for both
        return int(bounds[0]), int(bounds[1])
    return int(y.min()), int(y.max())
