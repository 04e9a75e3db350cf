"""``model.summary()`` of graph models as Keras 2.3.1 prints it (keras/utils/layer_utils.py print_summary).

The expected tables are written by hand from Keras's rules: for a graph that is not a simple chain, 98
characters with columns starting at int(98 * .33) = 32, int(98 * .55) = 53 and int(98 * .67) = 65, every line
padded to the full width; for a chain, 65 characters with columns at 29 and 55. Parameter counts: Dense(n)
on m features has m * n + n.
"""
import numpy as np

from kerasish.layers import Activation, Concatenate, Dense, Input
from kerasish.models import Model


def summary_lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def wide(text):
    return text.ljust(98)


def test_a_two_input_model_with_a_shared_layer_prints_the_connected_to_table():
    a, b = Input(shape=(8,), name="input_a"), Input(shape=(8,), name="input_b")
    shared = Dense(4, activation="relu", name="shared_dense")
    merged = Concatenate(name="merge")([shared(a), shared(b)])
    model = Model([a, b], Dense(1, activation="sigmoid", name="output")(merged), name="two_towers")
    assert summary_lines(model) == [
        'Model: "two_towers"',
        "_" * 98,
        wide("Layer (type)                    Output Shape         Param #     Connected to"),
        "=" * 98,
        wide("input_a (InputLayer)            (None, 8)            0"),
        "_" * 98,
        wide("input_b (InputLayer)            (None, 8)            0"),
        "_" * 98,
        wide("shared_dense (Dense)            (None, 4)            36          input_a[0][0]"),
        wide("                                                                 input_b[0][0]"),
        "_" * 98,
        wide("merge (Concatenate)             (None, 8)            0           shared_dense[0][0]"),
        wide("                                                                 shared_dense[1][0]"),
        "_" * 98,
        wide("output (Dense)                  (None, 1)            9           merge[0][0]"),
        "=" * 98,
        "Total params: 45",
        "Trainable params: 45",
        "Non-trainable params: 0",
        "_" * 98,
    ]


def test_a_functional_chain_prints_the_sequential_table():
    # Keras's rule: one node per depth, each reading at most one tensor, no layer called twice
    x = Input(shape=(8,), name="x")
    model = Model(x, Dense(1, name="out")(Dense(4, name="hidden")(x)), name="chain")
    assert summary_lines(model) == [
        'Model: "chain"',
        "_" * 65,
        "Layer (type)                 Output Shape              Param #   ",
        "=" * 65,
        "x (InputLayer)               (None, 8)                 0         ",
        "_" * 65,
        "hidden (Dense)               (None, 4)                 36        ",
        "_" * 65,
        "out (Dense)                  (None, 1)                 5         ",
        "=" * 65,
        "Total params: 41",
        "Trainable params: 41",
        "Non-trainable params: 0",
        "_" * 65,
    ]


def test_a_layer_called_twice_in_a_chain_makes_the_graph_non_sequential():
    x = Input(shape=(4,), name="x")
    twice = Dense(4, name="twice")
    lines = summary_lines(Model(x, twice(twice(x))))
    assert lines[2] == wide("Layer (type)                    Output Shape         Param #     Connected to")
    assert lines[6:8] == [wide("twice (Dense)                   (None, 4)            20          x[0][0]"),
                          wide("                                                                 twice[0][0]")]


def test_a_layer_whose_calls_have_different_output_shapes_shows_multiple():
    x, y = Input(shape=(8,), name="x"), Input(shape=(3,), name="y")
    relu = Activation("relu", name="relu")
    lines = summary_lines(Model([x, y], Concatenate(name="cat")([relu(x), relu(y)])))
    assert lines[8:10] == [wide("relu (Activation)               multiple             0           x[0][0]"),
                           wide("                                                                 y[0][0]")]
    assert lines[11] == wide("cat (Concatenate)               (None, 11)           0           relu[0][0]")


def test_a_nested_model_is_listed_as_model_and_its_calls_count_from_1():
    inner = Input(shape=(8,), name="inner")
    encoder = Model(inner, Dense(4, name="code")(inner), name="encoder")
    p, q = Input(shape=(8,), name="p"), Input(shape=(8,), name="q")
    model = Model([p, q], Dense(1, name="head")(Concatenate(name="cat")([encoder(p), encoder(q)])))
    lines = summary_lines(model)
    assert lines[8:10] == [wide("encoder (Model)                 (None, 4)            36          p[0][0]"),
                           wide("                                                                 q[0][0]")]
    assert lines[11:13] == [wide("cat (Concatenate)               (None, 8)            0           encoder[1][0]"),
                            wide("                                                                 encoder[2][0]")]
    assert lines[-4:-1] == ["Total params: 45", "Trainable params: 45", "Non-trainable params: 0"]


def test_connections_name_the_inbound_layers_own_node_index_and_skip_calls_of_other_models():
    # Keras prints node.node_indices as they are (the config renumbers them; the summary does not)
    x = Input(shape=(4,), name="x")
    shared = Dense(4, name="shared")
    Model(x, shared(x))  # shared's call 0 belongs to another model
    y = Input(shape=(4,), name="y")
    model = Model([x, y], Concatenate(name="cat")([shared(x), shared(y)]))
    lines = summary_lines(model)
    assert lines[8:10] == [wide("shared (Dense)                  (None, 4)            20          x[0][0]"),
                           wide("                                                                 y[0][0]")]
    assert lines[11:13] == [wide("cat (Concatenate)               (None, 8)            0           shared[1][0]"),
                            wide("                                                                 shared[2][0]")]


def test_a_weight_listed_twice_is_counted_once():
    # the encoder's Dense is also called directly: its weights appear under both layers (Keras 2.3.1
    # layer_utils.count_params counts each weight once)
    inner = Input(shape=(8,), name="inner")
    code = Dense(4, name="code")
    encoder = Model(inner, code(inner), name="encoder")
    p, q = Input(shape=(8,), name="p"), Input(shape=(8,), name="q")
    model = Model([p, q], Concatenate(name="cat")([encoder(p), code(q)]))
    lines = summary_lines(model)
    assert lines[-4:-1] == ["Total params: 36", "Trainable params: 36", "Non-trainable params: 0"]


def test_line_length_and_positions_can_be_given():
    a, b = Input(shape=(2,), name="a"), Input(shape=(2,), name="b")
    model = Model([a, b], Concatenate(name="cat")([a, b]), name="m")
    lines = summary_lines(model, line_length=40, positions=[10, 20, 30, 40])
    assert lines[1] == "_" * 40
    assert lines[2] == "Layer (ty Output Sh Param #   Connected "
    assert lines[8] == "cat (Conc (None, 4) 0         a[0][0]   "


def test_a_subclassed_model_prints_its_layers_in_the_sequential_table_with_multiple_shapes():
    class TwoLayers(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(5)
            self.out = Dense(2)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = TwoLayers()
    model.predict(np.zeros((1, 3), dtype="float32"))
    assert summary_lines(model) == [
        'Model: "two_layers_1"',
        "_" * 65,
        "Layer (type)                 Output Shape              Param #   ",
        "=" * 65,
        "dense_1 (Dense)              multiple                  20        ",
        "_" * 65,
        "dense_2 (Dense)              multiple                  12        ",
        "=" * 65,
        "Total params: 32",
        "Trainable params: 32",
        "Non-trainable params: 0",
        "_" * 65,
    ]
