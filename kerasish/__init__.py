"""kerasish: Keras 2 scripts (Sequential, compile, fit, callbacks) on PyTorch.

Import the namespaces as you imported Keras's: ``from kerasish.models import Sequential``,
``from kerasish.layers import Dense``, ``from kerasish import backend as K`` ...
"""
from kerasish import (activations, backend, callbacks, constraints, initializers, layers, losses, metrics, models,
                      optimizers, preprocessing, regularizers, utils)

__version__ = "0.1.0"
