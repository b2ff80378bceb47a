"""Tests of the computational-graph drawing helpers in nnbook.plotting (chapter 7)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from nnlib import Value, product_plus_max  # noqa: E402
from nnbook.plotting import draw_graph, graph_layout  # noqa: E402


def test_layout_puts_inputs_left_and_every_arrow_to_the_right():
    nodes = product_plus_max()
    order, grid = graph_layout(nodes["f"])
    col = {id(n): c for n, (c, _) in zip(order, grid)}
    assert [col[id(nodes[k])] for k in "xyzw"] == [0, 0, 0, 0]
    assert col[id(nodes["xy"])] == col[id(nodes["max"])] == 1
    assert col[id(nodes["f"])] == 2
    for node in order:
        for parent in node.parents:
            assert col[id(parent)] < col[id(node)]
    rows = [r for (c, r) in grid if c == 0]
    assert rows == [1.5, 0.5, -0.5, -1.5]


def test_draw_graph_shows_values_and_gradients_of_f_equals_xy_plus_max():
    fig, ax = plt.subplots()
    drawing = draw_graph(product_plus_max()["f"], ax=ax)
    labels = [n.label for n in drawing["order"]]
    values = dict(zip(labels, (t.get_text() for t in drawing["value_texts"])))
    grads = dict(zip(labels, (t.get_text() for t in drawing["grad_texts"])))
    assert values["f"] == "value −10" and values["x*y"] == "value −12"
    assert grads["x"] == "grad −4" and grads["y"] == "grad 3"
    assert grads["z"] == "grad 1" and grads["w"] == "grad 0"
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 6          # x, y -> mul; z, w -> max; mul, max -> add
    assert ax.get_title() and ax.get_legend() is not None
    plt.close(fig)


def test_an_input_used_twice_gets_two_arrows():
    x = Value(3.0, "x")
    f = x * x + x
    f.backward()
    fig, ax = plt.subplots()
    drawing = draw_graph(f, ax=ax)
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == 4
    assert drawing["grad_texts"][0].get_text() == "grad 7"
    plt.close(fig)


def test_draw_graph_rejects_what_is_not_a_value():
    with pytest.raises(TypeError, match="nnlib.graph.Value"):
        draw_graph(3.0)
