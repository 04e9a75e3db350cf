"""Keras 2.3.1's ``keras.utils.vis_utils``: ``model_to_dot`` builds Keras's graph (one record node per layer,
labels ``name: Class`` with Keras's shape table, one edge per tensor read) as a pydot object; ``plot_model``
draws it with Graphviz; without pydot or Graphviz the errors say what to install. pydot is a test dependency;
Graphviz's ``dot`` program is checked where it is installed and its absence is simulated with an empty PATH."""
import shutil
import types

import pydot
import pytest

from kerasish.layers import Concatenate, Dense, Input, TimeDistributed
from kerasish.models import Model, Sequential
from kerasish.utils import vis_utils
from kerasish.utils.vis_utils import model_to_dot, plot_model


def graph(dot) -> tuple[dict, list]:
    """``({node name: label}, [(source label, target label)])``: nodes named by layer ids (those of clusters
    too), read by label."""
    nodes = dot.get_nodes() + [node for cluster in dot.get_subgraphs() for node in cluster.get_nodes()]
    labels = {node.get_name(): node.get("label") for node in nodes if node.get_name() != "node"}
    all_edges = dot.get_edges() + [edge for cluster in dot.get_subgraphs() for edge in cluster.get_edges()]
    edges = [(labels[edge.get_source()], labels[edge.get_destination()]) for edge in all_edges]
    return labels, edges


def two_inputs():
    a, b = Input((3,), name="a"), Input((4,), name="b")
    shared = Dense(4, name="shared")
    joined = Concatenate(name="join")([shared(b), Dense(4, name="lift")(a) * 2.0])
    return Model([a, b], shared(Dense(4, name="squeeze")(joined)), name="two_inputs")


def test_a_functional_model_gives_one_node_per_layer_and_one_edge_per_tensor_read():
    dot = model_to_dot(two_inputs())
    labels, edges = graph(dot)
    assert sorted(labels.values()) == ["a: InputLayer", "b: InputLayer", "join: Concatenate", "lift: Dense",
                                       "shared: Dense", "squeeze: Dense"]
    # the shared layer reads b and squeeze; the torch multiply between lift and join is passed through
    assert sorted(edges) == [("a: InputLayer", "lift: Dense"), ("b: InputLayer", "shared: Dense"),
                             ("join: Concatenate", "squeeze: Dense"), ("lift: Dense", "join: Concatenate"),
                             ("shared: Dense", "join: Concatenate"), ("squeeze: Dense", "shared: Dense")]
    assert dot.get("rankdir") == "TB" and dot.get("dpi") == 96 and dot.get("concentrate") is True
    assert dot.get_node_defaults()[0]["shape"] == "record"


def test_show_shapes_writes_keras_record_labels():
    model = Sequential([Dense(2, input_shape=(3,), name="d1"), Dense(1, name="d2")])
    labels, edges = graph(model_to_dot(model, show_shapes=True, rankdir="LR", dpi=50))
    assert sorted(labels.values()) == [
        "d1: Dense\n|{input:|output:}|{{(None, 3)}|{(None, 2)}}",
        "d1_input: InputLayer\n|{input:|output:}|{{(None, 3)}|{(None, 3)}}",  # Keras draws Sequential's input
        "d2: Dense\n|{input:|output:}|{{(None, 2)}|{(None, 1)}}"]
    assert len(edges) == 2
    shared_labels, _ = graph(model_to_dot(two_inputs(), show_shapes=True, show_layer_names=False))
    # the shared layer: two calls, the same shapes (Keras prints them); a layer of two call shapes: 'multiple'
    assert "Dense\n|{input:|output:}|{{(None, 4)}|{(None, 4)}}" in shared_labels.values()
    assert "Concatenate\n|{input:|output:}|{{[(None, 4), (None, 4)]}|{(None, 8)}}" in shared_labels.values()


def test_a_wrapper_is_labelled_with_its_layer_and_expand_nested_draws_a_cluster():
    inner_input = Input((3,), name="inner_in")
    inner = Model(inner_input, Dense(2, name="inner_dense")(inner_input), name="inner")
    sequence = Input((5, 3), name="seq")
    outer = Model(sequence, Dense(1, name="head")(TimeDistributed(inner, name="td")(sequence)), name="outer")
    flat, _ = graph(model_to_dot(outer))
    assert "td(inner): TimeDistributed(Model)" in flat.values()
    dot = model_to_dot(outer, expand_nested=True)
    (cluster,) = dot.get_subgraphs()
    assert cluster.get_name() == "cluster_inner" and cluster.get("style") == "dashed"
    cluster_labels = sorted(node.get("label") for node in cluster.get_nodes())
    assert cluster_labels == ["inner_dense: Dense", "inner_in: InputLayer"]
    _, edges = graph(dot)
    # Keras 2.3.1: into the wrapper, the wrapper into its cluster, and out of the cluster's last node
    assert sorted(edges) == [("inner_dense: Dense", "head: Dense"), ("inner_in: InputLayer", "inner_dense: Dense"),
                             ("seq: InputLayer", "td: TimeDistributed"),
                             ("td: TimeDistributed", "inner_in: InputLayer")]


def test_expand_nested_joins_a_nested_model_by_its_first_and_last_nodes():
    inner_input = Input((3,), name="inner_in")
    inner = Model(inner_input, Dense(2, name="inner_dense")(inner_input), name="inner")
    x = Input((3,), name="x")
    outer = Model(x, Dense(1, name="head")(inner(x)))
    labels, edges = graph(model_to_dot(outer, expand_nested=True))
    assert "inner: Model" not in labels.values()  # drawn as its cluster only
    assert sorted(edges) == [("inner_dense: Dense", "head: Dense"), ("inner_in: InputLayer", "inner_dense: Dense"),
                             ("x: InputLayer", "inner_in: InputLayer")]
    flat_labels, flat_edges = graph(model_to_dot(outer))
    assert sorted(flat_edges) == [("inner: Model", "head: Dense"), ("x: InputLayer", "inner: Model")]


def test_an_unbuilt_sequential_raises_keras_build_error():
    with pytest.raises(ValueError, match="input_shape"):
        model_to_dot(Sequential([Dense(2)]))


def test_plot_model_writes_the_image_graphviz_draws(tmp_path):
    model = two_inputs()
    if shutil.which("dot") is None:  # where Graphviz is not installed: the error says what to install
        with pytest.raises(OSError, match="Please install GraphViz"):
            plot_model(model, to_file=str(tmp_path / "model.png"))
        return
    plot_model(model, to_file=str(tmp_path / "model.png"), show_shapes=True)
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_model(model, to_file=str(tmp_path / "model.svg"))
    svg = (tmp_path / "model.svg").read_text()
    assert "<svg" in svg and "join: Concatenate" in svg
    assert plot_model(model, to_file=str(tmp_path / "model.pdf")) is None
    assert (tmp_path / "model.pdf").read_bytes()[:4] == b"%PDF"
    plot_model(model, to_file=str(tmp_path / "model"))  # no extension: png
    assert (tmp_path / "model").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="Graphviz cannot write"):
        plot_model(model, to_file=str(tmp_path / "model.notaformat"))


def test_without_pydot_both_functions_say_to_pip_install_pydot(monkeypatch):
    def missing():
        raise ImportError("No module named 'pydot'")

    monkeypatch.setattr(vis_utils, "_import_pydot", missing)
    for call in (lambda: model_to_dot(two_inputs()), lambda: plot_model(two_inputs())):
        with pytest.raises(ImportError, match=r"Failed to import `pydot`. Please install `pydot`. For example with "
                                              r"`pip install pydot`."):
            call()


def test_without_graphviz_plot_model_says_to_install_it_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # pydot finds no `dot` program
    with pytest.raises(OSError, match=r"`pydot` failed to call GraphViz.*Please install GraphViz .*apt-get install "
                                      r"graphviz"):
        plot_model(two_inputs(), to_file=str(tmp_path / "model.png"))
    assert not (tmp_path / "model.png").exists()
    assert "digraph" in model_to_dot(two_inputs()).to_string()  # building the graph needs no Graphviz


def test_add_edge_adds_an_edge_once():
    dot = pydot.Dot()
    vis_utils.add_edge(dot, "1", "2")
    vis_utils.add_edge(dot, "1", "2")
    assert len(dot.get_edges()) == 1
    model = two_inputs()
    assert vis_utils.is_model(model) and not vis_utils.is_model(model.layers[-1])
    wrapped = TimeDistributed(Model(*(lambda i: (i, Dense(1)(i)))(Input((2,)))))
    assert vis_utils.is_wrapped_model(wrapped) and not vis_utils.is_wrapped_model(TimeDistributed(Dense(1)))
    assert isinstance(vis_utils, types.ModuleType)
