"""Batch standardisation: whatever the user passed as ``x``, ``y``, ``sample_weight`` and ``class_weight`` ->
the tensors a step takes, checked against the model's inputs and outputs (Keras 2.3.1 ``standardize_input_data``
and its messages).

One input (or output) gives one tensor; several give a list in the model's input (output) order. The user may
pass several as a list in that order or as a dict keyed by input (output) layer names. The same standardiser
serves arrays (once per fit) and every batch of a stream (``BatchPreparer``: shapes and dtypes of each batch, target
values of the first).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch

from kerasish import backend
from kerasish.training import arguments as args
from kerasish.training.nonfinite import StreamMonitor


@dataclass
class DataSpec:
    """What the model expects, as host metadata: names and Keras shapes (None: not known yet) of its inputs
    and outputs, the compiled loss of each output (None: no loss), and the sample weight mode."""
    input_names: list
    input_shapes: list
    output_names: list
    output_shapes: list
    input_dtypes: list = field(default_factory=list)
    target_dtypes: list = field(default_factory=list)
    output_losses: list = field(default_factory=list)
    sample_weight_mode: str | None = None

    @property
    def several_inputs(self) -> bool:
        return len(self.input_names) > 1

    @property
    def several_outputs(self) -> bool:
        return len(self.output_names) > 1


class BatchStandardizer:
    def __init__(self, spec: DataSpec, caller: str):
        self.spec = spec
        self.caller = caller

    # ------------------------------------------------------------------ inputs
    def inputs(self, x, allow_lazy: bool = False):
        spec, caller = self.spec, self.caller
        if x is None:
            raise ValueError(f"{caller}: x is required; received None.")
        if not spec.several_inputs:
            if isinstance(x, dict):
                x = _single_from_dict(x, spec.input_names[0], "x", caller)
            tensor = args.to_tensor(x, "x", caller, allow_lazy=allow_lazy, dtype=self._input_dtype(0))
            check_input_shape(tensor, spec.input_shapes[0], spec.input_names[0], caller)
            return tensor
        arrays = _per_name(x, spec.input_names, "x", "input", caller)
        tensors = [args.to_tensor(a, f"x[{name!r}]", caller, dtype=self._input_dtype(i))
                   for i, (a, name) in enumerate(zip(arrays, spec.input_names))]
        for tensor, shape, name in zip(tensors, spec.input_shapes, spec.input_names):
            check_input_shape(tensor, shape, name, caller)
        return tensors

    def _input_dtype(self, index: int):
        """Float data is fed in a float input's dtype; integer data keeps its own (cast on the device)."""
        dtypes = self.spec.input_dtypes
        dtype = dtypes[index] if dtypes else None
        return dtype if dtype is not None and dtype.is_floating_point else None

    # ------------------------------------------------------------------ targets
    def targets(self, y, validate: bool = True, check_values: bool = True):
        """``check_values``: also read the values (sparse labels in range); off for all but a stream's first
        batch, where they may be on the device."""
        spec, caller = self.spec, self.caller
        if y is None:
            raise ValueError(f"{caller}: y is required with array inputs; received None.")
        if not spec.several_outputs:
            if isinstance(y, dict):
                y = _single_from_dict(y, spec.output_names[0], "y", caller)
            return self._target(y, 0, "y", validate, check_values)
        arrays = _per_name(y, spec.output_names, "y", "target", caller)
        return [self._target(a, i, f"y[{spec.output_names[i]!r}]", validate, check_values)
                for i, a in enumerate(arrays)]

    def _target(self, y, index: int, arg_name: str, validate: bool, check_values: bool = True) -> torch.Tensor:
        from kerasish import losses
        spec, caller = self.spec, self.caller
        target_dtype = spec.target_dtypes[index] if spec.target_dtypes else None
        y = args.to_tensor(y, arg_name, caller, dtype=target_dtype)
        loss = spec.output_losses[index] if spec.output_losses else None
        output_shape = spec.output_shapes[index]
        if loss is not None and validate and output_shape is not None:
            try:
                losses.validate_targets(loss.fn, y, output_shape[1:], check_values=check_values)
            except ValueError as err:  # the loss's own message, with the caller (and a stream's batch) first
                raise ValueError(f"{caller}: {arg_name}: {err}") from None
        if loss is not None and loss.is_sparse:
            return y.to(torch.int64)
        if output_shape is not None and y.dim() == 1 and len(output_shape) == 2:
            y = y.reshape(-1, 1)  # Keras expands (n,) targets to (n, 1)
        if not y.is_floating_point():
            y = y.to(target_dtype or backend.torch_floatx())
        if validate and output_shape is not None and not _shape_fits(tuple(y.shape[1:]), tuple(output_shape[1:])):
            # Keras 2.3.1 standardize_input_data wording
            raise ValueError(f"{caller}: Error when checking target: expected {spec.output_names[index]} to have "
                             f"shape {tuple(output_shape[1:])} but got array with shape {tuple(y.shape[1:])}")
        return y

    # ------------------------------------------------------------------ weights
    def sample_weights(self, sample_weight, y, class_weights=None):
        """Per-sample weights for the targets ``y``: a tensor (one output) or a list with None where an output has
        none. ``class_weights``: a ``ClassWeights``, or one per output (a list) for several outputs."""
        spec, caller = self.spec, self.caller
        if not spec.several_outputs:
            if isinstance(sample_weight, dict):
                sample_weight = _single_from_dict(sample_weight, spec.output_names[0], "sample_weight", caller)
            weights = args.standardize_sample_weight(sample_weight, y, spec.sample_weight_mode, caller)
            return class_weights(y, weights) if class_weights is not None else weights
        given = [None] * len(spec.output_names) if sample_weight is None else \
            _per_name(sample_weight, spec.output_names, "sample_weight", "sample weight", caller, allow_missing=True)
        per_output_class = class_weights or [None] * len(spec.output_names)
        weights = []
        for w, target, cw in zip(given, y, per_output_class):
            w = args.standardize_sample_weight(w, target, spec.sample_weight_mode, caller)
            weights.append(cw(target, w) if cw is not None else w)
        return weights

    def class_weights(self, class_weight):
        """``class_weight`` as Keras 2.3.1 takes it: a dict of class weights (one output), or for several outputs
        a dict keyed by output name (or a list in output order) of such dicts."""
        spec, caller = self.spec, self.caller
        if class_weight is None or not spec.several_outputs:
            return args.class_weights_from(class_weight, caller)
        if isinstance(class_weight, dict) and not set(class_weight) & set(spec.output_names):
            raise ValueError(f"{caller}: this model has {len(spec.output_names)} outputs, so class_weight must be a "
                             f"dict keyed by output name (or a list in output order) of class-weight dicts; "
                             f"output names: {spec.output_names}; received keys {sorted(map(str, class_weight))}.")
        per_output = _per_name(class_weight, spec.output_names, "class_weight", "class weight", caller,
                               allow_missing=True)
        return [args.class_weights_from(cw, caller) for cw in per_output]

    # ------------------------------------------------------------------ one streamed batch
    def batch_preparer(self, device: torch.device, need_targets: bool, class_weights,
                       source_name: str = "generator", monitor=None) -> "BatchPreparer":
        """The per-batch check and conversion of a stream's batches (see ``BatchPreparer``)."""
        return BatchPreparer(self, device, need_targets, class_weights, source_name, monitor)


class BatchPreparer:
    """A stream's raw batch -> device tensors ``(x, y, sample_weight)``, EVERY batch checked against the model.

    Streams (generators, Sequences, image iterators, torch data) may change from one batch to the next, so each
    batch gets the checks arrays get once per fit: the ``(x, y[, sample_weight])`` structure, each input's and
    target's shape, numeric dtypes, and equal lengths of x, y and sample_weight. These read host metadata only
    (shapes and dtypes), never values, so they cost no device sync and a few microseconds per step. Target
    values (sparse labels in range) are read on the first batch only, as that reads the device.

    Errors name the batch: ``index`` given (a Sequence's ``sequence[index]``) or the count of batches this
    preparer has seen (plain generators, torch DataLoaders): ``fit_generator (generator batch 3, counting from
    0): ...``, ``fit_generator (MySequence[7]): ...``.
    ``monitor`` records each batch's min and max on the device, for NaN/inf warnings (nonfinite.py); a source
    checked before the call (nonfinite.KnownFindings) gives its own, which records nothing.
    """

    def __init__(self, standardizer: BatchStandardizer, device: torch.device, need_targets: bool, class_weights,
                 source_name: str = "generator", monitor=None):
        self.spec = standardizer.spec
        self.caller = standardizer.caller
        self.device = device
        self.need_targets = need_targets
        self.class_weights = class_weights
        self.source_name = source_name
        self.count = 0
        # add_loss-only models (compile without a loss) take batches without targets
        self._losses_read_targets = any(getattr(loss, "fn", None) is not None for loss in self.spec.output_losses)
        self.monitor = monitor if monitor is not None else StreamMonitor(
            self.caller, self._describe_key, self.spec.input_names, self.spec.output_names)
        # A batch like the last one that passed the checks passes them too: they read the structure, the shapes
        # past the batch axis, dtypes and lengths, never values (but the first batch's labels). Such a batch of
        # tensors is converted as that one was (``_repeated``), in a few microseconds instead of the whole walk.
        self._may_repeat = self._repeatable_model()
        self._passed = None  # per tensor of the last batch that passed: _Conversion

    def _describe_key(self, key) -> str:
        return describe_batch(self.source_name, key)

    def __call__(self, raw, index=None):
        key = self.count if index is None else (index,)
        first = self.count == 0
        self.count += 1
        batch = self._repeated(raw) if self._passed is not None else None
        if batch is None:
            standardized = self._standardize(raw, key, first)
            self._remember(raw, standardized)
            batch = tuple(_to_device(t, self.device) for t in standardized)
        self.monitor.record(key, *batch)
        return batch

    def _standardize(self, raw, key, first: bool) -> tuple:
        checker = BatchStandardizer(self.spec, f"{self.caller} ({self._describe_key(key)})")
        x, y, sample_weight = args.unpack_batch(raw, checker.caller, self.need_targets)
        x = checker.inputs(x)
        if y is None and self.need_targets and self._losses_read_targets:
            raise ValueError(f"{checker.caller}: y is None, but the model's loss needs targets; yield `(x, y)` or "
                             "`(x, y, sample_weight)` with y an array.")
        if y is not None:
            y = checker.targets(y, check_values=first)
            sample_weight = checker.sample_weights(sample_weight, y, self.class_weights)
        args.check_same_length(checker.caller, x, y, sample_weight)
        return x, y, sample_weight

    def _repeatable_model(self) -> bool:
        # batches of several inputs or outputs are lists or dicts, and class weights make weights from values
        return not (self.spec.several_inputs or self.spec.several_outputs or self.class_weights is not None)

    def _repeated(self, raw):
        """``raw`` on the device, converted as the last batch that passed the checks, when it is an ``(x, y[,
        sample_weight])`` tuple of tensors like that one's (row shapes, dtypes, devices), all with the same
        number of rows (at least one); None otherwise."""
        if type(raw) not in (tuple, list) or len(raw) != len(self._passed):
            return None
        rows = None
        batch = []
        for t, how in zip(raw, self._passed):
            if type(t) is not torch.Tensor or t.dtype != how.dtype or t.device != how.device:
                return None
            shape = t.shape
            if not shape or shape[1:] != how.row_shape or rows is not None and shape[0] != rows:
                return None
            rows = shape[0]
            batch.append(how.convert(t, self.device))
        if not rows:
            return None
        return (batch[0], batch[1], None) if len(batch) == 2 else tuple(batch)

    def _remember(self, raw, standardized) -> None:
        """Keep how each tensor was converted when the fast path can repeat it (see ``_Conversion``)."""
        self._passed = None
        if not self._may_repeat or type(raw) not in (tuple, list) or not 2 <= len(raw) <= 3 \
                or len(raw) == 2 and standardized[2] is not None:
            return  # not (x, y[, sample_weight]), or weights made from nothing
        conversions = []
        for before, after in zip(raw, standardized):
            if type(before) is not torch.Tensor or before.dim() == 0 or after is None \
                    or after.dtype == before.dtype and after.data_ptr() != before.data_ptr():
                return  # not a tensor with rows, or new values (not a cast or a view): check every batch
            conversions.append(_Conversion(before.shape[1:], before.dtype, before.device, after.dtype,
                                           after.shape[1:]))
        self._passed = conversions


@dataclass(frozen=True)
class _Conversion:
    """What one tensor of a checked batch was (shape past the batch axis, dtype, device) and what the checks
    made of it (a cast, a reshape of each row: Keras's (N,) -> (N, 1) targets, a detach)."""
    row_shape: torch.Size
    dtype: torch.dtype
    device: torch.device
    to_dtype: torch.dtype
    to_row_shape: torch.Size

    def convert(self, t: torch.Tensor, device: torch.device) -> torch.Tensor:
        if t.requires_grad:
            t = t.detach()
        if self.to_dtype != self.dtype:
            t = t.to(self.to_dtype)
        if self.to_row_shape != self.row_shape:
            t = t.reshape((len(t),) + tuple(self.to_row_shape))
        return t if self.device == device else backend.to_device(t, device)


def describe_batch(source_name: str, key) -> str:
    """A stream's batch as messages name it. ``key``: the count of batches drawn so far (an int), or
    ``(index,)`` for ``sequence[index]``."""
    if isinstance(key, tuple):
        return f"{source_name}[{key[0]}]"
    return f"{source_name} batch {key}, counting from 0"


def _shape_fits(shape: tuple, expected: tuple) -> bool:
    """Keras 2.3.1 ``standardize_input_data``: same rank, and equal sizes where the expected one is known (a
    sequence model's time axis is often None)."""
    return len(shape) == len(expected) and all(want is None or want == got for want, got in zip(expected, shape))


def check_input_shape(x: torch.Tensor, expected, input_name: str, caller: str) -> None:
    if expected is None or not isinstance(x, torch.Tensor) and not hasattr(x, "shape"):
        return
    shape = tuple(x.shape)
    if len(shape) != len(expected):
        # Keras 2.3.1 training_utils.standardize_input_data wording
        raise ValueError(f"{caller}: Error when checking input: expected {input_name} to have {len(expected)} "
                         f"dimensions, but got array with shape {shape}")
    for want, got in zip(expected[1:], shape[1:]):
        if want is not None and want != got:
            raise ValueError(f"{caller}: Error when checking input: expected {input_name} to have shape "
                             f"{tuple(expected[1:])} but got array with shape {shape[1:]}")


def _to_device(t, device):
    if t is None:
        return None
    if isinstance(t, list):
        return [_to_device(item, device) for item in t]
    return backend.to_device(t, device)


def _single_from_dict(data: dict, name: str, arg_name: str, caller: str):
    if name not in data:
        raise ValueError(f'{caller}: No data provided for "{name}". Need data for each key in: {[name]}')
    _warn_unused(data, [name], arg_name, caller)
    return data[name]


def _per_name(data, names: list, arg_name: str, kind: str, caller: str, allow_missing: bool = False) -> list:
    """``data`` for several inputs/outputs as a list in ``names`` order (Keras 2.3.1 messages)."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing and not allow_missing:
            raise ValueError(f'{caller}: No data provided for "{missing[0]}". Need data for each key in: {names}')
        _warn_unused(data, names, arg_name, caller)
        return [data.get(n) for n in names]
    if isinstance(data, (list, tuple)):
        if len(data) != len(names):
            raise ValueError(f"{caller}: Error when checking model {kind}: the list of Numpy arrays that you are "
                             f"passing to your model is not the size the model expected. Expected to see "
                             f"{len(names)} array(s), but instead got the following list of {len(data)} arrays: "
                             f"{_describe_list(data)}")
        return list(data)
    raise ValueError(f"{caller}: Error when checking model {kind}: the model expects {len(names)} {kind} arrays "
                     f"({names}), but only received one array of shape {tuple(getattr(data, 'shape', ()))}. Pass a "
                     f"list in that order or a dict keyed by these names.")


def _warn_unused(data: dict, names: list, arg_name: str, caller: str) -> None:
    import difflib
    for key in data:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            warnings.warn(f"{caller}: {arg_name} has a key {key!r} that names no model input or output "
                          f"({names}); it is not used.{hint}", UserWarning, stacklevel=4)


def _describe_list(data) -> str:
    return "[" + ", ".join(f"array of shape {tuple(getattr(d, 'shape', ()))}" for d in data) + "]"
