"""Checks and conversions of the arguments of fit/evaluate/predict, all done before any weight changes.

Error messages name the argument, what was expected and what came; where Keras 2.3.1 has a message users
search for, its wording is kept.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch

from kerasish import backend
from kerasish.training.data_adapters.lazy_arrays import LazyRows, is_lazy_array
from kerasish.utils.nest import batch_rows, flatten, map_structure
from kerasish.utils.validation import close_matches


def to_tensor(data, arg_name: str, caller: str, allow_lazy: bool = False, dtype: torch.dtype | None = None):
    """NumPy array, torch tensor, or list (of numbers, or holding one array) -> a torch tensor.

    NumPy data is shared, not copied, when its dtype allows; float data of another type than ``dtype`` (default
    floatx) is cast to it (Keras feeds inputs to placeholders of the model's input and output dtypes: float64
    arrays become float32 for a float32 model). Integer and boolean inputs keep their dtype here and are cast
    per batch on the device, which keeps e.g. uint8 images four times smaller in memory. With ``allow_lazy``,
    memory maps and HDF5-like arrays become ``LazyRows`` that are read batch by batch.
    """
    dtype = dtype or backend.torch_floatx()
    if allow_lazy and is_lazy_array(data):
        return LazyRows(data, dtype=dtype)
    if isinstance(data, (list, tuple)) and len(data) == 1 and _is_array_like(data[0]):
        data = data[0]
    elif isinstance(data, (list, tuple)) and data and all(_is_array_like(d) for d in data):
        raise ValueError(f"{caller}: {arg_name} is a list of {len(data)} arrays, but this model has one input and "
                         f"one output; pass a single array.")
    if isinstance(data, torch.Tensor):
        tensor = data.detach()
    else:
        try:
            array = np.asarray(data)
        except Exception as err:  # ragged lists and the like
            raise TypeError(f"{caller}: {arg_name} must be a NumPy array, a torch tensor or a list of numbers; "
                            f"received {type(data).__name__} that NumPy cannot convert ({err}).") from err
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"{caller}: {arg_name} must hold numbers; received an array of dtype {array.dtype}.")
        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.ascontiguousarray(array) if array.flags.writeable else np.array(array)
        tensor = torch.from_numpy(array)
    if tensor.is_floating_point() and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    if tensor.dim() == 0:
        raise ValueError(f"{caller}: {arg_name} must have a batch dimension; received a scalar.")
    return tensor


def _is_array_like(obj) -> bool:
    return isinstance(obj, (np.ndarray, torch.Tensor))


def check_same_length(caller: str, x, y=None, sample_weight=None) -> None:
    """x, y, sample_weight (arrays, tensors or lists; several of them for a model of several inputs or outputs)
    must describe the same number of samples."""
    if any(isinstance(v, list) and v and not isinstance(v[0], numbers.Number) for v in (x, y, sample_weight)):
        _check_same_length_of_lists(caller, x, y, sample_weight)
        return
    n = num_samples(x)
    if n == 0:
        raise ValueError(f"{caller}: x is empty (0 samples); pass at least one sample.")
    if y is not None and num_samples(y) != n:
        # Keras 2.3.1 training_utils.check_array_length_consistency
        raise ValueError(f"{caller}: Input arrays should have the same number of samples as target arrays. "
                         f"Found {n} input samples and {num_samples(y)} target samples.")
    if sample_weight is not None and num_samples(sample_weight) != n:
        raise ValueError(f"{caller}: sample_weight has {num_samples(sample_weight)} entries but x has {n} "
                         "samples; pass one weight per sample.")


def _check_same_length_of_lists(caller: str, x, y, sample_weight) -> None:
    """Keras 2.3.1 training_utils.check_array_length_consistency over lists of arrays."""
    def lengths(value):
        return [num_samples(v) for v in flatten(value) if v is not None] if value is not None else []
    xs, ys, ws = lengths(x), lengths(y), lengths(sample_weight)
    for name, values in (("input", xs), ("target", ys), ("sample weight", ws)):
        if len(set(values)) > 1:
            raise ValueError(f"{caller}: All {name} arrays (x) should have the same number of samples. Got array "
                             f"shapes: {values}" if name == "input" else
                             f"{caller}: All {name} arrays should have the same number of samples. Got: {values}")
    if xs and xs[0] == 0:
        raise ValueError(f"{caller}: x is empty (0 samples); pass at least one sample.")
    if xs and ys and xs[0] != ys[0]:
        raise ValueError(f"{caller}: Input arrays should have the same number of samples as target arrays. "
                         f"Found {xs[0]} input samples and {ys[0]} target samples.")
    if xs and ws and xs[0] != ws[0]:
        raise ValueError(f"{caller}: sample_weight has {ws[0]} entries but x has {xs[0]} samples; pass one weight "
                         "per sample.")


def num_samples(data) -> int:
    if isinstance(data, (list, tuple)) and len(data) == 1 and _is_array_like(data[0]):
        data = data[0]
    return len(data)


def standardize_sample_weight(sample_weight, y: torch.Tensor, mode: str | None, caller: str):
    if sample_weight is None:
        return None
    weights = to_tensor(sample_weight, "sample_weight", caller).to(backend.torch_floatx())
    if mode == "temporal":
        if weights.dim() != 2:
            raise ValueError(f"{caller}: with sample_weight_mode='temporal' sample_weight must be 2D "
                             f"(samples, timesteps); received shape {tuple(weights.shape)}.")
    elif weights.dim() != 1:
        raise ValueError(f"{caller}: sample_weight must be a 1D array of per-sample weights (use "
                         "compile(sample_weight_mode='temporal') for 2D weights); received shape "
                         f"{tuple(weights.shape)}.")
    return weights


def split_validation(tensors: list, validation_split: float, caller: str):
    """Keras 2.3.1: the LAST fraction of the samples, taken before any shuffling, is the validation set."""
    num_samples = batch_rows(tensors[0])
    split_at = int(num_samples * (1.0 - validation_split))
    if split_at == 0 or split_at == num_samples:
        raise ValueError(f"{caller}: validation_split={validation_split} of {num_samples} samples leaves "
                         f"{split_at} for training and {num_samples - split_at} for validation; both need at least "
                         "one sample.")
    train = [map_structure(lambda t: None if t is None else t[:split_at], entry) for entry in tensors]
    val = [map_structure(lambda t: None if t is None else t[split_at:], entry) for entry in tensors]
    return train, val


def unpack_validation_data(validation_data, caller: str):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        count = len(validation_data) if isinstance(validation_data, (tuple, list)) else type(validation_data).__name__
        # Keras 2.3.1 training.py wording
        raise ValueError(f"{caller}: When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                         f"(x_val, y_val, val_sample_weights) items, however it contains {count} items")
    x_val, y_val = validation_data[0], validation_data[1]
    weights = validation_data[2] if len(validation_data) == 3 else None
    return x_val, y_val, weights


# ---------------------------------------------------------------------------- scalars
def check_positive_int(value, arg_name: str, caller: str, allow_none: bool = False, minimum: int = 1):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{caller}: {arg_name} must be an integer{' or None' if allow_none else ''}; "
                        f"received {value!r} of type {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{caller}: {arg_name} must be >= {minimum}; received {value}.")
    return int(value)


def check_verbose(verbose, caller: str) -> int:
    if isinstance(verbose, bool):
        return int(verbose)
    if not isinstance(verbose, numbers.Integral) or verbose not in (0, 1, 2):
        raise ValueError(f"{caller}: verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch); "
                         f"received {verbose!r}.")
    return int(verbose)


def check_shuffle(shuffle, caller: str):
    if shuffle not in (True, False, "batch"):
        raise ValueError(f"{caller}: shuffle must be True, False or 'batch'; received {shuffle!r}.")
    return shuffle


def check_validation_split(validation_split, caller: str) -> float:
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"{caller}: validation_split must be a float in [0, 1) (the fraction of the data, "
                         f"taken from the end, used for validation); received {validation_split!r}.")
    return float(validation_split)


def check_validation_freq(validation_freq, caller: str):
    if isinstance(validation_freq, numbers.Integral) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"{caller}: validation_freq must be >= 1; received {validation_freq}.")
        return int(validation_freq)
    try:
        epochs = [int(e) for e in validation_freq]
    except TypeError:
        raise ValueError(f"{caller}: validation_freq must be an int or a list of 1-based epoch numbers; "
                         f"received {validation_freq!r}.") from None
    return set(epochs)


def reject_unknown_kwargs(kwargs: dict, accepted: list[str], caller: str) -> None:
    if not kwargs:
        return
    # Keras 2.3.1: TypeError('Unrecognized keyword arguments: ...')
    raise TypeError(f"{caller}: Unrecognized keyword arguments: {describe_unknown_kwargs(kwargs, accepted)}.")


def describe_unknown_kwargs(keys, accepted) -> str:
    """``"'lr_rate' (did you mean 'lr'?), 'foo'"``: each unknown keyword, with the closest accepted one."""
    hints = []
    for key in keys:
        close = close_matches(key, accepted, n=1)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ", ".join(hints)


# ---------------------------------------------------------------------------- generators
def unpack_batch(raw, caller: str, need_targets: bool = True):
    """A generator's item -> ``(x, y, sample_weight)``. Keras 2.3.1 training_generator.py wording on error."""
    if isinstance(raw, (tuple, list)) and len(raw) in (2, 3):
        return raw[0], raw[1], (raw[2] if len(raw) == 3 else None)
    if not need_targets:
        return (raw[0] if isinstance(raw, tuple) and len(raw) == 1 else raw), None, None
    raise ValueError(f"{caller}: Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. "
                     f"Found: {_describe(raw)}")


def _describe(raw) -> str:
    if isinstance(raw, (tuple, list)):
        return f"a {type(raw).__name__} of {len(raw)} items"
    shape = getattr(raw, "shape", None)
    return f"{type(raw).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else f": {raw!r}"[:200])


def check_generator_arguments(caller: str, y=None, sample_weight=None, validation_split=None, batch_size=None):
    """Keras 2.3.1 training_utils.check_generator_arguments, plus its batch_size rule."""
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise ValueError(f"{caller}: `{name}` argument is not supported when data is a generator or Sequence "
                             f"instance. Instead pass {'targets' if name == 'y' else 'sample weights'} as the "
                             f"{'second' if name == 'y' else 'third'} element of the generator.")
    if validation_split:
        raise ValueError(f"{caller}: If your data is in the form of a Python generator, you cannot use "
                         "`validation_split`.")
    if batch_size is not None:
        raise ValueError(f"{caller}: The `batch_size` argument must not be specified when using a generator or "
                         "Sequence as an input; the generator decides the batch size.")


class ClassWeights:
    """``class_weight={class: weight}`` -> per-sample weights, as Keras 2.3.1 ``standardize_weights``: classes are
    the ``argmax`` of one-hot targets or the label itself. The lookup table lives on the batch's device, so
    device batches need no host sync; host batches are also checked for classes missing from the dict."""

    def __init__(self, class_weight: dict, caller: str):
        self.class_weight = {int(k): float(v) for k, v in class_weight.items()}
        self.caller = caller
        size = max(self.class_weight) + 1 if self.class_weight else 1
        self._table = torch.full((size,), float("nan"))
        for cls, weight in self.class_weight.items():
            self._table[cls] = weight
        self._tables: dict = {}

    def __call__(self, y: torch.Tensor, sample_weight):
        if y.dim() > 2:
            raise ValueError(f"{self.caller}: class_weight not supported for 3+ dimensional targets.")
        classes = (y.argmax(dim=1) if (y.dim() == 2 and y.shape[1] > 1) else y.reshape(-1)).to(torch.int64)
        if classes.device.type == "cpu":
            self._check_all_present(classes)
        table = self._tables.get(classes.device)
        if table is None:
            table = self._tables[classes.device] = self._table.to(classes.device)
        per_sample = table[classes.clamp(0, len(table) - 1)]
        if sample_weight is None:
            return per_sample
        return sample_weight * per_sample.reshape((-1,) + (1,) * (sample_weight.dim() - 1))

    def _check_all_present(self, classes: torch.Tensor) -> None:
        present = set(torch.unique(classes).tolist())
        missing = sorted(present - set(self.class_weight))
        if missing:
            raise ValueError(f"{self.caller}: `class_weight` must contain all classes in the data. The classes "
                             f"{missing} exist in the data but not in `class_weight`.")


def class_weights_from(class_weight, caller: str):
    """A ``ClassWeights`` for a dict; ``None`` otherwise (non-dicts are ignored as Keras 2.3.1 does, with a warning)."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        warnings.warn(f"{caller}: class_weight must be a dict {{class_index: weight}}; received "
                      f"{type(class_weight).__name__}, which is ignored (as Keras 2.3.1 does).", stacklevel=3)
        return None
    return ClassWeights(class_weight, caller)
