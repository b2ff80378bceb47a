"""Tests of nnbook.plotting.decision_line and draw_network (chapters 2 to 4)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnbook.plotting import activation_curve, decision_line, draw_network  # noqa: E402

BOX = {"xlim": (-0.5, 1.5), "ylim": (-0.5, 1.5)}


def _on_line(w, b, xs, ys):
    return np.allclose(w[0] * xs + w[1] * ys + b, 0.0)


def test_and_line_ends_on_the_box_edges():
    xs, ys = decision_line([1, 1], -1.5, **BOX)
    assert sorted(zip(xs.tolist(), ys.tolist())) == [(0.0, 1.5), (1.5, 0.0)]


@pytest.mark.parametrize("w, b", [([1, 1], -0.5), ([2, -1], 0.3), ([0.3, 1.7], -1.0), ([1, 0], -0.5),
                                  ([0, 1], -0.5), ([-1, 1], 0.0)])
def test_segment_lies_on_the_line_inside_the_box(w, b):
    xs, ys = decision_line(w, b, **BOX)
    assert xs.shape == ys.shape == (2,)
    assert _on_line(w, b, xs, ys)
    assert np.all((xs >= -0.5) & (xs <= 1.5) & (ys >= -0.5) & (ys <= 1.5))
    # the segment spans the box: its ends are on the border
    on_border = (np.isclose(xs, -0.5) | np.isclose(xs, 1.5) | np.isclose(ys, -0.5) | np.isclose(ys, 1.5))
    assert on_border.all()
    assert np.hypot(xs[1] - xs[0], ys[1] - ys[0]) > 0


def test_vertical_and_horizontal_lines():
    xs, ys = decision_line([1, 0], -0.5, **BOX)
    assert np.allclose(xs, 0.5) and sorted(ys.tolist()) == [-0.5, 1.5]
    xs, ys = decision_line([0, 2], -1.0, **BOX)
    assert np.allclose(ys, 0.5) and sorted(xs.tolist()) == [-0.5, 1.5]


def test_missing_line_gives_empty_arrays():
    for w, b in (([1, 1], -5.0), ([0, 0], 1.0)):
        xs, ys = decision_line(w, b, **BOX)
        assert xs.shape == ys.shape == (0,)


@pytest.mark.parametrize("kwargs, exc", [
    ({"w": [1, 1, 1], "b": 0.0}, ValueError),
    ({"w": "ab", "b": 0.0}, TypeError),
    ({"w": [1, 1], "b": [1, 2]}, ValueError),
    ({"w": [1, 1], "b": 0.0, "xlim": (1, 0)}, ValueError),
])
def test_decision_line_rejects_bad_input(kwargs, exc):
    args = {**BOX, **kwargs}
    with pytest.raises(exc):
        decision_line(args.pop("w"), args.pop("b"), **args)


def test_draw_network_draws_every_neuron_and_connection():
    fig, ax = plt.subplots()
    draw_network([5, 3, 7, 5, 1], ax=ax)
    assert len(ax.patches) == 5 + 3 + 7 + 5 + 1
    assert len(ax.lines) == 5 * 3 + 3 * 7 + 7 * 5 + 5 * 1
    labels = [t.get_text() for t in ax.texts]
    assert "input\n(5)" in labels and "hidden 2\n(7)" in labels and "output\n(1)" in labels
    assert ax.get_title() == "A fully connected network"
    plt.close(fig)


def test_draw_network_shades_activations_and_elides_wide_layers():
    fig, ax = plt.subplots()
    acts = [np.array([1.0, 0.0]), np.array([0.0, 1.0, 1.0]), np.array([1.0])]
    draw_network([2, 3, 1], ax=ax, activations=acts)
    faces = [p.get_facecolor() for p in ax.patches]
    assert faces[0] != faces[1]             # a firing and an idle input look different
    assert faces[3] == faces[4] != faces[2]
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_network([784, 100, 10], ax=ax, max_neurons=12)
    assert len(ax.patches) == 11 + 11 + 10
    assert sum(t.get_text() == "⋮" for t in ax.texts) == 2
    plt.close(fig)


def test_draw_network_rejects_bad_input():
    with pytest.raises(ValueError):
        draw_network([5])
    with pytest.raises(TypeError):
        draw_network("5-3-1")
    with pytest.raises(ValueError):
        draw_network([2, 1], activations=[np.zeros(3), np.zeros(1)])
    with pytest.raises(ValueError):
        draw_network([2, 1], activations=[np.zeros(2)])


def test_activation_curve_reads_the_activation_table():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    f_line, g_line = activation_curve("ReLU", ax=ax, z=[-1.0, 0.5, 2.0])
    assert f_line.get_ydata().tolist() == [0.0, 0.5, 2.0]
    assert g_line.get_ydata().tolist() == [0.0, 1.0, 1.0]
    assert ax.get_title() == "relu" and ax.get_legend() is not None
    with pytest.raises(ValueError, match="unknown activation 'relux'; choose one of"):
        activation_curve("relux", ax=ax)
    plt.close(fig)
