"""Generic helpers of Keras 2.3.1's ``keras.utils.generic_utils`` that several packages share (layer names,
configs), kept below both ``layers/`` and ``initializers`` so that neither imports the other for them."""
from __future__ import annotations

import re


def to_snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``LeakyReLU`` -> ``leaky_re_lu`` (Keras generic_utils)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def serialize_keras_object(obj):
    """An initializer/regularizer/constraint as Keras 2.3.1 ``serialize`` writes it into a layer config."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "__name__", repr(obj))


def deserialize_keras_object(config: dict, module_objects: dict, custom_objects=None,
                             printable_module_name: str = "object"):
    """The object a ``{'class_name': ..., 'config': {...}}`` dict names (Keras 2.3.1 ``deserialize_keras_object``):
    looked up in ``custom_objects``, then the registered custom objects, then ``module_objects``, and called with
    the config."""
    name = config["class_name"]
    factory = {**module_objects, **get_custom_objects(), **dict(custom_objects or {})}.get(name)
    if factory is None:
        raise ValueError(f"Unknown {printable_module_name}: {name}. A custom {printable_module_name} must be passed "
                         f"by name: custom_objects={{'{name}': {name}}}.")
    return factory(**dict(config.get("config") or {}))


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
