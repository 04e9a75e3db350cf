"""Keras 2.3.1 ``keras.legacy.layers``: the Keras 1 layers Keras 2 still ships (kerasish/layers/legacy.py, the
Atrous factories in kerasish/layers/convolutional.py)."""
from kerasish.layers.base import InputSpec, Layer
from kerasish.layers.legacy import (AtrousConvolution1D, AtrousConvolution2D, ConvRecurrent2D, Highway, MaxoutDense,
                                    Recurrent)

__all__ = ["MaxoutDense", "Highway", "AtrousConvolution1D", "AtrousConvolution2D", "Recurrent", "ConvRecurrent2D",
           "Layer", "InputSpec"]
