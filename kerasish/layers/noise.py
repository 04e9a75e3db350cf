"""Noise layers (Keras 2.3.1 ``keras/layers/noise.py``): GaussianNoise, GaussianDropout, AlphaDropout.

Each is a regularizer active only in training (``training=True`` in the call, or the model's mode, as Keras's
``K.in_train_phase``); at inference it is the identity. All pass masks on (``supports_masking``, as Keras).

Randomness: GaussianNoise and GaussianDropout have no ``seed`` in Keras and draw from torch's global generator.
AlphaDropout's ``seed`` works as Dropout's (``SeededRandomLayer`` in core.py): its own generator per device.
The elementwise layers work in any layout; a seeded or ``noise_shape`` AlphaDropout works in Keras's layout so
that its draws depend only on the seed and the Keras shape.
"""
from __future__ import annotations

import math

import torch

from kerasish.layers.base import ANY, KERAS, Layer
from kerasish.layers.core import SeededRandomLayer, in_training, resolved_noise_shape
from kerasish.utils.validation import check_number

# SELU's constants (Klambauer et al. 2017), as Keras 2.3.1's AlphaDropout writes them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _checked_rate(rate, layer_type: str) -> float:
    return check_number(rate, "rate", layer_type, low=0, high=1)


class GaussianNoise(Layer):
    """``GaussianNoise(stddev)``: adds zero-centred normal noise of standard deviation ``stddev`` in training."""

    input_layout = ANY
    supports_masking = True

    def __init__(self, stddev, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_number(stddev, "stddev", "GaussianNoise", low=0)

    def call(self, x, training=None):
        if not in_training(self, training):
            return x
        return x + torch.randn_like(x) * self.stddev

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(Layer):
    """``GaussianDropout(rate)``: multiplies by normal noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training; the identity for ``rate`` 0 or 1, as Keras 2.3.1 (which applies it
    only for ``0 < rate < 1``)."""

    input_layout = ANY
    supports_masking = True

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = _checked_rate(rate, "GaussianDropout")

    def call(self, x, training=None):
        if not 0.0 < self.rate < 1.0 or not in_training(self, training):
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return x * (1.0 + torch.randn_like(x) * stddev)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


def alpha_dropout_coefficients(rate: float) -> tuple[float, float, float]:
    """``(alpha_p, a, b)`` of Keras 2.3.1's AlphaDropout. A dropped unit is set to SELU's negative saturation
    ``alpha_p = -SELU_ALPHA * SELU_SCALE``; then ``a * x + b`` restores zero mean and unit variance for
    standard-normal inputs: with ``q = 1 - rate`` kept, ``a = (q * (1 + rate * alpha_p**2)) ** -0.5`` and
    ``b = -a * alpha_p * rate`` (Klambauer et al. 2017, section "New Dropout Technique")."""
    alpha_p = -SELU_ALPHA * SELU_SCALE
    a = ((1.0 - rate) * (1.0 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    return alpha_p, a, b


class AlphaDropout(SeededRandomLayer):
    """``AlphaDropout(rate, noise_shape=None, seed=None)``: dropout for SELU networks that keeps the inputs'
    mean and variance (Keras 2.3.1). In training each unit is kept with probability ``1 - rate`` (a uniform
    draw ``>= rate``), dropped ones become ``alpha_p``, and the result is ``a * x + b`` (see
    ``alpha_dropout_coefficients``); the identity unless ``0 < rate < 1``.

    ``noise_shape``: the shape of the keep/drop draw, broadcast over the input (None entries take the input's
    size, as Dropout's). Keras 2.3.1's ``get_config`` writes only ``rate``; kerasish writes ``noise_shape`` and
    ``seed`` too, which Keras's constructor accepts.
    """

    input_layout = ANY
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _checked_rate(rate, "AlphaDropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        if self.noise_shape is not None or self.seed is not None:
            self.input_layout = KERAS

    def call(self, x, training=None):
        if not 0.0 < self.rate < 1.0 or not in_training(self, training):
            return x
        shape = resolved_noise_shape(self.noise_shape, x) or tuple(x.shape)
        uniform = torch.rand(shape, generator=self._generator(x.device), device=x.device, dtype=x.dtype)
        kept = (uniform >= self.rate).to(x.dtype)
        alpha_p, a, b = alpha_dropout_coefficients(self.rate)
        return a * (x * kept + alpha_p * (1.0 - kept)) + b

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout", "alpha_dropout_coefficients"]
