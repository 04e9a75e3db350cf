"""Model and weight files of functional and subclassed models (Keras 2.3.1 engine/saving.py, Network.save,
save_weights, load_weights): multi-input graphs, shared layers, nested models."""
import json
import zipfile

import h5py
import numpy as np
import pytest
import torch

from kerasish.layers import BatchNormalization, Concatenate, Dense, Dropout, Input, Lambda, Subtract
from kerasish.models import Functional, Model, Sequential, load_model


def sample(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def run(model, *inputs):
    model.eval()
    with torch.no_grad():
        out = model([torch.as_tensor(x) for x in inputs] if len(inputs) > 1 else torch.as_tensor(inputs[0]))
    return out.numpy()


def randomize(model, seed=1):
    rng = np.random.RandomState(seed)
    model.set_weights([np.abs(rng.randn(*w.shape)).astype("float32") + 0.5 for w in model.get_weights()])


def assert_same_weights(a, b):
    assert len(a.get_weights()) == len(b.get_weights())
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def two_towers():
    a, b = Input(shape=(8,), name="input_a"), Input(shape=(8,), name="input_b")
    shared = Dense(4, activation="relu", name="shared_dense")
    merged = BatchNormalization(name="norm")(Concatenate(name="merge")([shared(a), shared(b)]))
    return Model([a, b], Dense(1, activation="sigmoid", name="output")(merged), name="two_towers")


def siamese():
    inner = Input(shape=(6,), name="inner")
    encoder = Model(inner, Dense(3, activation="tanh", name="code")(BatchNormalization(name="bn")(inner)),
                    name="encoder")
    left, right = Input(shape=(6,), name="left"), Input(shape=(6,), name="right")
    return Model([left, right], Subtract(name="diff")([encoder(left), encoder(right)]), name="siamese")


def header(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("kerasish.json"))


# ----------------------------------------------------------------------------------------------- model files
@pytest.mark.parametrize("build", [two_towers, siamese])
def test_a_functional_model_file_loads_as_a_functional_model_with_the_same_weights_and_predictions(tmp_path, build):
    model = build()
    randomize(model)
    model.save(tmp_path / "model.h5")
    loaded = load_model(tmp_path / "model.h5", compile=False)
    assert type(loaded) is Functional and loaded.name == model.name
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert json.loads(json.dumps(loaded.get_config())) == json.loads(json.dumps(model.get_config()))
    assert_same_weights(loaded, model)
    x1, x2 = sample(5, 8 if build is two_towers else 6, seed=1), sample(5, 8 if build is two_towers else 6, seed=2)
    np.testing.assert_array_equal(run(loaded, x1, x2), run(model, x1, x2))


def test_a_nested_models_weights_are_listed_under_its_layers_names(tmp_path):
    model = siamese()
    model.save_weights(tmp_path / "w.kerasish")
    manifest = header(tmp_path / "w.kerasish")["model_weights"]
    assert manifest["layer_names"] == ["left", "right", "encoder", "diff"]
    assert manifest["weight_names"]["encoder"] == [
        "bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0", "code/kernel:0", "code/bias:0"]
    model.save_weights(tmp_path / "w.h5")  # Keras 2.3.1's HDF5 layout: the same names
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert [n.decode() for n in f.attrs["layer_names"]] == ["left", "right", "encoder", "diff"]
        assert [n.decode() for n in f["encoder"].attrs["weight_names"]] == manifest["weight_names"]["encoder"]
        assert f["encoder/code/kernel:0"].shape == (6, 3)


def test_a_sequential_file_still_loads_as_a_sequential_model(tmp_path):
    model = Sequential([Dense(3, input_shape=(4,), name="hidden"), Dense(1, name="out")])
    model.save(tmp_path / "seq.h5")
    loaded = load_model(tmp_path / "seq.h5", compile=False)
    assert type(loaded) is Sequential and [layer.name for layer in loaded.layers] == ["hidden", "out"]
    assert_same_weights(loaded, model)


def test_a_trained_functional_model_resumes_with_its_compile_configuration_and_optimizer_state(tmp_path):
    x = Input(shape=(6,), name="x")
    hidden = Dropout(0.2, name="drop")(Dense(8, activation="relu", name="hidden")(x))
    model = Model(x, Dense(3, activation="softmax", name="probs")(hidden))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    features = sample(32, 6)
    labels = np.eye(3, dtype="float32")[np.random.RandomState(1).randint(0, 3, 32)]
    model.fit(features, labels, batch_size=8, epochs=2, verbose=0)
    model.save(tmp_path / "trained.h5")
    loaded = load_model(tmp_path / "trained.h5")
    assert type(loaded) is Functional and loaded.metrics_names == ["loss", "accuracy"]
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))
    assert loaded.evaluate(features, labels, verbose=0) == model.evaluate(features, labels, verbose=0)
    state, loaded_state = model.optimizer.state_dict()["state"], loaded.optimizer.state_dict()["state"]
    assert sorted(state) == sorted(loaded_state) and state
    for key in state:
        for name, value in state[key].items():
            if torch.is_tensor(value):
                torch.testing.assert_close(loaded_state[key][name].cpu(), value.cpu(), rtol=0, atol=0)
    # one more step from the same state (and the same dropout mask) gives the same weights
    torch.manual_seed(5)
    model.train_on_batch(features[:8], labels[:8])
    torch.manual_seed(5)
    loaded.train_on_batch(features[:8], labels[:8])
    for w1, w2 in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=1e-6, atol=1e-7)


def test_a_lambda_layer_in_a_graph_loads_with_its_function_from_custom_objects(tmp_path):
    def double(t):
        return 2 * t

    x = Input(shape=(3,), name="x")
    model = Model(x, Dense(2, name="d")(Lambda(double, name="twice")(x)))
    model.save(tmp_path / "lambda.h5")
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(tmp_path / "lambda.h5")
    loaded = load_model(tmp_path / "lambda.h5", custom_objects={"double": double}, compile=False)
    value = sample(2, 3)
    np.testing.assert_array_equal(run(loaded, value), run(model, value))


def test_a_graph_with_a_torch_op_cannot_be_saved_whole_but_its_weights_can(tmp_path):
    x = Input(shape=(4,), name="x")
    model = Model(x, Dense(2, name="d")(x * 2.0))
    with pytest.raises(ValueError, match="Lambda layer"):
        model.save(tmp_path / "op.h5")
    assert not (tmp_path / "op.h5").exists()
    model.save_weights(tmp_path / "op.weights.h5")
    other = Model(x, Dense(2, name="d2")(x * 2.0))
    other.load_weights(tmp_path / "op.weights.h5")
    assert_same_weights(other, model)


# ----------------------------------------------------------------------------------------------- weight files
def test_save_weights_and_load_weights_by_order_into_a_rebuilt_functional_model(tmp_path):
    model = two_towers()
    randomize(model)
    model.save_weights(tmp_path / "towers.weights.h5")
    fresh = two_towers()
    fresh.load_weights(tmp_path / "towers.weights.h5")
    assert_same_weights(fresh, model)


def test_load_weights_by_name_fills_only_the_layers_whose_names_match(tmp_path):
    model = two_towers()
    randomize(model)
    model.save_weights(tmp_path / "towers.weights.h5")
    a, b = Input(shape=(8,), name="a"), Input(shape=(8,), name="b")
    shared = Dense(4, activation="relu", name="shared_dense")
    other = Model([a, b], Dense(2, name="new_head")(Concatenate()([shared(a), shared(b)])))
    head_before = other.get_layer("new_head").get_weights()
    other.load_weights(tmp_path / "towers.weights.h5", by_name=True)
    for w1, w2 in zip(other.get_layer("shared_dense").get_weights(), model.get_layer("shared_dense").get_weights()):
        np.testing.assert_array_equal(w1, w2)
    for w1, w2 in zip(other.get_layer("new_head").get_weights(), head_before):
        np.testing.assert_array_equal(w1, w2)


def test_weights_of_a_nested_model_load_by_order(tmp_path):
    model = siamese()
    randomize(model)
    model.save_weights(tmp_path / "siamese.weights.h5")
    fresh = siamese()
    fresh.load_weights(tmp_path / "siamese.weights.h5")
    assert_same_weights(fresh, model)


# ----------------------------------------------------------------------------------------------- subclassed
class TwoLayers(Model):
    def __init__(self):
        super().__init__()
        self.hidden = Dense(5, activation="relu")
        self.out = Dense(2)

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))


def test_a_subclassed_model_cannot_be_saved_whole_and_the_error_says_to_save_weights(tmp_path):
    model = TwoLayers()
    model.predict(sample(2, 3))
    with pytest.raises(NotImplementedError, match=r"requires model to be a graph network\. Consider using "
                                                  r"`save_weights`"):
        model.save(tmp_path / "sub.h5")
    assert not (tmp_path / "sub.h5").exists()


def test_a_subclassed_models_weights_round_trip(tmp_path):
    model = TwoLayers()
    x = sample(4, 3)
    expected = model.predict(x)
    model.save_weights(tmp_path / "sub.weights.h5")
    fresh = TwoLayers()
    with pytest.raises(ValueError, match="has not made its weights yet.*predict"):
        fresh.load_weights(tmp_path / "sub.weights.h5")
    fresh.predict(x[:1])
    fresh.load_weights(tmp_path / "sub.weights.h5")
    assert_same_weights(fresh, model)
    np.testing.assert_array_equal(fresh.predict(x), expected)


def test_a_subclassed_model_trains_with_backup_and_restore_and_its_backup_is_no_model_file(tmp_path):
    from kerasish.callbacks import BackupAndRestore
    from kerasish.callbacks.backup_and_restore import BACKUP_FILE

    x, y = sample(20, 3), sample(20, 2, seed=1)
    model = TwoLayers()
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=5, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    resumed = TwoLayers()
    resumed.compile("sgd", "mse")
    history = resumed.fit(x, y, batch_size=5, epochs=2, verbose=0,
                          callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert history.epoch == []  # both epochs were done: the backup put the trained weights back
    assert_same_weights(resumed, model)
    with pytest.raises(ValueError, match="backup of a subclassed model.*load_weights"):
        load_model(tmp_path / BACKUP_FILE)


def test_add_loss_terms_of_the_graph_are_not_in_the_config_and_saving_says_so(tmp_path):
    # Keras 2.3.1 writes the graph from the inputs to the outputs; terms added with add_loss are not in it
    def shift(t):
        return t + 1.0

    x = Input(shape=(4,), name="x")
    code = Dense(2, name="code")(x)
    model = Model(x, Dense(4, name="decoded")(Lambda(shift, name="shift")(code)))
    model.add_loss((code * code).mean())  # a torch op outside the outputs' graph: no obstacle to saving
    with pytest.warns(UserWarning, match="add_loss/add_metric terms .* are not part of its config"):
        model.save(tmp_path / "with_loss.h5")
    loaded = load_model(tmp_path / "with_loss.h5", custom_objects={"shift": shift}, compile=False)
    assert [layer.name for layer in loaded.layers] == ["x", "code", "shift", "decoded"]
    assert not loaded._graph_losses
    assert_same_weights(loaded, model)


def test_custom_layers_load_through_custom_object_scope_and_the_global_registry(tmp_path):
    from kerasish.layers import Layer
    from kerasish.utils import custom_object_scope, get_custom_objects

    class Scale(Layer):
        def build(self, input_shape):
            self.factor = self.add_weight("factor", (input_shape[-1],), initializer="ones")
            super().build(input_shape)

        def call(self, inputs):
            return inputs * self.factor

    x = Input(shape=(3,))
    model = Model(x, Scale(name="scale")(Dense(3)(x)))
    model.layers[-1].set_weights([np.array([1.0, 2.0, 3.0], "float32")])
    path = str(tmp_path / "m.kerasish")
    model.save(path)
    data = np.ones((2, 3), "float32")
    with pytest.raises(ValueError, match="Scale"):
        load_model(path)
    with custom_object_scope({"Scale": Scale}):
        np.testing.assert_allclose(load_model(path, compile=False).predict(data), model.predict(data), rtol=1e-6)
    assert "Scale" not in get_custom_objects()
    get_custom_objects()["Scale"] = Scale
    try:
        np.testing.assert_allclose(load_model(path, compile=False).predict(data), model.predict(data), rtol=1e-6)
    finally:
        del get_custom_objects()["Scale"]
