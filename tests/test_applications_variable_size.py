"""Application models without ``input_shape`` (``include_top=False``): Keras gives them image inputs of unknown
size, ``(None, None, None, 3)``, and so unknown spatial sizes at the output. Shape inference stands in example
sizes for unknown dimensions (layers/keras_tensor.py); these must survive the five halvings of an ImageNet
model and the valid convolutions of the Inception stems (minimum 75 pixels) without collapsing into one size."""
from __future__ import annotations

import numpy as np
import pytest

from kerasish.applications import InceptionV3, MobileNetV2, ResNet50
from kerasish.layers import Dense, Flatten
from kerasish.models import Model


@pytest.mark.parametrize("application, channels", [(ResNet50, 2048), (MobileNetV2, 1280), (InceptionV3, 2048)])
def test_unknown_image_size_stays_unknown_through_the_base(application, channels):
    base = application(weights=None, include_top=False)
    assert base.input_shape == (None, None, None, 3)
    assert base.output_shape == (None, None, None, channels)


def test_flatten_head_on_an_unknown_size_base_is_refused_not_sized_wrongly():
    # a wrongly guessed (2, 2) spatial size would build a Dense of the wrong width without a word
    base = ResNet50(weights=None, include_top=False)
    with pytest.raises(ValueError, match=r"last dimension of the inputs to `Dense` should be defined; received "
                                         r"input shape \(None, None\)"):
        Dense(3)(Flatten()(base.output))


def test_unknown_size_base_runs_on_two_image_sizes():
    base = MobileNetV2(weights=None, include_top=False, alpha=0.35)
    for size in (32, 64):
        out = base.predict(np.zeros((1, size, size, 3), "float32"))
        assert out.shape == (1, size // 32, size // 32, 1280)
    assert isinstance(base, Model)
