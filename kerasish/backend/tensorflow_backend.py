"""Keras 2.3.1 ``keras.backend.tensorflow_backend``: the module ``keras.backend`` takes its functions from when
TensorFlow is the backend, which old scripts import directly (``from keras.backend.tensorflow_backend import
set_session``, ``K.tensorflow_backend._get_available_gpus()``).

Here it is kerasish's backend under that name: every backend function is ``kerasish.backend``'s own (looked up
there, so each exists once), TensorFlow's session and graph functions raise and say what to use instead
(compat.py), and the few names only this module has are below.
"""
from __future__ import annotations

import builtins

import torch

import kerasish.backend as _kerasish_backend
from kerasish.keras_alias import attributes_from

# Python's builtins, which Keras saved under these names before its own all/any/sum/slice shadowed them
py_all, py_any, py_sum, py_slice = builtins.all, builtins.any, builtins.sum, builtins.slice


def is_symbolic(x) -> bool:
    """Keras 2.3.1: whether ``x`` is a graph tensor. kerasish's graph tensors are the symbolic tensors that
    ``Input``, ``K.placeholder`` and layers called on them make."""
    return hasattr(x, "_keras_history")


def v1_variable_initialization() -> None:
    """Keras 2.3.1 initialises TensorFlow 1 variables in the session here; a kerasish variable holds its value
    from the moment it is created, so there is nothing to do."""


def _get_available_gpus() -> list[str]:
    """The GPUs, named as TensorFlow names them (``'/job:localhost/replica:0/task:0/device:GPU:0'``): the CUDA
    devices torch sees. Scripts ask ``len(K.tensorflow_backend._get_available_gpus()) > 0`` whether there is one."""
    return [f"/job:localhost/replica:0/task:0/device:GPU:{index}" for index in range(torch.cuda.device_count())]


__getattr__, __dir__ = attributes_from(_kerasish_backend, __name__, globals())
