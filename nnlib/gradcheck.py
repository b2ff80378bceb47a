"""Finite-difference gradient checks (chapter 7).

Backpropagation is easy to get subtly wrong, and a wrong gradient still "trains", just badly. The
cure is to compare it with the definition of the derivative: nudge one number by a tiny ``eps``
up and down and watch the loss,

    dL/dtheta  ~  (L(theta + eps) - L(theta - eps)) / (2 eps),

then report the relative error ||analytic - numeric|| / (||analytic|| + ||numeric||) of each
array. In float64, below about 1e-6 means right, 1e-2 or more wrong. Norms, not entry-by-entry
ratios: a finite difference's round-off (about 1e-10) is a large *relative* error for a tiny
entry (a saturated sigmoid unit, say) and would flag a correct gradient as wrong.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, positive_number
from .layers import Layer
from .losses import get_loss
from .network import Sequential


def _loss_value(value):
    """The number the loss function returned, or a TypeError that says what it returned instead."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        shape = f" of shape {np.shape(value)}" if isinstance(value, np.ndarray) else ""
        raise TypeError(f"f must return the loss as one real number, got {type(value).__name__}"
                        f"{shape}; sum or average it, e.g. return np.sum(...)")
    return float(value)


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f()`` w.r.t. the array ``x``.

    ``x`` is modified in place one entry at a time and restored, so ``f`` can read it directly
    (e.g. ``x`` is a weight matrix inside a network). Returns an array shaped like ``x``.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of no arguments returning the loss, got "
                        f"{type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("numerical_gradient needs a float64 numpy array (float32 is too coarse "
                        "for finite differences)")
    positive_number(eps, "eps")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        up = _loss_value(f())
        x[i] = old - eps
        down = _loss_value(f())
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """||a - b|| / max(||a|| + ||b||, 1e-12) (Euclidean norms): 0 for identical arrays, at most 1."""
    a, b = as_float_array(a, "a", allow_empty=True), as_float_array(b, "b", allow_empty=True)
    if a.shape != b.shape:
        raise ValueError(f"a has shape {a.shape} but b has shape {b.shape}; compare arrays of the "
                         "same shape")
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


@dataclass
class GradCheck:
    """Result of a gradient check: one relative error per checked array."""
    errors: dict
    tol: float
    hint: str = ""

    @property
    def passed(self) -> bool:
        return all(e < self.tol for e in self.errors.values())

    def __str__(self):
        width = max((len(k) for k in self.errors), default=5)
        lines = [f"{'array':<{width}}  relative error  verdict"]
        for name, err in self.errors.items():
            lines.append(f"{name:<{width}}  {err:14.2e}  {'ok' if err < self.tol else 'WRONG'}")
        lines.append(f"gradient check {'passed' if self.passed else 'FAILED'} (tolerance {self.tol:g})")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    __repr__ = __str__


def check_function(f, grad_f, x, *, eps: float = 1e-6, tol: float = 1e-6) -> GradCheck:
    """Check ``grad_f(x)`` against finite differences of the scalar function ``f(x)``.

    For an element-wise activation, pass ``f = lambda z: act(z).sum()`` and
    ``grad_f = act_grad``; for a loss, ``f = lambda z: loss(z, y)``, ``grad_f = lambda z: loss_grad(z, y)``.
    """
    if not (callable(f) and callable(grad_f)):
        raise TypeError("f and grad_f must be functions of x")
    positive_number(tol, "tol")
    x = as_float_array(x, "x").astype(np.float64).copy()
    numeric = numerical_gradient(lambda: f(x), x, eps)
    analytic = as_float_array(grad_f(x.copy()), "grad_f(x)", finite=False, allow_empty=True)
    if analytic.shape != x.shape:
        raise ValueError(f"grad_f(x) has shape {analytic.shape} but x has shape {x.shape}; it must "
                         "return one partial derivative per entry of x")
    result = GradCheck({"x": relative_error(analytic, numeric)}, tol)
    if not result.passed and np.any(np.abs(x) < 2 * eps):
        result.hint = ("some entries of x lie within eps of 0, where ReLU, the step and max have a "
                       "kink: a finite difference across a kink is wrong, so move x away from 0")
    return result


def check_layer(layer, X, *, seed=0, eps: float = 1e-6, tol: float = 1e-6) -> GradCheck:
    """Check a layer's ``backward`` (input gradient and every parameter gradient).

    Uses the scalar L = sum(forward(X) * G) for a fixed random ``G``, whose gradient with respect
    to the layer's output is exactly ``G``.
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layer must be an nnlib layer (Dense, ReLU, ...), got {type(layer).__name__}")
    positive_number(tol, "tol")
    X = as_float_array(X, "X", ndim=2).astype(np.float64).copy()
    G = np.random.default_rng(seed).standard_normal(layer.forward(X).shape)

    def loss():   # its gradient with respect to the layer's output is G
        return float(np.sum(layer.forward(X) * G))

    dX = layer.backward(G.copy(), need_input_grad=True)
    analytic = [g.copy() for g in layer.grads]
    errors = {"input": relative_error(dX, numerical_gradient(loss, X, eps))}
    for k, (p, g) in enumerate(zip(layer.params, analytic)):
        errors[f"param[{k}] {p.shape}"] = relative_error(g, numerical_gradient(loss, p, eps))
    return GradCheck(errors, tol)


def check_model(model, X, y, loss: str = "cross_entropy", *, eps: float = 1e-6,
                tol: float = 1e-6) -> GradCheck:
    """Check backpropagation through a whole network plus its loss, parameter by parameter."""
    positive_number(tol, "tol")
    loss_fn = get_loss(loss)
    X, y = Sequential.check(model).check_data(X, y, loss_fn)
    if X.dtype != np.float64:
        raise TypeError("check_model needs a float64 model (float32 is too coarse for finite "
                        "differences): build it with dtype=np.float64")

    def value():
        return loss_fn.forward(model.forward(X, checked=True), y)

    value()
    model.backward(loss_fn.backward())
    analytic = [g.copy() for g in model.grads]
    errors, k = {}, 0
    for i, layer in enumerate(model.layers):
        for p in layer.params:
            name = f"layer {i} {type(layer).__name__} {'W' if p.ndim == 2 else 'b'} {p.shape}"
            errors[name] = relative_error(analytic[k], numerical_gradient(value, p, eps))
            k += 1
    return GradCheck(errors, tol)
