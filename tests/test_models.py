"""Sequential structure: building, names, summary, weights in Keras layouts, torch modules as layers."""
import numpy as np
import pytest
import torch

from kerasish import backend
from kerasish.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from kerasish.models import Sequential


def issue_cnn():
    return Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(),
                       Flatten(), Dense(128, activation="relu"), Dropout(0.5), Dense(10, activation="softmax")])


def test_summary_prints_keras_2_3_1_table_with_keras_parameter_counts():
    lines = []
    issue_cnn().summary(print_fn=lines.append)
    assert lines == [
        'Model: "sequential_1"',
        "_" * 65,
        "Layer (type)                 Output Shape              Param #   ",
        "=" * 65,
        "conv2d_1 (Conv2D)            (None, 26, 26, 32)        320       ",
        "_" * 65,
        "max_pooling2d_1 (MaxPooling2 (None, 13, 13, 32)        0         ",
        "_" * 65,
        "flatten_1 (Flatten)          (None, 5408)              0         ",
        "_" * 65,
        "dense_1 (Dense)              (None, 128)               692352    ",
        "_" * 65,
        "dropout_1 (Dropout)          (None, 128)               0         ",
        "_" * 65,
        "dense_2 (Dense)              (None, 10)                1290      ",
        "=" * 65,
        "Total params: 693,962",
        "Trainable params: 693,962",
        "Non-trainable params: 0",
        "_" * 65,
    ]


def test_count_params_and_shapes_of_a_built_model():
    model = issue_cnn()
    assert model.count_params() == 693962
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert [layer.name for layer in model.layers] == ["conv2d_1", "max_pooling2d_1", "flatten_1", "dense_1",
                                                      "dropout_1", "dense_2"]


def test_model_without_input_shape_builds_from_the_first_batch():
    model = Sequential([Dense(3, activation="softmax"), ])
    model.add(Dense(2))
    assert not model.built
    with pytest.raises(ValueError, match="This model has not yet been built"):
        model.summary()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((6, 5), "float32"), np.zeros((6, 2), "float32"), verbose=0)
    assert model.input_shape == (None, 5)
    assert model.count_params() == 5 * 3 + 3 + 3 * 2 + 2


def test_add_rejects_duplicate_names_and_non_layers():
    model = Sequential([Dense(2, input_dim=3, name="a")])
    with pytest.raises(ValueError, match='Name "a" is already the name of a layer in this model'):
        model.add(Dense(2, name="a"))
    with pytest.raises(TypeError, match="must be an instance of class Layer or a torch.nn.Module"):
        model.add("dense")


def test_pop_removes_the_last_layer_and_fails_on_an_empty_model():
    model = Sequential([Dense(4, input_dim=3), Dense(2)])
    model.pop()
    assert model.output_shape == (None, 4)
    model.pop()
    with pytest.raises(TypeError, match="There are no layers in the model."):
        model.pop()


def test_get_weights_use_keras_layouts_and_round_trip_through_set_weights():
    model = Sequential([Conv2D(4, (3, 2), input_shape=(6, 5, 2)), Flatten(), Dense(3)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 2, 2, 4), (4,), (4 * 4 * 4, 3), (3,)]
    rng = np.random.RandomState(0)
    new = [rng.randn(*s).astype("float32") for s in shapes]
    model.set_weights(new)
    for a, b in zip(new, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_conv_then_dense_forward_matches_numpy_with_keras_weights():
    """Weights written in Keras layout give Keras's function: conv (kh, kw, in, out) then channels_last flatten."""
    model = Sequential([Conv2D(2, (2, 2), input_shape=(3, 3, 1)), Flatten(), Dense(1)])
    rng = np.random.RandomState(1)
    kernel, bias = rng.randn(2, 2, 1, 2).astype("float32"), rng.randn(2).astype("float32")
    dense_k, dense_b = rng.randn(8, 1).astype("float32"), rng.randn(1).astype("float32")
    model.set_weights([kernel, bias, dense_k, dense_b])
    x = rng.randn(2, 3, 3, 1).astype("float32")
    conv = np.zeros((2, 2, 2, 2), "float32")
    for i in range(2):
        for j in range(2):
            patch = x[:, i:i + 2, j:j + 2, :]  # (n, kh, kw, in)
            conv[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, kernel) + bias
    expected = conv.reshape(2, -1) @ dense_k + dense_b
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)


def test_set_weights_with_a_wrong_shape_changes_nothing():
    model = Sequential([Dense(3, input_dim=2), Dense(1)])
    before = model.get_weights()
    bad = [np.zeros((2, 3)), np.zeros(3), np.zeros((4, 1)), np.zeros(1)]
    with pytest.raises(ValueError, match=r"expects a weight of shape \(3, 1\); received shape \(4, 1\)"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_torch_module_trains_as_a_layer():
    model = Sequential([Dense(4, input_dim=3, activation="relu"), torch.nn.Linear(4, 2)])
    assert model.layers[1].name == "linear_1"
    assert model.count_params() == 16 + 10
    model.compile(optimizer="sgd", loss="mse")
    before = model.layers[1].module.weight.detach().clone()
    model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), verbose=0)
    assert not torch.equal(before, model.layers[1].module.weight.detach())


def test_model_is_a_torch_module_callable_on_keras_layout_tensors():
    model = issue_cnn()
    out = model(torch.zeros(2, 28, 28, 1))
    assert tuple(out.shape) == (2, 10)
    assert isinstance(model, torch.nn.Module)


def test_the_device_can_be_forced_with_an_environment_variable(monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "cpu")
    model = Sequential([Dense(1, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((2, 2), "float32"), np.zeros((2, 1), "float32"), verbose=0)
    assert model.device == torch.device("cpu")


def test_convolutions_run_on_channels_first_internally_with_one_conversion_at_each_boundary():
    model = Sequential([Conv2D(4, 3, padding="same", input_shape=(8, 8, 3)), Conv2D(6, 3, padding="same"),
                        MaxPooling2D(), Flatten(), Dense(2)])
    seen = []
    hooks = [layer.register_forward_pre_hook(lambda mod, inp: seen.append(tuple(inp[0].shape)))
             for layer in model.layers]
    model(torch.zeros(1, 8, 8, 3))
    for hook in hooks:
        hook.remove()
    # conv layers receive (n, c, h, w); Flatten gets the Keras layout back
    assert seen == [(1, 3, 8, 8), (1, 4, 8, 8), (1, 6, 8, 8), (1, 4, 4, 6), (1, 96)]


def test_seeded_dropout_gives_every_model_the_same_mask_sequence():
    from helpers import InputRecorder
    from kerasish.layers import TorchModule

    def dropout_masks(global_seed, dropout_seed):
        torch.manual_seed(global_seed)  # other initial weights and another global random stream
        recorder = InputRecorder()
        model = Sequential([Dropout(0.5, seed=dropout_seed, input_shape=(3, 4, 2)), TorchModule(recorder),
                            Flatten(), Dense(2, activation="softmax")])
        model.compile("sgd", "categorical_crossentropy")
        x, y = np.ones((12, 3, 4, 2), "float32"), np.eye(2, dtype="float32")[np.arange(12) % 2]
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        return [batch.numpy() for batch in recorder.inputs]  # the kept inputs are 2, the dropped ones 0

    first, second = dropout_masks(1, dropout_seed=7), dropout_masks(2, dropout_seed=7)
    assert len(first) == 6
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(dropout_masks(1, dropout_seed=8)[0], first[0])


# ---------------------------------------------------------------- regularizers and constraints of the model
def ones_dense(units, **kwargs):
    return Dense(units, kernel_initializer="ones", bias_initializer="zeros", **kwargs)


def test_the_loss_counts_the_regularizers_of_layers_added_after_training_and_not_of_layers_popped():
    from kerasish import regularizers
    from kerasish.optimizers import SGD
    x = np.zeros((4, 3), "float32")  # zero inputs and biases: the data loss is 0, the loss is the penalties
    model = Sequential([ones_dense(2, input_shape=(3,))])
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    model.fit(x, np.zeros((4, 2)), epochs=1, verbose=0)
    model.add(ones_dense(1, kernel_regularizer=regularizers.l2(0.5)))
    assert model.evaluate(x, np.zeros((4, 1)), verbose=0) == pytest.approx(0.5 * 2)  # 0.5 * sum(ones(2, 1)^2)
    model.pop()
    assert model.evaluate(x, np.zeros((4, 2)), verbose=0) == 0.0


def test_fit_applies_the_constraint_of_a_layer_added_after_training():
    from kerasish.optimizers import SGD
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 1))
    model = Sequential([ones_dense(2, input_shape=(3,)), ones_dense(1)])
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.add(Dense(1, kernel_initializer="ones", kernel_constraint="non_neg"))
    model.set_weights([w if i < 4 else -w for i, w in enumerate(model.get_weights())])
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    kernel, bias = model.layers[-1].get_weights()
    assert (kernel == 0).all() and (bias == 0).all()  # kernel clipped by non_neg; the zero bias unconstrained


def test_an_activity_regularizer_set_before_compile_counts_in_the_loss():
    from kerasish import regularizers
    from kerasish.optimizers import SGD
    x = np.ones((4, 3), "float32")
    model = Sequential([ones_dense(2, input_shape=(3,))])
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    model.fit(x, np.full((4, 2), 3.0), epochs=1, verbose=0)
    assert model.history.history["loss"] == [0.0]  # every output is 3
    model.layers[0].activity_regularizer = regularizers.l1(0.25)
    model.compile(optimizer=SGD(lr=0.0), loss="mse")  # Keras 2 collects a model's losses when compiling
    model.fit(x, np.full((4, 2), 3.0), epochs=1, verbose=0)
    assert model.history.history["loss"] == [pytest.approx(0.25 * 3.0 * 2 * 4)]  # l1 of the (4, 2) batch output
