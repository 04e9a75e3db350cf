"""Names of Keras 2.3.1's backend that only make sense for TensorFlow's graphs and sessions.

Where eager PyTorch already behaves as the name asks (ops run in program order, variables exist initialised
once created, there is no graph to enter), the function is a harmless no-op so that Keras code keeps working.
Where nothing corresponds (a ``tf.Session``, a ``tf.Graph``), it raises and says what to use instead.
"""
from __future__ import annotations

import contextlib

from kerasish.backend.config import image_data_format, set_image_data_format

_NO_SESSION = ("kerasish runs Keras on PyTorch, which has no TensorFlow session or graph: operations run eagerly "
               "when called.")


def backend() -> str:
    """The name of the backend: ``'torch'``."""
    return "torch"


def symbolic(func):
    """Keras 2.3.1's decorator for entering the Keras graph under TF 2: nothing to enter here."""
    return func


def eager(func):
    """Keras 2.3.1's decorator for leaving the Keras graph under TF 2: everything is eager here."""
    return func


def name_scope(name):
    """``with K.name_scope('block'):`` -- torch ops have no names to prefix; the block just runs."""
    return contextlib.nullcontext(name)


def control_dependencies(control_inputs):
    """``with K.control_dependencies([op]):`` -- eager ops have already run, in program order."""
    return contextlib.nullcontext()


def manual_variable_initialization(value) -> None:
    """Accepted and ignored: a kerasish variable holds its initial value as soon as it is created."""


def get_session():
    raise RuntimeError(f"get_session: {_NO_SESSION} To pick the device use K.set_device('cuda:0') (or the "
                       "KERASISH_DEVICE environment variable); to evaluate a tensor use K.eval(x) or K.get_value(x).")


def set_session(session):
    raise RuntimeError(f"set_session: {_NO_SESSION} The settings a session's ConfigProto carries have PyTorch "
                       "counterparts: K.set_device('cuda:0') for the device, torch.set_num_threads(n) for CPU "
                       "threads, and torch.cuda.set_per_process_memory_fraction(f) to cap GPU memory (PyTorch "
                       "allocates on demand, as allow_growth does).")


def get_graph():
    raise RuntimeError(f"get_graph: {_NO_SESSION} To free memory and reset layer names use K.clear_session().")


def image_dim_ordering() -> str:
    """Legacy name (Keras 1): ``'tf'`` for channels_last, ``'th'`` for channels_first."""
    return "tf" if image_data_format() == "channels_last" else "th"


def set_image_dim_ordering(dim_ordering) -> None:
    """Legacy setter: ``'tf'`` -> channels_last, ``'th'`` -> channels_first."""
    if dim_ordering not in ("tf", "th"):
        raise ValueError(f"Unknown dim_ordering: {dim_ordering}")
    set_image_data_format("channels_first" if dim_ordering == "th" else "channels_last")
