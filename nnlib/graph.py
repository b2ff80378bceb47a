"""A tiny scalar computational graph with reverse-mode differentiation (chapter 7).

Each :class:`Value` holds a number, remembers which operation (gate) produced it from which
inputs, and after ``backward()`` holds ``grad``: the derivative of the final output with respect
to it. Backward applies the chain rule gate by gate, in reverse topological order, and *adds* the
contributions of every path from the output, which is exactly backpropagation.

Local gradients of the gates of chapter 7's example f(x, y, z, w) = x*y + max(z, w):

* add distributes: both inputs receive the upstream gradient unchanged;
* mul switches: each input receives the upstream gradient times the *other* input;
* max routes: the larger input receives the whole upstream gradient, the other gets 0.

>>> x, y, z, w = Value(3.0, "x"), Value(-4.0, "y"), Value(2.0, "z"), Value(-1.0, "w")
>>> f = x * y + maximum(z, w)
>>> f.backward()
>>> f.data, x.grad, y.grad, z.grad, w.grad
(-10.0, -4.0, 3.0, 1.0, 0.0)
"""
from __future__ import annotations

import math
import numbers

from .activations import sigmoid


class Value:
    """A scalar node of a computational graph.

    ``data`` is its value; ``grad`` is d(output)/d(this node) after calling ``backward()`` on the
    output; ``op`` names the gate that produced it ("" for an input); ``parents`` are the nodes
    it was computed from.
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "_local")

    def __init__(self, data, label: str = "", *, op: str = "", parents=(), local_grads=()):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value holds one real number, got {data!r}")
        if not isinstance(label, str):
            raise TypeError(f"label must be a string such as 'x', got {label!r}")
        if not math.isfinite(data):
            raise ValueError(f"Value {label!r} must be finite, got {data}")
        self.data, self.grad, self.label, self.op = float(data), 0.0, label, op
        self.parents, self._local = tuple(parents), tuple(local_grads)  # _local: d(self)/d(parent)

    def __add__(self, other):
        other = _as_value(other)
        return Value(self.data + other.data, op="+", parents=(self, other), local_grads=(1.0, 1.0))

    def __mul__(self, other):
        other = _as_value(other)
        return Value(self.data * other.data, op="*", parents=(self, other),
                     local_grads=(other.data, self.data))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_as_value(other))

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return _as_value(other) - self

    def relu(self):
        """max(0, self): the ReLU gate (a max gate against the constant 0)."""
        return Value(max(self.data, 0.0), op="relu", parents=(self,),
                     local_grads=(1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        """The sigmoid gate of chapter 5, with local gradient s (1 - s)."""
        s = float(sigmoid(self.data))
        return Value(s, op="sigmoid", parents=(self,), local_grads=(s * (1.0 - s),))

    def backward(self):
        """Fill ``grad`` of every node this value depends on (d self / d node).

        Gradients are reset first, so calling it twice gives the same result.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node.parents, node._local):
                parent.grad += local * node.grad   # chain rule; paths add up

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:g}, grad={self.grad:g})"


def _as_value(x) -> Value:
    return x if isinstance(x, Value) else Value(x)


def maximum(a, b) -> Value:
    """The max gate: routes the upstream gradient to the larger input (ties go to ``a``)."""
    a, b = _as_value(a), _as_value(b)
    first = a.data >= b.data
    return Value(max(a.data, b.data), op="max", parents=(a, b),
                 local_grads=(1.0 if first else 0.0, 0.0 if first else 1.0))


def topological_order(root: Value):
    """All nodes ``root`` depends on, each listed after its parents (inputs first, root last)."""
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    # Depth-first search, parents before children. An explicit stack instead of recursion, so a
    # long chain of operations (thousands of nodes) does not hit Python's recursion limit.
    order, seen = [], {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def product_plus_max(x=3.0, y=-4.0, z=2.0, w=-1.0):
    """Build f(x, y, z, w) = x*y + max(z, w) with labelled nodes and run backward.

    Returns a dict of the named nodes: ``x, y, z, w, xy, max, f``.
    """
    nodes = {k: Value(v, k) for k, v in dict(x=x, y=y, z=z, w=w).items()}
    xy = nodes["x"] * nodes["y"]
    xy.label = "x*y"
    m = maximum(nodes["z"], nodes["w"])
    m.label = "max(z,w)"
    f = xy + m
    f.label = "f"
    f.backward()
    return {**nodes, "xy": xy, "max": m, "f": f}
