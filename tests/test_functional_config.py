"""Configs of functional models in Keras 2.3.1's format (engine/network.py get_config/from_config), JSON, and
clone_model (keras/models.py)."""
import json
import os

import numpy as np
import pytest
import torch

from kerasish import backend
from kerasish.layers import Concatenate, Dense, Input, Lambda, Layer, Subtract
from kerasish.models import Functional, Model, Sequential, clone_model, model_from_config, model_from_json

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

# Keras 2.3.1 Network.get_config: these keys and no others
MODEL_KEYS = {"name", "layers", "input_layers", "output_layers"}
LAYER_KEYS = {"name", "class_name", "config", "inbound_nodes"}


def two_towers():
    """Two inputs through one shared Dense, concatenated, then a sigmoid unit."""
    a = Input(shape=(8,), name="input_a")
    b = Input(shape=(8,), name="input_b")
    shared = Dense(4, activation="relu", name="shared_dense")
    merged = Concatenate(name="merge")([shared(a), shared(b)])
    return Model([a, b], Dense(1, activation="sigmoid", name="output")(merged), name="two_towers")


def fixture_json(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def randomize(model, seed=1):
    rng = np.random.RandomState(seed)
    model.set_weights([rng.randn(*w.shape).astype("float32") for w in model.get_weights()])


def run(model, *inputs):
    model.eval()
    with torch.no_grad():
        out = model([torch.as_tensor(x) for x in inputs] if len(inputs) > 1 else torch.as_tensor(inputs[0]))
    return out.numpy()


def sample(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


# ----------------------------------------------------------------------------------------------- get_config
def test_get_config_has_keras_keys_and_one_inbound_node_per_call_of_a_shared_layer():
    config = two_towers().get_config()
    assert set(config) == MODEL_KEYS and config["name"] == "two_towers"
    assert all(set(layer) == LAYER_KEYS for layer in config["layers"])
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert [layer["name"] for layer in config["layers"]] == ["input_a", "input_b", "shared_dense", "merge", "output"]
    assert by_name["input_a"] == {"name": "input_a", "class_name": "InputLayer", "inbound_nodes": [],
                                  "config": {"batch_input_shape": (None, 8), "dtype": "float32", "sparse": False,
                                             "name": "input_a"}}
    assert by_name["shared_dense"]["inbound_nodes"] == [[["input_a", 0, 0, {}]], [["input_b", 0, 0, {}]]]
    assert by_name["merge"]["inbound_nodes"] == [[["shared_dense", 0, 0, {}], ["shared_dense", 1, 0, {}]]]
    assert by_name["output"]["inbound_nodes"] == [[["merge", 0, 0, {}]]]
    assert config["input_layers"] == [["input_a", 0, 0], ["input_b", 0, 0]]
    assert config["output_layers"] == [["output", 0, 0]]


def test_node_indices_count_only_the_calls_that_belong_to_the_model():
    # Keras 2.3.1 node_conversion_map: the shared layer's first call (in another model) is not this model's,
    # so its two calls here are nodes 0 and 1 of the config.
    x = Input(shape=(3,), name="x")
    shared = Dense(3, name="shared")
    Model(x, shared(x))
    y = shared(shared(x))
    config = Model(x, y).get_config()
    shared_config = next(layer for layer in config["layers"] if layer["name"] == "shared")
    assert shared_config["inbound_nodes"] == [[["x", 0, 0, {}]], [["shared", 0, 0, {}]]]
    assert config["output_layers"] == [["shared", 1, 0]]
    assert [node.node_index for node in shared._inbound_nodes] == [0, 1, 2]


def test_a_nested_model_is_a_layer_of_class_model_whose_calls_count_from_1():
    # Keras 2.3.1 gives a model its own node 0 when it is made; its calls as a layer are nodes 1, 2, ...
    inner_input = Input(shape=(6,), name="inner_input")
    encoder = Model(inner_input, Dense(3, name="code")(inner_input), name="encoder")
    left, right = Input(shape=(6,), name="left"), Input(shape=(6,), name="right")
    model = Model([left, right], Subtract(name="diff")([encoder(left), encoder(right)]))
    config = model.get_config()
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert by_name["encoder"]["class_name"] == "Model"
    assert by_name["encoder"]["config"] == encoder.get_config()
    assert set(by_name["encoder"]["config"]) == MODEL_KEYS
    assert by_name["encoder"]["inbound_nodes"] == [[["left", 0, 0, {}]], [["right", 0, 0, {}]]]
    assert by_name["diff"]["inbound_nodes"] == [[["encoder", 1, 0, {}], ["encoder", 2, 0, {}]]]


def test_sequential_keeps_keras_2_3_1_sequential_config_and_to_json_names_model_classes_as_keras():
    seq = Sequential([Dense(2, input_shape=(3,), name="d")])
    assert set(seq.get_config()) == {"name", "layers"}
    assert set(seq.get_config()["layers"][0]) == {"class_name", "config"}
    assert json.loads(seq.to_json())["class_name"] == "Sequential"
    document = json.loads(two_towers().to_json())
    assert set(document) == {"class_name", "config", "keras_version", "backend"}
    assert document["class_name"] == "Model" and document["keras_version"] == "2.3.1"


def test_call_keyword_arguments_are_recorded_in_every_inbound_entry():
    class Scale(Layer):
        def call(self, inputs, factor=1.0):
            return inputs[0] * factor + inputs[1]

    x, y = Input(shape=(4,), name="x"), Input(shape=(4,), name="y")
    scale = Scale(name="scale")
    config = Model([x, y], scale([x, y], factor=3.0)).get_config()
    assert config["layers"][2]["inbound_nodes"] == [[["x", 0, 0, {"factor": 3.0}], ["y", 0, 0, {"factor": 3.0}]]]
    rebuilt = Model.from_config(config, custom_objects={"Scale": Scale})
    assert rebuilt.get_layer("scale")._inbound_nodes[0].call_kwargs == {"factor": 3.0}


def test_a_torch_op_in_the_graph_cannot_be_written_and_the_error_says_to_use_a_lambda_layer():
    x = Input(shape=(4,), name="x")
    model = Model(x, Dense(2)(x + 1.0))
    for write in (model.get_config, model.to_json):
        with pytest.raises(ValueError, match=r"torch function '.*add.*'.*Lambda layer") as info:
            write()
        assert "torch_op_" in str(info.value)
    wrapped = Model(x, Dense(2)(Lambda(lambda t: t + 1.0)(x)))
    assert [layer["class_name"] for layer in wrapped.get_config()["layers"]] == ["InputLayer", "Lambda", "Dense"]


class OneDense(Model):
    """A subclassed model: its graph is the code of ``call``."""

    def __init__(self):
        super().__init__()
        self.dense = Dense(3)

    def call(self, inputs, training=None):
        return self.dense(inputs)


def test_a_subclassed_model_has_no_config():
    with pytest.raises(NotImplementedError, match="subclassed model.*save_weights"):
        OneDense().get_config()


# ----------------------------------------------------------------------------------------------- from_config
def test_from_config_rebuilds_the_same_layers_graph_and_predictions():
    model = two_towers()
    randomize(model)
    config = model.get_config()
    backend.clear_session()
    rebuilt = Model.from_config(config)
    assert type(rebuilt) is Functional and rebuilt.name == "two_towers"
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt.get_config() == config
    shared = rebuilt.get_layer("shared_dense")
    assert len(shared._inbound_nodes) == 2 and rebuilt.get_layer("shared_dense").count_params() == 36
    rebuilt.set_weights(model.get_weights())
    xa, xb = sample(5, 8, seed=1), sample(5, 8, seed=2)
    np.testing.assert_array_equal(run(rebuilt, xa, xb), run(model, xa, xb))


def test_to_json_round_trips_a_nested_model_and_model_from_config_takes_the_parsed_json():
    inner_input = Input(shape=(6,), name="inner_input")
    encoder = Model(inner_input, Dense(3, activation="tanh", name="code")(inner_input), name="encoder")
    left, right = Input(shape=(6,), name="left"), Input(shape=(6,), name="right")
    model = Model([left, right], Subtract(name="diff")([encoder(left), encoder(right)]), name="siamese")
    randomize(model)
    for rebuilt in (model_from_json(model.to_json()), model_from_config(json.loads(model.to_json()))):
        assert type(rebuilt) is Functional
        assert [layer.name for layer in rebuilt.layers] == ["left", "right", "encoder", "diff"]
        assert type(rebuilt.get_layer("encoder")) is Functional
        rebuilt.set_weights(model.get_weights())
        xl, xr = sample(4, 6, seed=3), sample(4, 6, seed=4)
        np.testing.assert_allclose(run(rebuilt, xl, xr), run(model, xl, xr), rtol=0, atol=0)


def test_a_config_written_by_keras_2_3_1_loads_with_its_graph():
    model = model_from_json(fixture_json("keras231_two_inputs_shared_dense.json"))
    assert type(model) is Functional and model.name == "model_1"
    assert [layer.name for layer in model.layers] == ["input_1", "input_2", "shared_dense", "concatenate_1",
                                                      "predictions"]
    assert model.input_names == ["input_1", "input_2"] and model.output_names == ["predictions"]
    shared = model.get_layer("shared_dense")
    concat_node = model.get_layer("concatenate_1")._inbound_nodes[0]
    assert [t._keras_history[:2] for t in concat_node.input_tensors] == [(shared, 0), (shared, 1)]
    # the graph, checked against NumPy: input_1 goes left of the concatenation, input_2 right
    w1, b1, w2, b2 = sample(8, 4, seed=5), sample(4, seed=6), sample(8, 1, seed=7), sample(1, seed=8)
    model.set_weights([w1, b1, w2, b2])
    x1, x2 = sample(3, 8, seed=9), sample(3, 8, seed=10)
    tower = lambda x: np.maximum(x @ w1 + b1, 0)  # noqa: E731
    expected = 1 / (1 + np.exp(-(np.concatenate([tower(x1), tower(x2)], axis=1) @ w2 + b2)))
    np.testing.assert_allclose(run(model, x1, x2), expected, rtol=1e-5, atol=1e-6)
    # and ours writes what Keras wrote (the same keys and values), backend aside
    keras_document = json.loads(fixture_json("keras231_two_inputs_shared_dense.json"))
    ours = json.loads(model.to_json())
    assert ours["config"] == keras_document["config"]
    assert {k: v for k, v in ours.items() if k != "backend"} == \
        {k: v for k, v in keras_document.items() if k != "backend"}


def test_a_nested_model_written_by_keras_2_3_1_loads_with_calls_counted_from_1():
    model = model_from_json(fixture_json("keras231_nested_model.json"))
    encoder = model.get_layer("encoder")
    assert type(encoder) is Functional and [layer.name for layer in encoder.layers] == ["input_1", "dense_1"]
    assert [node.node_index for node in encoder._inbound_nodes] == [0, 1, 2]  # its own graph, then two calls
    w, b = sample(6, 3, seed=11), sample(3, seed=12)
    model.set_weights([w, b])
    xl, xr = sample(2, 6, seed=13), sample(2, 6, seed=14)
    np.testing.assert_allclose(run(model, xl, xr), np.tanh(xl @ w + b) - np.tanh(xr @ w + b), rtol=1e-5, atol=1e-6)
    assert json.loads(model.to_json())["config"] == json.loads(fixture_json("keras231_nested_model.json"))["config"]


def keras_dense(name, inbound_nodes):
    return {"name": name, "class_name": "Dense", "inbound_nodes": inbound_nodes,
            "config": {"name": name, "units": 4, "activation": "linear"}}


def test_calls_of_layers_shared_at_several_depths_wait_for_their_inputs():
    # y = B(A(B(A(x)))): A's second call reads B's first, which the config lists after A (Keras 2.3.1 defers
    # a call until the node it reads exists).
    config = {"name": "deferred", "layers": [
        {"name": "x", "class_name": "InputLayer", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "name": "x"}},
        keras_dense("a", [[["x", 0, 0, {}]], [["b", 0, 0, {}]]]),
        keras_dense("b", [[["a", 0, 0, {}]], [["a", 1, 0, {}]]])],
        "input_layers": [["x", 0, 0]], "output_layers": [["b", 1, 0]]}
    model = Model.from_config(config)
    a, b = model.get_layer("a"), model.get_layer("b")
    assert [node.inbound_layers for node in a._inbound_nodes] == [[model.get_layer("x")], [b]]
    assert [node.inbound_layers for node in b._inbound_nodes] == [[a], [a]]
    assert model.get_config()["output_layers"] == [["b", 1, 0]]
    wa, ba, wb, bb = sample(4, 4, seed=1), sample(4, seed=2), sample(4, 4, seed=3), sample(4, seed=4)
    model.set_weights([wa, ba, wb, bb])
    x = sample(3, 4, seed=5)
    dense_a, dense_b = (lambda t: t @ wa + ba), (lambda t: t @ wb + bb)
    np.testing.assert_allclose(run(model, x), dense_b(dense_a(dense_b(dense_a(x)))), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("broken, message", [
    ({"name": "m", "layers": []}, "Improperly formatted model config"),
    ({"name": "m", "layers": [keras_dense("a", [[["nowhere", 0, 0, {}]]])], "input_layers": [],
      "output_layers": []}, "reads layer 'nowhere', which is not among"),
    ({"name": "m", "layers": [
        {"name": "x", "class_name": "InputLayer", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 4], "name": "x"}},
        keras_dense("a", [[["x", 3, 0, {}]]])], "input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]},
     "never made"),
])
def test_improperly_formatted_configs_raise_value_errors_that_say_what_is_wrong(broken, message):
    with pytest.raises(ValueError, match=message):
        Model.from_config(broken)


def test_unknown_layer_classes_come_from_custom_objects():
    class Doubler(Dense):
        pass

    x = Input(shape=(2,), name="x")
    model = Model(x, Doubler(2, name="double")(x))
    with pytest.raises(ValueError, match="Unknown layer: Doubler"):
        model_from_json(model.to_json())
    rebuilt = model_from_json(model.to_json(), custom_objects={"Doubler": Doubler})
    assert type(rebuilt.get_layer("double")) is Doubler


# ----------------------------------------------------------------------------------------------- clone_model
def test_clone_model_makes_new_layers_with_the_same_configs_and_new_weights():
    model = two_towers()
    clone = clone_model(model)
    assert type(clone) is Functional and clone.name == "two_towers"
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert not {id(layer) for layer in clone.layers} & {id(layer) for layer in model.layers}
    assert clone.get_config() == model.get_config()
    assert len(clone.get_layer("shared_dense")._inbound_nodes) == 2  # cloned once, called twice
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    xa, xb = sample(3, 8, seed=1), sample(3, 8, seed=2)
    np.testing.assert_array_equal(run(clone, xa, xb), run(model, xa, xb))


def test_clone_model_of_a_sequential_model_is_a_built_sequential():
    model = Sequential([Input(shape=(5,), name="features")._keras_history[0], Dense(3, name="hidden"),
                        Dense(1, name="out")])
    clone = clone_model(model)
    assert type(clone) is Sequential and clone.built and clone.input_shape == (None, 5)
    assert [layer.name for layer in clone.layers] == ["hidden", "out"]
    assert clone.get_config() == model.get_config()
    new_input = Input(shape=(5,), name="other")
    on_input = clone_model(model, input_tensors=new_input)
    assert on_input.inputs[0] is new_input
    with pytest.raises(ValueError, match="at most one tensor"):
        clone_model(model, input_tensors=[new_input, Input(shape=(5,))])


def test_clone_model_on_new_input_tensors_with_a_clone_function():
    model = two_towers()
    seen = []

    def keep_dense_clone_others(layer):
        seen.append(layer.name)
        return layer if layer.name == "shared_dense" else layer.__class__.from_config(layer.get_config())

    a, b = Input(shape=(8,), name="new_a"), Input(shape=(8,), name="new_b")
    clone = clone_model(model, input_tensors=[a, b], clone_function=keep_dense_clone_others)
    assert seen == ["shared_dense", "merge", "output"]  # input layers are not cloned (tf.keras)
    assert clone.inputs == [a, b]
    assert clone.get_layer("shared_dense") is model.get_layer("shared_dense")  # shared, weights too
    assert clone.get_layer("output") is not model.get_layer("output")


def test_clone_model_nested_models_and_lambda_layers():
    inner_input = Input(shape=(6,), name="inner_input")
    encoder = Model(inner_input, Lambda(lambda t: 2 * t, name="double")(Dense(3, name="code")(inner_input)),
                    name="encoder")
    x = Input(shape=(6,), name="x")
    model = Model(x, Dense(1, name="head")(encoder(x)))
    clone = clone_model(model)
    assert clone.get_layer("encoder") is not encoder
    assert clone.get_layer("encoder").get_layer("code") is not encoder.get_layer("code")
    clone.set_weights(model.get_weights())
    x_value = sample(2, 6)
    np.testing.assert_array_equal(run(clone, x_value), run(model, x_value))


def test_clone_model_refuses_subclassed_models_and_non_models():
    with pytest.raises(ValueError, match="functional `Model` instance, but got a subclass model"):
        clone_model(OneDense())
    with pytest.raises(ValueError, match="Expected `model` argument to be a `Model` instance"):
        clone_model(Dense(2))
