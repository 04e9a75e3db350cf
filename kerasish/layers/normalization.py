"""BatchNormalization, as Keras 2.3.1 ``keras/layers/normalization.py`` computes it.

Training normalises with the batch's mean and biased variance and moves the statistics as

    moving_mean     = momentum * moving_mean     + (1 - momentum) * mean
    moving_variance = momentum * moving_variance + (1 - momentum) * variance * m / (m - (1 + epsilon))

where ``m`` is the number of values reduced per channel (Keras's "sample variance" correction, with
``epsilon`` in it, in ``BatchNormalization.call``; ``K.moving_average_update`` of the TensorFlow backend).
Inference normalises with the moving statistics. torch's ``momentum`` is Keras's ``1 - momentum``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import initializers
from kerasish.layers import weight_layouts
from kerasish.layers.base import CHANNELS_FIRST, KERAS, InputSpec, Layer
from kerasish.layers.base import penalties_config, serialize_keras_object
from kerasish.utils.validation import check_number


class BatchNormalization(Layer):
    """``BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
    beta_initializer='zeros', gamma_initializer='ones', moving_mean_initializer='zeros',
    moving_variance_initializer='ones', beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
    gamma_constraint=None)``.

    Keras weights ``[gamma, beta, moving_mean, moving_variance]`` (gamma only with ``scale``, beta only with
    ``center``); the moving statistics are non-trainable buffers. As in Keras 2.3.1, a layer with
    ``trainable=False``, or inside a model with ``trainable=False``, still normalises with batch statistics in
    training but no longer updates its moving statistics: ``call`` picks batch statistics from the learning
    phase alone (normalization.py 179-208), and ``Layer.updates``/``Network.updates`` are empty when not
    trainable (engine/base_layer.py 200-201, 1063-1064; engine/network.py 379-380).

    tf.keras 2.x differs: there ``trainable=False`` also runs the layer in inference mode (moving statistics,
    in training too). For that behaviour here, call the frozen base with ``training=False``:
    ``x = base(inputs, training=False)`` (Keras 2.3.1 itself refuses that argument on models).
    """

    supports_masking = True  # Keras 2.3.1: the mask passes through (statistics use every step)

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization: axis must be an integer (the features axis); received {axis!r}.")
        self.axis = int(axis)
        self.momentum = check_number(momentum, "momentum", "BatchNormalization", low=0, high=1)
        self.epsilon = check_number(epsilon, "epsilon", "BatchNormalization", low=0)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.set_weight_penalties(gamma=(gamma_regularizer, gamma_constraint), beta=(beta_regularizer, beta_constraint))
        # The last axis is the channel axis once moved to dim 1 (free after a channels_last conv); any other
        # axis is read in Keras layout. `build` refines this for positive axes that name the last one.
        self.input_layout = CHANNELS_FIRST if self.axis == -1 else KERAS
        self._feature_dim = 1

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self.name}: axis={self.axis} is out of range for inputs of rank {rank} "
                             f"(input shape {tuple(input_shape)}).")
        axis = self.axis % rank
        dim = input_shape[axis]
        if dim is None:
            # Keras 2.3.1 BatchNormalization.build wording
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"received an input with shape {tuple(input_shape)}.")
        if axis == rank - 1 or axis == 1:
            # channels at dim 1 of the tensor call() receives: F.batch_norm's own layout, no permute
            self.input_layout = CHANNELS_FIRST if axis == rank - 1 else KERAS
            self._feature_dim = 1
        else:
            self.input_layout, self._feature_dim = KERAS, axis
        shape = (int(dim),)
        self.gamma = nn.Parameter(self.initial_value(self.gamma_initializer, shape)) if self.scale else None
        self.beta = nn.Parameter(self.initial_value(self.beta_initializer, shape)) if self.center else None
        self.register_buffer("moving_mean", self.initial_value(self.moving_mean_initializer, shape))
        self.register_buffer("moving_variance", self.initial_value(self.moving_variance_initializer, shape))

    def keras_weight_specs(self):
        names = (["gamma"] if self.scale else []) + (["beta"] if self.center else [])
        return [(n, weight_layouts.SAME) for n in names + ["moving_mean", "moving_variance"]]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, x):
        moved = self._feature_dim != 1
        if moved:
            x = x.movedim(self._feature_dim, 1)
        if self.training:
            out = self._normalize_training(x)
        else:
            out = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, False, 0.0,
                               self.epsilon)
        return out.movedim(1, self._feature_dim) if moved else out

    def _normalize_training(self, x: torch.Tensor) -> torch.Tensor:
        # x: (n, features, ...) normalised per feature over every other axis
        count = x.numel() // x.shape[1]
        update = self._effectively_trainable()  # frozen (or inside a frozen model): batch statistics, no update
        if count < 2:
            return self._normalize_single_value(x, update)
        if not update:
            return F.batch_norm(x, None, None, self.gamma, self.beta, True, 0.0, self.epsilon)
        # torch folds the unbiased variance var * m / (m - 1) into its running average; Keras folds in
        # var * m / (m - 1 - epsilon). Dividing the running variance by their ratio before and multiplying
        # after gives Keras's update from one fused kernel. Temporaries, not the buffers, go to the kernel:
        # autograd saves them, and the buffers change again before backward.
        ratio = (count - 1) / (count - 1 - self.epsilon)
        with torch.no_grad():
            running_mean = self.moving_mean.clone()
            running_var = self.moving_variance / ratio
        out = F.batch_norm(x, running_mean, running_var, self.gamma, self.beta, True, 1.0 - self.momentum,
                           self.epsilon)
        with torch.no_grad():
            self.moving_mean.copy_(running_mean)
            self.moving_variance.copy_(running_var * ratio)
        return out

    def _normalize_single_value(self, x: torch.Tensor, update: bool) -> torch.Tensor:
        """One value per feature (a batch of one sample into a Dense-style BN): Keras still trains on it
        (output ``beta``, variance 0, so the moving variance just decays); torch's kernel refuses it."""
        dims = [d for d in range(x.dim()) if d != 1]
        mean = x.mean(dim=dims, keepdim=True)
        variance = (x - mean).square().mean(dim=dims, keepdim=True)
        out = (x - mean) * torch.rsqrt(variance + self.epsilon)
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.gamma is not None:
            out = out * self.gamma.view(shape)
        if self.beta is not None:
            out = out + self.beta.view(shape)
        if update:
            with torch.no_grad():
                self.moving_mean.mul_(self.momentum).add_((1.0 - self.momentum) * mean.reshape(-1))
                # count - (1 + epsilon) is negative here; Keras multiplies the zero variance by it all the same
                self.moving_variance.mul_(self.momentum).add_(
                    (1.0 - self.momentum) * variance.reshape(-1) / (-self.epsilon))
        return out

    def get_config(self):
        config = {"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
                  "scale": self.scale, "beta_initializer": serialize_keras_object(self.beta_initializer),
                  "gamma_initializer": serialize_keras_object(self.gamma_initializer),
                  "moving_mean_initializer": serialize_keras_object(self.moving_mean_initializer),
                  "moving_variance_initializer": serialize_keras_object(self.moving_variance_initializer)}
        config.update(penalties_config(self, ("beta", "gamma"), activity=False))
        return {**super().get_config(), **config}


__all__ = ["BatchNormalization"]
# also importable from this module, as from Keras 2.3.1's
__all__ += ["Layer", "InputSpec"]
