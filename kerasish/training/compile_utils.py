"""What ``compile`` sets up for the loop: the loss, the metrics, and their on-device epoch accumulators.

Two kinds of metrics, one way of accumulating: every metric's epoch value follows from sums kept on the device.
- Mean metrics (the loss, metric functions, ``MeanMetricWrapper`` instances such as ``BinaryAccuracy()``):
  per batch, the sum of the per-sample values and of the weights; the value is their ratio.
- Stateful metrics (``Metric`` instances such as ``Precision()``, ``AUC()``, ``RootMeanSquaredError()``): per
  batch, the metric's ``batch_state`` (counts per threshold, a confusion matrix ...) is added to its slot in one
  flat state vector; the value is the metric's ``result_from`` of its slot.

Nothing here reads a value back to the host during a step. ``MetricsTracker.results()`` is the one place
that does (one sync for all values), called at progress-bar refreshes, epoch ends and when a callback asks.
Under torchrun it first sums the totals and states over all replicas (one all-reduce), so every rank gets the
values of the whole data; ``results(local=True)`` (the progress bar's intermediate values) skips that.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from kerasish import distributed
from kerasish import losses as losses_module
from kerasish import metrics as metrics_module
from kerasish.utils.nest import batch_rows, first_leaf


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
        self._mean_from_logits = losses_module.MEAN_FROM_LOGITS.get(self.fn)
        self.is_sparse = losses_module.is_sparse(self.fn)

    def per_sample(self, y_true, y_pred, from_logits: bool = False):
        if from_logits:
            return self.fn(y_true, y_pred, from_logits=True)
        if isinstance(self.fn, losses_module.Loss):
            return self.fn.call(y_true, y_pred)
        return self.fn(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None, from_logits: bool = False) -> torch.Tensor:
        if from_logits and sample_weight is None and self._mean_from_logits is not None:
            loss = self._mean_from_logits(y_true, y_pred)  # torch's fused mean: one op fewer a step
        else:
            loss = self._weighted_values(y_true, y_pred, sample_weight, from_logits).mean()
        return loss * self.loss_weight if self.loss_weight != 1.0 else loss

    def sum_and_count(self, y_true, y_pred, sample_weight=None, from_logits: bool = False):
        """The numerator and denominator of ``__call__``'s mean, apart (``loss_weight`` in the sum): a replica
        of a data-parallel job divides its sum by the count of the whole global batch. The count is a device
        tensor (a fill, no host->device copy); an empty batch gives a zero sum still connected to ``y_pred``."""
        values = self._weighted_values(y_true, y_pred, sample_weight, from_logits)
        total = values.sum() * self.loss_weight if self.loss_weight != 1.0 else values.sum()
        return total, torch.full((), float(values.numel()), device=values.device)

    def _weighted_values(self, y_true, y_pred, sample_weight, from_logits: bool) -> torch.Tensor:
        values = self.per_sample(y_true, y_pred, from_logits)
        if sample_weight is not None:
            # Temporal losses are (N, T); weights are (N,) or (N, T): average what the weights do not cover.
            while values.dim() > sample_weight.dim():
                values = values.mean(-1)
            values = values * sample_weight
        return values


class MetricEntries:
    """What the tracker reads of compiled metrics: ``entries``, one ``(name, fn, weighted)`` per logged metric."""

    entries: list

    def weighted_flags(self, masked_model: bool) -> list[bool]:
        """Per entry, whether its epoch value is total / sum of weights (else total / samples seen). A model
        with output masks weighs every metric by the mask (the per-output losses of several outputs stay
        per-sample means, as Keras logs them)."""
        return [weighted or masked_model for _, _, weighted in self.entries]

    def stateful_flags(self) -> list[bool]:
        """Per entry, whether it is a stateful metric (see the module docstring)."""
        return [is_stateful(fn) for _, fn, _ in self.entries]

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.entries]

    @property
    def any_weighted(self) -> bool:
        return any(weighted for _, _, weighted in self.entries)


class CompiledMetrics(MetricEntries):
    """The metric functions from ``compile(metrics=..., weighted_metrics=...)`` with their Keras names."""

    def __init__(self, metrics, weighted_metrics, loss_fn, output_shape):
        self.output_shape = output_shape
        self.entries: list[tuple[str, object, bool]] = []
        for weighted, group, arg_name in ((False, metrics, "metrics"), (True, weighted_metrics, "weighted_metrics")):
            for metric in _as_list(group, arg_name):
                name, fn = metrics_module.resolve(metric, loss_fn, output_shape, weighted=weighted)
                # Keras 2.3.1 renames a repeated name to name_1, name_2 ... (Model._add_unique_metric_name)
                self.entries.append((metrics_module.unique_name(name, self.names), fn, weighted))
        self.argmax_only = all(fn in metrics_module.ARGMAX_METRICS for _, fn, _ in self.entries)

    def batch_values(self, y_true, y_pred, sample_weight, mask=None, masked_model: bool = False):
        """Per mean metric: the sum of its per-sample values over the batch (weighted for weighted metrics), and
        the sum of the weights for weighted metrics; per stateful metric: its ``batch_state``. Tensors stay on
        the device. Returns ``(sums, weight_sums, states)``.

        ``mask``: this output's mask; it weighs every metric, weighted or not (Keras 2.3.1
        ``call_metric_function``). In a model whose outputs carry masks (``masked_model``) every mean metric is
        averaged by its weights (see ``MetricEntries.weighted_flags``)."""
        sums, weight_sums, states = [], [], []
        for _name, fn, weighted in self.entries:
            if is_stateful(fn):  # Keras passes the sample weights to weighted metrics only; the mask to all
                states.append(fn.batch_state(y_true, y_pred, with_mask(sample_weight if weighted else None, mask,
                                                                       y_pred)))
                continue
            hits = metrics_module.ACCURACY_HITS.get(fn)
            if hits is not None and mask is None and not (weighted and sample_weight is not None) \
                    and y_pred.dim() == 2:
                # an accuracy of one prediction per sample, every sample counting once: its sum is the number of
                # hits, summed as bools (no cast to per-sample floats)
                values = hits(y_true, y_pred)
            else:
                values = fn(y_true, y_pred)
                weights = with_mask(sample_weight, mask, values) if weighted else with_mask(None, mask, values)
                if weights is not None:
                    # Keras: sum(v * w) / sum(w) over the weighted elements; (N, T) values with (N,) weights are
                    # averaged over T first, (N, T) weights weight every element.
                    values = _mean_to_rank(values, weights.dim())
                    sums.append((values * weights).sum())
                    weight_sums.append(weights.sum())
                    continue
            sums.append(_mean_to_rank(values, 1).sum())
            if weighted or masked_model:  # no weights: every sample counts once (a fill, not a host->device copy)
                weight_sums.append(torch.full((), float(len(values)), device=values.device))
        return sums, weight_sums, states


def is_stateful(fn) -> bool:
    """A ``Metric`` instance is accumulated through its state; ``resolve`` has turned the mean metrics into
    per-sample functions."""
    return isinstance(fn, metrics_module.Metric)


def with_mask(sample_weight, mask, like: torch.Tensor):
    """The weights of an output whose mask is ``mask`` (Keras 2.3.1 ``_prepare_total_loss``): the mask itself,
    or the sample weights times the mask, one dimension added or squeezed to match it
    (``squeeze_or_expand_dimensions``). Masked time steps then count for nothing in the loss and metrics."""
    if mask is None:
        return sample_weight
    mask = mask.to(like.dtype if like.is_floating_point() else torch.float32)
    if sample_weight is None:
        return mask
    if sample_weight.dim() == mask.dim() - 1:
        sample_weight = sample_weight.unsqueeze(-1)
    elif sample_weight.dim() == mask.dim() + 1:
        sample_weight = sample_weight.squeeze(-1)
    return sample_weight * mask


def _in_dtype(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    # .to() of a tensor already in dtype returns it, but still costs a dispatch (~1 us) every step
    return t if t.dtype == dtype else t.to(dtype)


def _detached(values: list) -> list:
    # values computed in the model's graph (add_metric tensors) carry autograd history: not into the totals
    return [v.detach() if v.requires_grad else v for v in values]


def _mean_to_rank(values: torch.Tensor, rank: int) -> torch.Tensor:
    while values.dim() > rank:
        values = values.mean(-1)
    return values


class MetricsTracker:
    """Running epoch totals of the loss (weighted by batch size, as Keras's BaseLogger averages it), of each
    mean metric (total / count, as Keras's stateful metrics) and the state of each stateful metric. All on the
    device, updated without syncs.

    ``dtype``: the totals' type: float64 for a float64 model (Keras 2.3.1's BaseLogger sums the float64 values of
    such a model), else float32 (also for half precision models, whose sums would round away in float16)."""

    def __init__(self, compiled_metrics: CompiledMetrics | None, device: torch.device,
                 dtype: torch.dtype = torch.float32, masked_model: bool = False):
        self.compiled_metrics = compiled_metrics
        self.masked_model = masked_model
        entries = compiled_metrics.entries if compiled_metrics else []
        stateful = compiled_metrics.stateful_flags() if compiled_metrics else []
        weighted = compiled_metrics.weighted_flags(masked_model) if compiled_metrics else []
        self.names = ["loss"] + [name for name, _, _ in entries]
        # the mean metrics' totals: one slot each in `sums`/`weight_sums`, in log order
        self._mean_names = ["loss"] + [name for (name, _, _), s in zip(entries, stateful) if not s]
        self.weighted = [False] + [w for w, s in zip(weighted, stateful) if not s]
        # the stateful metrics' states: (name, metric, slice of the flat `state` vector)
        self._stateful, offset = [], 0
        for (name, metric, _), s in zip(entries, stateful):
            if s:
                size = int(np.prod(metric.state_shape))
                self._stateful.append((name, metric, slice(offset, offset + size)))
                offset += size
        self._state_size = offset
        # Weighted metrics come last for one output (a slice, no index tensor); several outputs interleave them
        # (Keras 2.3.1: each output's metrics, then its weighted metrics), added by position.
        positions = [i for i, weighted in enumerate(self.weighted) if weighted]
        n = len(self._mean_names)
        self._weighted_positions = None if positions == list(range(n - len(positions), n)) \
            else torch.tensor(positions, dtype=torch.int64, device=device)
        self.device = device
        self.dtype = dtype
        self.reset()

    @property
    def has_metrics(self) -> bool:
        return len(self.names) > 1

    def reset(self) -> None:
        self.sums = torch.zeros(len(self._mean_names), device=self.device, dtype=self.dtype)
        # one 0-dim view per total: each step adds into them in place (no stacking of the batch's values)
        self._loss_total, *self._metric_totals = self.sums.unbind(0)
        self.weight_sums = torch.zeros(len(self._mean_names), device=self.device, dtype=self.dtype)
        self.state = torch.zeros(self._state_size, device=self.device, dtype=self.dtype)
        for _, metric, where in self._stateful:
            # the metric object shows what this loop accumulates (Keras: the compiled metric is the accumulator)
            metric.use_state(self.state[where].view(metric.state_shape))
        self.samples_seen = 0
        self.last_loss: torch.Tensor | None = None
        self.last_size = 0

    def update(self, loss: torch.Tensor, y_true, y_pred, sample_weight, masks=None) -> None:
        """``masks``: the output masks of this batch (one per output), or None. Runs with autograd on: the
        predictions are detached here, so no metric op is recorded (cheaper than entering ``no_grad``)."""
        batch_size = batch_rows(y_pred)
        self.last_size = batch_size
        if batch_size == 0:  # a replica's empty batch (torchrun): nothing to count, and its mean loss is 0/0
            self.last_loss = None
            return
        loss = _in_dtype(loss.detach(), self.dtype)
        self.last_loss = loss
        self.samples_seen += batch_size
        self._loss_total.add_(loss, alpha=batch_size)
        if self.compiled_metrics is None or not self.compiled_metrics.entries:
            return
        y_pred = [t.detach() for t in y_pred] if isinstance(y_pred, list) else y_pred.detach()
        sums, weight_sums, states = (_detached(values) for values in self.compiled_metrics.batch_values(
            y_true, y_pred, sample_weight, masks, self.masked_model))
        if len(sums) == 1:
            self._metric_totals[0].add_(sums[0])  # a 0-dim sum: cast to the total's dtype
        elif sums:
            torch._foreach_add_(self._metric_totals, [_in_dtype(s, self.dtype) for s in sums])
        if weight_sums:
            # Weighted metrics come last (compile lists them after the plain ones): a slice, no index tensor.
            stacked = torch.stack([_in_dtype(w, self.dtype) for w in weight_sums])
            if self._weighted_positions is None:
                self.weight_sums[-len(weight_sums):] += stacked
            else:
                self.weight_sums.index_add_(0, self._weighted_positions, stacked)
        if states:
            self.state += torch.cat([_in_dtype(s, self.dtype).reshape(-1) for s in states])

    def results(self, local: bool = False) -> dict:
        """Epoch-so-far values, read from the device in one transfer (a host sync): floats, and for a stateful
        metric of several thresholds a float32 NumPy array (as Keras 2.3.1 logs it).

        Under torchrun the totals are first summed over all replicas (one all-reduce: every rank must call
        this at the same point), unless ``local``: then they are this replica's own, with no communication.
        """
        if local or not distributed.is_distributed():
            return self._values(self.sums, self.weight_sums, self.samples_seen, self.state)
        n = len(self._mean_names)
        seen = torch.full((1,), float(self.samples_seen), device=self.device, dtype=self.dtype)
        totals = distributed.all_reduce_sum(torch.cat([self.sums, self.weight_sums, seen, self.state]))
        return self._values(totals[:n], totals[n:2 * n], int(totals[2 * n].item()), totals[2 * n + 1:])

    def _values(self, sums, weight_sums, samples_seen: int, state) -> dict:
        if samples_seen == 0:
            return {}
        counts = torch.where(torch.tensor(self.weighted, device=self.device), weight_sums,
                             torch.full_like(sums, float(samples_seen)))
        means = sums / counts.clamp_min(1e-12)
        stateful = [metric.result_from(state[where].view(metric.state_shape)) for _, metric, where in self._stateful]
        flat = torch.cat([means] + [_in_dtype(r, means.dtype).reshape(-1) for r in stateful]).tolist()
        values = dict(zip(self._mean_names, flat))
        position = len(self._mean_names)
        for (name, _, _), result in zip(self._stateful, stateful):
            part = flat[position:position + result.numel()]
            position += result.numel()
            values[name] = part[0] if result.dim() == 0 else np.asarray(part, dtype=np.float32)
        return {name: values[name] for name in self.names}

    def last_batch_loss(self, local: bool = False) -> float:
        """The last batch's loss. Under torchrun: of the whole global batch, the mean of the replicas' losses
        weighted by their rows (one small all-reduce, on every rank alike), unless ``local``."""
        if local or not distributed.is_distributed():
            return float(self.last_loss) if self.last_loss is not None else float("nan")
        if self.last_loss is None:  # this replica's part was empty
            pair = torch.zeros(2, device=self.device, dtype=self.dtype)
        else:
            pair = torch.stack([self.last_loss * self.last_size,
                                torch.full((), float(self.last_size), device=self.device, dtype=self.dtype)])
        total, rows = distributed.all_reduce_sum(pair).tolist()
        return total / rows if rows else float("nan")


def output_copies(metrics):
    """Keras 2.3.1 (``collect_per_output_metric_info``): one list of metrics given for every output of a model of
    several outputs is cloned for each output, so that each Metric object holds the state of one output."""
    if isinstance(metrics, (list, tuple)):
        return metrics_module.clone_metrics(list(metrics))
    return metrics_module.clone_metric(metrics)


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


# ---------------------------------------------------------------------------- models of several outputs
class MultiOutputLoss:
    """Keras 2.3.1's loss of a model with several outputs: each output's own loss (None: the output is not
    trained), and ``loss = sum(loss_weight_i * loss_i)``. Each output's unweighted loss is logged as
    ``<output>_loss``; ``output_losses`` holds this batch's values (detached, on the device) for the tracker."""

    absorbable_activation = None  # outputs are probabilities; no logits path for several outputs
    is_sparse = False

    def __init__(self, losses: list, loss_weights: list, output_names: list, sample_weight_mode=None):
        self.losses = losses
        self.loss_weights = loss_weights
        self.output_names = output_names
        self.sample_weight_mode = sample_weight_mode
        self.output_losses: list[torch.Tensor] = []
        self.name = [loss.name if loss is not None else None for loss in losses]

    @property
    def fn(self):
        return None

    def __call__(self, y_true, y_pred, sample_weight=None, from_logits: bool = False) -> torch.Tensor:
        weights = sample_weight if sample_weight is not None else [None] * len(self.losses)
        logits = from_logits if isinstance(from_logits, tuple) else (bool(from_logits),) * len(self.losses)
        total, parts = None, []
        for loss, weight, target, output, w, is_logits in zip(self.losses, self.loss_weights, y_true, y_pred, weights,
                                                             logits):
            if loss is None:
                continue
            value = loss(target, output, w, from_logits=is_logits)
            parts.append(value.detach())
            total = value * weight if total is None else total + value * weight
        self.output_losses = parts
        return total

    def sum_and_count(self, *args, **kwargs):
        raise ValueError("Training a model of several outputs under torchrun is not supported yet; train it in one "
                         "process, or give the model one output.")


class MultiOutputMetrics(MetricEntries):
    """The metrics of a model with several outputs, named as Keras 2.3.1 names them: first ``<output>_loss`` for
    each output with a loss, then ``<output>_<metric>`` output by output."""

    def __init__(self, multi_loss: MultiOutputLoss, per_output: list[CompiledMetrics]):
        self.multi_loss = multi_loss
        self.per_output = per_output
        self.output_shape = [m.output_shape for m in per_output]
        self.entries = [(f"{name}_loss", None, False)
                        for name, loss in zip(multi_loss.output_names, multi_loss.losses) if loss is not None]
        for output_name, metrics in zip(multi_loss.output_names, per_output):
            for name, fn, weighted in metrics.entries:  # the output's metrics, then its weighted metrics
                self.entries.append((metrics_module.unique_name(name, self.names, output_name), fn, weighted))
        self.argmax_only = False  # each output's metrics see probabilities

    def weighted_flags(self, masked_model: bool) -> list[bool]:
        losses = [False] * sum(loss is not None for loss in self.multi_loss.losses)
        return losses + [flag for metrics in self.per_output for flag in metrics.weighted_flags(masked_model)]

    def batch_values(self, y_true, y_pred, sample_weight, masks=None, masked_model: bool = False):
        rows = batch_rows(y_pred)
        sums = [loss * rows for loss in self.multi_loss.output_losses]
        weight_sums, states = [], []
        weights = sample_weight if sample_weight is not None else [None] * len(self.per_output)
        masks = masks if masks is not None else [None] * len(self.per_output)
        for metrics, target, output, w, mask in zip(self.per_output, y_true, y_pred, weights, masks):
            output_sums, output_weight_sums, output_states = metrics.batch_values(target, output, w, mask,
                                                                                  masked_model)
            sums += output_sums
            weight_sums += output_weight_sums
            states += output_states
        return sums, weight_sums, states


class AddedLossesOnly:
    """``compile(optimizer)`` without a loss, for a model whose losses come from ``add_loss`` (a VAE): the
    outputs have no loss of their own, and ``fit`` takes no targets."""

    fn = None
    name = None
    loss_weight = 1.0
    sample_weight_mode = None
    absorbable_activation = None
    is_sparse = False

    def __call__(self, y_true, y_pred, sample_weight=None, from_logits: bool = False) -> torch.Tensor:
        return first_leaf(y_pred).new_zeros(())

    def sum_and_count(self, y_true, y_pred, sample_weight=None, from_logits: bool = False):
        output = first_leaf(y_pred)
        return output.new_zeros(()), torch.full((), float(len(output)), device=output.device)
