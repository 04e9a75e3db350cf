"""Keras 1 argument names accepted by Keras 2 layers and methods, converted as Keras 2.3.1
``keras/legacy/interfaces.py`` does (``keras.legacy.interfaces`` re-exports this module's Keras names).

Keras 2 decorates constructors and a few methods with ``generate_legacy_interface(...)``: a list of renames
(``nb_filter`` -> ``filters``), value renames (``dim_ordering='tf'`` -> ``'channels_last'``), an optional
preprocessor for arguments that change shape (``nb_row``/``nb_col`` -> ``kernel_size``) and a limit on
positional arguments. Whatever it converts, it reports in one warning that spells the Keras 2 call:

    Update your `Conv1D` call to the Keras 2 API: `Conv1D(filters=4, kernel_size=3, padding="same")`

Here one ``LegacyInterface`` holds those tables as data and, called on a function, wraps it as Keras's decorator
does. Preprocessors keep Keras's convention: ``args`` starts with the instance (``self``).

Where the interfaces apply: ``DECORATED`` names each kerasish constructor or method that Keras 2.3.1 decorates,
and ``install`` (called by ``Layer.__init_subclass__`` for every layer and model class) wraps the ones a class
defines. So the conversion lives in this one table, not in each constructor, and it runs before the
constructor's own signature sees the arguments (``Dense(output_dim=10)`` has no ``units`` otherwise). A subclass
of yours that calls ``super().__init__(**kwargs)`` gets the conversion with its own name in the warning, as in
Keras.
"""
from __future__ import annotations

import dataclasses
import functools
import warnings
from typing import Callable, Mapping

import numpy as np

_DIM_ORDERING = {"dim_ordering": {"tf": "channels_last", "th": "channels_first", "default": None}}


@dataclasses.dataclass(frozen=True, eq=False)
class LegacyInterface:
    """One Keras 2.3.1 ``generate_legacy_interface(...)``; call it on a function to get the converting wrapper.

    ``allowed_positional``: names of the positional arguments after ``self`` (None: no limit); ``conversions``:
    ``(Keras 1 name, Keras 2 name)`` pairs applied in order; ``value_conversions``: ``{Keras 1 name: {old value:
    new value}}``; ``preprocessor``: ``(args, kwargs) -> (args, kwargs, converted)``; ``object_type``: ``'class'``
    (the warning names the instance's class), anything else (``'method'``) names the function."""

    allowed_positional: tuple[str, ...] | None = None
    conversions: tuple[tuple[str, str], ...] = ()
    value_conversions: Mapping = dataclasses.field(default_factory=dict)
    preprocessor: Callable | None = None
    object_type: str = "class"

    def __call__(self, func: Callable) -> Callable:
        interface = self

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            object_name = _class_name(args[0]) if interface.object_type == "class" else func.__name__
            converted = []
            if interface.preprocessor is not None:
                # called from here so that its warnings' stacklevel=3 points at the caller, as in Keras
                args, kwargs, converted = interface.preprocessor(args, kwargs)
            interface._check_positional(object_name, args)
            converted = list(converted) + interface._rename(kwargs)
            if converted:
                warnings.warn(f"Update your `{object_name}` call to the Keras 2 API: "
                              f"{keras2_signature(object_name, args[1:], kwargs)}", stacklevel=2)
            return func(*args, **kwargs)

        wrapper._original_function = func  # Keras 2.3.1's attribute
        return wrapper

    def _check_positional(self, object_name: str, args) -> None:
        if self.allowed_positional is not None and len(args) > len(self.allowed_positional) + 1:
            raise TypeError(f"`{object_name}` can accept only {len(self.allowed_positional)} positional arguments "
                            f"{tuple(self.allowed_positional)}, but you passed the following positional arguments: "
                            f"{list(args[1:])}")

    def _rename(self, kwargs: dict) -> list:
        """Applies the value conversions, then the renames, to ``kwargs`` in place; the renames done."""
        for name, table in self.value_conversions.items():
            if name in kwargs and _hashable(kwargs[name]) and kwargs[name] in table:
                kwargs[name] = table[kwargs[name]]
        converted = []
        for old_name, new_name in self.conversions:
            if old_name in kwargs:
                value = kwargs.pop(old_name)
                if new_name in kwargs:
                    raise_duplicate_arg_error(old_name, new_name)
                kwargs[new_name] = value  # appended last: Keras's warning lists it there
                converted.append((new_name, old_name))
        return converted


def generate_legacy_interface(allowed_positional_args=None, conversions=None, preprocessor=None,
                              value_conversions=None, object_type="class") -> LegacyInterface:
    """Keras 2.3.1 ``generate_legacy_interface``: a decorator that converts Keras 1 arguments of the function
    it wraps (a constructor with ``object_type='class'``, a method with ``'method'``)."""
    return LegacyInterface(
        allowed_positional=None if allowed_positional_args is None else tuple(allowed_positional_args),
        conversions=tuple(tuple(pair) for pair in conversions or ()),
        value_conversions=dict(value_conversions or {}), preprocessor=preprocessor, object_type=object_type)


generate_legacy_method_interface = functools.partial(generate_legacy_interface, object_type="method")


def raise_duplicate_arg_error(old_arg, new_arg):
    """Keras 2.3.1's error for a call that gives both the Keras 1 and the Keras 2 name of one argument."""
    raise TypeError(f"For the `{new_arg}` argument, the layer received both the legacy keyword argument "
                    f"`{old_arg}` and the Keras 2 keyword argument `{new_arg}`. Stick to the latter!")


def keras2_signature(object_name: str, args, kwargs: dict) -> str:
    """The call as Keras 2.3.1's warning writes it: strings in double quotes, arrays as ``array``, other values
    cut to 10 characters."""
    parts = [_short(value) for value in args] + [f"{name}={_short(value)}" for name, value in kwargs.items()]
    return f"`{object_name}({', '.join(parts)})`"


def _short(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    text = "array" if isinstance(value, np.ndarray) else str(value)
    return text[:10] + "..." if len(text) > 10 else text


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _class_name(instance) -> str:
    """The name Keras gives the instance's class (kerasish's ``Functional`` is Keras's ``Model``)."""
    return vars(type(instance)).get("_keras_class_name", type(instance).__name__)


# ---------------------------------------------------------------------------------------------- preprocessors
# Keras 2.3.1's, by behaviour: each returns (args, kwargs, [(new name, old name) ...]); args[0] is the instance.
def embedding_kwargs_preprocessor(args, kwargs):
    """Keras 1 ``Embedding(dropout=...)`` is dropped with a warning."""
    if "dropout" in kwargs:
        kwargs.pop("dropout")
        warnings.warn("The `dropout` argument is no longer support in `Embedding`. You can apply a "
                      "`keras.layers.SpatialDropout1D` layer right after the `Embedding` layer to get the same "
                      "behavior.", stacklevel=3)
    return args, kwargs, []


def _forget_bias_init(kwargs, converted) -> None:
    """Keras 1 ``forget_bias_init='one'`` is ``unit_forget_bias=True``; any other value is dropped."""
    value = kwargs.pop("forget_bias_init")
    if value == "one":
        kwargs["unit_forget_bias"] = True
        converted.append(("forget_bias_init", "unit_forget_bias"))
    else:
        warnings.warn("The `forget_bias_init` argument has been ignored. Use `unit_forget_bias=True` instead to "
                      "initialize with ones.", stacklevel=4)


def recurrent_args_preprocessor(args, kwargs):
    """``forget_bias_init``, and ``input_dim`` (+ ``input_length``) -> ``input_shape=(input_length, input_dim)``."""
    converted = []
    if "forget_bias_init" in kwargs:
        _forget_bias_init(kwargs, converted)
    if "input_dim" in kwargs:
        input_length = kwargs.pop("input_length", None)
        kwargs["input_shape"] = (input_length, kwargs.pop("input_dim"))
        converted.append(("input_dim", "input_shape"))
        warnings.warn("The `input_dim` and `input_length` arguments in recurrent layers are deprecated. Use "
                      "`input_shape` instead.", stacklevel=3)
    return args, kwargs, converted


def conv1d_args_preprocessor(args, kwargs):
    """``input_dim`` (+ ``input_length``) -> ``input_shape=(input_length, input_dim)``."""
    converted = []
    if "input_dim" in kwargs:
        length = kwargs.pop("input_length", None)
        kwargs["input_shape"] = (length, kwargs.pop("input_dim"))
        converted.append(("input_shape", "input_dim"))
    return args, kwargs, converted


def _refuse_int_strides(kwargs) -> None:
    """Keras 2.3.1: ``Conv2D(f, 3, 3, padding=...)`` could mean kernel 3 and strides 3; it refuses to guess."""
    if any(name in kwargs for name in ("padding", "strides", "data_format")):
        raise ValueError("It seems that you are using the Keras 2 and you are passing both `kernel_size` and "
                         "`strides` as integer positional arguments. For safety reasons, this is disallowed. Pass "
                         "`strides` as a keyword argument instead.")


def conv2d_args_preprocessor(args, kwargs):
    """Keras 1 ``nb_row``, ``nb_col`` (positional or keywords) -> ``kernel_size=(nb_row, nb_col)``."""
    converted = [("kernel_size", "nb_row/nb_col")]
    if len(args) > 4:
        raise TypeError("Layer can receive at most 3 positional arguments.")
    if len(args) == 4:
        if isinstance(args[2], int) and isinstance(args[3], int):
            _refuse_int_strides(kwargs)
            return [args[0], args[1], (args[2], args[3])], kwargs, converted
    elif len(args) == 3 and isinstance(args[2], int):
        if "nb_col" in kwargs:
            return [args[0], args[1], (args[2], kwargs.pop("nb_col"))], kwargs, converted
    elif len(args) in (1, 2) and "nb_row" in kwargs and "nb_col" in kwargs:
        kernel_size = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
        if len(args) == 2:
            return [args[0], args[1], kernel_size], kwargs, converted
        kwargs["kernel_size"] = kernel_size
        return args, kwargs, converted
    return args, kwargs, []


def separable_conv2d_args_preprocessor(args, kwargs):
    """``init`` initializes both the depthwise and the pointwise kernel; then ``conv2d_args_preprocessor``."""
    converted = []
    if "init" in kwargs:
        init = kwargs.pop("init")
        kwargs["depthwise_initializer"] = init
        kwargs["pointwise_initializer"] = init
        converted.append(("init", "depthwise_initializer/pointwise_initializer"))
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs)
    return args, kwargs, converted + more


def deconv2d_args_preprocessor(args, kwargs):
    """Keras 1 ``Deconvolution2D``'s ``output_shape`` (5th positional tuple or keyword) is dropped; then
    ``conv2d_args_preprocessor``."""
    converted = []
    if len(args) == 5 and isinstance(args[4], tuple):
        args = args[:-1]
        converted.append(("output_shape", None))
    if "output_shape" in kwargs:
        kwargs.pop("output_shape")
        converted.append(("output_shape", None))
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs)
    return args, kwargs, converted + more


def conv3d_args_preprocessor(args, kwargs):
    """Keras 1 ``kernel_dim1/2/3`` (positional or keywords) -> ``kernel_size``."""
    converted = []
    if len(args) > 5:
        raise TypeError("Layer can receive at most 4 positional arguments.")
    dims = ("kernel_dim1", "kernel_dim2", "kernel_dim3")
    if len(args) == 5:
        if all(isinstance(x, int) for x in args[2:5]):
            args = [args[0], args[1], tuple(args[2:5])]
            converted.append(("kernel_size", "kernel_dim*"))
    elif len(args) == 4 and isinstance(args[3], int):
        if isinstance(args[2], int):
            _refuse_int_strides(kwargs)
        if "kernel_dim3" in kwargs:
            args = [args[0], args[1], (args[2], args[3], kwargs.pop("kernel_dim3"))]
            converted.append(("kernel_size", "kernel_dim*"))
    elif len(args) == 3:
        if all(name in kwargs for name in dims[1:]):
            args = [args[0], args[1], (args[2], kwargs.pop("kernel_dim2"), kwargs.pop("kernel_dim3"))]
            converted.append(("kernel_size", "kernel_dim*"))
    elif len(args) in (1, 2) and all(name in kwargs for name in dims):
        kernel_size = tuple(kwargs.pop(name) for name in dims)
        if len(args) == 2:
            args = [args[0], args[1], kernel_size]
            converted.append(("kernel_size", "kernel_dim*"))
        else:
            kwargs["kernel_size"] = kernel_size
            converted.append(("kernel_size", "nb_row/nb_col"))  # sic, Keras 2.3.1
    return args, kwargs, converted


def batchnorm_args_preprocessor(args, kwargs):
    """No positional arguments; Keras 1 ``mode=0`` is dropped, ``mode=1``/``2`` refused."""
    converted = []
    if len(args) > 1:
        raise TypeError("The `BatchNormalization` layer does not accept positional arguments. Use keyword "
                        "arguments instead.")
    if "mode" in kwargs:
        if kwargs.pop("mode") != 0:
            raise TypeError("The `mode` argument of `BatchNormalization` no longer exists. `mode=1` and `mode=2` "
                            "are no longer supported.")
        converted.append(("mode", None))
    return args, kwargs, converted


def convlstm2d_args_preprocessor(args, kwargs):
    """``forget_bias_init``, then ``conv2d_args_preprocessor``."""
    converted = []
    if "forget_bias_init" in kwargs:
        _forget_bias_init(kwargs, converted)
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs)
    return args, kwargs, converted + more


_ZERO_PADDING_KEYS = {"top_pad", "bottom_pad", "left_pad", "right_pad"}


def _pads(padding: dict) -> tuple:
    return ((padding.get("top_pad", 0), padding.get("bottom_pad", 0)),
            (padding.get("left_pad", 0), padding.get("right_pad", 0)))


def zeropadding2d_args_preprocessor(args, kwargs):
    """Keras 1 ``padding={'top_pad': ..., ...}`` -> ``((top, bottom), (left, right))``, with Keras's warnings
    (their wording kept, missing space included)."""
    if isinstance(kwargs.get("padding"), dict):
        if set(kwargs["padding"]) <= _ZERO_PADDING_KEYS:
            kwargs["padding"] = _pads(kwargs["padding"])
            warnings.warn("The `padding` argument in the Keras 2 API no longeraccepts dict types. You can now input "
                          "argument as: `padding=(top_pad, bottom_pad, left_pad, right_pad)`.", stacklevel=3)
    elif len(args) == 2 and isinstance(args[1], dict):
        if set(args[1]) <= _ZERO_PADDING_KEYS:
            args = (args[0], _pads(args[1]))
            warnings.warn("The `padding` argument in the Keras 2 API no longeraccepts dict types. You can now input "
                          "argument as: `padding=((top_pad, bottom_pad), (left_pad, right_pad))`", stacklevel=3)
    return args, kwargs, []


_KERAS1_GENERATOR_ARGS = {"samples_per_epoch", "val_samples", "nb_epoch", "nb_val_samples", "nb_worker"}


def generator_methods_args_preprocessor(args, kwargs):
    """``samples_per_epoch`` -> ``steps_per_epoch``, divided by the generator's ``batch_size`` where it has one;
    Keras's warning that the other counts changed meaning (they are renamed, not divided)."""
    converted = []
    if len(args) < 3 and "samples_per_epoch" in kwargs:
        samples = kwargs.pop("samples_per_epoch")
        generator = args[1] if len(args) > 1 else kwargs.get("generator")
        kwargs["steps_per_epoch"] = samples // generator.batch_size if hasattr(generator, "batch_size") else samples
        converted.append(("samples_per_epoch", "steps_per_epoch"))
    if _KERAS1_GENERATOR_ARGS & set(kwargs):
        warnings.warn("The semantics of the Keras 2 argument `steps_per_epoch` is not the same as the Keras 1 "
                      "argument `samples_per_epoch`. `steps_per_epoch` is the number of batches to draw from the "
                      "generator at each epoch. Basically steps_per_epoch = samples_per_epoch/batch_size. Similarly "
                      "`nb_val_samples`->`validation_steps` and `val_samples`->`steps` arguments have changed. "
                      "Update your method calls accordingly.", stacklevel=3)
    return args, kwargs, converted


def add_weight_args_preprocessing(args, kwargs):
    """Keras 1 ``add_weight(shape, initializer, name, ...)``: a leading tuple/list is the shape, a string after
    it the name."""
    if len(args) > 1 and isinstance(args[1], (tuple, list)):
        kwargs["shape"] = args[1]
        args = (args[0],) + tuple(args[2:])
        if len(args) > 1 and isinstance(args[1], str):
            kwargs["name"] = args[1]
            args = (args[0],) + tuple(args[2:])
    return args, kwargs, []


def get_updates_arg_preprocessing(args, kwargs):
    """Keras 1 ``get_updates(params, constraints, loss)`` -> Keras 2 ``get_updates(loss=..., params=...)``
    (the constraints are dropped: Keras 2 applies them elsewhere)."""
    if len(args) > 4:
        raise TypeError("`get_update` call received more arguments than expected.")
    if len(args) == 4:
        optimizer, params, _, loss = args
        kwargs["loss"] = loss
        kwargs["params"] = params
        return [optimizer], kwargs, []
    if len(args) == 3 and isinstance(args[1], (list, tuple)):
        # Keras 2.3.1 asserts these; here the error says what the Keras 1 call looks like
        if not isinstance(args[2], dict) or "loss" not in kwargs:
            raise TypeError("get_updates: a Keras 1 call passes (params, constraints, loss) with constraints a dict "
                            f"and loss by keyword when not positional; received {list(args[1:])} and keywords "
                            f"{sorted(kwargs)}. Call get_updates(loss, params).")
        kwargs["params"] = args[1]
        return [args[0]], kwargs, []
    return args, kwargs, []


# ---------------------------------------------------------------------------------------------- the interfaces
_WEIGHTS = (("init", "kernel_initializer"), ("W_regularizer", "kernel_regularizer"),
            ("b_regularizer", "bias_regularizer"), ("W_constraint", "kernel_constraint"),
            ("b_constraint", "bias_constraint"), ("bias", "use_bias"))

legacy_dense_support = generate_legacy_interface(
    allowed_positional_args=["units"], conversions=(("output_dim", "units"),) + _WEIGHTS)

legacy_dropout_support = generate_legacy_interface(
    allowed_positional_args=["rate", "noise_shape", "seed"], conversions=[("p", "rate")])

legacy_embedding_support = generate_legacy_interface(
    allowed_positional_args=["input_dim", "output_dim"],
    conversions=[("init", "embeddings_initializer"), ("W_regularizer", "embeddings_regularizer"),
                 ("W_constraint", "embeddings_constraint")],
    preprocessor=embedding_kwargs_preprocessor)

legacy_pooling1d_support = generate_legacy_interface(
    allowed_positional_args=["pool_size", "strides", "padding"],
    conversions=[("pool_length", "pool_size"), ("stride", "strides"), ("border_mode", "padding")])

legacy_prelu_support = generate_legacy_interface(
    allowed_positional_args=["alpha_initializer"], conversions=[("init", "alpha_initializer")])

legacy_gaussiannoise_support = generate_legacy_interface(
    allowed_positional_args=["stddev"], conversions=[("sigma", "stddev")])

legacy_recurrent_support = generate_legacy_interface(
    allowed_positional_args=["units"],
    conversions=[("output_dim", "units"), ("init", "kernel_initializer"), ("inner_init", "recurrent_initializer"),
                 ("inner_activation", "recurrent_activation"), ("W_regularizer", "kernel_regularizer"),
                 ("b_regularizer", "bias_regularizer"), ("U_regularizer", "recurrent_regularizer"),
                 ("dropout_W", "dropout"), ("dropout_U", "recurrent_dropout"), ("consume_less", "implementation")],
    value_conversions={"consume_less": {"cpu": 0, "mem": 1, "gpu": 2}},
    preprocessor=recurrent_args_preprocessor)

legacy_gaussiandropout_support = generate_legacy_interface(
    allowed_positional_args=["rate"], conversions=[("p", "rate")])

legacy_pooling2d_support = generate_legacy_interface(
    allowed_positional_args=["pool_size", "strides", "padding"],
    conversions=[("border_mode", "padding"), ("dim_ordering", "data_format")], value_conversions=_DIM_ORDERING)

legacy_pooling3d_support = generate_legacy_interface(
    allowed_positional_args=["pool_size", "strides", "padding"],
    conversions=[("border_mode", "padding"), ("dim_ordering", "data_format")], value_conversions=_DIM_ORDERING)

legacy_global_pooling_support = generate_legacy_interface(
    conversions=[("dim_ordering", "data_format")], value_conversions=_DIM_ORDERING)

legacy_upsampling1d_support = generate_legacy_interface(
    allowed_positional_args=["size"], conversions=[("length", "size")])

legacy_upsampling2d_support = generate_legacy_interface(
    allowed_positional_args=["size"], conversions=[("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)

legacy_upsampling3d_support = generate_legacy_interface(
    allowed_positional_args=["size"], conversions=[("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)

legacy_conv1d_support = generate_legacy_interface(
    allowed_positional_args=["filters", "kernel_size"],
    conversions=(("nb_filter", "filters"), ("filter_length", "kernel_size"), ("subsample_length", "strides"),
                 ("border_mode", "padding")) + _WEIGHTS,
    preprocessor=conv1d_args_preprocessor)

_CONV_ND = (("nb_filter", "filters"), ("subsample", "strides"), ("border_mode", "padding"),
            ("dim_ordering", "data_format"))

legacy_conv2d_support = generate_legacy_interface(
    allowed_positional_args=["filters", "kernel_size"], conversions=_CONV_ND + _WEIGHTS,
    value_conversions=_DIM_ORDERING, preprocessor=conv2d_args_preprocessor)

legacy_separable_conv2d_support = generate_legacy_interface(
    allowed_positional_args=["filters", "kernel_size"],
    conversions=_CONV_ND + (("b_regularizer", "bias_regularizer"), ("b_constraint", "bias_constraint"),
                            ("bias", "use_bias")),
    value_conversions=_DIM_ORDERING, preprocessor=separable_conv2d_args_preprocessor)

legacy_deconv2d_support = generate_legacy_interface(
    allowed_positional_args=["filters", "kernel_size"], conversions=_CONV_ND + _WEIGHTS,
    value_conversions=_DIM_ORDERING, preprocessor=deconv2d_args_preprocessor)

legacy_conv3d_support = generate_legacy_interface(
    allowed_positional_args=["filters", "kernel_size"], conversions=_CONV_ND + _WEIGHTS,
    value_conversions=_DIM_ORDERING, preprocessor=conv3d_args_preprocessor)

legacy_convlstm2d_support = generate_legacy_interface(
    allowed_positional_args=["filters", "kernel_size"],
    conversions=_CONV_ND + (("init", "kernel_initializer"), ("inner_init", "recurrent_initializer"),
                            ("W_regularizer", "kernel_regularizer"), ("U_regularizer", "recurrent_regularizer"),
                            ("b_regularizer", "bias_regularizer"), ("inner_activation", "recurrent_activation"),
                            ("dropout_W", "dropout"), ("dropout_U", "recurrent_dropout"), ("bias", "use_bias")),
    value_conversions=_DIM_ORDERING, preprocessor=convlstm2d_args_preprocessor)

legacy_batchnorm_support = generate_legacy_interface(
    allowed_positional_args=[], conversions=[("beta_init", "beta_initializer"), ("gamma_init", "gamma_initializer")],
    preprocessor=batchnorm_args_preprocessor)

legacy_zeropadding2d_support = generate_legacy_interface(
    allowed_positional_args=["padding"], conversions=[("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING, preprocessor=zeropadding2d_args_preprocessor)

legacy_zeropadding3d_support = generate_legacy_interface(
    allowed_positional_args=["padding"], conversions=[("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)

legacy_cropping2d_support = generate_legacy_interface(
    allowed_positional_args=["cropping"], conversions=[("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)

legacy_cropping3d_support = generate_legacy_interface(
    allowed_positional_args=["cropping"], conversions=[("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)

legacy_spatialdropout1d_support = generate_legacy_interface(
    allowed_positional_args=["rate"], conversions=[("p", "rate")])

legacy_spatialdropoutNd_support = generate_legacy_interface(
    allowed_positional_args=["rate"], conversions=[("p", "rate"), ("dim_ordering", "data_format")],
    value_conversions=_DIM_ORDERING)

legacy_lambda_support = generate_legacy_interface(allowed_positional_args=["function", "output_shape"])

legacy_generator_methods_support = generate_legacy_method_interface(
    allowed_positional_args=["generator", "steps_per_epoch", "epochs"],
    conversions=[("samples_per_epoch", "steps_per_epoch"), ("val_samples", "steps"), ("nb_epoch", "epochs"),
                 ("nb_val_samples", "validation_steps"), ("nb_worker", "workers"),
                 ("pickle_safe", "use_multiprocessing"), ("max_q_size", "max_queue_size")],
    preprocessor=generator_methods_args_preprocessor)

legacy_model_constructor_support = generate_legacy_interface(
    allowed_positional_args=None, conversions=[("input", "inputs"), ("output", "outputs")])

legacy_input_support = generate_legacy_interface(
    allowed_positional_args=None, conversions=[("input_dtype", "dtype")])

legacy_add_weight_support = generate_legacy_interface(
    allowed_positional_args=["name", "shape"], preprocessor=add_weight_args_preprocessing)

legacy_get_updates_support = generate_legacy_interface(
    allowed_positional_args=None, conversions=[], preprocessor=get_updates_arg_preprocessing)


# ---------------------------------------------------------------------------------------------- where they apply
# Keras 2.3.1's decorations (``@interfaces.legacy_*_support`` in layers/*.py, engine/*.py), by the kerasish
# function that implements each. Keras decorates private bases where kerasish's public classes have their own
# constructors (_GlobalPooling2D/3D), and the Keras 1 Deconvolution2D is Conv2DTranspose.
_LAYERS = "kerasish.layers."
DECORATED = {
    _LAYERS + "core.Dense.__init__": legacy_dense_support,
    _LAYERS + "core.Dropout.__init__": legacy_dropout_support,
    _LAYERS + "core.SpatialDropout1D.__init__": legacy_spatialdropout1d_support,
    _LAYERS + "core.SpatialDropout2D.__init__": legacy_spatialdropoutNd_support,
    _LAYERS + "core.SpatialDropout3D.__init__": legacy_spatialdropoutNd_support,
    _LAYERS + "core.Lambda.__init__": legacy_lambda_support,
    _LAYERS + "embeddings.Embedding.__init__": legacy_embedding_support,
    _LAYERS + "advanced_activations.PReLU.__init__": legacy_prelu_support,
    _LAYERS + "noise.GaussianNoise.__init__": legacy_gaussiannoise_support,
    _LAYERS + "noise.GaussianDropout.__init__": legacy_gaussiandropout_support,
    _LAYERS + "normalization.BatchNormalization.__init__": legacy_batchnorm_support,
    _LAYERS + "pooling.MaxPooling1D.__init__": legacy_pooling1d_support,
    _LAYERS + "pooling.AveragePooling1D.__init__": legacy_pooling1d_support,
    _LAYERS + "pooling.MaxPooling2D.__init__": legacy_pooling2d_support,
    _LAYERS + "pooling.AveragePooling2D.__init__": legacy_pooling2d_support,
    _LAYERS + "pooling.MaxPooling3D.__init__": legacy_pooling3d_support,
    _LAYERS + "pooling.AveragePooling3D.__init__": legacy_pooling3d_support,
    _LAYERS + "pooling.GlobalMaxPooling2D.__init__": legacy_global_pooling_support,
    _LAYERS + "pooling.GlobalAveragePooling2D.__init__": legacy_global_pooling_support,
    _LAYERS + "pooling.GlobalMaxPooling3D.__init__": legacy_global_pooling_support,
    _LAYERS + "pooling.GlobalAveragePooling3D.__init__": legacy_global_pooling_support,
    _LAYERS + "recurrent.SimpleRNN.__init__": legacy_recurrent_support,
    _LAYERS + "recurrent.GRU.__init__": legacy_recurrent_support,
    _LAYERS + "recurrent.LSTM.__init__": legacy_recurrent_support,
    _LAYERS + "convolutional_recurrent.ConvLSTM2D.__init__": legacy_convlstm2d_support,
    _LAYERS + "convolutional.Conv1D.__init__": legacy_conv1d_support,
    _LAYERS + "convolutional.Conv2D.__init__": legacy_conv2d_support,
    _LAYERS + "convolutional.Conv3D.__init__": legacy_conv3d_support,
    _LAYERS + "convolutional.Conv2DTranspose.__init__": legacy_deconv2d_support,
    _LAYERS + "convolutional.SeparableConv2D.__init__": legacy_separable_conv2d_support,
    _LAYERS + "convolutional.UpSampling1D.__init__": legacy_upsampling1d_support,
    _LAYERS + "convolutional.UpSampling2D.__init__": legacy_upsampling2d_support,
    _LAYERS + "convolutional.UpSampling3D.__init__": legacy_upsampling3d_support,
    _LAYERS + "convolutional.ZeroPadding2D.__init__": legacy_zeropadding2d_support,
    _LAYERS + "convolutional.ZeroPadding3D.__init__": legacy_zeropadding3d_support,
    _LAYERS + "convolutional.Cropping2D.__init__": legacy_cropping2d_support,
    _LAYERS + "convolutional.Cropping3D.__init__": legacy_cropping3d_support,
    _LAYERS + "local.LocallyConnected1D.__init__": legacy_conv1d_support,
    _LAYERS + "local.LocallyConnected2D.__init__": legacy_conv2d_support,
    _LAYERS + "input_layer.InputLayer.__init__": legacy_input_support,
    "kerasish.models.functional.Functional.__init__": legacy_model_constructor_support,
    "kerasish.models.model.Model.fit_generator": legacy_generator_methods_support,
    "kerasish.models.model.Model.evaluate_generator": legacy_generator_methods_support,
    "kerasish.models.model.Model.predict_generator": legacy_generator_methods_support,
}

_BY_CLASS: dict[str, dict[str, LegacyInterface]] = {}
for _path, _interface in DECORATED.items():
    _class_path, _, _method = _path.rpartition(".")
    _BY_CLASS.setdefault(_class_path, {})[_method] = _interface


def install(cls: type) -> None:
    """Wraps the methods of ``cls`` that ``DECORATED`` names (``Layer.__init_subclass__`` calls it for each class;
    classes it does not name, yours included, are left as they are)."""
    for method, interface in _BY_CLASS.get(f"{cls.__module__}.{cls.__qualname__}", {}).items():
        if method not in vars(cls):
            raise TypeError(f"legacy_arguments.DECORATED names {cls.__qualname__}.{method}, which the class does not "
                            "define; update the table where the class moved.")
        setattr(cls, method, interface(vars(cls)[method]))
