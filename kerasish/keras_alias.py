"""``import keras`` answered by kerasish, for programs that ask for it: ``python -m kerasish train.py`` or
``kerasish.install_as_keras()`` before the first ``import keras``.

How the alias works
===================
One finder at the front of ``sys.meta_path`` answers every import of ``keras`` and ``keras.X.Y`` by importing
``kerasish.X.Y`` and registering *that same module object* under the Keras name: ``sys.modules['keras.layers.core']
is sys.modules['kerasish.layers.core']``, so ``isinstance`` and ``is`` work across both spellings, and a class
defined once has one identity whichever name imported it. Nothing is copied or wrapped; the map is one to one
(``keras.X.Y`` -> ``kerasish.X.Y``), so a kerasish module at a Keras path (kerasish/engine/topology.py,
kerasish/utils/np_utils.py ...) is importable through ``keras.`` as soon as it exists.

* A ``keras.X`` with no kerasish counterpart raises ``ModuleNotFoundError`` naming the Keras path and saying
  kerasish has no such module (rather than falling through to an installed Keras and mixing two libraries).
* A real Keras installed in the environment is shadowed in this process only, and kerasish says so once (a
  warning when the alias is installed). If the real one was already imported, installing the alias raises: the
  process would otherwise hold objects of both libraries.
* Importing kerasish installs nothing; the finder exists only after ``install_as_keras()``.

``keras.__version__`` is ``kerasish.__version__``: ``'2.3.1'``, the Keras release whose API and semantics
kerasish follows (scripts compare it with Keras versions); kerasish's own release is
``kerasish.__kerasish_version__``.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings

KERAS = "keras"
KERASISH = "kerasish"


def kerasish_name(keras_name: str) -> str | None:
    """``'keras.layers.core'`` -> ``'kerasish.layers.core'``; ``None`` for a name outside ``keras``."""
    if keras_name == KERAS or keras_name.startswith(KERAS + "."):
        return KERASISH + keras_name[len(KERAS):]
    return None


def attributes_from(target, module_name: str, module_globals: dict):
    """``(__getattr__, __dir__)`` for a module that is another kerasish module under a Keras name
    (``keras.objectives`` is ``keras.losses``; ``keras.backend.tensorflow_backend`` is the backend): a name it
    does not define itself is the target's own object, so each exists once."""
    def __getattr__(name):
        try:
            return getattr(target, name)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} ({target.__name__} under Keras's name) has no attribute "
                                 f"{name!r}") from None

    def __dir__():
        return sorted(set(module_globals) | {name for name in dir(target) if not name.startswith("_")})

    return __getattr__, __dir__


class KerasAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The meta path finder (and loader) that answers ``keras`` and ``keras.*`` with kerasish's modules."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = kerasish_name(fullname)
        if target_name is None:
            return None
        target_spec = _kerasish_spec(target_name)
        if target_spec is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: kerasish has no such module ({target_name!r}). In this process "
                f"`import keras` gives kerasish (python -m kerasish, kerasish.install_as_keras()), which has the "
                f"modules of Keras 2.3.1 it implements at the same paths.", name=fullname)
        return importlib.machinery.ModuleSpec(fullname, self,
                                              is_package=target_spec.submodule_search_locations is not None)

    def create_module(self, spec):
        module = importlib.import_module(kerasish_name(spec.name))
        # the import system then writes the Keras spec over the module's own (importlib's _init_module_attrs);
        # exec_module puts kerasish's back, so that kerasish.X.__spec__ keeps describing kerasish.X
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state


def _kerasish_spec(target_name: str):
    module = sys.modules.get(target_name)
    if module is not None:
        return module.__spec__
    try:
        return importlib.util.find_spec(target_name)
    except ModuleNotFoundError:  # a parent that is a module, not a package
        return None


def _installed_finder() -> KerasAliasFinder | None:
    return next((finder for finder in sys.meta_path if isinstance(finder, KerasAliasFinder)), None)


def install_as_keras() -> None:
    """Make ``import keras`` (and ``from keras.X import Y``, ``keras.X.Y``) give kerasish's modules in this
    process, from now on. Call it before the first ``import keras`` (first cell of a notebook, top of a program);
    calling it again does nothing. ``python -m kerasish script.py`` calls it before running the script."""
    if _installed_finder() is not None:
        return
    kerasish = sys.modules[KERASISH]
    imported = sys.modules.get(KERAS)
    if imported is not None and imported is not kerasish:
        raise RuntimeError(
            f"install_as_keras: Keras ({getattr(imported, '__file__', None) or repr(imported)}) is already imported in "
            f"this process, so `import keras` cannot become kerasish any more. Call kerasish.install_as_keras() "
            f"before the first `import keras`, or run the script with `python -m kerasish script.py`.")
    real_keras = importlib.util.find_spec(KERAS) if imported is None else None
    sys.meta_path.insert(0, KerasAliasFinder())
    if real_keras is not None:
        warnings.warn(f"kerasish: `import keras` gives kerasish in this process; the Keras installed at "
                      f"{real_keras.origin or real_keras.submodule_search_locations} is shadowed here only (other "
                      f"processes still import it).", stacklevel=2)
