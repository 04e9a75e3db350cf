"""Keras utilities: ``to_categorical``, ``normalize``, ``Sequence``, ``Progbar``."""
from kerasish.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, get_file
from kerasish.utils.generic_utils import CustomObjectScope, custom_object_scope, get_custom_objects
from kerasish.utils.np_utils import normalize, to_categorical
from kerasish.utils.sequence import Sequence


def __getattr__(name):
    # Progbar is imported lazily so that kerasish.utils stays importable without the callbacks package.
    if name == "Progbar":
        from kerasish.utils.progbar import Progbar
        return Progbar
    raise AttributeError(f"module 'kerasish.utils' has no attribute {name!r}")
