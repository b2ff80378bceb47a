"""nnlib.graph: the scalar computational graph and backpropagation through its gates (chapter 7)."""
import math

import pytest

from nnlib import Value, product_plus_max, maximum, topological_order


def f_and_inputs(x, y, z, w):
    vx, vy, vz, vw = Value(x, "x"), Value(y, "y"), Value(z, "z"), Value(w, "w")
    f = vx * vy + maximum(vz, vw)
    f.backward()
    return f, vx, vy, vz, vw


# ----------------------------------------------------------------- f = x*y + max(z, w)
def test_product_plus_max_forward_and_gradients():
    nodes = product_plus_max()            # x=3, y=-4, z=2, w=-1
    assert nodes["f"].data == -10.0
    assert nodes["xy"].data == -12.0 and nodes["max"].data == 2.0
    # mul switches: df/dx = y, df/dy = x; max routes to the larger input z
    assert (nodes["x"].grad, nodes["y"].grad) == (-4.0, 3.0)
    assert (nodes["z"].grad, nodes["w"].grad) == (1.0, 0.0)
    # add distributes: both of its inputs get the upstream gradient 1
    assert nodes["xy"].grad == 1.0 and nodes["max"].grad == 1.0 and nodes["f"].grad == 1.0


def test_max_routes_to_w_when_w_is_larger():
    f, x, y, z, w = f_and_inputs(2.0, 5.0, -3.0, 4.0)
    assert f.data == 2 * 5 + 4
    assert (x.grad, y.grad, z.grad, w.grad) == (5.0, 2.0, 0.0, 1.0)


def test_max_tie_sends_the_gradient_to_the_first_input_only():
    # the handout's rule: d max/dz = 1 if z >= w, d max/dw = 1 only if w > z
    f, x, y, z, w = f_and_inputs(1.0, 1.0, 2.0, 2.0)
    assert f.data == 3.0
    assert (z.grad, w.grad) == (1.0, 0.0)
    assert z.grad + w.grad == 1.0       # the upstream gradient is routed, never duplicated


@pytest.mark.parametrize("x, y, z, w", [(3.0, -4.0, 2.0, -1.0), (0.5, 2.0, -1.0, 0.25),
                                        (-1.5, -2.0, 7.0, 3.0), (2.0, 0.0, 1.0, 1.5)])
def test_graph_gradients_match_finite_differences(x, y, z, w):
    def f(*a):
        return a[0] * a[1] + max(a[2], a[3])

    _, *nodes = f_and_inputs(x, y, z, w)
    args, h = [x, y, z, w], 1e-6
    for i, node in enumerate(nodes):
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        assert node.grad == pytest.approx((f(*up) - f(*down)) / (2 * h), abs=1e-6)


def test_product_plus_max_accepts_other_inputs():
    nodes = product_plus_max(x=1.0, y=2.0, z=-5.0, w=-3.0)
    assert nodes["f"].data == 2.0 - 3.0
    assert nodes["w"].grad == 1.0 and nodes["z"].grad == 0.0


# ------------------------------------------------------------------------------ other gates
def test_paths_add_up_when_a_value_is_used_twice():
    a = Value(3.0, "a")
    b = a * a + a                       # db/da = 2a + 1
    b.backward()
    assert b.data == 12.0 and a.grad == 7.0


def test_subtraction_negation_and_constants():
    a, b = Value(5.0), Value(2.0)
    c = 10 - a * 2 + (-b) - 1 + 3 * b   # 10 - 10 - 2 - 1 + 6 = 3
    c.backward()
    assert c.data == 3.0
    assert a.grad == -2.0 and b.grad == 2.0


def test_relu_and_sigmoid_gates():
    pos, neg = Value(2.0), Value(-1.0)
    r = pos.relu() + neg.relu()
    r.backward()
    assert r.data == 2.0 and pos.grad == 1.0 and neg.grad == 0.0

    x = Value(0.3)
    s = x.sigmoid()
    s.backward()
    expected = 1 / (1 + math.exp(-0.3))
    assert s.data == pytest.approx(expected)
    assert x.grad == pytest.approx(expected * (1 - expected))


def test_sigmoid_gate_is_stable_for_large_inputs():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_backward_twice_gives_the_same_gradients():
    f, x, *_ = f_and_inputs(3.0, -4.0, 2.0, -1.0)
    f.backward()
    assert x.grad == -4.0


def test_a_neuron_as_a_graph():
    # z = w1 x1 + w2 x2 + b, out = relu(z): the gradient w.r.t. each weight is its input
    w1, w2, b = Value(0.5, "w1"), Value(-1.0, "w2"), Value(0.1, "b")
    out = (w1 * 2.0 + w2 * -3.0 + b).relu()
    out.backward()
    assert out.data == pytest.approx(4.1)
    assert (w1.grad, w2.grad, b.grad) == (2.0, -3.0, 1.0)


def test_long_chains_do_not_hit_the_recursion_limit():
    x = Value(1.0, "x")
    total = x
    for _ in range(5000):
        total = total + x
    total.backward()
    assert total.data == 5001.0 and x.grad == 5001.0


# ----------------------------------------------------------------------- topological order
def test_topological_order_lists_parents_before_children():
    nodes = product_plus_max()
    order = topological_order(nodes["f"])
    pos = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is nodes["f"]
    assert len(order) == 7
    for node in order:
        for parent in node.parents:
            assert pos[id(parent)] < pos[id(node)]


def test_topological_order_lists_a_shared_node_once():
    a = Value(2.0)
    order = topological_order(a * a)
    assert len(order) == 2


def test_repr_ops_and_labels():
    nodes = product_plus_max()
    assert repr(nodes["x"]) == "Value(x=3, grad=-4)"
    assert nodes["f"].op == "+" and nodes["xy"].op == "*" and nodes["max"].op == "max"
    assert nodes["x"].op == "" and nodes["x"].parents == ()


# ------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad", ["3", None, [1.0], True, 1 + 2j])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="Value holds one real number"):
        Value(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_value_rejects_non_finite_numbers(bad):
    with pytest.raises(ValueError, match="must be finite"):
        Value(bad, "x")


def test_value_rejects_a_non_string_label():
    with pytest.raises(TypeError, match="label must be a string"):
        Value(1.0, 5)


def test_topological_order_needs_a_value():
    with pytest.raises(TypeError, match="expected a Value"):
        topological_order(3.0)
