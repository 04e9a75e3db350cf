"""A ZeroPadding layer whose output one convolution alone reads leaves its zeros to that convolution
(models/graph.py ``_padded_convolution``, layers/convolutional.py ``call_zero_padded``): no padded copy of the
input is written. The model's outputs and gradients must be those of the layers run one by one on real tensors
(the padding layer writing its copy, the convolution reading it), and the fold must step aside wherever it
could be seen: the padded tensor read twice or a model output, hooks, transposed convolutions, user subclasses.
"""
import numpy as np
import pytest
import torch

from kerasish import layers
from kerasish.layers.convolutional import _ZeroPadding
from kerasish.models import Model


@pytest.fixture
def pad_calls(monkeypatch):
    """How often a ZeroPadding layer wrote its padded copy."""
    calls = []
    original = _ZeroPadding.call

    def counting(self, x):
        calls.append(self.name)
        return original(self, x)

    monkeypatch.setattr(_ZeroPadding, "call", counting)
    return calls


def images(shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def one_by_one(model, x: torch.Tensor) -> torch.Tensor:
    """The model's layers called eagerly in order on real tensors (a chain: each reads the one before)."""
    for layer in model.layers[1:]:
        x = layer(x)
    return x


def assert_same_outputs_and_gradients(model, x_np):
    x = torch.from_numpy(x_np)
    folded = model(x)
    folded.square().sum().backward()
    folded_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    reference = one_by_one(model, x)
    reference.square().sum().backward()
    torch.testing.assert_close(folded, reference, rtol=1e-5, atol=1e-5)
    for got, want in zip(folded_grads, [p.grad for p in model.parameters()]):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.predict(x_np, batch_size=len(x_np)), reference.detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def mobilenet_like(data_format=None, shape=(10, 10, 3)):
    """MobileNetV2's stride-2 pattern (asymmetric pad + valid depthwise), ResNet's (symmetric pad + valid conv),
    a 'same' convolution after an uneven pad, and SeparableConv2D."""
    inputs = layers.Input(shape)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), data_format=data_format)(inputs)
    x = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, data_format=data_format)(x)
    x = layers.ZeroPadding2D((3, 3), data_format=data_format)(x)
    x = layers.Conv2D(4, 7, strides=2, activation="relu", data_format=data_format)(x)
    x = layers.ZeroPadding2D(((1, 2), (0, 1)), data_format=data_format)(x)
    x = layers.Conv2D(3, 3, strides=2, padding="same", data_format=data_format)(x)
    x = layers.ZeroPadding2D(1, data_format=data_format)(x)
    x = layers.SeparableConv2D(2, 3, data_format=data_format)(x)
    return Model(inputs, x)


@pytest.mark.parametrize("data_format, shape", [("channels_last", (10, 10, 3)), ("channels_first", (3, 10, 11))])
def test_padding_folded_into_the_convolution_gives_the_padded_copys_outputs_and_gradients(pad_calls, data_format,
                                                                                           shape):
    model = mobilenet_like(data_format, shape)
    assert_same_outputs_and_gradients(model, images((2,) + shape))
    pad_calls.clear()
    model.predict(images((2,) + shape), batch_size=2)
    with torch.enable_grad():
        model(torch.from_numpy(images((2,) + shape))).sum().backward()
    assert pad_calls == []  # no padded copy in inference or training


def test_zero_padding1d_folds_into_conv1d_including_causal(pad_calls):
    inputs = layers.Input((9, 2))
    x = layers.ZeroPadding1D((2, 1))(inputs)
    x = layers.Conv1D(3, 3, strides=2, padding="same")(x)
    x = layers.ZeroPadding1D(1)(x)
    x = layers.Conv1D(2, 2, padding="causal")(x)
    model = Model(inputs, x)
    assert_same_outputs_and_gradients(model, images((2, 9, 2)))
    pad_calls.clear()
    model.predict(images((2, 9, 2)))
    assert pad_calls == []


def test_the_padded_tensor_is_made_where_something_else_can_see_it(pad_calls):
    inputs = layers.Input((6, 6, 2))
    read_twice = layers.ZeroPadding2D(((0, 1), (0, 1)), name="read_twice")(inputs)
    a = layers.DepthwiseConv2D(3, strides=2)(read_twice)
    b = layers.Conv2D(2, 3, strides=2)(read_twice)
    shown = layers.ZeroPadding2D(1, name="shown")(layers.Add()([a, b]))
    c = layers.Conv2D(2, 3)(shown)
    before_transpose = layers.ZeroPadding2D(1, name="before_transpose")(c)
    d = layers.Conv2DTranspose(2, 3)(before_transpose)
    model = Model(inputs, [d, shown])  # the padded tensor `shown` is a model output
    pad_calls.clear()  # (building the model ran each layer once on shapes)
    model.predict(images((2, 6, 6, 2)))
    assert sorted(pad_calls) == ["before_transpose", "read_twice", "shown"]


class MyConv(layers.Conv2D):
    def call(self, x):
        return super().call(x) * 2.0


def test_user_subclasses_and_hooks_get_the_padded_tensor(pad_calls):
    inputs = layers.Input((6, 6, 2))
    first_pad = layers.ZeroPadding2D(1, name="before_user_conv")
    second_pad = layers.ZeroPadding2D(((0, 1), (0, 1)), name="hooked")
    x = MyConv(2, 3)(first_pad(inputs))
    x = layers.DepthwiseConv2D(3, strides=2)(second_pad(x))
    model = Model(inputs, x)
    seen = []
    second_pad.register_forward_hook(lambda module, args, output: seen.append(tuple(output.shape)))
    data = images((2, 6, 6, 2))
    pad_calls.clear()
    got = model.predict(data)
    assert sorted(pad_calls) == ["before_user_conv", "hooked"] and seen == [(2, 2, 7, 7)]
    torch.testing.assert_close(torch.from_numpy(got), one_by_one(model, torch.from_numpy(data)).detach())
