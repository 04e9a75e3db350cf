"""Backend settings: the training device, floatx, epsilon, image_data_format, layer name counters.

The one place that decides where tensors live. Order of precedence for the device:
``set_device()`` > the ``KERASISH_DEVICE`` environment variable > CUDA when available > CPU. Under torchrun
"CUDA" means this process's GPU, ``cuda:LOCAL_RANK`` (also for a bare ``'cuda'`` from the first two).
"""
from __future__ import annotations

import collections
import os

import numpy as np
import torch

from kerasish import distributed

_EPSILON = 1e-7  # Keras 2.3.1 backend/common.py
_FLOATX = "float32"
_IMAGE_DATA_FORMAT = "channels_last"
_device_override: torch.device | None = None
_name_uids: collections.Counter = collections.Counter()

DEVICE_ENV_VAR = "KERASISH_DEVICE"


# ---------------------------------------------------------------- device
def get_device() -> torch.device:
    """The device models train on (see the module docstring for the order of precedence)."""
    if _device_override is not None:
        return _replica_gpu(_device_override)
    from_env = os.environ.get(DEVICE_ENV_VAR)
    if from_env:
        return _replica_gpu(_parse_device(from_env, source=f"the {DEVICE_ENV_VAR} environment variable"))
    if distributed.is_distributed():
        return distributed.device()
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _replica_gpu(device: torch.device) -> torch.device:
    """A bare 'cuda' is this process's GPU under torchrun, so 8 replicas do not all train on GPU 0."""
    if device.type == "cuda" and device.index is None and distributed.is_distributed():
        return distributed.device()
    return device


def set_device(device: str | torch.device | None) -> None:
    """Force the training device (``'cpu'``, ``'cuda'``, ``'cuda:1'``); ``None`` restores the default choice."""
    global _device_override
    _device_override = None if device is None else _parse_device(device, source="set_device")


def _parse_device(device, source: str) -> torch.device:
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{source}: expected a torch device such as 'cpu' or 'cuda:0'; received {device!r}.") from err
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{source}: asked for {str(parsed)!r} but CUDA is not available on this machine; use 'cpu'.")
    return parsed


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``t`` on ``device`` without stalling the host: a host tensor bound for a GPU is pinned first so the
    copy is queued on the stream (``non_blocking``) instead of waiting for every kernel queued before it."""
    if t.device == device:
        return t
    if device.type == "cuda" and t.device.type == "cpu" and not t.is_pinned():
        t = t.pin_memory()
    return t.to(device, non_blocking=True)


# ---------------------------------------------------------------- numerics
def epsilon() -> float:
    """The fuzz factor used in numeric expressions (Keras default 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    """The default float type: the dtype of the weights of layers created from now on, of inputs and targets."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type. As in Keras 2.3.1, it applies to layers created afterwards (a layer reads
    it in its constructor; ``Dense(3, dtype='float64')`` overrides it for one layer)."""
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"set_floatx: expected one of 'float16', 'bfloat16', 'float32', 'float64'; received {value!r}.")
    _FLOATX = value


def torch_floatx() -> torch.dtype:
    return getattr(torch, _FLOATX)


def standardize_dtype(dtype, arg_name: str = "dtype") -> str:
    """A dtype given as a name (``'float64'``, ``'double'``), a torch or a NumPy dtype, as its Keras name
    (``'float64'``)."""
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    else:
        name = dtype if isinstance(dtype, str) else None
        if isinstance(dtype, (np.dtype, type)):
            try:
                name = np.dtype(dtype).name
            except TypeError:
                name = None
        resolved = getattr(torch, name, None) if name else None
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"{arg_name}: expected a dtype such as 'float32' or 'float64' (a name, a torch or a NumPy "
                         f"dtype); received {dtype!r}.")
    return str(resolved).replace("torch.", "")


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of a Keras dtype name (``'float64'`` -> ``torch.float64``)."""
    return getattr(torch, standardize_dtype(name))


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor's values as a NumPy array of its dtype; bfloat16, which NumPy lacks, as float32."""
    t = t.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.cpu().numpy()


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"set_image_data_format: expected 'channels_last' or 'channels_first'; received {data_format!r}.")
    _IMAGE_DATA_FORMAT = data_format


def normalize_data_format(data_format: str | None) -> str:
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format: expected 'channels_last' or 'channels_first'; received {data_format!r}.")
    return value


# ---------------------------------------------------------------- names and session
def get_uid(prefix: str = "") -> int:
    """1-based counter per prefix, as Keras names layers ``dense_1``, ``dense_2``..."""
    _name_uids[prefix] += 1
    return _name_uids[prefix]


def reset_uids() -> None:
    _name_uids.clear()


def clear_session() -> None:
    """Reset layer-name counters and free cached device memory (Keras: destroys the current graph)."""
    reset_uids()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ---------------------------------------------------------------- values
class ValueHandle:
    """A value that lives elsewhere and is read and written through ``read()``/``assign(value)``: what
    ``get_value``/``set_value`` accept besides tensors (``optimizers.HyperparameterValue``, ``model.optimizer.lr``
    is one). Defined here so that the backend never imports the modules that build on it."""

    def read(self):
        raise NotImplementedError

    def assign(self, value) -> None:
        raise NotImplementedError


def get_value(x):
    """The value of a tensor (a NumPy array), of an optimizer hyper-parameter, or a plain value unchanged.

    ``K.get_value(model.optimizer.lr)`` reads the optimizer's current learning rate as a NumPy scalar of
    ``floatx()``, as Keras 2.3.1 reads its float32 variable (so ``float(...)`` of 0.001 is
    0.0010000000474974513 there and here, and messages printing it agree).
    """
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, ValueHandle):
        value = x.read()
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
        return np.asarray(value, dtype=_numpy_floatx())[()]
    return x


def eval(x):  # noqa: A001 - Keras's name
    """``K.eval(x)``: the value of a tensor or hyper-parameter, as ``get_value``."""
    return get_value(x)


def set_value(x, value) -> None:
    """``K.set_value``: set a tensor in place, or an optimizer hyper-parameter such as ``model.optimizer.lr``."""
    if isinstance(x, ValueHandle):
        x.assign(value)
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"set_value: expected a torch.Tensor or an optimizer hyper-parameter such as "
                        f"model.optimizer.lr; received {type(x).__name__}. To change a learning rate write "
                        f"`K.set_value(model.optimizer.lr, value)` or `model.optimizer.lr = value`.")
    with torch.no_grad():
        x.copy_(torch.as_tensor(np.asarray(value), dtype=x.dtype))


def _numpy_floatx() -> np.dtype:
    # NumPy has no bfloat16; Keras variables of that floatx read as float32 here.
    return np.dtype("float32" if _FLOATX == "bfloat16" else _FLOATX)


def count_params(x) -> int:
    return int(np.prod(tuple(x.shape)))
