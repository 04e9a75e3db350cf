"""Frozen BatchNormalization in a training loop, as Keras 2.3.1 runs it (the transfer-learning case).

Keras 2.3.1: ``BatchNormalization.call`` (keras/layers/normalization.py 179-208) normalises with the batch's
statistics whenever the learning phase is 1 -- ``trainable`` plays no part there -- and registers the moving
statistics updates with ``add_update``; ``Layer.updates``/``get_updates_for`` (engine/base_layer.py 200-206,
1063-1064) and ``Network.updates`` (engine/network.py 379-380) are empty for a layer or model with
``trainable=False``, so ``_make_train_function`` (engine/training.py 317) runs no update for it. So a frozen BN
layer, or one inside a frozen model, trains on batch statistics and keeps its moving statistics; inference uses
the moving statistics. (tf.keras 2.x differs: ``trainable=False`` puts the layer in inference mode.)

Expected values come from NumPy statements of those formulas.
"""
import numpy as np
import torch

from kerasish import layers
from kerasish.models import Model

EPSILON = 1e-3
RNG = np.random.default_rng(14)


def numpy_bn(x, mean, var, gamma, beta):
    return (x - mean) / np.sqrt(var + EPSILON) * gamma + beta


def bn_weights(n):
    gamma = RNG.uniform(0.5, 1.5, n).astype("float32")
    beta = RNG.uniform(-0.5, 0.5, n).astype("float32")
    moving_mean = RNG.uniform(-1, 1, n).astype("float32")
    moving_var = RNG.uniform(0.5, 2.0, n).astype("float32")
    return [gamma, beta, moving_mean, moving_var]


def summing_head(units):
    """Dense(1) with kernel ones and bias 0 (trainable): the loss sees the sum of the BN outputs."""
    head = layers.Dense(1, name="head")
    head.build((None, units))
    head.set_weights([np.ones((units, 1), "float32"), np.zeros(1, "float32")])
    return head


def data(n=16, units=3):
    x = RNG.normal(2.0, 3.0, (n, units)).astype("float32")
    y = RNG.normal(0.0, 1.0, (n, 1)).astype("float32")
    return x, y


def mse_of_sum(out, y):
    return float(np.mean((out.sum(axis=1, keepdims=True) - y) ** 2))


def flat_model_with_frozen_bn():
    inp = layers.Input((3,))
    bn = layers.BatchNormalization(name="bn")
    model = Model(inp, summing_head(3)(bn(inp)))
    bn.set_weights(bn_weights(3))
    bn.trainable = False
    model.compile("sgd", "mse")
    return model, bn


def test_frozen_layer_trains_on_batch_statistics_and_keeps_its_weights():
    model, bn = flat_model_with_frozen_bn()
    gamma, beta, moving_mean, moving_var = before = bn.get_weights()
    x, y = data()
    # inference: the moving statistics
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               mse_of_sum(numpy_bn(x, moving_mean, moving_var, gamma, beta), y), rtol=1e-5)
    loss = model.train_on_batch(x, y)  # the loss of the forward pass, before the step
    expected = mse_of_sum(numpy_bn(x, x.mean(0), x.var(0), gamma, beta), y)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)  # gamma, beta and the moving statistics alike


def nested_frozen_base():
    inp = layers.Input((3,))
    base = Model(inp, layers.BatchNormalization(name="bn")(inp), name="base")
    base.get_layer("bn").set_weights(bn_weights(3))
    base.trainable = False
    outer_inp = layers.Input((3,))
    return base, outer_inp


def test_layer_inside_frozen_model_keeps_moving_statistics():
    base, outer_inp = nested_frozen_base()
    model = Model(outer_inp, summing_head(3)(base(outer_inp)))
    model.compile("sgd", "mse")
    bn = base.get_layer("bn")
    assert bn.trainable  # Keras 2.3.1: the layer's own flag stays; the model's flag freezes it
    gamma, beta, _, _ = before = bn.get_weights()
    x, y = data()
    loss = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    np.testing.assert_allclose(loss, mse_of_sum(numpy_bn(x, x.mean(0), x.var(0), gamma, beta), y), rtol=1e-5)
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert [tuple(w.shape) for w in model.trainable_weights] == [(1, 3), (1,)]


def test_unfrozen_model_moves_statistics_by_keras_formula():
    base, outer_inp = nested_frozen_base()
    base.trainable = True
    model = Model(outer_inp, summing_head(3)(base(outer_inp)))
    model.compile("sgd", "mse")
    _, _, moving_mean, moving_var = base.get_layer("bn").get_weights()
    x, y = data()
    model.train_on_batch(x, y)
    m = x.shape[0]
    # K.moving_average_update with momentum 0.99; variance * m / (m - (1 + epsilon)) (normalization.py 192-202)
    np.testing.assert_allclose(base.get_layer("bn").get_weights()[2], 0.99 * moving_mean + 0.01 * x.mean(0),
                               rtol=1e-5)
    np.testing.assert_allclose(base.get_layer("bn").get_weights()[3],
                               0.99 * moving_var + 0.01 * x.var(0) * m / (m - (1 + EPSILON)), rtol=1e-5)


def test_unfreezing_a_model_leaves_its_frozen_layers_frozen():
    # the fine-tuning order of Keras 2 scripts, done backwards: per-layer flags survive the model's flag
    inp = layers.Input((3,))
    bn = layers.BatchNormalization(name="bn")
    dense = layers.Dense(2, name="dense")
    base = Model(inp, dense(bn(inp)))
    bn.trainable = False
    base.trainable = False
    assert base.trainable_weights == []
    base.trainable = True
    assert [tuple(w.shape) for w in base.trainable_weights] == [(2, 3), (2,)]  # dense only (torch layout)
    assert not bn._effectively_trainable()


def test_layer_set_trainable_inside_a_frozen_model_stays_frozen():
    inp = layers.Input((3,))
    dense = layers.Dense(2, name="dense")
    base = Model(inp, dense(inp))
    base.trainable = False
    dense.trainable = True  # Keras 2.3.1 Network.trainable_weights: [] while the model is frozen
    assert base.trainable_weights == [] and dense.trainable
    base.trainable = True
    assert len(base.trainable_weights) == 2


def test_frozen_rnn_cell_inside_frozen_model_gets_no_gradient():
    inp = layers.Input((4, 3))
    rnn = layers.SimpleRNN(2, name="rnn")
    base = Model(inp, rnn(inp))
    base.trainable = False
    rnn.cell.trainable = True
    assert all(not p.requires_grad for p in base.parameters())


def test_training_false_call_gives_tf_keras_inference_mode():
    # tf.keras 2.x transfer learning, `base(x, training=False)`: the moving statistics, in training as well
    base, outer_inp = nested_frozen_base()
    model = Model(outer_inp, summing_head(3)(base(outer_inp, training=False)))
    model.compile("sgd", "mse")
    gamma, beta, moving_mean, moving_var = before = base.get_layer("bn").get_weights()
    x, y = data()
    loss = model.train_on_batch(x, y)
    np.testing.assert_allclose(loss, mse_of_sum(numpy_bn(x, moving_mean, moving_var, gamma, beta), y), rtol=1e-5)
    for old, new in zip(before, base.get_layer("bn").get_weights()):
        np.testing.assert_array_equal(old, new)


def test_frozen_convolutional_bn_normalises_each_channel_over_batch_and_space():
    inp = layers.Input((4, 4, 2))
    bn = layers.BatchNormalization(name="bn")
    conv = layers.Conv2D(2, 1, use_bias=False, name="conv")  # identity: BN sees x, in torch's channels-first
    out = layers.GlobalAveragePooling2D()(bn(conv(inp)))
    model = Model(inp, summing_head(2)(out))
    conv.set_weights([np.eye(2, dtype="float32").reshape(1, 1, 2, 2)])
    bn.set_weights(bn_weights(2))
    bn.trainable = False
    model.compile("sgd", "mse")
    gamma, beta, moving_mean, moving_var = before = bn.get_weights()
    x = RNG.normal(1.0, 2.0, (8, 4, 4, 2)).astype("float32")
    y = RNG.normal(0.0, 1.0, (8, 1)).astype("float32")
    torch.testing.assert_close(torch.tensor(model.predict(x)),
                               torch.tensor(numpy_bn(x, moving_mean, moving_var, gamma, beta).mean((1, 2))
                                            .sum(1, keepdims=True)), rtol=1e-4, atol=1e-5)
    loss = model.train_on_batch(x, y)
    normed = numpy_bn(x, x.mean((0, 1, 2)), x.var((0, 1, 2)), gamma, beta).mean((1, 2))
    np.testing.assert_allclose(loss, mse_of_sum(normed, y), rtol=1e-4)
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)
