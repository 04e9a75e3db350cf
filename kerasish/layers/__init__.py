"""Keras layers on torch. Every layer is a ``torch.nn.Module``; see ``base.py`` for layouts and weights."""
from kerasish import saving as _saving
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
from kerasish.utils.generic_utils import keras_class_name as _keras_class_name
from kerasish.layers.recurrent import (GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell,
                                       StackedRNNCells)

# Keras 2 aliases
Convolution1D, Convolution2D, Deconvolution2D = Conv1D, Conv2D, Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

# Convolutional, pooling and locally-connected layers added for issue 12, with Keras 2.3.1's aliases
from kerasish.layers.convolutional import (Conv3D, Conv3DTranspose, Convolution3D, Cropping1D, Cropping2D,
                                           Cropping3D, Deconvolution3D, DepthwiseConv2D, SeparableConv1D,
                                           SeparableConvolution1D, UpSampling1D, UpSampling3D, ZeroPadding1D,
                                           ZeroPadding3D)
from kerasish.layers.local import LocallyConnected1D, LocallyConnected2D
from kerasish.layers.pooling import (AveragePooling3D, AvgPool3D, GlobalAveragePooling3D,
                                     GlobalAvgPool3D, GlobalMaxPool3D, GlobalMaxPooling3D, MaxPool3D, MaxPooling3D)

# Issue 12: masking, noise and wrapper layers (core.py, noise.py, wrappers.py)
from kerasish.layers.core import (ActivityRegularization, Masking, RepeatVector, SpatialDropout1D, SpatialDropout2D,
                                  SpatialDropout3D)
from kerasish.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise
from kerasish.layers.wrappers import Bidirectional, TimeDistributed, Wrapper

# Keras 1 layers Keras 2.3.1 still exports (keras/legacy/layers.py)
from kerasish.layers.legacy import (AtrousConvolution1D, AtrousConvolution2D, ConvRecurrent2D, Highway,
                                    MaxoutDense, Recurrent)

# Issue 12: convolutional-recurrent layers (Keras 2.3.1 exports these two; ConvRNN2D stays in its module)
from kerasish.layers.convolutional_recurrent import ConvLSTM2D, ConvLSTM2DCell
# Keras 2.3.1's CuDNN recurrent layers (GPU-only there, any device here)
from kerasish.layers.cudnn_recurrent import CuDNNGRU, CuDNNLSTM


def serialize(layer) -> dict:
    """Keras 2.3.1 ``layers.serialize``: ``{'class_name': ..., 'config': layer.get_config()}``."""
    return {"class_name": _keras_class_name(layer), "config": layer.get_config()}


def deserialize(config: dict, custom_objects=None):
    """Keras 2.3.1 ``layers.deserialize``: the layer (or model) a ``serialize`` dict describes; classes of yours
    by name in ``custom_objects``."""
    return _saving.deserialize_layer(config, custom_objects)


_saving.register_layer_namespace(globals())
