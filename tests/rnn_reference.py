"""NumPy references of Keras 2.3.1's recurrent cells and of its ``K.rnn`` loop, on Keras-layout weights and in
Keras's gate orders (LSTM i, f, c, o; GRU z, r, h), written from Keras 2.3.1 ``layers/recurrent.py`` and
tf.keras 2.0 ``backend.rnn``: the expected values of the recurrent-layer tests."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def simple_rnn_step(x, states, kernel, recurrent_kernel, bias, activation=np.tanh):
    output = activation(x @ kernel + bias + states[0] @ recurrent_kernel)
    return output, [output]


def lstm_step(x, states, kernel, recurrent_kernel, bias, activation=np.tanh, recurrent_activation=sigmoid):
    h, c = states
    z = x @ kernel + h @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
    h = recurrent_activation(o) * activation(c)
    return h, [h, c]


def gru_step(x, states, kernel, recurrent_kernel, bias, reset_after=False, activation=np.tanh,
             recurrent_activation=sigmoid):
    h = states[0]
    units = h.shape[-1]
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, 0.0)
    x_z, x_r, x_h = np.split(x @ kernel + input_bias, 3, axis=-1)
    if reset_after:
        r_z, r_r, r_h = np.split(h @ recurrent_kernel + recurrent_bias, 3, axis=-1)
        z = recurrent_activation(x_z + r_z)
        r = recurrent_activation(x_r + r_r)
        candidate = activation(x_h + r * r_h)
    else:
        z = recurrent_activation(x_z + h @ recurrent_kernel[:, :units])
        r = recurrent_activation(x_r + h @ recurrent_kernel[:, units:2 * units])
        candidate = activation(x_h + (r * h) @ recurrent_kernel[:, 2 * units:])
    h = z * h + (1 - z) * candidate
    return h, [h]


def keras_rnn(step, x, initial_states, mask=None, go_backwards=False):
    """``(last_output, outputs, states)`` as ``K.rnn``: a masked step keeps the states and repeats the previous
    output (zeros before the first unmasked step); outputs in processing order."""
    states = [np.asarray(s, dtype=np.float64) for s in initial_states]
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    outputs, previous = [], None
    for t in order:
        output, new_states = step(x[:, t], states)
        if mask is not None:
            keep = mask[:, t][:, None].astype(bool)
            previous = np.zeros_like(output) if previous is None else previous
            output = np.where(keep, output, previous)
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        outputs.append(output)
        previous, states = output, new_states
    return outputs[-1], np.stack(outputs, axis=1), states


def random_weights(cell_name, input_dim, units, rng, reset_after=False, scale=0.5):
    """Keras-layout weights ``[kernel, recurrent_kernel, bias]`` of a cell."""
    gates = {"simple": 1, "lstm": 4, "gru": 3}[cell_name]
    bias_shape = (2, gates * units) if reset_after else (gates * units,)
    return [rng.randn(input_dim, gates * units) * scale, rng.randn(units, gates * units) * scale,
            rng.randn(*bias_shape) * scale]


def reference_step(cell_name, weights, reset_after=False):
    kernel, recurrent_kernel, bias = weights
    if cell_name == "simple":
        return lambda x, s: simple_rnn_step(x, s, kernel, recurrent_kernel, bias)
    if cell_name == "lstm":
        return lambda x, s: lstm_step(x, s, kernel, recurrent_kernel, bias)
    return lambda x, s: gru_step(x, s, kernel, recurrent_kernel, bias, reset_after)
