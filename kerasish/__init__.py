"""kerasish: Keras 2 scripts (Sequential, compile, fit, callbacks) on PyTorch.

Import the namespaces as you imported Keras's: ``from kerasish.models import Sequential``,
``from kerasish.layers import Dense``, ``from kerasish import backend as K`` ... or keep ``import keras``
unchanged: ``python -m kerasish train.py``, or ``kerasish.install_as_keras()`` first (kerasish/keras_alias.py).
"""
from kerasish import (activations, applications, backend, callbacks, constraints, datasets, engine, initializers,
                      layers, losses, metrics, models, optimizers, preprocessing, regularizers, utils, wrappers)
from kerasish.keras_alias import install_as_keras
from kerasish.layers import Input
from kerasish.models import Model, Sequential

# `keras.__version__` is this attribute (`import keras` gives this package): the Keras release whose API and
# semantics kerasish follows, which scripts compare with Keras versions. kerasish's own release is below.
__version__ = "2.3.1"
__kerasish_version__ = "0.1.0"
