"""Wrappers (Keras 2.3.1 ``keras/layers/wrappers.py``): the Wrapper base and TimeDistributed.

TimeDistributed's outputs are checked against the wrapped layer applied to each time step on its own (a loop
over steps, or a NumPy formula of the layer's Keras weights); masks against Keras 2.3.1's
``TimeDistributed.compute_mask``; configs against the nesting Keras writes.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kerasish import regularizers
from kerasish.layers import (Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling1D, Input, Lambda, Layer, Masking,
                             TimeDistributed, Wrapper)
from kerasish.models import Model, Sequential, load_model, model_from_json
from kerasish.saving import deserialize_layer

RNG = np.random.RandomState(0)


def f32(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


# ================================================================ values
def test_time_distributed_dense_is_dense_applied_at_every_step():
    x = RNG.rand(3, 5, 4).astype("float32")
    layer = TimeDistributed(Dense(2, activation="tanh"))
    out = layer(f32(x)).detach().numpy()
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ kernel + bias), rtol=1e-5, atol=1e-6)
    assert out.shape == (3, 5, 2)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_time_distributed_conv2d_is_conv2d_on_every_frame(data_format):
    frame = (6, 7, 3) if data_format == "channels_last" else (3, 6, 7)
    x = RNG.rand(2, 4, *frame).astype("float32")
    conv = Conv2D(5, 3, padding="same", data_format=data_format)
    out = TimeDistributed(conv)(f32(x)).detach().numpy()
    for t in range(4):
        np.testing.assert_allclose(out[:, t], conv(f32(x[:, t])).detach().numpy(), rtol=1e-5, atol=1e-6)
    # and against torch's convolution of the Keras-layout kernel (kh, kw, in, out)
    kernel, bias = conv.get_weights()
    frames = torch.tensor(x.reshape(8, *frame))
    if data_format == "channels_last":
        frames = frames.permute(0, 3, 1, 2)
    expected = F.conv2d(frames, torch.tensor(kernel).permute(3, 2, 0, 1), torch.tensor(bias), padding=1)
    if data_format == "channels_last":
        expected = expected.permute(0, 2, 3, 1)
    np.testing.assert_allclose(out.reshape(8, *out.shape[2:]), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_time_distributed_model_applies_the_model_at_every_step():
    inner_inputs = Input((4,))
    inner = Model(inner_inputs, Dense(2, activation="relu")(Dense(3)(inner_inputs)))
    inputs = Input((5, 4))
    model = Model(inputs, TimeDistributed(inner)(inputs))
    x = RNG.rand(3, 5, 4).astype("float32")
    expected = np.stack([inner.predict(x[:, t]) for t in range(5)], axis=1)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6)
    assert model.count_params() == inner.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_time_distributed_with_unknown_time_dimension():
    inputs = Input((None, 4))
    outputs = TimeDistributed(Dense(2))(inputs)
    model = Model(inputs, outputs)
    assert model.output_shape == (None, None, 2)
    for steps in (1, 6):
        assert model.predict(np.zeros((2, steps, 4), "float32")).shape == (2, steps, 2)


def test_time_distributed_on_an_empty_batch():
    assert TimeDistributed(Dense(3))(torch.zeros(0, 5, 4)).shape == (0, 5, 3)


def test_time_distributed_passes_training_to_the_wrapped_layer():
    layer = TimeDistributed(Dropout(0.5, seed=1))
    x = torch.ones(4, 6, 8)
    assert torch.equal(layer.eval()(x), x)
    dropped = layer(x, training=True)
    assert set(torch.unique(dropped).tolist()) == {0.0, 2.0}


def test_time_distributed_stack_trains_in_sequential():
    model = Sequential([TimeDistributed(Conv2D(2, 3), input_shape=(3, 6, 6, 1)), TimeDistributed(Flatten()),
                        TimeDistributed(Dense(1))])
    assert model.output_shape == (None, 3, 1)
    model.compile("sgd", "mse")
    x, y = RNG.rand(4, 3, 6, 6, 1).astype("float32"), RNG.rand(4, 3, 1).astype("float32")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


# ================================================================ weights
def test_time_distributed_weights_are_the_wrapped_layers():
    dense = Dense(3)
    model = Sequential([TimeDistributed(dense, input_shape=(5, 4))])
    wrapper = model.layers[0]
    for got, expected in zip(wrapper.get_weights(), dense.get_weights()):
        np.testing.assert_array_equal(got, expected)
    assert [w.shape for w in wrapper.get_weights()] == [(4, 3), (3,)]  # Keras layouts, not torch's
    new = [np.ones((4, 3), "float32"), np.arange(3, dtype="float32")]
    wrapper.set_weights(new)
    np.testing.assert_array_equal(dense.get_weights()[1], new[1])
    assert wrapper.count_params() == dense.count_params() == 15
    assert [spec for spec, _ in wrapper.keras_weight_specs()] == ["kernel", "bias"]  # Keras: time_distributed_1/kernel:0
    standalone = Sequential([Dense(3, input_shape=(4,))])
    assert summary_lines(model)[-4:] == summary_lines(standalone)[-4:]  # total / trainable / non-trainable


def test_trainable_is_the_wrapped_layers_as_keras():
    dense = Dense(2)
    wrapper = TimeDistributed(dense)
    wrapper._build_once((None, 3, 4))
    wrapper.trainable = False
    assert dense.trainable is False and wrapper.trainable_weights == [] and len(wrapper.non_trainable_weights) == 2
    assert not any(p.requires_grad for p in dense.parameters())
    # Keras 2.3.1's Layer.__init__ sets trainable (default True) through the wrapper's property
    frozen = Dense(2, trainable=False)
    TimeDistributed(frozen)
    assert frozen.trainable is True
    TimeDistributed(frozen, trainable=False)
    assert frozen.trainable is False


def test_wrapped_layers_activity_regularizer_counts_once():
    dense = Dense(2, activity_regularizer=regularizers.l1(0.1))
    model = Sequential([TimeDistributed(dense, input_shape=(3, 4))])
    x = f32(RNG.rand(2, 3, 4))
    model.train()
    out = model(x)
    penalty = model.add_regularization(torch.tensor(0.0))
    assert penalty.item() == pytest.approx(0.1 * out.abs().sum().item(), rel=1e-5)


# ================================================================ masks
def test_compute_mask_passes_a_step_mask_through_a_layer_without_its_own():
    mask = torch.tensor([[True, False, True], [False, True, True]])
    assert torch.equal(TimeDistributed(Dense(2)).compute_mask(torch.zeros(2, 3, 4), mask), mask)
    assert TimeDistributed(Dense(2)).compute_mask(torch.zeros(2, 3, 4), None) is None


def test_compute_mask_reduces_a_deeper_mask_to_batch_and_time():
    mask = torch.tensor([[[True, False], [False, False]], [[False, False], [True, True]]])
    layer = TimeDistributed(GlobalAveragePooling1D())  # makes no mask of its own (Keras: returns None)
    np.testing.assert_array_equal(layer.compute_mask(torch.zeros(2, 2, 2, 3), mask).numpy(),
                                  mask.numpy().any(axis=-1))


def test_compute_mask_reshapes_the_wrapped_layers_own_mask():
    x = RNG.rand(2, 3, 4, 5).astype("float32")
    x[0, 1, 2] = 0.0
    x[1, 0, :] = 0.0
    mask = TimeDistributed(Masking()).compute_mask(f32(x))
    assert mask.shape == (2, 3, 4)
    np.testing.assert_array_equal(mask.numpy(), np.any(x != 0.0, axis=-1))


def test_compute_mask_refuses_a_mask_when_the_wrapped_layer_does():
    conv = Conv2D(2, 1, name="frames")
    with pytest.raises(TypeError, match="^Layer frames does not support masking, but was passed an input_mask"):
        TimeDistributed(conv).compute_mask(torch.zeros(2, 3, 4, 4, 1), torch.ones(2, 3, dtype=torch.bool))


def test_call_hands_the_reshaped_mask_to_a_layer_whose_call_takes_one():
    x = RNG.randn(2, 3, 5, 4).astype("float32")
    mask = RNG.rand(2, 3, 5) > 0.4
    mask[..., 0] = True
    out = TimeDistributed(GlobalAveragePooling1D())(f32(x), mask=torch.tensor(mask))
    weights = mask.astype("float32")[..., None]
    np.testing.assert_allclose(out.numpy(), (x * weights).sum(2) / weights.sum(2), rtol=1e-5, atol=1e-6)


def test_call_does_not_hand_a_mask_to_a_layer_whose_call_takes_none():
    x = f32(RNG.rand(2, 3, 4))
    layer = TimeDistributed(Dense(2))
    assert torch.equal(layer(x, mask=torch.ones(2, 3, dtype=torch.bool)), layer(x))


# ================================================================ configs and files
def test_config_nests_the_wrapped_layer_as_keras():
    wrapper = TimeDistributed(Dense(3, name="inner"), name="td", input_shape=(5, 4))
    config = wrapper.get_config()
    assert config["name"] == "td" and config["batch_input_shape"] == (None, 5, 4)
    assert config["layer"] == {"class_name": "Dense", "config": Dense(3, name="inner").get_config()}
    again = TimeDistributed.from_config(config)
    assert isinstance(again.layer, Dense) and again.layer.units == 3 and again.name == "td"
    assert deserialize_layer({"class_name": "TimeDistributed", "config": config}).get_config() == config


def test_from_config_takes_the_wrapped_class_from_custom_objects():
    class Doubler(Layer):
        def call(self, x):
            return 2 * x
    config = {"class_name": "TimeDistributed", "config": TimeDistributed(Doubler(name="d")).get_config()}
    with pytest.raises(ValueError, match="Unknown layer: Doubler"):
        deserialize_layer(config)
    layer = deserialize_layer(config, custom_objects={"Doubler": Doubler})
    assert torch.equal(layer(torch.ones(1, 2, 3)), 2 * torch.ones(1, 2, 3))
    assert TimeDistributed.from_config(config["config"], custom_objects={"Doubler": Doubler}).layer.name == "d"


def test_a_wrapped_lambda_loads_with_its_function_from_custom_objects():
    def halve(x):
        return x / 2
    inputs = Input((2, 3))
    model = Model(inputs, TimeDistributed(Lambda(halve))(inputs))
    loaded = model_from_json(model.to_json(), custom_objects={"halve": halve})
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2, 3), "float32")), np.full((1, 2, 3), 0.5))


@pytest.mark.parametrize("inner, input_shape", [(lambda: Dense(3, activation="relu"), (5, 4)),
                                                (lambda: Conv2D(2, 3, padding="same"), (3, 6, 6, 2))],
                         ids=["dense", "conv2d"])
def test_model_with_time_distributed_saves_and_loads(tmp_path, inner, input_shape):
    model = Sequential([TimeDistributed(inner(), input_shape=input_shape)])
    model.compile("adam", "mse")
    x = RNG.rand(2, *input_shape).astype("float32")
    path = str(tmp_path / "model.h5")
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.layers[0]) is TimeDistributed
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# ================================================================ errors
def test_time_distributed_needs_inputs_of_rank_3_or_more():
    with pytest.raises(ValueError, match=r"^`TimeDistributed` Layer should be passed an `input_shape ` with at least "
                                         r"3 dimensions, received: \(None, 4\)"):
        TimeDistributed(Dense(2))(Input((4,)))


def test_time_distributed_needs_a_layer():
    with pytest.raises(ValueError, match="^Please initialize `TimeDistributed` layer with a `Layer` instance. "
                                         "You passed: 3"):
        TimeDistributed(3)


def test_a_built_time_distributed_checks_later_inputs_against_its_shape():
    layer = TimeDistributed(Dense(2))
    layer(Input((3, 4)))
    with pytest.raises(ValueError, match=r"^Input 0 is incompatible with layer time_distributed_1: expected "
                                         r"shape=\(None, 3, 4\), found shape=\(None, 5, 4\)"):
        layer(Input((5, 4)))


def test_wrapper_is_the_base_that_time_distributed_builds_on():
    assert issubclass(TimeDistributed, Wrapper)
    with pytest.raises(ValueError, match="must hold the wrapped layer as 'layer'"):
        TimeDistributed.from_config({"name": "td"})


def test_time_distributed_lstm_reads_each_time_slice_as_its_own_sequence():
    from kerasish.layers import LSTM, InputLayer
    x = np.random.RandomState(7).randn(2, 3, 4, 5).astype("float32")  # (batch, time, steps, features)
    lstm = LSTM(6, name="inner")
    model = Sequential([TimeDistributed(lstm, input_shape=(3, 4, 5))])
    alone = Sequential([InputLayer(input_shape=(4, 5)), lstm])  # the same weights, one slice at a time
    out = model.predict(x)
    assert out.shape == (2, 3, 6)
    for t in range(3):
        np.testing.assert_allclose(out[:, t], alone.predict(x[:, t]), rtol=1e-5, atol=1e-6)
