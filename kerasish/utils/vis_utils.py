"""Keras 2.3.1's ``keras.utils.vis_utils``: a model's graph as a ``pydot.Dot`` (``model_to_dot``) and as an image
file drawn by Graphviz (``plot_model``).

Both are optional dependencies, as in Keras: pydot (``pip install pydot``) builds the graph, Graphviz's ``dot``
program (``apt-get install graphviz``, ``brew install graphviz``, ``conda install graphviz``) draws it. Without
them they raise Keras 2.3.1's errors, saying what to install: ImportError for pydot, OSError for Graphviz.
Graphviz is checked by ``plot_model`` only: unlike Keras's, ``model_to_dot`` builds the graph without it (it
draws nothing), so ``model_to_dot(model).to_string()`` works with pydot alone.

The graph is Keras's: one record node per layer of the model (a Sequential's implicit ``InputLayer``
included), named by the layer's ``id``, labelled ``name: ClassName`` (plus input and output shapes with
``show_shapes``), and one edge per tensor a layer's call in the model reads from another layer. Torch
operations recorded between layers (``x + y`` on symbolic tensors) are not layers: their edges go through them
to the layers they read. With ``expand_nested``, a nested model becomes a dashed cluster of its own layers.
"""
from __future__ import annotations

import os

from kerasish.utils.generic_utils import keras_class_name
from kerasish.utils.io_utils import atomic_write

__all__ = ["model_to_dot", "plot_model", "is_model", "is_wrapped_model", "add_edge"]

_PYDOT_MISSING = ("Failed to import `pydot`. Please install `pydot`. For example with `pip install pydot`. "
                  "(plot_model and model_to_dot also need Graphviz's `dot` program: e.g. `apt-get install "
                  "graphviz`, `brew install graphviz` or `conda install graphviz`.)")
_GRAPHVIZ_MISSING = ("`pydot` failed to call GraphViz. Please install GraphViz (https://www.graphviz.org/) and "
                     "ensure that its executables are in the $PATH: e.g. `apt-get install graphviz`, `brew install "
                     "graphviz` or `conda install graphviz` (the `dot` program; `pip install graphviz` installs "
                     "only Python bindings).")


def _import_pydot():
    import pydot
    return pydot


def _require_pydot():
    try:
        return _import_pydot()
    except ImportError as error:
        raise ImportError(_PYDOT_MISSING) from error


def _check_graphviz(pydot) -> None:
    """Keras 2.3.1 draws an empty graph to check that pydot can run Graphviz."""
    try:
        pydot.Dot.create(pydot.Dot())
    except OSError as error:
        raise OSError(_GRAPHVIZ_MISSING) from error


# ---------------------------------------------------------------------------------------------- the graph
def is_model(layer) -> bool:
    from kerasish.models.model import Model
    return isinstance(layer, Model)


def is_wrapped_model(layer) -> bool:
    """A wrapper of a model: ``TimeDistributed(model)``."""
    from kerasish.layers.wrappers import Wrapper
    return isinstance(layer, Wrapper) and is_model(layer.layer)


def add_edge(dot, src: str, dst: str) -> None:
    """Adds the edge ``src -> dst`` to ``dot`` unless it has it (Keras 2.3.1)."""
    if not dot.get_edge(src, dst):
        dot.add_edge(_import_pydot().Edge(src, dst))


def _model_layers(model) -> list:
    """Keras's ``model._layers``: a graph model's layers with its InputLayers (a Sequential's too)."""
    if keras_class_name(model) == "Sequential" and not model.built:
        model.build()  # raises Keras's "You must provide an `input_shape` argument." when it cannot
    return list(model._plan.layers) if model._is_graph_network else list(model.layers)


def _model_nodes(model) -> list:
    """The calls (nodes) of the model's graph; a subclassed model has none (its graph is its code)."""
    return list(model._plan.nodes) if model._is_graph_network else []


def _inbound_layers(node) -> list:
    """The layers whose outputs ``node`` reads, through any recorded torch operations in between."""
    from kerasish.layers.base import Layer
    found = []
    for tensor in node.input_tensors:
        operation, node_index, _ = tensor._keras_history
        if isinstance(operation, Layer):
            found.append(operation)
        else:
            found.extend(_inbound_layers(operation._inbound_nodes[node_index]))
    return found


def _label(layer, show_shapes: bool, show_layer_names: bool, expand_nested: bool) -> str:
    from kerasish.layers.wrappers import Wrapper
    name, class_name = layer.name, keras_class_name(layer)
    if isinstance(layer, Wrapper) and not (expand_nested and is_model(layer.layer)):
        # time_distributed_1(dense_1): TimeDistributed(Dense); an expanded wrapped model has its cluster instead
        name, class_name = f"{name}({layer.layer.name})", f"{class_name}({keras_class_name(layer.layer)})"
    label = f"{name}: {class_name}" if show_layer_names else class_name
    if not show_shapes:
        return label
    try:
        outputs = str(layer.output_shape)
    except AttributeError:  # calls with different shapes (Keras prints this word)
        outputs = "multiple"
    try:
        input_shape = layer.input_shape
        # an InputLayer reads nothing: Keras shows its tensor's shape on both sides
        inputs = str(layer.output_shape if input_shape is None and keras_class_name(layer) == "InputLayer"
                     else input_shape)
    except AttributeError:
        inputs = "multiple"
    return "%s\n|{input:|output:}|{{%s}|{%s}}" % (label, inputs, outputs)  # Keras 2.3.1's record label


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96,
                 subgraph=False):
    """The model's graph as a ``pydot.Dot`` (Keras 2.3.1), or a ``pydot.Cluster`` with ``subgraph=True`` (a
    nested model inside its parent's graph).

    Arguments:
        model: a kerasish model (a Sequential is built first, as in Keras).
        show_shapes: add each layer's input and output shapes to its node.
        show_layer_names: label nodes ``name: ClassName`` (else the class name alone).
        rankdir: Graphviz's direction, ``'TB'`` (top to bottom) or ``'LR'`` (left to right).
        expand_nested: draw nested models as clusters of their layers.
        dpi: the image resolution Graphviz uses.
    """
    pydot = _require_pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="record")

    layers = _model_layers(model)
    first_node, last_node = {}, {}  # id(nested model) -> its cluster's first / last node name
    for layer in layers:
        nested = layer if expand_nested and is_model(layer) else None
        wrapped = layer.layer if expand_nested and is_wrapped_model(layer) else None
        for sub_model in (nested, wrapped):
            if sub_model is not None:
                cluster = model_to_dot(sub_model, show_shapes, show_layer_names, rankdir, expand_nested,
                                       subgraph=True)
                cluster_nodes = cluster.get_nodes()
                first_node[id(sub_model)] = cluster_nodes[0].get_name()
                last_node[id(sub_model)] = cluster_nodes[-1].get_name()
                dot.add_subgraph(cluster)
        if nested is None:  # an expanded model is drawn by its cluster alone
            label = _label(layer, show_shapes, show_layer_names, expand_nested)
            dot.add_node(pydot.Node(str(id(layer)), label=label))

    in_model = {id(node) for node in _model_nodes(model)}
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) in in_model:
                for inbound in _inbound_layers(node):
                    for source, target in _edge_ends(inbound, layer, expand_nested, first_node, last_node):
                        if expand_nested:  # Keras 2.3.1 adds these once; plain edges once per tensor read
                            add_edge(dot, source, target)
                        else:
                            dot.add_edge(pydot.Edge(source, target))
    return dot


def _edge_ends(inbound, layer, expand_nested: bool, first_node: dict, last_node: dict) -> list[tuple[str, str]]:
    """The node names an edge ``inbound -> layer`` joins; with ``expand_nested`` an edge into or out of an
    expanded model ends at its cluster's first or last node, and a wrapper of a model points to its cluster."""
    source, target = str(id(inbound)), str(id(layer))
    if not expand_nested:
        return [(source, target)]
    if is_model(inbound):
        source = last_node[id(inbound)]
    elif is_wrapped_model(inbound):
        source = last_node[id(inbound.layer)]
    if is_model(layer):
        return [(source, first_node[id(layer)])]
    if is_wrapped_model(layer):
        return [(source, target), (target, first_node[id(layer.layer)])]
    return [(source, target)]


def plot_model(model, to_file="model.png", show_shapes=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=96):
    """Draws ``model_to_dot(model, ...)`` with Graphviz into ``to_file``; its extension picks the format
    (``.png`` when there is none; ``.pdf``, ``.svg``, ``.jpg`` ... any Graphviz format). Returns the image as
    an IPython display object where IPython is installed (inline in notebooks), else None; for PDF, None."""
    _check_graphviz(_require_pydot())
    dot = model_to_dot(model, show_shapes, show_layer_names, rankdir, expand_nested, dpi)
    extension = os.path.splitext(os.fspath(to_file))[1][1:] or "png"
    try:
        image = dot.create(format=extension)
    except AssertionError as error:  # pydot's report of Graphviz refusing the format
        raise ValueError(f"plot_model: Graphviz cannot write {to_file!r} (format {extension!r}): {error}") from None
    with atomic_write(to_file, "wb") as f:
        f.write(image)
    if extension == "pdf":
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.SVG(data=image) if extension == "svg" else _ipython_image(display, image, extension)


def _ipython_image(display, image: bytes, extension: str):
    try:
        return display.Image(data=image, format=extension)
    except ValueError:  # a format IPython cannot show inline; the file is written
        return None
