"""The functional API: symbolic tensors, graphs of shared and nested layers, several inputs and outputs,
add_loss/add_metric, Keras 2 custom layers and subclassed models (Keras 2.3.1 semantics)."""
import warnings

import numpy as np
import pytest
import torch

from kerasish import backend
from kerasish import backend as K
from kerasish.layers import (Activation, BatchNormalization, Concatenate, Conv2D, Dense, Dropout, Flatten, Input,
                             InputSpec,
                             KerasTensor, Lambda, Layer, MaxPooling2D, add, concatenate)
from kerasish.models import Model, Sequential, load_model
from kerasish.optimizers import SGD

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_names():
    backend.clear_session()
    torch.manual_seed(0)


def f32(*shape):
    return RNG.random(shape).astype("float32")


# ---------------------------------------------------------------------------------------------- symbolic tensors
def test_input_gives_a_keras_shape_with_an_unknown_batch_dimension():
    x = Input(shape=(28, 28, 1))
    assert isinstance(x, KerasTensor) and isinstance(x, torch.Tensor)
    assert x.shape == (None, 28, 28, 1) and x.dtype == torch.float32 and x.ndim == 4
    assert Input(batch_shape=(8, 3)).shape == (8, 3)
    assert Input(shape=(None, 5), dtype="int32").shape == (None, None, 5)
    assert Input(shape=(3,), dtype="int32").dtype == torch.int32
    with pytest.raises(ValueError, match="Please provide to Input either a `shape` or a `batch_shape`"):
        Input()


def test_layers_infer_output_shapes_without_computing():
    x = Input(shape=(28, 28, 1))
    h = Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    assert h.shape == (None, 14, 14, 8)
    h = MaxPooling2D()(BatchNormalization()(h))
    assert h.shape == (None, 7, 7, 8)
    assert Flatten()(h).shape == (None, 392)
    seq = Input(shape=(None, 6))
    assert Dense(4)(seq).shape == (None, None, 4)


def test_a_symbolic_tensor_has_no_value_and_says_what_to_do():
    x = Input(shape=(3,))
    with pytest.raises(TypeError, match="holds no value yet"):
        float(x.sum())
    with pytest.raises(TypeError, match="holds no value yet"):
        x.numpy()
    with pytest.raises(TypeError, match="len\\(\\) of a symbolic tensor"):
        len(x)
    assert "shape=(None, 3)" in repr(x) and "input_1" in repr(x)


def test_torch_ops_on_symbolic_tensors_are_recorded_and_run_with_the_model():
    x = Input(shape=(3,))
    y = torch.exp(x) * 2 + 1 - x.mean(dim=-1, keepdim=True)
    assert isinstance(y, KerasTensor) and y.shape == (None, 3)
    model = Model(x, Dense(2, kernel_initializer="ones", use_bias=False)(y))
    data = f32(4, 3)
    expected = (np.exp(data) * 2 + 1 - data.mean(-1, keepdims=True)) @ np.ones((3, 2), "float32")
    np.testing.assert_allclose(model.predict(data), expected, rtol=1e-5)


# ---------------------------------------------------------------------------------------------- nodes
def test_layer_input_output_and_shapes_come_from_its_nodes():
    x = Input(shape=(4,))
    dense = Dense(3)
    y = dense(x)
    assert dense.input is x and dense.output is y
    assert dense.input_shape == (None, 4) and dense.output_shape == (None, 3)
    z = dense(Input(shape=(4,)))
    assert dense.get_output_at(1) is z and dense.get_input_shape_at(1) == (None, 4)
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        dense.output
    with pytest.raises(AttributeError, match="has never been called"):
        Dense(2).output_shape


def test_input_spec_is_checked_with_keras_messages():
    x = Input(shape=(4,))
    dense = Dense(3)
    dense(x)
    with pytest.raises(ValueError, match="Input 0 is incompatible with layer dense_1: expected axis -1 of input "
                                         "shape to have value 4 but got shape \\(None, 5\\)"):
        dense(Input(shape=(5,)))


def test_graph_disconnected_is_reported_with_keras_wording():
    a, b = Input(shape=(2,)), Input(shape=(2,))
    out = add([Dense(2)(a), Dense(2)(b)])
    with pytest.raises(ValueError, match="Graph disconnected: cannot obtain value for tensor"):
        Model(a, out)


def test_keras_1_argument_names_warn_as_keras_2_3_1():
    x = Input(shape=(2,))
    with pytest.warns(UserWarning, match="Update your `Model` call to the Keras 2 API"):
        model = Model(input=x, output=Dense(1)(x))
    assert model.input is x


def test_layers_are_listed_in_keras_order_and_found_by_name():
    a, b = Input(shape=(4,), name="a"), Input(shape=(4,), name="b")
    shared = Dense(3, name="shared")
    merged = concatenate([shared(a), shared(b)], name="merged")
    model = Model([a, b], Dense(1, name="out")(merged))
    # Keras 2.3.1 orders by depth from the outputs, ties by first discovery from the outputs
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "merged", "out"]
    assert model.get_layer("shared") is shared and model.get_layer(index=4).name == "out"
    assert model.input_names == ["a", "b"] and model.output_names == ["out"]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")


# ---------------------------------------------------------------------------------------------- the Done-when models
def contrastive_loss(y_true, y_pred, margin=1.0):
    """The Keras mnist_siamese example's loss, written with K."""
    return K.mean(y_true * K.square(y_pred) + (1 - y_true) * K.square(K.maximum(margin - y_pred, 0)), axis=-1)


def pair_accuracy(y_true, y_pred):
    return K.mean(K.equal(y_true, K.cast(y_pred < 0.5, y_true.dtype)), axis=-1)


def euclidean_distance(vects):
    x, y = vects
    return K.sqrt(K.maximum(K.sum(K.square(x - y), axis=1, keepdims=True), K.epsilon()))


def test_siamese_network_with_a_shared_sub_model_and_a_distance_lambda_trains():
    base_in = Input(shape=(6,))
    base = Model(base_in, Dense(4, activation="relu")(Dense(8, activation="relu")(base_in)), name="base")
    left, right = Input(shape=(6,)), Input(shape=(6,))
    distance = Lambda(euclidean_distance, output_shape=(1,))([base(left), base(right)])
    model = Model([left, right], distance)
    assert len(base.inbound_nodes) == 3 and model.count_params() == base.count_params() == 56 + 36
    model.compile(SGD(lr=0.1), contrastive_loss, metrics=[pair_accuracy])
    assert model.metrics_names == ["loss", "pair_accuracy"]
    x1, x2 = f32(64, 6), f32(64, 6)
    y = (np.abs(x1 - x2).sum(1, keepdims=True) < 2.0).astype("float32")
    before, accuracy = model.evaluate([x1, x2], y, verbose=0)
    d = np.sqrt(np.maximum(((base.predict(x1) - base.predict(x2)) ** 2).sum(1, keepdims=True),
                           1e-7))
    np.testing.assert_allclose(model.predict([x1, x2]), d, rtol=1e-5)
    assert before == pytest.approx(np.mean(y * d ** 2 + (1 - y) * np.maximum(1 - d, 0) ** 2), rel=1e-5)
    assert accuracy == pytest.approx(np.mean(y == (d < 0.5)))
    history = model.fit([x1, x2], y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def two_in_two_out():
    a, b = Input(shape=(4,), name="left"), Input(shape=(3,), name="right")
    h = concatenate([Dense(6, activation="relu")(a), Dense(6, activation="relu")(b)])
    cls = Dense(2, activation="softmax", name="cls")(h)
    reg = Dense(1, name="reg")(h)
    return Model([a, b], [cls, reg])


def test_two_inputs_two_outputs_losses_weights_metrics_and_log_names():
    model = two_in_two_out()
    model.compile("adam", {"cls": "categorical_crossentropy", "reg": "mse"}, loss_weights={"cls": 1.0, "reg": 0.5},
                  metrics={"cls": ["acc"]})
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_acc"]
    # the softmax output's crossentropy is computed from its logits (stable), the linear output's mse as it is
    assert model._loss_from_logits == (True, False)
    x = {"left": f32(40, 4), "right": f32(40, 3)}
    y = {"cls": np.eye(2, dtype="float32")[RNG.integers(0, 2, 40)], "reg": f32(40, 1)}
    loss, cls_loss, reg_loss, acc = model.evaluate(x, y, batch_size=40, verbose=0)
    p_cls, p_reg = model.predict([x["left"], x["right"]])
    np_cls = -np.mean(np.sum(y["cls"] * np.log(p_cls), axis=1))
    np_reg = np.mean((y["reg"] - p_reg) ** 2)
    assert cls_loss == pytest.approx(np_cls, rel=1e-4) and reg_loss == pytest.approx(np_reg, rel=1e-4)
    assert loss == pytest.approx(np_cls + 0.5 * np_reg, rel=1e-4)
    assert acc == pytest.approx(np.mean(p_cls.argmax(1) == y["cls"].argmax(1)))
    history = model.fit(x, [y["cls"], y["reg"]], epochs=30, verbose=0, validation_split=0.25)
    p_cls, p_reg = model.predict([x["left"], x["right"]])
    np.testing.assert_allclose(p_cls.sum(axis=1), 1.0, rtol=1e-5)  # predictions stay probabilities
    assert list(history.history) == ["val_loss", "val_cls_loss", "val_reg_loss", "val_cls_acc",
                                     "loss", "cls_loss", "reg_loss", "cls_acc"]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_several_inputs_get_keras_errors_for_missing_or_miscounted_arrays():
    model = two_in_two_out()
    model.compile("sgd", ["categorical_crossentropy", "mse"])
    y = [np.eye(2, dtype="float32")[[0, 1]], f32(2, 1)]
    with pytest.raises(ValueError, match='No data provided for "right"'):
        model.fit({"left": f32(2, 4)}, y, verbose=0)
    with pytest.raises(ValueError, match="Expected to see 2 array\\(s\\), but instead got the following list of 1"):
        model.fit([f32(2, 4)], y, verbose=0)
    with pytest.raises(ValueError, match="expected right to have shape \\(3,\\) but got array with shape \\(5,\\)"):
        model.predict([f32(2, 4), f32(2, 5)])


def test_vae_with_a_sampling_lambda_and_add_loss_compiles_without_a_loss_and_fits_without_targets():
    dim, latent = 8, 2
    x = Input(shape=(dim,))
    h = Dense(16, activation="relu")(x)
    z_mean, z_log_var = Dense(latent)(h), Dense(latent)(h)

    def sampling(args):  # the Keras variational_autoencoder example's sampling, written with K
        mean, log_var = args
        epsilon = K.random_normal(shape=(K.shape(mean)[0], K.int_shape(mean)[1]))
        return mean + K.exp(0.5 * log_var) * epsilon

    z = Lambda(sampling, output_shape=(latent,))([z_mean, z_log_var])
    decoded = Dense(dim, activation="sigmoid")(Dense(16, activation="relu")(z))
    vae = Model(x, decoded)
    reconstruction = K.sum(K.square(x - decoded), axis=-1)
    kl = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
    vae.add_loss(K.mean(reconstruction + kl))
    vae.add_metric(K.mean(kl), name="kl")
    vae.compile("adam")
    assert vae.metrics_names == ["loss", "kl"]
    data = f32(128, dim)
    history = vae.fit(data, None, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(history.history["kl"]) == 8
    assert vae.predict(data[:3]).shape == (3, dim)


def test_autoencoder_of_nested_encoder_and_decoder_models_shares_their_weights():
    enc_in = Input(shape=(8,))
    encoder = Model(enc_in, Dense(3, activation="relu")(enc_in), name="encoder")
    dec_in = Input(shape=(3,))
    decoder = Model(dec_in, Dense(8, activation="sigmoid")(dec_in), name="decoder")
    ae_in = Input(shape=(8,))
    autoencoder = Model(ae_in, decoder(encoder(ae_in)))
    assert [layer.name for layer in autoencoder.layers] == ["input_3", "encoder", "decoder"]
    assert autoencoder.count_params() == 27 + 32
    autoencoder.compile("adam", "mse")
    data = f32(64, 8)
    history = autoencoder.fit(data, data, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(autoencoder.predict(data), decoder.predict(encoder.predict(data)), rtol=1e-5)


class CenteredDense(Layer):
    """A Keras 2 custom layer: add_weight in build, InputSpec, compute_output_shape, inputs changed in place."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), initializer="glorot_uniform")
        self.offset = self.add_weight(name="offset", shape=(self.units,), initializer="ones", trainable=False)
        super().build(input_shape)

    def call(self, inputs):
        inputs -= inputs.mean(dim=-1, keepdim=True)
        return inputs @ self.kernel + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_layer_with_add_weight_input_spec_and_in_place_input_changes():
    x = Input(shape=(5,))
    layer = CenteredDense(3)
    model = Model(x, layer(Dense(4, activation="relu")(x)))  # relu keeps its output for backward
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 1
    kernel = layer.get_weights()[0]
    data = f32(6, 4)
    centered = data - data.mean(-1, keepdims=True)
    np.testing.assert_allclose(layer(torch.as_tensor(data.copy())).detach().numpy(), centered @ kernel + 1,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Input 0 is incompatible with layer centered_dense_2: expected "
                                         "min_ndim=2, found ndim=1"):
        CenteredDense(2)(Input(batch_shape=(4,)))
    model.compile(SGD(lr=0.05), "mse")
    xs, ys = f32(64, 5), f32(64, 3)
    history = model.fit(xs, ys, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(layer.get_weights()[1], np.ones(3))  # not trainable


def test_subclassed_model_builds_on_first_call_and_trains():
    class TwoLayer(Model):
        def __init__(self):
            super().__init__(name="two_layer")
            self.hidden = Dense(8, activation="relu")
            self.out = Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = TwoLayer()
    model.compile("adam", "mse")
    xs = f32(64, 3)
    ys = xs.sum(1, keepdims=True)
    history = model.fit(xs, ys, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"]
    assert model.count_params() == 3 * 8 + 8 + 8 + 1
    assert model.predict(xs[:2]).shape == (2, 1)


def test_a_sequential_model_is_a_graph_whose_layer_outputs_make_a_feature_extractor():
    seq = Sequential([Dense(5, activation="relu", input_shape=(4,)), Dense(2, activation="softmax")])
    assert seq.input.shape == (None, 4) and seq.layers[0].output.shape == (None, 5)
    features = Model(seq.input, seq.layers[-2].output)
    seq.compile(SGD(lr=0.5), "categorical_crossentropy")
    xs = f32(32, 4)
    seq.fit(xs, np.eye(2, dtype="float32")[RNG.integers(0, 2, 32)], epochs=2, verbose=0)
    kernel, bias = seq.layers[0].get_weights()
    np.testing.assert_allclose(features.predict(xs), np.maximum(xs @ kernel + bias, 0), rtol=1e-5, atol=1e-6)


def test_a_residual_graph_keeps_channels_first_layout_inside_and_equals_the_same_computation_by_hand():
    x = Input(shape=(6, 6, 3))
    c1 = Conv2D(4, 3, padding="same")
    c2 = Conv2D(4, 3, padding="same")
    h = c1(x)
    out = Activation("relu")(add([h, c2(h)]))
    model = Model(x, out)
    data = f32(2, 6, 6, 3)
    by_hand = torch.relu(c1(torch.as_tensor(data)) + c2(c1(torch.as_tensor(data))))
    np.testing.assert_allclose(model.predict(data), by_hand.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_functional_graph_equals_sequential_of_the_same_layers():
    seq = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(), Flatten(),
                      Dense(3, activation="softmax")])
    x = Input(shape=(8, 8, 1))
    h = x
    for layer in seq.layers:
        h = layer(h)
    functional = Model(x, h)
    data = f32(5, 8, 8, 1)
    np.testing.assert_allclose(functional.predict(data), seq.predict(data), rtol=1e-6)
    functional.compile("sgd", "categorical_crossentropy")
    assert functional._loss_from_logits  # the final softmax is absorbed into the loss, as in Sequential


def test_concatenate_of_conv_outputs_is_on_the_keras_channel_axis():
    x = Input(shape=(4, 4, 2))
    a, b = Conv2D(3, 1)(x), Conv2D(5, 1)(x)
    merged = Concatenate()([a, b])
    assert merged.shape == (None, 4, 4, 8)
    model = Model(x, merged)
    assert model.predict(f32(2, 4, 4, 2)).shape == (2, 4, 4, 8)


def test_subclassed_model_uses_the_training_flag():
    seen = []

    class Probe(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(1)

        def call(self, inputs, training=None):
            seen.append(training)
            return self.dense(inputs)

    model = Probe()
    model.compile("sgd", "mse")
    model.fit(f32(4, 2), f32(4, 1), batch_size=4, verbose=0)
    model.predict(f32(4, 2))
    assert True in seen and seen[-1] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.evaluate(f32(4, 2), f32(4, 1), verbose=0)


def test_k_function_reads_intermediate_activations_in_either_learning_phase():
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dropout(0.5), Dense(2)])
    read = K.function([model.input, K.learning_phase()], [model.layers[0].output, model.layers[1].output])
    x = f32(5, 3)
    hidden, dropped = read([x, 0])
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(hidden, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(hidden, dropped)  # inference: Dropout passes through
    hidden, dropped = read([x, 1])
    assert not np.array_equal(hidden, dropped)  # training: Dropout drops
    p = K.placeholder(shape=(None, 3))
    assert K.is_placeholder(p) and K.is_keras_tensor(p) and K.int_shape(p) == (None, 3)
    np.testing.assert_allclose(K.function([p], K.sum(p * 2, axis=-1))([x]), (x * 2).sum(-1), rtol=1e-6)



def test_the_learning_phase_follows_fit_and_predict_inside_a_lambda():
    seen = []

    def probe(t):
        seen.append(K.learning_phase())
        return K.in_train_phase(t * 2, t)

    x = Input(shape=(2,))
    model = Model(x, Lambda(probe)(Dense(1, kernel_initializer="ones", use_bias=False)(x)))
    model.compile("sgd", "mse")
    seen.clear()
    model.fit(f32(4, 2), f32(4, 1), batch_size=4, verbose=0)
    assert seen == [1]
    data = np.ones((1, 2), "float32")
    kernel = model.layers[1].get_weights()[0]
    np.testing.assert_allclose(model.predict(data), data @ kernel, rtol=1e-6)  # test phase: the alternative, t
    assert K.learning_phase() == 0


def test_dropout_called_with_training_true_drops_at_inference_too():
    x = Input(shape=(200,))
    model = Model(x, Dropout(0.5)(x, training=True))
    out = model.predict(np.ones((4, 200), "float32"))
    assert set(np.unique(out)) == {0.0, 2.0}
    plain = Model(x, Dropout(0.5)(x))
    np.testing.assert_array_equal(plain.predict(np.ones((4, 200), "float32")), np.ones((4, 200)))


# ---------------------------------------------------------------------------------------------- round trips
def siamese():
    base_in = Input(shape=(6,))
    base = Model(base_in, Dense(4, activation="relu")(base_in), name="base")
    left, right = Input(shape=(6,)), Input(shape=(6,))
    model = Model([left, right], Lambda(euclidean_distance, output_shape=(1,))([base(left), base(right)]))
    model.compile(SGD(lr=0.1), contrastive_loss, metrics=[pair_accuracy])
    return model, [f32(8, 6), f32(8, 6)], 28


def two_outputs():
    model = two_in_two_out()
    model.compile("adam", ["categorical_crossentropy", "mse"], metrics={"cls": ["acc"]})
    return model, [f32(8, 4), f32(8, 3)], 30 + 24 + 26 + 13


def autoencoder():
    enc_in, dec_in = Input(shape=(8,)), Input(shape=(3,))
    encoder = Model(enc_in, Dense(3, activation="relu")(enc_in), name="encoder")
    decoder = Model(dec_in, Dense(8, activation="sigmoid")(dec_in), name="decoder")
    ae_in = Input(shape=(8,))
    model = Model(ae_in, decoder(encoder(ae_in)))
    model.compile("adam", "mse")
    return model, f32(8, 8), 27 + 32


def custom_layer():
    x = Input(shape=(5,))
    model = Model(x, CenteredDense(3)(Dense(4, activation="relu")(x)))
    model.compile("sgd", "mse")
    return model, f32(8, 5), 24 + 12 + 3


CUSTOM_OBJECTS = {"euclidean_distance": euclidean_distance, "contrastive_loss": contrastive_loss,
                  "pair_accuracy": pair_accuracy, "CenteredDense": CenteredDense}


@pytest.mark.parametrize("build", [siamese, two_outputs, autoencoder, custom_layer])
def test_done_when_models_round_trip_through_save_and_load_model_and_print_keras_counts(tmp_path, build):
    model, data, total_params = build()
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Total params: {total_params:,}" in lines and f"Trainable params: {total_params - (3 if build is custom_layer else 0):,}" in lines
    path = str(tmp_path / "model.kerasish")
    model.save(path)
    loaded = load_model(path, custom_objects=CUSTOM_OBJECTS)
    expected, got = model.predict(data), loaded.predict(data)
    for a, b in zip(expected if isinstance(expected, list) else [expected], got if isinstance(got, list) else [got]):
        np.testing.assert_allclose(b, a, rtol=1e-6)
    assert loaded.metrics_names == model.metrics_names
    assert type(loaded).__name__ == "Functional" and [layer.name for layer in loaded.layers] == \
        [layer.name for layer in model.layers]


def test_several_outputs_take_weighted_metrics_named_and_ordered_as_keras_2_3_1():
    model = two_in_two_out()
    model.compile("sgd", ["categorical_crossentropy", "mse"], metrics=[["acc"], ["mae"]],
                  weighted_metrics={"cls": ["acc"], "reg": ["mae"]})
    # Keras 2.3.1: output losses, then per output its metrics followed by its weighted metrics
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_acc", "cls_acc_1", "reg_mae", "reg_mae_1"]
    x = [f32(6, 4), f32(6, 3)]
    y = [np.eye(2, dtype="float32")[[0, 1, 1, 0, 1, 0]], f32(6, 1)]
    w_cls, w_reg = np.array([1, 0, 0, 1, 1, 1], "float32"), np.array([0, 0, 1, 1, 2, 2], "float32")
    values = dict(zip(model.metrics_names, model.evaluate(x, y, sample_weight=[w_cls, w_reg], batch_size=6,
                                                          verbose=0)))
    p_cls, p_reg = model.predict(x)
    hits = (p_cls.argmax(1) == y[0].argmax(1)).astype("float32")
    errors = np.abs(p_reg - y[1])[:, 0]
    assert values["cls_acc"] == pytest.approx(hits.mean())
    assert values["cls_acc_1"] == pytest.approx((hits * w_cls).sum() / w_cls.sum())
    assert values["reg_mae"] == pytest.approx(errors.mean(), rel=1e-5)
    assert values["reg_mae_1"] == pytest.approx((errors * w_reg).sum() / w_reg.sum(), rel=1e-5)
