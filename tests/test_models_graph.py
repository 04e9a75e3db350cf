"""The graph of a functional model (models/graph.py): mapping and layer order."""
from kerasish.layers import Add, Dense, Input
from kerasish.models import Model


def test_mapping_a_deep_residual_graph_visits_each_node_once():
    # Each Add reads the block input twice (directly and through the Dense): a walk that revisits shared
    # subgraphs doubles per block, 2**60 steps here (the test would never end).
    x = Input(shape=(4,), name="x")
    h = x
    for _ in range(60):
        h = Add()([h, Dense(4)(h)])
    model = Model(x, h)
    assert len(model.layers) == 1 + 2 * 60
    assert model.layers[0].name == "x" and model.layers[-1].name == "add_60"
