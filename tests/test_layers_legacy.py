"""The Keras 1 layers Keras 2.3.1 still exports (``keras/legacy/layers.py``): MaxoutDense, Highway,
AtrousConvolution1D/2D, and the Recurrent / ConvRecurrent2D bases, exercised through Keras 1 style subclasses
written here. Expected values come from NumPy versions of Keras's equations; warning and error texts are
Keras 2.3.1's (``legacy/layers.py``, ``legacy/interfaces.py``)."""
import re
import warnings

import numpy as np
import pytest
import torch

from kerasish import backend as K
from kerasish import layers as L
from kerasish import models, regularizers, saving
from kerasish.layers import InputSpec
from kerasish.layers.legacy import ConvRecurrent2D, Recurrent

RNG = np.random.default_rng(0)
MAXOUT_WARNING = "The `MaxoutDense` layer is deprecated and will be removed after 06/2017."
HIGHWAY_WARNING = "The `Highway` layer is deprecated and will be removed after 06/2017."


def quiet(factory, *args, **kwargs):
    """Build a legacy layer without its (tested elsewhere) deprecation warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory(*args, **kwargs)


def warning_texts(factory, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = factory(*args, **kwargs)
    return result, [str(w.message) for w in caught]


def as_numpy(t):
    return t.detach().numpy()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ============================================================================================ MaxoutDense
def test_maxout_dense_warns_that_it_is_deprecated():
    with pytest.warns(UserWarning, match=re.escape(MAXOUT_WARNING)):
        L.MaxoutDense(3)


def test_maxout_dense_weights_have_keras_shapes_and_names():
    layer = quiet(L.MaxoutDense, 3, nb_feature=5)
    layer(torch.zeros(2, 4))
    assert [w.shape for w in layer.get_weights()] == [(5, 4, 3), (5, 3)]
    assert [name for name, _ in layer.keras_weight_specs()] == ["W", "b"]
    assert np.all(layer.get_weights()[1] == 0)  # Keras: bias initializer 'zero'
    no_bias = quiet(L.MaxoutDense, 3, nb_feature=5, bias=False)
    no_bias(torch.zeros(2, 4))
    assert [w.shape for w in no_bias.get_weights()] == [(5, 4, 3)]


def test_maxout_dense_is_the_maximum_of_its_affine_maps():
    W, b = RNG.normal(size=(4, 6, 3)).astype("float32"), RNG.normal(size=(4, 3)).astype("float32")
    x = RNG.normal(size=(5, 6)).astype("float32")
    layer = quiet(L.MaxoutDense, 3, nb_feature=4, weights=[W, b])
    expected = np.max(np.stack([x @ W[k] + b[k] for k in range(4)]), axis=0)
    np.testing.assert_allclose(as_numpy(layer(torch.from_numpy(x))), expected, rtol=1e-5, atol=1e-5)
    no_bias = quiet(L.MaxoutDense, 3, nb_feature=4, bias=False, weights=[W])
    np.testing.assert_allclose(as_numpy(no_bias(torch.from_numpy(x))),
                               np.max(np.stack([x @ W[k] for k in range(4)]), axis=0), rtol=1e-5, atol=1e-5)


def test_maxout_dense_input_dim_declares_the_input_shape_and_the_glorot_fans_of_keras():
    layer = quiet(L.MaxoutDense, 2, nb_feature=3, input_dim=7, init="glorot_uniform")
    assert layer.batch_input_shape == (None, 7)
    model = models.Sequential([layer])
    assert model.output_shape == (None, 2)
    # Keras's fans for a (3, 7, 2) kernel: receptive field 3, fan_in 21, fan_out 6 -> limit sqrt(6 / 27)
    assert np.abs(layer.get_weights()[0]).max() <= np.sqrt(6 / 27)


def test_maxout_dense_config_has_keras_keys_and_round_trips():
    layer = quiet(L.MaxoutDense, 3, nb_feature=2, W_regularizer=regularizers.l2(0.1), b_constraint="non_neg",
                  input_dim=4, name="maxout")
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "batch_input_shape", "output_dim", "init", "nb_feature",
                           "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint",
                           "bias", "input_dim"}
    assert (config["output_dim"], config["nb_feature"], config["input_dim"], config["bias"]) == (3, 2, 4, True)
    assert config["W_regularizer"]["class_name"] == "L1L2"
    assert config["b_constraint"]["class_name"] == "NonNeg"
    clone = quiet(saving.deserialize_layer, {"class_name": "MaxoutDense", "config": config})  # found by name
    assert type(clone) is L.MaxoutDense and clone.get_config() == config


def test_maxout_dense_w_regularizer_penalises_w_in_keras_layout():
    W = RNG.normal(size=(2, 3, 4)).astype("float32")
    layer = quiet(L.MaxoutDense, 4, nb_feature=2, W_regularizer=regularizers.l2(0.5), weights=[W, np.zeros((2, 4))])
    layer(torch.zeros(1, 3))
    (penalty,) = layer.regularization_losses()
    np.testing.assert_allclose(float(penalty.detach()), 0.5 * np.sum(W ** 2), rtol=1e-5)


def test_maxout_dense_refuses_inputs_that_are_not_2d_and_bad_sizes():
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        quiet(L.MaxoutDense, 3)(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="MaxoutDense: argument `output_dim` must be an integer >= 1; received 0"):
        quiet(L.MaxoutDense, 0)
    with pytest.raises(ValueError, match="`nb_feature` must be an integer >= 1"):
        quiet(L.MaxoutDense, 3, nb_feature=-1)


# ============================================================================================ Highway
def test_highway_warns_that_it_and_transform_bias_are_deprecated():
    with pytest.warns(UserWarning, match=re.escape(HIGHWAY_WARNING)):
        L.Highway()
    _, texts = warning_texts(L.Highway, transform_bias=-2)
    assert texts == [HIGHWAY_WARNING, "`transform_bias` argument is deprecated and has been removed."]


def test_highway_weights_are_w_w_carry_b_b_carry_with_the_carry_bias_at_one():
    layer = quiet(L.Highway)
    layer(torch.zeros(2, 5))
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [(5, 5), (5, 5), (5,), (5,)]
    assert [name for name, _ in layer.keras_weight_specs()] == ["W", "W_carry", "b", "b_carry"]
    np.testing.assert_array_equal(weights[2], np.zeros(5))
    np.testing.assert_array_equal(weights[3], np.ones(5))
    no_bias = quiet(L.Highway, bias=False)
    no_bias(torch.zeros(2, 5))
    assert [w.shape for w in no_bias.get_weights()] == [(5, 5), (5, 5)]


def test_highway_mixes_the_transform_and_the_input_by_the_carry_gate():
    n = 4
    W, W_carry = RNG.normal(size=(n, n)).astype("float32"), RNG.normal(size=(n, n)).astype("float32")
    b, b_carry = RNG.normal(size=n).astype("float32"), RNG.normal(size=n).astype("float32")
    x = RNG.normal(size=(6, n)).astype("float32")
    layer = quiet(L.Highway, activation="tanh", weights=[W, W_carry, b, b_carry])
    gate = sigmoid(x @ W_carry + b_carry)
    expected = gate * np.tanh(x @ W + b) + (1 - gate) * x
    np.testing.assert_allclose(as_numpy(layer(torch.from_numpy(x))), expected, rtol=1e-5, atol=1e-5)
    linear = quiet(L.Highway, bias=False, weights=[W, W_carry])  # no activation: linear, as Keras
    gate = sigmoid(x @ W_carry)
    np.testing.assert_allclose(as_numpy(linear(torch.from_numpy(x))), gate * (x @ W) + (1 - gate) * x,
                               rtol=1e-5, atol=1e-5)


def test_highway_config_has_keras_keys_and_round_trips():
    layer = quiet(L.Highway, activation="relu", b_regularizer="l1", input_dim=3)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "batch_input_shape", "init", "activation",
                           "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint",
                           "bias", "input_dim"}
    assert (config["activation"], config["input_dim"], config["batch_input_shape"]) == ("relu", 3, (None, 3))
    clone = quiet(saving.deserialize_layer, {"class_name": "Highway", "config": config})
    assert type(clone) is L.Highway and clone.get_config() == config


def test_maxout_dense_and_highway_save_and_load_by_class_name(tmp_path):
    model = models.Sequential([quiet(L.MaxoutDense, 5, nb_feature=3, input_dim=4),
                               quiet(L.Highway, activation="sigmoid")])
    x = RNG.normal(size=(3, 4)).astype("float32")
    path = tmp_path / "legacy.h5"
    model.save(str(path))
    loaded = quiet(models.load_model, str(path))
    assert [type(layer).__name__ for layer in loaded.layers] == ["MaxoutDense", "Highway"]
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


# ============================================================================================ atrous convolutions
def numpy_dilated_conv1d(x, kernel, bias, rate):
    """'valid' dilated correlation: y[n, t, f] = sum_j,c x[n, t + j * rate, c] * kernel[j, c, f] + bias[f]."""
    span = (kernel.shape[0] - 1) * rate + 1
    steps = x.shape[1] - span + 1
    return np.stack([sum(x[:, t + j * rate] @ kernel[j] for j in range(kernel.shape[0])) + bias
                     for t in range(steps)], axis=1)


def numpy_dilated_conv2d(x, kernel, bias, rate):
    """'valid' dilated 2-D correlation, channels_last, stride 1."""
    kh, kw = kernel.shape[:2]
    rows, cols = x.shape[1] - (kh - 1) * rate[0], x.shape[2] - (kw - 1) * rate[1]
    out = np.zeros((x.shape[0], rows, cols, kernel.shape[-1]))
    for i in range(rows):
        for j in range(cols):
            for a in range(kh):
                for b in range(kw):
                    out[:, i, j] += x[:, i + a * rate[0], j + b * rate[1]] @ kernel[a, b]
    return out + bias


def test_atrous_convolution1d_warns_and_returns_a_dilated_conv1d_from_keras1_arguments():
    layer, texts = warning_texts(L.AtrousConvolution1D, nb_filter=2, filter_length=3, atrous_rate=2,
                                 border_mode="valid", input_dim=3, input_length=9)
    assert texts == [
        "The `AtrousConvolution1D` layer  has been deprecated. Use instead the `Conv1D` layer with the "
        "`dilation_rate` argument.",
        'Update your `Conv1D` call to the Keras 2 API: `Conv1D(dilation_rate=2, input_shape=(9, 3), filters=2, '
        'kernel_size=3, padding="valid")`']
    assert type(layer) is L.Conv1D
    assert (layer.filters, layer.kernel_size, layer.dilation_rate, layer.padding) == (2, (3,), (2,), "valid")
    assert layer.batch_input_shape == (None, 9, 3)
    x = RNG.normal(size=(2, 9, 3)).astype("float32")
    out = as_numpy(layer(torch.from_numpy(x)))
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, numpy_dilated_conv1d(x, kernel, bias, 2), rtol=1e-5, atol=1e-5)


def test_atrous_convolution2d_takes_nb_row_nb_col_positionally_and_dilates():
    layer, texts = warning_texts(L.AtrousConvolution2D, 4, 3, 2, atrous_rate=(2, 1), init="he_normal",
                                 bias=False)
    assert texts[1] == ("Update your `Conv2D` call to the Keras 2 API: `Conv2D(4, (3, 2), dilation_rate=(2, 1), "
                        'kernel_initializer="he_normal", use_bias=False)`')
    assert (layer.kernel_size, layer.dilation_rate, layer.use_bias) == ((3, 2), (2, 1), False)
    x = RNG.normal(size=(2, 8, 6, 3)).astype("float32")
    out = as_numpy(layer(torch.from_numpy(x)))
    (kernel,) = layer.get_weights()
    np.testing.assert_allclose(out, numpy_dilated_conv2d(x, kernel, 0.0, (2, 1)), rtol=1e-4, atol=1e-5)


def test_atrous_convolution2d_converts_subsample_dim_ordering_and_keyword_nb_row_nb_col():
    layer, texts = warning_texts(L.AtrousConvolution2D, 4, nb_row=3, nb_col=3, subsample=(2, 2),
                                 dim_ordering="th", border_mode="same")
    assert texts[1] == ('Update your `Conv2D` call to the Keras 2 API: `Conv2D(4, (3, 3), dilation_rate=1, '
                        'strides=(2, 2), padding="same", data_format="channels_first")`')
    assert (layer.strides, layer.padding, layer.data_format, layer.dilation_rate) == \
        ((2, 2), "same", "channels_first", (1, 1))


def test_atrous_convolution_with_keras2_names_warns_only_about_the_deprecation():
    layer, texts = warning_texts(L.AtrousConvolution2D, 4, (3, 3), padding="same")
    assert len(texts) == 1 and "AtrousConvolution2D" in texts[0]
    assert layer.dilation_rate == (1, 1)  # atrous_rate defaults to 1
    layer = quiet(L.AtrousConvolution1D, 4, 3, dilation_rate=3)
    assert layer.dilation_rate == (3,)


def test_atrous_convolution_argument_errors_are_keras_ones():
    with pytest.raises(TypeError, match=re.escape(
            "`Conv1D` can accept only 2 positional arguments ('filters', 'kernel_size'), but you passed the "
            "following positional arguments: [4, 3, 'glorot_uniform']")):
        quiet(L.AtrousConvolution1D, 4, 3, "glorot_uniform")
    with pytest.raises(TypeError, match=re.escape(
            "For the `filters` argument, the layer received both the legacy keyword argument `nb_filter` and the "
            "Keras 2 keyword argument `filters`. Stick to the latter!")):
        quiet(L.AtrousConvolution2D, filters=4, nb_filter=4, kernel_size=3)
    with pytest.raises(TypeError, match="Layer can receive at most 3 positional arguments."):
        quiet(L.AtrousConvolution2D, 4, 3, 3, 1)
    with pytest.raises(ValueError, match="passing both `kernel_size` and `strides` as integer positional"):
        quiet(L.AtrousConvolution2D, 4, 3, 3, padding="same")
    with pytest.raises(TypeError, match="received both `atrous_rate` and `dilation_rate`"):
        quiet(L.AtrousConvolution1D, 4, 3, atrous_rate=2, dilation_rate=2)


# ============================================================================================ Recurrent
class MinimalRNN(Recurrent):
    """A Keras 1 style recurrent layer: h_t = tanh(x_t W + h_{t-1} U + b), output h_t."""

    def __init__(self, units, **kwargs):
        self.units = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        self.input_spec = [InputSpec(shape=input_shape)]
        self.states = [None]
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[2], self.units))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, self.units))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="uniform")
        if self.stateful:
            self.reset_states()

    def step(self, inputs, states):
        h = K.tanh(K.dot(inputs, self.kernel) + K.dot(states[0], self.recurrent_kernel) + self.bias)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Masker(L.Layer):
    """Keras's Masking(0.0): steps whose features are all zero are masked."""

    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return (inputs != 0).any(-1)


def numpy_rnn(x, W, U, b, h0=None, mask=None, go_backwards=False):
    """Keras's K.rnn over the MinimalRNN step: (outputs in processed order, last state)."""
    h = np.zeros((x.shape[0], U.shape[0])) if h0 is None else h0
    previous_output = np.zeros_like(h)
    outputs = []
    order = range(x.shape[1])[::-1] if go_backwards else range(x.shape[1])
    for t in order:
        new_h = np.tanh(x[:, t] @ W + h @ U + b)
        if mask is not None:
            keep = mask[:, t:t + 1]
            new_h = np.where(keep, new_h, h)
            output = np.where(keep, new_h, previous_output)
        else:
            output = new_h
        h, previous_output = new_h, output
        outputs.append(output)
    return np.stack(outputs, axis=1), h


def rnn_weights(layer):
    return [w.astype("float64") for w in layer.get_weights()]


@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_runs_the_subclass_step_over_time(go_backwards):
    x = RNG.normal(size=(3, 5, 4)).astype("float32")
    last = MinimalRNN(6, go_backwards=go_backwards)
    sequences = MinimalRNN(6, return_sequences=True, go_backwards=go_backwards)
    out_last = as_numpy(last(torch.from_numpy(x)))
    sequences(torch.from_numpy(x))
    sequences.set_weights(last.get_weights())
    out_sequences = as_numpy(sequences(torch.from_numpy(x)))
    expected, _ = numpy_rnn(x, *rnn_weights(last), go_backwards=go_backwards)
    np.testing.assert_allclose(out_sequences, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out_last, expected[:, -1], rtol=1e-5, atol=1e-5)


def test_recurrent_return_state_and_initial_state_on_real_tensors():
    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    h0 = RNG.normal(size=(2, 5)).astype("float32")
    layer = MinimalRNN(5, return_state=True)
    output, state = layer(torch.from_numpy(x), initial_state=[torch.from_numpy(h0)])
    expected, last_h = numpy_rnn(x, *rnn_weights(layer), h0=h0)
    np.testing.assert_allclose(as_numpy(output), expected[:, -1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(as_numpy(state), last_h, rtol=1e-5, atol=1e-5)
    output_from_list, _ = layer([torch.from_numpy(x), torch.from_numpy(h0)])  # states as extra inputs
    np.testing.assert_allclose(as_numpy(output_from_list), as_numpy(output), rtol=1e-6)


def test_recurrent_symbolic_initial_state_joins_the_graph():
    x_in, h_in = L.Input(shape=(4, 3)), L.Input(shape=(5,))
    layer = MinimalRNN(5, return_sequences=True)
    model = models.Model([x_in, h_in], layer(x_in, initial_state=h_in))
    assert model.output_shape == (None, 4, 5)
    x, h0 = RNG.normal(size=(2, 4, 3)).astype("float32"), RNG.normal(size=(2, 5)).astype("float32")
    expected, _ = numpy_rnn(x, *rnn_weights(layer), h0=h0)
    np.testing.assert_allclose(model.predict([x, h0]), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="cannot be specified with a mix of Keras tensors and non-Keras tensors"):
        MinimalRNN(5)(x_in, initial_state=[h_in, torch.zeros(2, 5)])


def test_recurrent_subclass_with_initial_state_saves_and_loads_with_custom_objects(tmp_path):
    x_in, h_in = L.Input(shape=(4, 3)), L.Input(shape=(5,))
    output, state = MinimalRNN(5, return_state=True, go_backwards=True)(x_in, initial_state=h_in)
    model = models.Model([x_in, h_in], [output, state])
    model.save(str(tmp_path / "rnn.h5"))
    loaded = models.load_model(str(tmp_path / "rnn.h5"), custom_objects={"MinimalRNN": MinimalRNN}, compile=False)
    x, h0 = RNG.normal(size=(2, 4, 3)).astype("float32"), RNG.normal(size=(2, 5)).astype("float32")
    for got, want in zip(loaded.predict([x, h0]), model.predict([x, h0])):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_recurrent_masked_steps_keep_the_previous_output_and_state():
    x = RNG.normal(size=(3, 5, 2)).astype("float32")
    x[0, 3:] = 0  # padded at the end
    x[1, :2] = 0  # padded at the start: outputs stay zero until the first real step
    x[2, 2] = 0
    mask = (x != 0).any(-1)
    inputs = L.Input(shape=(5, 2))
    layer = MinimalRNN(4, return_sequences=True)
    model = models.Model(inputs, layer(Masker()(inputs)))
    expected, _ = numpy_rnn(x, *rnn_weights(layer), mask=mask)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)
    direct = as_numpy(layer(torch.from_numpy(x), mask=torch.from_numpy(mask)))
    np.testing.assert_allclose(direct, expected, rtol=1e-5, atol=1e-5)


def test_recurrent_compute_mask_and_output_shape_follow_return_sequences_and_state():
    mask = torch.tensor([[True, False]])
    assert MinimalRNN(3).compute_mask(None, mask) is None
    assert MinimalRNN(3, return_sequences=True).compute_mask(None, [mask, None]) is mask
    layer = MinimalRNN(3, return_sequences=True, return_state=True)
    layer.build((None, 2, 4))
    assert layer.compute_mask(None, mask)[0] is mask and layer.compute_mask(None, mask)[1:] == [None]
    assert layer.compute_output_shape((None, 2, 4)) == [(None, 2, 3), (None, 3)]
    assert MinimalRNN(3).compute_output_shape([(7, 2, 4)]) == (7, 3)


def test_recurrent_stateful_carries_states_between_calls_until_reset():
    x1, x2 = (RNG.normal(size=(2, 3, 4)).astype("float32") for _ in range(2))
    layer = MinimalRNN(5, stateful=True, return_sequences=True)
    inputs = L.Input(batch_shape=(2, 3, 4))
    model = models.Model(inputs, layer(inputs))
    W, U, b = rnn_weights(layer)
    first, h = numpy_rnn(x1, W, U, b)
    second, _ = numpy_rnn(x2, W, U, b, h0=h)
    np.testing.assert_allclose(model.predict(x1, batch_size=2), first, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict(x2, batch_size=2), second, rtol=1e-5, atol=1e-5)
    layer.reset_states()
    np.testing.assert_allclose(model.predict(x1, batch_size=2), first, rtol=1e-5, atol=1e-5)
    h0 = RNG.normal(size=(2, 5))
    layer.reset_states(states=h0)
    np.testing.assert_allclose(model.predict(x1, batch_size=2), numpy_rnn(x1, W, U, b, h0=h0)[0], rtol=1e-5,
                               atol=1e-5)


def test_recurrent_state_errors_are_keras_ones():
    with pytest.raises(AttributeError, match="Layer must be stateful."):
        MinimalRNN(3).reset_states()
    with pytest.raises(ValueError, match="If a RNN is stateful, it needs to know its batch size"):
        MinimalRNN(3, stateful=True)(torch.zeros(2, 3, 4))
    layer = MinimalRNN(3, stateful=True, batch_input_shape=(2, 5, 4), name="rnn")
    layer.build((2, 5, 4))
    with pytest.raises(ValueError, match=re.escape("State 0 is incompatible with layer rnn: expected shape=(2, 3), "
                                                   "found shape=(2, 4)")):
        layer.reset_states(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Layer rnn expects 1 states, but it received 2 state values"):
        layer.reset_states([np.zeros((2, 3))] * 2)
    with pytest.raises(ValueError, match="Layer has 1 states but was passed 2 initial states."):
        MinimalRNN(3)(torch.zeros(2, 5, 4), initial_state=[torch.zeros(2, 3)] * 2)


def test_recurrent_unroll_needs_a_known_time_dimension():
    with pytest.raises(ValueError, match="Cannot unroll a RNN if the time dimension is undefined or equal to 1"):
        MinimalRNN(3, unroll=True)(L.Input(shape=(None, 4)))
    with pytest.raises(ValueError, match="Cannot unroll a RNN"):
        MinimalRNN(3, unroll=True)(torch.zeros(2, 1, 4))
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    layer = MinimalRNN(3, unroll=True)
    np.testing.assert_allclose(as_numpy(layer(torch.from_numpy(x))), numpy_rnn(x, *rnn_weights(layer))[0][:, -1],
                               rtol=1e-5, atol=1e-5)


def test_recurrent_config_and_implementation_values():
    config = MinimalRNN(3, implementation=2, go_backwards=True).get_config()
    assert {key: config[key] for key in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                                         "implementation", "units")} == \
        {"return_sequences": False, "return_state": False, "go_backwards": True, "stateful": False, "unroll": False,
         "implementation": 2, "units": 3}
    assert MinimalRNN.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="implementation must be 0, 1 or 2; received 3"):
        MinimalRNN(3, implementation=3)


def test_recurrent_trains_through_the_loop():
    layer = MinimalRNN(2)
    x = torch.from_numpy(RNG.normal(size=(4, 3, 2)).astype("float32"))
    layer(x).sum().backward()
    assert all(w.grad is not None and float(w.grad.abs().sum()) > 0 for w in layer.trainable_weights)


def test_recurrent_without_step_says_what_to_implement():
    class NoStep(Recurrent):
        units = 2

        def build(self, input_shape):
            self.states = [None]

    with pytest.raises(NotImplementedError, match="must implement step"):
        NoStep()(torch.zeros(1, 2, 3))


# ============================================================================================ ConvRecurrent2D
class ConvSimpleRNN2D(ConvRecurrent2D):
    """Keras 1 style: h_t = tanh(conv(x_t, kernel) + conv_same(h_{t-1}, recurrent_kernel))."""

    def build(self, input_shape):
        self.input_spec = [InputSpec(shape=input_shape)]
        self.states = [None]
        channels = input_shape[2] if self.data_format == "channels_first" else input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels, self.filters))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel",
                                                shape=self.kernel_size + (self.filters, self.filters))
        if self.stateful:
            self.reset_states()

    def step(self, inputs, states):
        x = K.conv2d(inputs, self.kernel, strides=self.strides, padding=self.padding, data_format=self.data_format,
                     dilation_rate=self.dilation_rate)
        h = K.conv2d(states[0], self.recurrent_kernel, padding="same", data_format=self.data_format)
        output = K.tanh(x + h)
        return output, [output]


def numpy_conv2d_same_or_valid(x, kernel, padding):
    """Stride 1, channels_last; 'same' pads (k - 1) // 2 before and the rest after (TensorFlow)."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    return numpy_dilated_conv2d(x, kernel, 0.0, (1, 1))


def test_conv_recurrent2d_subclass_runs_convolutions_over_time():
    x = RNG.normal(size=(2, 3, 5, 4, 2)).astype("float32")
    layer = ConvSimpleRNN2D(3, (3, 2), return_sequences=True)
    out = as_numpy(layer(torch.from_numpy(x)))
    kernel, recurrent_kernel = [w.astype("float64") for w in layer.get_weights()]
    h = np.zeros((2, 3, 3, 3))
    expected = []
    for t in range(3):
        h = np.tanh(numpy_conv2d_same_or_valid(x[:, t], kernel, "valid")
                    + numpy_conv2d_same_or_valid(h, recurrent_kernel, "same"))
        expected.append(h)
    np.testing.assert_allclose(out, np.stack(expected, axis=1), rtol=1e-4, atol=1e-5)


def test_conv_recurrent2d_output_shapes_follow_the_convolution():
    layer = ConvSimpleRNN2D(4, 3, strides=2, padding="same", return_sequences=True)
    assert layer.compute_output_shape((None, 6, 9, 8, 2)) == (None, 6, 5, 4, 4)
    inputs = L.Input(shape=(6, 9, 8, 2))
    assert models.Model(inputs, layer(inputs)).output_shape == (None, 6, 5, 4, 4)
    first = ConvSimpleRNN2D(4, 3, data_format="channels_first", return_state=True)
    assert first.compute_output_shape((None, 6, 2, 9, 8)) == [(None, 4, 7, 6)] * 3
    dilated = ConvSimpleRNN2D(4, 3, dilation_rate=2)
    assert dilated.compute_output_shape([(1, 6, 9, 8, 2)]) == (1, 5, 4, 4)


def test_conv_recurrent2d_stateful_states_have_the_output_step_shape():
    layer = ConvSimpleRNN2D(3, 3, stateful=True, batch_input_shape=(2, 4, 5, 5, 1))
    x = RNG.normal(size=(2, 4, 5, 5, 1)).astype("float32")
    first = as_numpy(layer(torch.from_numpy(x)))
    assert [tuple(s.shape) for s in layer.states] == [(2, 3, 3, 3)]
    assert not np.allclose(as_numpy(layer(torch.from_numpy(x))), first)  # carried over
    layer.reset_states()
    np.testing.assert_allclose(as_numpy(layer(torch.from_numpy(x))), first, rtol=1e-6)


def test_conv_recurrent2d_config_and_argument_errors():
    config = ConvSimpleRNN2D(4, (3, 3), padding="same", go_backwards=True, return_state=True).get_config()
    for key, value in {"filters": 4, "kernel_size": (3, 3), "strides": (1, 1), "padding": "same",
                       "data_format": "channels_last", "dilation_rate": (1, 1), "return_sequences": False,
                       "go_backwards": True, "stateful": False, "return_state": True, "unroll": False,
                       "implementation": 0}.items():
        assert config[key] == value
    assert ConvSimpleRNN2D.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same', 'causal'"):
        ConvSimpleRNN2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        ConvSimpleRNN2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        ConvSimpleRNN2D(4, 3)(L.Input(shape=(6, 9, 8)))
