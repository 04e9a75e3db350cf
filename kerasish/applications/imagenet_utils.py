"""ImageNet input preprocessing, prediction decoding and input-shape checks: Keras 2.3.1's
``keras/applications/imagenet_utils.py``, which delegates to keras-applications 1.0.8's ``imagenet_utils``.

``preprocess_input`` has Keras's two paths: a NumPy array is processed in place where its dtype allows (Keras
writes over float input; integer input becomes a new ``floatx`` array), a torch tensor (Keras's symbolic path)
gives a new tensor. ``decode_predictions`` reads the class index JSON through ``get_file`` once and keeps it,
as Keras does (module attribute ``CLASS_INDEX``). ``_obtain_input_shape`` is the shared check of every
application model's ``input_shape``; its wording is Keras's.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import torch

from kerasish.backend import config
from kerasish.utils.data_utils import get_file

CLASS_INDEX = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

# keras-applications 1.0.8: ImageNet channel means (BGR order for 'caffe', RGB for 'torch') and RGB stds.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN_RGB = (0.485, 0.456, 0.406)
_TORCH_STD_RGB = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format=None, mode="caffe", **kwargs):
    """Preprocesses a tensor or NumPy array encoding a batch of images (3D or 4D).

    Arguments:
        x: NumPy array or torch tensor. A float NumPy array is written over, as Keras does; pass
            ``numpy.copy(x)`` to keep it.
        data_format: ``'channels_first'`` or ``'channels_last'``; default ``K.image_data_format()``.
        mode: ``'caffe'`` (RGB -> BGR, then subtract the ImageNet BGR means, no scaling), ``'tf'`` (scale to
            [-1, 1]) or ``'torch'`` (scale to [0, 1], then normalise each channel by ImageNet's mean and
            std). Any other value is taken as ``'caffe'``, as in Keras.
        **kwargs: Keras's module injection (``backend``, ``layers``, ``models``, ``utils``); anything else is
            a ``TypeError``.

    Returns:
        The preprocessed array or tensor.
    """
    _check_injection_kwargs(kwargs)
    if data_format is None:
        data_format = config.image_data_format()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Unknown data_format " + str(data_format))
    if isinstance(x, np.ndarray):
        return _preprocess_numpy_input(x, data_format, mode)
    return _preprocess_tensor_input(torch.as_tensor(x), data_format, mode)


def _check_injection_kwargs(kwargs) -> None:
    # keras-applications' get_submodules_from_kwargs: Keras itself fills these four (and overrides what a
    # caller passes), so they carry nothing here; any other keyword is Keras's TypeError.
    for key in kwargs:
        if key not in ("backend", "layers", "models", "utils"):
            raise TypeError(f"Invalid keyword argument: {key}")


def _channel_index(x_ndim: int, data_format: str):
    """The index that selects channel ``c`` of a 3D or 4D image batch (as ``(slice..., c)`` tuples)."""
    if data_format == "channels_last":
        return lambda c: (Ellipsis, c)
    return (lambda c: (c,)) if x_ndim == 3 else (lambda c: (slice(None), c))


def _reverse_channels(x, data_format: str):
    if data_format == "channels_last":
        return x[..., ::-1] if isinstance(x, np.ndarray) else torch.flip(x, dims=(-1,))
    axis = 0 if x.ndim == 3 else 1
    if isinstance(x, np.ndarray):
        return np.flip(x, axis=axis)
    return torch.flip(x, dims=(axis,))


def _mean_and_std(x, data_format, mode):
    """Keras's per-mode first step (scaling or RGB -> BGR), then the means and stds to apply."""
    if mode == "torch":
        x /= 255.0
        return x, _TORCH_MEAN_RGB, _TORCH_STD_RGB
    return _reverse_channels(x, data_format), _CAFFE_MEAN_BGR, None


def _preprocess_numpy_input(x: np.ndarray, data_format: str, mode):
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    x, mean, std = _mean_and_std(x, data_format, mode)
    channel = _channel_index(x.ndim, data_format)
    for c in range(3):
        x[channel(c)] -= mean[c]
        if std is not None:
            x[channel(c)] /= std[c]
    return x


def _preprocess_tensor_input(x: torch.Tensor, data_format: str, mode):
    # Keras's symbolic path builds new tensors; so does this one (the input tensor is left as it is).
    if not x.is_floating_point():
        x = x.to(getattr(torch, config.floatx()))
    else:
        x = x.clone()
    if mode == "tf":
        return x / 127.5 - 1.0
    x, mean, std = _mean_and_std(x, data_format, mode)
    shape = [1] * x.ndim
    shape[-1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)] = 3
    x = x - torch.tensor(mean, dtype=x.dtype, device=x.device).reshape(shape)
    if std is not None:
        x = x / torch.tensor(std, dtype=x.dtype, device=x.device).reshape(shape)
    return x


def decode_predictions(preds, top=5, **kwargs):
    """Decodes the prediction of an ImageNet model.

    Arguments:
        preds: array (or tensor) of shape ``(samples, 1000)``.
        top: how many top guesses to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)`` tuples, best first.
    """
    global CLASS_INDEX
    _check_injection_kwargs(kwargs)
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         "(samples, 1000)). Found array with shape: " + str(preds.shape))
    if CLASS_INDEX is None:
        fpath = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                         file_hash=CLASS_INDEX_HASH)
        with open(fpath) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda entry: entry[2], reverse=True)
        results.append(result)
    return results


def _default_shape(input_shape, default_size, data_format, weights):
    # Without ImageNet weights, a 3-element input_shape keeps its channel count (Keras warns when it is
    # neither 1 nor 3); otherwise the default has 3 channels.
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if data_format == "channels_first" else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was passed an "
                          "input_shape with " + str(channels) + " input channels.")
    else:
        channels = 3
    if data_format == "channels_first":
        return (channels, default_size, default_size)
    return (default_size, default_size, channels)


def _check_given_shape(input_shape, min_size, data_format, weights) -> None:
    if len(input_shape) != 3:
        raise ValueError("`input_shape` must be a tuple of three integers.")
    if data_format == "channels_first":
        channels, sizes = input_shape[0], input_shape[1:]
    else:
        channels, sizes = input_shape[-1], input_shape[:2]
    if channels != 3 and weights == "imagenet":
        raise ValueError("The input must have 3 channels; got `input_shape=" + str(input_shape) + "`")
    if any(size is not None and size < min_size for size in sizes):
        raise ValueError("Input size must be at least " + str(min_size) + "x" + str(min_size) +
                         "; got `input_shape=" + str(input_shape) + "`")


def _obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """Computes or validates an application model's input shape (keras-applications 1.0.8).

    Arguments:
        input_shape: ``None`` (the model's default) or the user's shape to validate.
        default_size: the model's default input width and height.
        min_size: the smallest width and height the model accepts.
        data_format: ``'channels_first'`` or ``'channels_last'``.
        require_flatten: whether the model ends in its classifier (``include_top=True``).
        weights: ``None``, ``'imagenet'`` (3 channels, and the default shape with the top), or a path.

    Returns:
        A shape tuple without the batch axis (may hold ``None`` sizes).
    """
    default_shape = _default_shape(input_shape, default_size, data_format, weights)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                             "should be " + str(default_shape) + ".")
        return default_shape
    if input_shape:
        _check_given_shape(input_shape, min_size, data_format, weights)
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if data_format == "channels_first" else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. Got "
                         "`input_shape=" + str(input_shape) + "`")
    return input_shape
