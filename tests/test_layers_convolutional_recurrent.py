"""ConvLSTM2D and ConvLSTM2DCell (Keras 2.3.1 ``keras/layers/convolutional_recurrent.py``) against a NumPy
reference of Keras's ConvLSTM equations: both paddings, strides, dilation, both data formats, return_sequences,
return_state, go_backwards, masks, initial states, stateful layers, dropout, weight layouts, parameter counts,
configs, errors and a small model that learns.

The reference convolves in float64 with explicit loops over the kernel taps and TensorFlow's 'same' padding
(the odd cell at the end), from Keras-layout weights ``kernel (kh, kw, in, 4f)``, ``recurrent_kernel (kh, kw, f,
4f)``, ``bias (4f,)`` with gates i, f, c, o; weights go into the layers through ``set_weights``, so every value
test also pins the layouts. Its loop is rnn_reference.keras_rnn (K.rnn's masking) over flattened states.
"""
import json

import numpy as np
import pytest
import torch

import kerasish.layers as L
from kerasish import saving
from kerasish.layers.convolutional_recurrent import ConvRNN2D
from kerasish.models import Model, Sequential, load_model
from kerasish.optimizers import Adam
from rnn_reference import keras_rnn

RNG = np.random.RandomState(0)


# ============================================================================================== reference
def tf_padding(length, kernel, stride, dilation, padding):
    """TensorFlow's (before, after) padding of one axis."""
    if padding == "valid":
        return 0, 0
    out = -(-length // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def conv2d_reference(x, w, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """``x`` (batch, rows, cols, in) convolved with ``w`` (kh, kw, in, out), as TensorFlow's conv2d (NHWC)."""
    pads = [tf_padding(n, k, s, d, padding) for n, k, s, d in zip(x.shape[1:3], w.shape[:2], strides, dilation)]
    x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    out_shape = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(x.shape[1:3], w.shape[:2], strides, dilation)]
    out = np.zeros((x.shape[0], *out_shape, w.shape[3]))
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            rows = slice(a * dilation[0], a * dilation[0] + (out_shape[0] - 1) * strides[0] + 1, strides[0])
            cols = slice(b * dilation[1], b * dilation[1] + (out_shape[1] - 1) * strides[1] + 1, strides[1])
            out += x[:, rows, cols, :] @ w[a, b]
    return out


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def conv_lstm_step(x, h, c, weights, strides=(1, 1), padding="valid", dilation=(1, 1), input_masks=None,
                   recurrent_masks=None, recurrent_activation=hard_sigmoid):
    """Keras 2.3.1 ``ConvLSTM2DCell.call`` on channels_last images; masks: one per gate (i, f, c, o)."""
    kernel, recurrent_kernel, bias = weights
    f = h.shape[-1]
    xs = [x * m for m in input_masks] if input_masks is not None else [x] * 4
    hs = [h * m for m in recurrent_masks] if recurrent_masks is not None else [h] * 4
    z = [conv2d_reference(xs[g], kernel[..., g * f:(g + 1) * f], strides, padding, dilation) + bias[g * f:(g + 1) * f]
         + conv2d_reference(hs[g], recurrent_kernel[..., g * f:(g + 1) * f], padding="same") for g in range(4)]
    i, fg, o = recurrent_activation(z[0]), recurrent_activation(z[1]), recurrent_activation(z[3])
    c = fg * c + i * np.tanh(z[2])
    h = o * np.tanh(c)
    return h, c


def conv_lstm_reference(weights, x, states, mask=None, go_backwards=False, **conv):
    """``(last_output, outputs, [h, c])`` over channels_last ``x`` (batch, time, rows, cols, in), K.rnn semantics."""
    image = states[0].shape

    def step(x_t, flat_states):
        h, c = (s.reshape(image) for s in flat_states)
        h, c = conv_lstm_step(x_t, h, c, weights, **conv)
        return h.reshape(len(h), -1), [h.reshape(len(h), -1), c.reshape(len(c), -1)]

    last, outputs, final = keras_rnn(step, x, [s.reshape(len(s), -1) for s in states], mask, go_backwards)
    return last.reshape(image), outputs.reshape(outputs.shape[:2] + image[1:]), [s.reshape(image) for s in final]


def random_weights(in_channels, filters, kernel_size=(3, 3), scale=0.4):
    kh, kw = kernel_size
    return [RNG.randn(kh, kw, in_channels, 4 * filters) * scale, RNG.randn(kh, kw, filters, 4 * filters) * scale,
            RNG.randn(4 * filters) * scale]


def zeros(batch, rows, cols, filters):
    return [np.zeros((batch, rows, cols, filters))] * 2


def to_first(a):
    """channels_last -> channels_first for an image (4-D) or a sequence (5-D)."""
    return np.moveaxis(a, -1, -3)


def to_last(a):
    return np.moveaxis(a, -3, -1)


def make_layer(weights, input_shape, **kwargs):
    layer = L.ConvLSTM2D(weights[1].shape[2], weights[0].shape[:2], **kwargs)
    layer._build_once((None,) + tuple(input_shape))
    layer.set_weights(weights)
    return layer


def run(layer, x, **kwargs):
    out = layer(torch.tensor(x, dtype=torch.float32), **kwargs)
    return [t.detach().numpy() for t in out] if isinstance(out, list) else out.detach().numpy()


# ============================================================================================== equations
CONVS = [dict(kernel_size=(3, 3), padding="valid"),
         dict(kernel_size=(3, 3), padding="same"),
         dict(kernel_size=(2, 3), padding="same", strides=(2, 2)),  # even kernel: asymmetric padding both ways
         dict(kernel_size=(2, 2), padding="valid", strides=(2, 1)),
         dict(kernel_size=(3, 2), padding="same", dilation_rate=(2, 1))]
CONV_IDS = ["valid", "same", "same_even_kernel_strides", "valid_strides", "same_dilation"]


@pytest.mark.parametrize("conv", CONVS, ids=CONV_IDS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_sequences_and_states_match_keras_equations(conv, data_format, go_backwards):
    conv = dict(conv)
    kernel_size = conv.pop("kernel_size")
    x = RNG.randn(2, 3, 6, 5, 2)
    weights = random_weights(2, 3, kernel_size)
    shape = x.shape[1:] if data_format == "channels_last" else to_first(x).shape[1:]
    layer = make_layer(weights, shape, data_format=data_format, return_sequences=True, return_state=True,
                       go_backwards=go_backwards, **conv)
    x_in = x if data_format == "channels_last" else to_first(x)
    outputs, h, c = run(layer, x_in)
    reference = dict(strides=conv.get("strides", (1, 1)), padding=conv["padding"],
                     dilation=conv.get("dilation_rate", (1, 1)))
    rows = conv2d_reference(x[:, 0], weights[0], **reference).shape[1:3]
    _, expected, (want_h, want_c) = conv_lstm_reference(weights, x, zeros(2, *rows, 3), go_backwards=go_backwards,
                                                        **reference)
    if data_format == "channels_first":
        outputs, h, c = to_last(outputs), to_last(h), to_last(c)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c, want_c, rtol=1e-5, atol=1e-5)


def test_last_output_without_return_sequences_and_float64():
    x = RNG.randn(2, 4, 5, 5, 3)
    weights = random_weights(3, 2)
    layer = make_layer(weights, x.shape[1:], padding="same", dtype="float64")
    out = layer(torch.tensor(x))
    assert out.dtype == torch.float64 and out.shape == (2, 5, 5, 2)
    expected, _, _ = conv_lstm_reference(weights, x, zeros(2, 5, 5, 2), padding="same")
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_a_cell_called_alone_is_one_keras_step_in_either_data_format():
    weights = random_weights(2, 3)
    x, h, c = RNG.randn(2, 5, 6, 2), RNG.randn(2, 3, 4, 3), RNG.randn(2, 3, 4, 3)
    want_h, want_c = conv_lstm_step(x, h, c, weights)
    for data_format, convert, back in (("channels_last", lambda a: a, lambda a: a),
                                       ("channels_first", to_first, to_last)):
        cell = L.ConvLSTM2DCell(3, 3, data_format=data_format)
        cell._build_once((None,) + convert(x).shape[1:])
        cell.set_weights(weights)
        as_tensor = lambda a: torch.tensor(convert(a), dtype=torch.float32)  # noqa: E731
        output, (new_h, new_c) = cell(as_tensor(x), [as_tensor(h), as_tensor(c)])
        np.testing.assert_allclose(back(output.detach().numpy()), want_h, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(back(new_h.detach().numpy()), want_h, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(back(new_c.detach().numpy()), want_c, rtol=1e-5, atol=1e-5)


class PlainConvLSTMCell(L.ConvLSTM2DCell):
    """A subclass: ConvRNN2D steps it through ``cell.call`` (Keras's generic loop), not the whole-sequence path."""


def test_conv_rnn_2d_over_a_subclassed_cell_steps_through_call_and_agrees():
    x = RNG.randn(2, 4, 5, 6, 2)
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool)
    weights = random_weights(2, 3, (2, 3))
    fast = make_layer(weights, x.shape[1:], padding="same", return_sequences=True, go_backwards=True)
    generic = ConvRNN2D(PlainConvLSTMCell(3, (2, 3), padding="same"), return_sequences=True, go_backwards=True)
    generic._build_once((None,) + x.shape[1:])
    generic.set_weights(weights)
    expected = conv_lstm_reference(weights, x, zeros(2, 5, 6, 3), mask, go_backwards=True, padding="same")[1]
    for layer in (fast, generic):
        np.testing.assert_allclose(run(layer, x, mask=torch.tensor(mask)), expected, rtol=1e-5, atol=1e-5)


# ============================================================================================== masks
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_steps_keep_states_and_repeat_outputs_as_keras(go_backwards):
    x = RNG.randn(3, 4, 4, 4, 2)
    mask = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]], dtype=bool)
    weights = random_weights(2, 2)
    layer = make_layer(weights, x.shape[1:], padding="same", return_sequences=True, return_state=True,
                       go_backwards=go_backwards)
    outputs, h, c = run(layer, x, mask=torch.tensor(mask))
    _, expected, (want_h, want_c) = conv_lstm_reference(weights, x, zeros(3, 4, 4, 2), mask, go_backwards,
                                                        padding="same")
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c, want_c, rtol=1e-5, atol=1e-5)


class FrameMask(L.Layer):
    """Masks the frames that are all zeros: a (batch, time) mask for 5-D inputs."""

    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return inputs.flatten(2).ne(0).any(-1)


def test_a_mask_from_the_graph_reaches_the_layer_and_compute_mask_follows_keras():
    inputs = L.Input(shape=(4, 5, 5, 1))
    layer = L.ConvLSTM2D(2, 3, return_sequences=True)
    model = Model(inputs, layer(FrameMask()(inputs)))
    x = RNG.randn(2, 4, 5, 5, 1).astype("float32")
    x[0, 2:] = 0
    x[1, :1] = 0
    mask = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)
    expected = conv_lstm_reference(layer.get_weights(), x, zeros(2, 3, 3, 2), mask)[1]
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)
    keras_mask = torch.tensor(mask)
    assert L.ConvLSTM2D(2, 3).compute_mask(None, keras_mask) is None
    assert layer.compute_mask(None, [keras_mask]) is keras_mask
    assert L.ConvLSTM2D(2, 3, return_sequences=True, return_state=True).compute_mask(None, keras_mask) == [
        keras_mask, None, None]


# ============================================================================================== states
def test_initial_state_in_an_eager_call_in_the_layers_data_format():
    x, h, c = RNG.randn(2, 3, 4, 5, 2), RNG.randn(2, 2, 3, 3), RNG.randn(2, 2, 3, 3)
    weights = random_weights(2, 3)
    layer = make_layer(weights, to_first(x).shape[1:], data_format="channels_first", return_sequences=True)
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    out = layer(as_tensor(to_first(x)), initial_state=[as_tensor(to_first(h)), as_tensor(to_first(c))])
    expected = conv_lstm_reference(weights, x, [to_last(to_first(h)), to_last(to_first(c))])[1]
    np.testing.assert_allclose(to_last(out.detach().numpy()), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Layer has 2 states but was passed 1 initial states."):
        layer(as_tensor(to_first(x)), initial_state=as_tensor(to_first(h)))


def test_states_from_graph_tensors_start_a_second_layer_and_survive_saving(tmp_path):
    encoder_in, decoder_in = L.Input(shape=(3, 5, 5, 2)), L.Input(shape=(2, 5, 5, 1))
    _, h, c = L.ConvLSTM2D(3, 3, padding="same", return_state=True)(encoder_in)
    decoder = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    model = Model([encoder_in, decoder_in], decoder(decoder_in, initial_state=[h, c]))
    assert h.shape == c.shape == (None, 5, 5, 3) and model.output_shape == (None, 2, 5, 5, 3)
    x = [RNG.randn(2, 3, 5, 5, 2).astype("float32"), RNG.randn(2, 2, 5, 5, 1).astype("float32")]
    _, _, states = conv_lstm_reference(model.layers[2].get_weights(), x[0], zeros(2, 5, 5, 3), padding="same")
    expected = conv_lstm_reference(decoder.get_weights(), x[1], states, padding="same")[1]
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "m.h5")
    np.testing.assert_array_equal(load_model(tmp_path / "m.h5", compile=False).predict(x), model.predict(x))


def test_initial_state_of_the_wrong_channel_count_is_refused_with_keras_wording():
    x = L.Input(shape=(3, 5, 5, 2))
    with pytest.raises(ValueError, match="An initial_state was passed that is not compatible with `cell.state_size`"):
        L.ConvLSTM2D(4, 3)(x, initial_state=[L.Input(shape=(3, 3, 2)), L.Input(shape=(3, 3, 2))])


def stateful_model(image=(5, 4, 1), **kwargs):
    model = Sequential([L.ConvLSTM2D(2, 3, stateful=True, batch_input_shape=(2, 3) + image, **kwargs)])
    weights = random_weights(1, 2)
    model.set_weights(weights)
    return model, weights


def test_stateful_layer_carries_states_between_batches_until_reset():
    model, weights = stateful_model()
    first, second = RNG.randn(2, 3, 5, 4, 1).astype("float32"), RNG.randn(2, 3, 5, 4, 1).astype("float32")
    out1, out2 = model.predict(first, batch_size=2), model.predict(second, batch_size=2)
    _, _, states = conv_lstm_reference(weights, first, zeros(2, 3, 2, 2))
    last, _, after = conv_lstm_reference(weights, second, states)
    np.testing.assert_allclose(out1, conv_lstm_reference(weights, first, zeros(2, 3, 2, 2))[0], rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(out2, last, rtol=1e-5, atol=1e-5)
    layer = model.layers[0]
    for state, want in zip(layer.states, after):
        assert state.shape == (2, 3, 2, 2)
        np.testing.assert_allclose(state.numpy(), want, rtol=1e-5, atol=1e-5)
    model.reset_states()
    assert all(not state.any() for state in layer.states)
    h, c = RNG.randn(2, 3, 2, 2), RNG.randn(2, 3, 2, 2)
    layer.reset_states([h, c])
    np.testing.assert_allclose(model.predict(second, batch_size=2), conv_lstm_reference(weights, second, [h, c])[0],
                               rtol=1e-5, atol=1e-5)


def test_stateful_training_detaches_states_and_errors_use_keras_wording():
    model, _ = stateful_model((1, 5, 4), data_format="channels_first")
    layer = model.layers[0]
    assert [tuple(state.shape) for state in layer.states] == [(2, 2, 3, 2)] * 2  # channels_first images
    model.compile("sgd", "mse")
    x, y = RNG.randn(4, 3, 1, 5, 4).astype("float32"), RNG.randn(4, 2, 3, 2).astype("float32")
    model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    assert not layer.states[0].requires_grad
    with pytest.raises(ValueError, match=r"State 1 is incompatible with layer conv_lst_m2d_\d+: expected "
                                         r"shape=\(2, 2, 3, 2\), found shape=\(2, 3, 2, 2\)"):
        layer.reset_states([np.zeros((2, 2, 3, 2)), np.zeros((2, 3, 2, 2))])
    with pytest.raises(ValueError, match="expects 2 states, but it received 1 state values"):
        layer.reset_states([np.zeros((2, 2, 3, 2))])
    with pytest.raises(ValueError, match="The same thing goes for the number of rows and columns."):
        Sequential([L.ConvLSTM2D(2, 3, stateful=True, batch_input_shape=(2, 3, None, 4, 1))])
    with pytest.raises(ValueError, match="If a RNN is stateful, it needs to know its batch size"):
        Sequential([L.ConvLSTM2D(2, 3, stateful=True, input_shape=(3, 5, 4, 1))])
    with pytest.raises(AttributeError, match="Layer must be stateful."):
        L.ConvLSTM2D(2, 3).reset_states()


# ============================================================================================== dropout
def channels_last_masks(masks):
    return [to_last(m.numpy().astype("float64")) for m in masks]


def test_dropout_masks_are_per_gate_fixed_over_time_and_only_in_training():
    x = RNG.randn(2, 4, 5, 5, 2)
    weights = random_weights(2, 3)
    layer = make_layer(weights, x.shape[1:], padding="same", dropout=0.4, recurrent_dropout=0.3,
                       return_sequences=True)
    expected_plain = conv_lstm_reference(weights, x, zeros(2, 5, 5, 3), padding="same")[1]
    layer.eval()
    np.testing.assert_allclose(run(layer, x), expected_plain, rtol=1e-5, atol=1e-5)
    assert layer.cell._dropout_mask is None
    layer.train()
    trained = run(layer, x)
    input_masks = channels_last_masks(layer.cell._dropout_mask)
    recurrent_masks = channels_last_masks(layer.cell._recurrent_dropout_mask)
    assert len(input_masks) == len(recurrent_masks) == 4
    assert input_masks[0].shape == (2, 5, 5, 2) and recurrent_masks[0].shape == (2, 5, 5, 3)
    np.testing.assert_allclose(np.unique(input_masks[0]), [0.0, 1 / 0.6])  # inverted dropout, elementwise as Keras
    assert not np.array_equal(input_masks[0], input_masks[1])  # one mask per gate

    def step(x_t, flat):
        h, c = (s.reshape(2, 5, 5, 3) for s in flat)
        h, c = conv_lstm_step(x_t, h, c, weights, padding="same", input_masks=input_masks,
                              recurrent_masks=recurrent_masks)
        return h.reshape(2, -1), [h.reshape(2, -1), c.reshape(2, -1)]

    expected = keras_rnn(step, x, [np.zeros((2, 75))] * 2)[1].reshape(2, 4, 5, 5, 3)
    np.testing.assert_allclose(trained, expected, rtol=1e-5, atol=1e-5)
    run(layer, x)
    assert not np.array_equal(channels_last_masks(layer.cell._dropout_mask)[0], input_masks[0])  # redrawn per call


def test_training_with_dropout_reaches_every_weight():
    layer = L.ConvLSTM2D(2, 3, dropout=0.2, recurrent_dropout=0.2)
    layer.train()
    layer(torch.randn(2, 3, 5, 5, 1)).square().sum().backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in layer.trainable_weights)


# ============================================================================================== weights
@pytest.mark.parametrize("kwargs, in_channels", [(dict(filters=4, kernel_size=3), 2),
                                                 (dict(filters=8, kernel_size=(2, 5), use_bias=False), 3),
                                                 (dict(filters=1, kernel_size=1, data_format="channels_first"), 6)])
def test_parameter_counts_equal_keras(kwargs, in_channels):
    layer = L.ConvLSTM2D(**kwargs)
    data_format = kwargs.get("data_format", "channels_last")
    layer._build_once((None, 3, in_channels, 7, 7) if data_format == "channels_first" else (None, 3, 7, 7, in_channels))
    kh, kw = np.broadcast_to(kwargs["kernel_size"], 2)
    f = kwargs["filters"]
    # Keras 2.3.1: kernel (kh, kw, in, 4f) + recurrent_kernel (kh, kw, f, 4f) + bias (4f,)
    expected = kh * kw * in_channels * 4 * f + kh * kw * f * 4 * f + (4 * f if kwargs.get("use_bias", True) else 0)
    assert layer.count_params() == expected
    if kwargs == dict(filters=4, kernel_size=3):
        assert expected == 880


def test_weights_are_in_keras_layouts_and_initialised_as_keras():
    layer = L.ConvLSTM2D(4, (2, 3))
    layer._build_once((None, None, 6, 6, 2))
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert (kernel.shape, recurrent_kernel.shape, bias.shape) == ((2, 3, 2, 16), (2, 3, 4, 16), (16,))
    assert tuple(layer.cell.kernel.shape) == (16, 2, 2, 3)  # torch's layout inside
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])  # unit_forget_bias
    flat = recurrent_kernel.reshape(-1, 16)  # Keras's Orthogonal flattens all but the last axis
    np.testing.assert_allclose(flat.T @ flat, np.eye(16), atol=1e-5)
    limit = np.sqrt(6 / (2 * 3 * 2 + 2 * 3 * 16))  # glorot_uniform on Keras's (kh, kw, in, 4f)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    no_forget = L.ConvLSTM2D(4, 3, unit_forget_bias=False)
    no_forget._build_once((None, None, 6, 6, 2))
    assert not no_forget.get_weights()[2].any()
    new = [RNG.randn(*w.shape) for w in layer.get_weights()]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_regularizers_constraints_and_activity_regularizer_act_on_the_keras_weights():
    layer = L.ConvLSTM2D(2, 3, kernel_regularizer="l2", recurrent_constraint="non_neg", activity_regularizer="l1",
                         return_state=True)
    layer._build_once((None, None, 5, 5, 1))
    (penalty,) = layer.cell.regularization_losses()
    assert float(penalty.detach()) == pytest.approx(0.01 * np.square(layer.get_weights()[0]).sum(), rel=1e-5)
    layer.cell.apply_constraints()
    assert (layer.get_weights()[1] >= 0).all()
    layer.train()
    outputs = layer(torch.randn(2, 3, 5, 5, 1))
    (activity,) = layer.regularization_losses()
    assert float(activity.detach()) == pytest.approx(sum(0.01 * t.abs().sum().item() for t in outputs), rel=1e-5)
    assert layer.kernel_regularizer is layer.cell.kernel_regularizer is not None


# ============================================================================================== shapes and configs
def test_symbolic_shapes_and_compute_output_shape_follow_keras():
    x = L.Input(shape=(None, 9, 8, 3))
    outputs = L.ConvLSTM2D(4, 3, strides=2, return_sequences=True, return_state=True)(x)
    assert [t.shape for t in outputs] == [(None, None, 4, 3, 4), (None, 4, 3, 4), (None, 4, 3, 4)]
    first = L.Input(shape=(5, 3, 9, 8))
    assert L.ConvLSTM2D(2, (2, 3), padding="same", data_format="channels_first")(first).shape == (None, 2, 9, 8)
    layer = L.ConvLSTM2D(4, 3, dilation_rate=2, return_state=True)
    assert layer.compute_output_shape((None, 5, 9, 8, 3)) == [(None, 5, 4, 4)] * 3


def test_config_has_keras_2_3_1_keys_in_order_and_defaults():
    config = L.ConvLSTM2D(3, 2).get_config()
    assert list(config) == [
        "name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
        "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout"]
    assert config["recurrent_activation"] == "hard_sigmoid"  # Keras 2.3.1's ConvLSTM2D default (LSTM's: sigmoid)
    assert (config["kernel_size"], config["strides"], config["padding"]) == ((2, 2), (1, 1), "valid")
    assert config["data_format"] == "channels_last" and config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert L.ConvLSTM2D(3, 2, dropout=1.0, padding="SAME").get_config()["dropout"] == 1.0
    # Keras 2.3.1 clips 1.5 to 1.0 (and then drops nothing): refused instead (issue 15)
    with pytest.raises(ValueError, match=r"argument `dropout` must be a number in \[0, 1\]; received 1.5"):
        L.ConvLSTM2D(3, 2, dropout=1.5)
    cell_config = L.ConvLSTM2DCell(3, 2).get_config()
    assert "activity_regularizer" not in cell_config and cell_config["unit_forget_bias"] is True


@pytest.mark.parametrize("layer", [
    lambda: L.ConvLSTM2D(3, (2, 3), strides=(2, 1), padding="same", data_format="channels_first",
                         recurrent_activation="sigmoid", kernel_regularizer="l1", recurrent_constraint="max_norm",
                         return_sequences=True, return_state=True, go_backwards=True, dropout=0.1),
    lambda: L.ConvLSTM2DCell(2, 3, dilation_rate=2, use_bias=False, bias_constraint="non_neg")])
def test_config_rebuilds_the_same_layer(layer):
    original = layer()
    clone = saving.deserialize_layer(json.loads(json.dumps(saving.layer_config(original))))
    assert type(clone) is type(original)
    assert clone.get_config() | {"name": None} == original.get_config() | {"name": None}


# ============================================================================================== errors
def test_errors_use_keras_wording():
    with pytest.raises(TypeError, match="Unrolling isn't possible with convolutional RNNs."):
        L.ConvLSTM2D(2, 3, unroll=True)
    with pytest.raises(TypeError, match="It is not possible at the moment to stack convolutional cells."):
        ConvRNN2D([L.ConvLSTM2DCell(2, 3), L.ConvLSTM2DCell(2, 3)])
    with pytest.raises(ValueError, match=r"The channel dimension of the inputs should be defined. Found `None`."):
        L.ConvLSTM2D(2, 3)(L.Input(shape=(3, 5, 5, None)))
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        L.ConvLSTM2D(2, 3)(L.Input(shape=(3, 5, 5)))
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        L.ConvLSTM2D(2, 3)(L.Input(shape=(3, 2, 5, 1)))
    with pytest.raises(ValueError, match="strides > 1 is incompatible with dilation_rate > 1"):
        L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'"):
        L.ConvLSTM2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="`filters` must be an integer >= 1; received 0"):
        L.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="RNN cell does not support constants"):
        L.ConvLSTM2D(2, 3)(torch.zeros(1, 2, 4, 4, 1), constants=[torch.zeros(1, 3)])


# ============================================================================================== models
def moving_dot_frames(samples, rng, size=6, steps=5):
    """A dot moving one cell right per frame from a random start: frames (samples, steps, size, size, 1)."""
    frames = np.zeros((samples, steps, size, size, 1), dtype="float32")
    rows, cols = rng.randint(0, size, samples), rng.randint(0, size - steps + 1, samples)
    for t in range(steps):
        frames[np.arange(samples), t, rows, cols + t, 0] = 1.0
    return frames


def test_a_conv_lstm_model_learns_to_predict_the_next_frame(tmp_path):
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    frames = moving_dot_frames(64, rng)
    x, y = frames[:, :-1], frames[:, -1]
    model = Sequential([L.ConvLSTM2D(6, 3, padding="same", input_shape=(None, 6, 6, 1)),
                        L.Conv2D(1, 3, padding="same", activation="sigmoid")])
    model.compile(Adam(lr=0.02), "binary_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=12, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    predicted = model.predict(x).reshape(64, -1).argmax(1)
    assert (predicted == y.reshape(64, -1).argmax(1)).mean() > 0.5  # the brightest cell is the dot's next place
    model.save(tmp_path / "m.h5")
    np.testing.assert_array_equal(load_model(tmp_path / "m.h5").predict(x), model.predict(x))
