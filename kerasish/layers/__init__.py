"""Keras layers on torch. Every layer is a ``torch.nn.Module``; see ``base.py`` for layouts and weights."""
from kerasish.layers.advanced_activations import ELU, PReLU, ReLU, LeakyReLU, Softmax, ThresholdedReLU
from kerasish.layers.base import InputSpec, Layer
from kerasish.layers.convolutional import (Conv1D, Conv2D, Conv2DTranspose, SeparableConv2D, UpSampling2D,
                                           ZeroPadding2D)
from kerasish.layers.core import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape, TorchModule
from kerasish.layers.embeddings import Embedding
from kerasish.layers.input_layer import Input, InputLayer
from kerasish.layers.keras_tensor import KerasTensor
from kerasish.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                                   concatenate, dot, maximum, minimum, multiply, subtract)
from kerasish.layers.normalization import BatchNormalization
from kerasish.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                     GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D,
                                     MaxPooling2D)
from kerasish.layers.recurrent import (GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell,
                                       StackedRNNCells)

# Keras 2 aliases
Convolution1D, Convolution2D, Deconvolution2D = Conv1D, Conv2D, Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
