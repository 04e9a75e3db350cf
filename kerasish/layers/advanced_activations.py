"""Activation layers with parameters: LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU
(Keras 2.3.1 ``keras/layers/advanced_activations.py``).

The elementwise ones declare ``ANY`` layout, so they sit between convolutions without moving axes. All six
pass masks on (``supports_masking = True`` in each Keras 2.3.1 ``__init__``).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import activations, initializers
from kerasish.layers import weight_layouts
from kerasish.layers.base import ANY, CHANNELS_FIRST, KERAS, InputSpec, Layer
from kerasish.layers.base import penalties_config, serialize_keras_object
from kerasish.utils.validation import check_number


class LeakyReLU(Layer):
    """``LeakyReLU(alpha=0.3)``: ``x`` for ``x > 0``, else ``alpha * x``. Keras's default slope is 0.3
    (torch's ``nn.LeakyReLU`` uses 0.01)."""

    supports_masking = True
    input_layout = ANY

    def __init__(self, alpha=0.3, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_number(alpha, "alpha", "LeakyReLU")

    def call(self, x):
        return F.leaky_relu(x, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ELU(Layer):
    """``ELU(alpha=1.0)``: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""

    supports_masking = True
    input_layout = ANY

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_number(alpha, "alpha", "ELU")

    def call(self, x):
        return F.elu(x, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ThresholdedReLU(Layer):
    """``ThresholdedReLU(theta=1.0)``: ``x`` for ``x > theta``, else 0."""

    supports_masking = True
    input_layout = ANY

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = float(theta)

    def call(self, x):
        return x * (x > self.theta).to(x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}


class ReLU(Layer):
    """``ReLU(max_value=None, negative_slope=0., threshold=0.)``, computed as Keras 2.3.1's ``K.relu``."""

    supports_masking = True
    input_layout = ANY

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        # Keras 2.3.1 ReLU.__init__ checks and wording
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of ReLU layer cannot be negative value: {max_value}")
        if negative_slope < 0.0:
            raise ValueError(f"negative_slope of ReLU layer cannot be negative value: {negative_slope}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, x):
        return activations.relu(x, self.negative_slope, self.max_value, self.threshold)

    def call_in_place(self, x):
        """``call(x)`` written over ``x``, or None where it cannot be (see models/graph.py: inference only, when
        nothing else reads ``x``)."""
        if self.cast_inputs(x) is not x:
            return None
        return activations.relu_in_place(x, self.negative_slope, self.max_value, self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class Softmax(Layer):
    """``Softmax(axis=-1)``. As Keras 2.3.1's ``activations.softmax``, a 2D input is always normalised over
    its last axis whatever ``axis`` says; 1D inputs are an error."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Softmax: axis must be an integer; received {axis!r}.")
        self.axis = int(axis)
        # The last Keras axis is dim 1 of the channels-first layout: no permute after a conv stack.
        self.input_layout = CHANNELS_FIRST if self.axis == -1 else KERAS

    def call(self, x):
        if x.dim() < 2:
            raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input shape {tuple(x.shape)}.")
        if x.dim() == 2:
            return torch.softmax(x, dim=-1)
        return activations.softmax(x, axis=1 if self.axis == -1 else self.axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """``PReLU(alpha_initializer='zeros', alpha_regularizer=None, alpha_constraint=None, shared_axes=None)``:
    ``x`` for ``x > 0``, else ``alpha * x`` with a learned ``alpha`` of shape ``input_shape[1:]``, size 1
    along the (1-based, batch excluded) ``shared_axes``."""

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        # Keras 2.3.1 to_list(shared_axes, allow_tuple=True): a list or tuple is kept as given, an int listed
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = type(shared_axes)(int(a) for a in shared_axes)
        else:
            self.shared_axes = [int(shared_axes)]
        self.set_weight_penalties(alpha=(alpha_regularizer, alpha_constraint))

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(param_shape):
                raise ValueError(f"{self.name}: shared_axes entries count from 1 (the batch axis excluded) up to "
                                 f"{len(param_shape)}; received {self.shared_axes} for input shape "
                                 f"{tuple(input_shape)}.")
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(f"{self.name}: every non-shared axis needs a defined size; received input shape "
                             f"{tuple(input_shape)} with shared_axes={self.shared_axes}.")
        self.alpha = nn.Parameter(self.initial_value(self.alpha_initializer, tuple(param_shape)))
        # Keras 2.3.1 PReLU.build: later inputs keep the rank and, with shared_axes, the unshared axes' sizes
        axes = {}
        if self.shared_axes:
            axes = {i: input_shape[i] for i in range(1, len(input_shape)) if i not in self.shared_axes}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)

    def keras_weight_specs(self):
        return [("alpha", weight_layouts.SAME)]

    def call(self, x):
        return torch.where(x > 0, x, self.alpha * x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {"alpha_initializer": serialize_keras_object(self.alpha_initializer),
                  "shared_axes": self.shared_axes}
        config.update(penalties_config(self, ("alpha",), activity=False))
        return {**super().get_config(), **config}


__all__ = ["LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"]
