"""Keras 2.3.1's ``keras.utils.generic_utils``: the custom-object registry, (de)serialising objects by name and
config, signature checks (``has_arg``), the small list helpers Keras code leans on, and ``Progbar``.

Kept below ``layers/``, ``initializers`` and the rest, which all import it: nothing here imports a model or a
layer.

Keras's ``func_dump``/``func_load`` store a Python function as marshalled bytecode (Lambda layers in Keras
files). ``func_dump`` writes that format; ``func_load`` refuses it: kerasish never runs code that came from data
(a file can carry any bytecode, and bytecode is tied to the Python version that wrote it). A function is passed
by name instead (``custom_objects={'name': fn}``).
"""
from __future__ import annotations

import base64
import inspect
import marshal
import re
from collections import namedtuple

from kerasish.utils import progbar as _progbar
from kerasish.utils.validation import did_you_mean

Progbar = _progbar.Progbar  # Keras 2.3.1 defines Progbar in generic_utils


def to_snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``LeakyReLU`` -> ``leaky_re_lu`` (Keras generic_utils)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def serialize_keras_object(instance):
    """An object as Keras 2.3.1 writes it into a config: ``{'class_name': ..., 'config': get_config()}`` for an
    object with ``get_config``, its ``__name__`` for a function; ``None`` and plain values as they are."""
    if instance is None or isinstance(instance, (str, int, float, bool)):
        return instance
    if hasattr(instance, "get_config"):
        return {"class_name": type(instance).__name__, "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return instance.__name__
    # Keras 2.3.1: ValueError('Cannot serialize', instance)
    raise ValueError(f"Cannot serialize {instance!r}: it has neither get_config() nor a __name__; give it a "
                     "get_config() method, or use a named function.")


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name: str = "object"):
    """The object ``identifier`` names (Keras 2.3.1 ``deserialize_keras_object``).

    A ``{'class_name': ..., 'config': {...}}`` dict: the class is looked up in ``custom_objects``, then the
    global registry (``get_custom_objects``), then ``module_objects``; it is built with ``from_config(config)``
    (given ``custom_objects=`` when it takes them), or called with the config as keyword arguments. A string:
    the object of that name, looked up in the same order. ``None`` gives ``None``.
    """
    if identifier is None:
        return None
    module_objects = module_objects or {}
    custom_objects = dict(custom_objects or {})
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format: {identifier}. Expected {{'class_name': ..., "
                             "'config': {...}}.")
        cls = _lookup(identifier["class_name"], module_objects, custom_objects, printable_module_name)
        config = identifier["config"]
        if hasattr(cls, "from_config"):
            if has_arg(cls.from_config, "custom_objects"):
                return cls.from_config(config, custom_objects={**_GLOBAL_CUSTOM_OBJECTS, **custom_objects})
            with CustomObjectScope(custom_objects):
                return cls.from_config(config)
        # a function that returns the object: by convention the config holds its keyword arguments
        with CustomObjectScope(custom_objects):
            return cls(**config)
    if isinstance(identifier, str):
        return _lookup(identifier, module_objects, custom_objects, printable_module_name)
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r}. Expected a name "
                     "or a {'class_name': ..., 'config': {...}} dict.")


def _lookup(name: str, module_objects: dict, custom_objects: dict, printable_module_name: str):
    for objects in (custom_objects, _GLOBAL_CUSTOM_OBJECTS, module_objects):
        if name in objects:
            return objects[name]
    # Keras 2.3.1 wording, plus the remedy
    known = [key for objects in (custom_objects, _GLOBAL_CUSTOM_OBJECTS, module_objects) for key in objects]
    raise ValueError(f"Unknown {printable_module_name}: {name}.{did_you_mean(name, known)} A custom "
                     f"{printable_module_name} must be passed by name: custom_objects={{'{name}': {name}}}.")


def keras_class_name(obj) -> str:
    """The class name Keras writes in configs and prints in summaries. A class may declare its Keras name in
    its own body (``_keras_class_name``: ``Functional`` is Keras's ``Model``); its subclasses go by theirs."""
    return type(obj).__dict__.get("_keras_class_name", type(obj).__name__)


# ---------------------------------------------------------------------------------------------- custom objects
_GLOBAL_CUSTOM_OBJECTS: dict = {}


def get_custom_objects() -> dict:
    """The global registry of custom classes and functions that loading resolves names with (Keras 2.3.1): add
    to it directly, ``get_custom_objects()['MyLayer'] = MyLayer``, or for a while with ``custom_object_scope``."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """``with CustomObjectScope({'MyLayer': MyLayer}): load_model(path)``: the objects are known by name inside
    the block (nested scopes add to the outer ones), and the registry is as it was after it."""

    def __init__(self, *scopes: dict):
        for scope in scopes:
            if not isinstance(scope, dict):
                raise TypeError(f"CustomObjectScope: each argument must be a dict of name -> object; received "
                                f"{type(scope).__name__}.")
        self.custom_objects = scopes
        self._backup: dict | None = None

    def __enter__(self):
        self._backup = dict(_GLOBAL_CUSTOM_OBJECTS)
        for scope in self.custom_objects:
            _GLOBAL_CUSTOM_OBJECTS.update(scope)
        return self

    def __exit__(self, *exc_info):
        _GLOBAL_CUSTOM_OBJECTS.clear()
        _GLOBAL_CUSTOM_OBJECTS.update(self._backup)


def custom_object_scope(*scopes: dict) -> CustomObjectScope:
    """Keras 2.3.1 ``custom_object_scope``: ``CustomObjectScope(*scopes)``, for ``with`` blocks."""
    return CustomObjectScope(*scopes)


# ---------------------------------------------------------------------------------------------- functions
def func_dump(func) -> tuple:
    """``(code, defaults, closure)`` of a Python function as Keras 2.3.1 stores a Lambda's function: its
    bytecode marshalled and base64-encoded (76-character lines), its defaults, and its closure's values.
    Loading it back is refused (``func_load``); this exists to write files Keras reads."""
    code = base64.encodebytes(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(cell.cell_contents for cell in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """Keras 2.3.1 unmarshals and runs bytecode here; kerasish refuses: code in data is never executed."""
    what = "a func_dump tuple" if isinstance(code, (tuple, list)) else f"{type(code).__name__} bytecode"
    raise ValueError(f"func_load: refusing to load a Python function from marshalled bytecode ({what}). "
                     "kerasish never runs code that came from data: a file can carry any bytecode, and bytecode "
                     "only loads in the Python version that wrote it. Pass the function itself instead, by the "
                     "name it was saved under, e.g. load_model(path, custom_objects={'my_function': "
                     "my_function}), or build the layer again in code.")


ArgSpec = namedtuple("ArgSpec", ["args", "varargs", "keywords", "defaults"])


def getargspec(fn) -> ArgSpec:
    """Keras 2.3.1 ``getargspec``: ``inspect.getfullargspec`` in the old ``ArgSpec`` shape, ``varkw`` named
    ``keywords``."""
    spec = inspect.getfullargspec(fn)
    return ArgSpec(args=spec.args, varargs=spec.varargs, keywords=spec.varkw, defaults=spec.defaults)


def has_arg(fn, name: str, accept_all: bool = False) -> bool:
    """Whether ``fn`` can be called with ``name=`` as a keyword (positional-only parameters cannot). With
    ``accept_all``, a ``**kwargs`` parameter accepts any name (Keras 2.3.1)."""
    parameters = inspect.signature(fn).parameters
    parameter = parameters.get(name)
    if parameter is None:
        return accept_all and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


# ---------------------------------------------------------------------------------------------- lists
def to_list(x, allow_tuple: bool = False) -> list:
    """A list as it is; a tuple as a list when ``allow_tuple``; anything else (a tuple too, by default) as
    ``[x]``."""
    if isinstance(x, list):
        return x
    if allow_tuple and isinstance(x, tuple):
        return list(x)
    return [x]


def unpack_singleton(x):
    """``x[0]`` when ``x`` has one element, else ``x``."""
    return x[0] if len(x) == 1 else x


def object_list_uid(object_list) -> str:
    """``'id1, id2, ...'``: the ids of the objects, a key for a list of tensors (Keras 2.3.1)."""
    return ", ".join(str(abs(id(x))) for x in to_list(object_list))


def is_all_none(iterable_or_element) -> bool:
    return all(element is None for element in to_list(iterable_or_element, allow_tuple=True))


def slice_arrays(arrays, start=None, stop=None):
    """``arrays[start:stop]``, or that of each array of a list (``None`` entries stay ``None``). ``start`` may
    be a list or array of indices instead (``stop`` then unused); h5py datasets take lists, so arrays of
    indices become lists. ``None`` gives ``[None]`` (Keras 2.3.1)."""
    if arrays is None:
        return [None]
    if hasattr(start, "__len__"):
        indices = start.tolist() if hasattr(start, "shape") else start
        if isinstance(arrays, list):
            return [None if x is None else x[indices] for x in arrays]
        return arrays[indices]
    if isinstance(arrays, list):
        return [None if x is None else x[start:stop] for x in arrays]
    # Keras 2.3.1's code returns [None] here when start is an int, against its own docstring; the documented
    # arrays[start:stop] is what callers expect
    return arrays[start:stop]


def transpose_shape(shape, target_format: str, spatial_axes):
    """A channels_last ``shape`` (tuple or list) in ``target_format``: for ``'channels_first'`` the channel axis
    moves before the ``spatial_axes`` (``(16, 128, 128, 32)``, axes ``(1, 2)`` -> ``(16, 32, 128, 128)``)."""
    if target_format == "channels_first":
        moved = tuple(shape[:spatial_axes[0]]) + (shape[-1],) + tuple(shape[axis] for axis in spatial_axes)
        return list(moved) if isinstance(shape, list) else moved
    if target_format == "channels_last":
        return shape
    raise ValueError('The `data_format` argument must be one of "channels_first", "channels_last". Received: '
                     f"{target_format}")


def check_for_unexpected_keys(name: str, input_dict: dict, expected_values) -> None:
    unknown = set(input_dict.keys()).difference(expected_values)
    if unknown:
        raise ValueError(f"Unknown entries in {name} dictionary: {list(unknown)}. Only expected following keys: "
                         f"{expected_values}")
