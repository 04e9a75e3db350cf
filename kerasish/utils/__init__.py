"""Keras utilities: ``to_categorical``, ``normalize``, ``Sequence``, ``Progbar``."""
from kerasish.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, get_file
from kerasish.utils.generic_utils import CustomObjectScope, custom_object_scope, get_custom_objects
from kerasish.utils.np_utils import normalize, to_categorical
from kerasish.utils.sequence import Sequence

# The rest of Keras 2.3.1's keras.utils: its submodules np_utils, generic_utils, io_utils, conv_utils, layer_utils,
# vis_utils, multi_gpu_utils, and the names it imports from them.
from kerasish.utils import generic_utils, io_utils, np_utils
from kerasish.utils.generic_utils import Progbar, deserialize_keras_object, serialize_keras_object
from kerasish.utils.io_utils import H5Dict, HDF5Matrix

# Names from modules that import layers or models, which import this package: loaded when first asked for, so
# that importing kerasish.layers (which reads kerasish.utils.generic_utils) never waits on itself.
_LAZY_NAMES = {"convert_all_kernels_in_model": "layer_utils", "get_source_inputs": "layer_utils",
               "print_summary": "layer_utils", "model_to_dot": "vis_utils", "plot_model": "vis_utils",
               "multi_gpu_model": "multi_gpu_utils"}
_LAZY_MODULES = ("conv_utils", "layer_utils", "vis_utils", "multi_gpu_utils")


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'kerasish.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES) | set(_LAZY_MODULES))
