"""The steps every Keras 2.3.1 application function shares around its architecture (keras-applications 1.0.8):
checking ``weights``/``classes``, making the image input (or taking ``input_tensor``), the ``pooling`` head of
``include_top=False``, building the ``Model`` from ``input_tensor``'s source inputs, and loading weights
(ImageNet files through ``get_file`` into ``~/.keras/models``, or a Keras ``.h5`` file given by path)."""
from __future__ import annotations

import os

from kerasish import layers
from kerasish.applications.imagenet_utils import _check_injection_kwargs, _obtain_input_shape
from kerasish.backend import config
from kerasish.layers.keras_tensor import is_keras_tensor
from kerasish.models import Model
from kerasish.utils.data_utils import get_file
from kerasish.utils.layer_utils import get_source_inputs


def check_arguments(weights, include_top, classes, kwargs) -> None:
    """keras-applications' checks, in its order and wording, before anything is built."""
    _check_injection_kwargs(kwargs)
    if not (weights in {"imagenet", None} or os.path.exists(weights)):
        raise ValueError("The `weights` argument should be either `None` (random initialization), `imagenet` "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, `classes` should '
                         "be 1000")


def image_input(input_tensor, input_shape):
    """The model's input: a new ``Input``, or ``input_tensor`` (wrapped in an ``Input`` when it is a plain
    tensor, as Keras does)."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def documented(top: str, default_size: int, min_size: int, model_name: str | None = None):
    """Gives an application function of the plain signature its docstring: ``top`` is what ``include_top`` adds,
    ``model_name`` the returned model's name (default: the function's name in lower case)."""
    def decorate(function):
        name = model_name or function.__name__.lower()
        function.__doc__ = f"""Instantiates the {function.__name__} architecture (Keras 2.3.1 signature).

    Arguments:
        include_top: whether to include {top} at the top.
        weights: ``None`` (random initialization), ``'imagenet'`` (Keras's pre-trained file, fetched with
            ``get_file`` into ``~/.keras/models``), or the path to a Keras weights file to load.
        input_tensor: optional Keras tensor (e.g. another model's output) to use as image input.
        input_shape: only with ``include_top=False`` (else ``({default_size}, {default_size}, 3)``); 3 channels,
            at least {min_size}x{min_size}.
        pooling: with ``include_top=False``: ``None`` (4D output), ``'avg'`` or ``'max'`` (global pooling).
        classes: number of classes, only with ``include_top=True`` and no ``weights``.

    Returns:
        A functional ``Model`` named ``'{name}'``.
    """
        return function
    return decorate


def bn_axis() -> int:
    # BatchNormalization normalises the channel axis of the configured image layout.
    return 3 if config.image_data_format() == "channels_last" else 1


def pooling_head(x, pooling, named: bool = False):
    """``include_top=False``: the last feature map, or its global average / max (any other value: the feature
    map, as in Keras). ``named``: the pooling layers are named ``avg_pool`` / ``max_pool`` (keras-applications'
    resnet_common and densenet name them; the other models leave them to automatic names)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool" if named else None)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool" if named else None)(x)
    return x


def named_pooling_head(x, include_top, pooling, classes, top_name):
    """resnet_common's and DenseNet's head: ``average_pool_top`` with its Dense named ``top_name``, or the
    ``pooling`` head with named pooling layers."""
    if include_top:
        return average_pool_top(x, classes, top_name)
    return pooling_head(x, pooling, named=True)


def build_model(name, features, top, files, *, default_size, min_size, include_top, weights, input_tensor,
                input_shape, pooling, classes, kwargs):
    """The whole frame of a plain application function, in keras-applications' order: the checks,
    ``_obtain_input_shape``, the input, ``features(img_input)`` -> the last feature map, ``top(x, classes)`` or
    the ``pooling`` head, the ``Model`` and its weights (``files`` as ``load_weights`` takes them)."""
    check_arguments(weights, include_top, classes, kwargs)
    input_shape = _obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                                      data_format=config.image_data_format(), require_flatten=include_top,
                                      weights=weights)
    img_input = image_input(input_tensor, input_shape)
    x = features(img_input)
    x = top(x, classes) if include_top else pooling_head(x, pooling)
    model = finish_model(img_input, input_tensor, x, name)
    load_weights(model, weights, include_top, files)
    return model


def average_pool_top(x, classes, name="predictions"):
    """The classifier of Xception and the Inception models (softmax ``predictions``), of resnet_common
    (``probs``) and DenseNet (``fc1000``): global average pooling ``avg_pool``, then the softmax Dense."""
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(classes, activation="softmax", name=name)(x)


def finish_model(img_input, input_tensor, outputs, name):
    # With input_tensor, the model starts at that tensor's own Input(s), so it can sit on another model.
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    return Model(inputs, outputs, name=name)


def imagenet_file(include_top, files) -> str:
    """The cached (or downloaded) ImageNet file; ``files`` maps ``include_top`` to ``(file name, URL,
    get_file keyword arguments)`` (Keras's exact names, URLs and hashes). Models that call this before
    building fail fast offline; Keras fetches after building."""
    fname, origin, hash_kwargs = files[bool(include_top)]
    return get_file(fname, origin, cache_subdir="models", **hash_kwargs)


def load_weights(model, weights, include_top, files) -> None:
    """``weights='imagenet'`` loads ``imagenet_file(include_top, files)``; a path loads that Keras ``.h5``
    file."""
    if weights == "imagenet":
        weights = imagenet_file(include_top, files)
    if weights is not None:
        model.load_weights(weights)
