"""What ``compile`` sets up for the loop: the loss, the metrics, and their on-device epoch accumulators.

Nothing here reads a value back to the host during a step. ``MetricsTracker.results()`` is the one place
that does (one sync for all values), called at progress-bar refreshes, epoch ends and when a callback asks.
"""
from __future__ import annotations

import numbers

import torch

from kerasish import losses as losses_module
from kerasish import metrics as metrics_module


class CompiledLoss:
    """The model's loss with Keras's reduction: per-sample values, times sample weights, summed and divided
    by the number of values (Keras 2.3.1 ``SUM_OVER_BATCH_SIZE``), times ``loss_weight``."""

    def __init__(self, loss, loss_weight: float = 1.0, sample_weight_mode: str | None = None):
        self.fn = losses_module.get(loss)
        self.name = losses_module.serialize(self.fn)
        self.loss_weight = float(loss_weight)
        self.sample_weight_mode = sample_weight_mode
        # A crossentropy can take the logits of a final softmax/sigmoid and compute the loss stably.
        self.absorbable_activation = losses_module.LOGIT_ACTIVATION.get(self.fn)
        self.is_sparse = losses_module.is_sparse(self.fn)

    def per_sample(self, y_true, y_pred, from_logits: bool = False):
        if from_logits:
            return self.fn(y_true, y_pred, from_logits=True)
        if isinstance(self.fn, losses_module.Loss):
            return self.fn.call(y_true, y_pred)
        return self.fn(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None, from_logits: bool = False) -> torch.Tensor:
        values = self.per_sample(y_true, y_pred, from_logits)
        if sample_weight is not None:
            # Temporal losses are (N, T); weights are (N,) or (N, T): average what the weights do not cover.
            while values.dim() > sample_weight.dim():
                values = values.mean(-1)
            values = values * sample_weight
        loss = values.mean()
        return loss * self.loss_weight if self.loss_weight != 1.0 else loss


class CompiledMetrics:
    """The metric functions from ``compile(metrics=..., weighted_metrics=...)`` with their Keras names."""

    def __init__(self, metrics, weighted_metrics, loss_fn, output_shape):
        self.output_shape = output_shape
        self.entries: list[tuple[str, object, bool]] = []
        for weighted, group, arg_name in ((False, metrics, "metrics"), (True, weighted_metrics, "weighted_metrics")):
            for metric in _as_list(group, arg_name):
                name, fn = metrics_module.resolve(metric, loss_fn, output_shape, weighted=weighted)
                # Keras 2.3.1 renames a repeated name to name_1, name_2 ... (Model._add_unique_metric_name)
                self.entries.append((metrics_module.unique_name(name, self.names), fn, weighted))

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.entries]

    @property
    def any_weighted(self) -> bool:
        return any(weighted for _, _, weighted in self.entries)

    def batch_values(self, y_true, y_pred, sample_weight):
        """Per metric: the sum of its per-sample values over the batch (weighted for weighted metrics), and
        the sum of the weights for weighted metrics. Tensors stay on the device."""
        sums, weight_sums = [], []
        for _name, fn, weighted in self.entries:
            values = fn(y_true, y_pred)
            if weighted and sample_weight is not None:
                # Keras: sum(v * w) / sum(w) over the weighted elements; (N, T) values with (N,) weights are
                # averaged over T first, (N, T) weights weight every element.
                values = _mean_to_rank(values, sample_weight.dim())
                sums.append((values * sample_weight).sum().to(torch.float32))
                weight_sums.append(sample_weight.sum().to(torch.float32))
                continue
            sums.append(_mean_to_rank(values, 1).sum().to(torch.float32))
            if weighted:  # no weights given: every sample counts once (a fill, not a host->device copy)
                weight_sums.append(torch.full((), float(len(values)), device=values.device))
        return sums, weight_sums


def _mean_to_rank(values: torch.Tensor, rank: int) -> torch.Tensor:
    while values.dim() > rank:
        values = values.mean(-1)
    return values


class MetricsTracker:
    """Running epoch totals of the loss (weighted by batch size, as Keras's BaseLogger averages it) and of
    each metric (total / count, as Keras's stateful metrics). All on the device, updated without syncs."""

    def __init__(self, compiled_metrics: CompiledMetrics | None, device: torch.device):
        self.compiled_metrics = compiled_metrics
        self.names = ["loss"] + (compiled_metrics.names if compiled_metrics else [])
        self.weighted = [False] + [w for _, _, w in (compiled_metrics.entries if compiled_metrics else [])]
        self.device = device
        self.reset()

    @property
    def has_metrics(self) -> bool:
        return len(self.names) > 1

    def reset(self) -> None:
        self.sums = torch.zeros(len(self.names), device=self.device, dtype=torch.float32)
        self.weight_sums = torch.zeros(len(self.names), device=self.device, dtype=torch.float32)
        self.samples_seen = 0
        self.last_loss: torch.Tensor | None = None

    @torch.no_grad()
    def update(self, loss: torch.Tensor, y_true, y_pred, sample_weight) -> None:
        batch_size = len(y_pred)
        loss = loss.detach().to(torch.float32)
        self.last_loss = loss
        self.samples_seen += batch_size
        if self.compiled_metrics is None or not self.compiled_metrics.entries:
            self.sums[0] += loss * batch_size
            return
        sums, weight_sums = self.compiled_metrics.batch_values(y_true, y_pred, sample_weight)
        self.sums += torch.stack([loss * batch_size] + [s.to(torch.float32) for s in sums])
        if weight_sums:
            # Weighted metrics come last (compile lists them after the plain ones): a slice, no index tensor.
            self.weight_sums[-len(weight_sums):] += torch.stack([w.to(torch.float32) for w in weight_sums])

    def results(self) -> dict[str, float]:
        """Epoch-so-far values, read from the device in one transfer (a host sync)."""
        if self.samples_seen == 0:
            return {}
        counts = torch.where(torch.tensor(self.weighted, device=self.device), self.weight_sums,
                             torch.full_like(self.sums, float(self.samples_seen)))
        values = (self.sums / counts.clamp_min(1e-12)).tolist()
        return dict(zip(self.names, values))

    def last_batch_loss(self) -> float:
        return float(self.last_loss) if self.last_loss is not None else float("nan")


def _as_list(value, arg_name: str) -> list:
    if value is None:
        return []
    if isinstance(value, dict):
        raise TypeError(f"compile: {arg_name} given as a dict is for multi-output models; a Sequential model "
                        f"has one output, so pass a list such as ['accuracy']. Received: {value!r}.")
    if isinstance(value, (str, numbers.Number)) or callable(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"compile: {arg_name} must be a list of metric names or functions; received {value!r}.")
