"""The artificial neuron and the perceptron (chapters 1 to 3).

A neuron computes a weighted sum of its inputs plus a bias, z = w . x + b, and passes it through
an activation. The perceptron uses the step activation: it outputs 1 ("fires") when z > 0 and 0
otherwise, so it splits its input space with a straight line (a hyperplane in more dimensions).
"""
from __future__ import annotations

import numpy as np

from ._checks import (as_batch, as_float_array, as_labels, as_rng, positive_number, real_number,
                      whole_number)
from .activations import step


def weighted_sum(x, w, b: float = 0.0):
    """z = x . w + b for one input ``x`` of shape ``(n,)`` or a batch of shape ``(m, n)``.

    Returns a float for a single input, an array of shape ``(m,)`` for a batch.
    The snack example of chapter 2: ``weighted_sum([4, 1], [-1, 2], 1)`` is 4*(-1) + 1*2 + 1 = -1.
    """
    x = as_float_array(x, "x", ndim=(1, 2))
    w = as_float_array(w, "w", ndim=1)
    b = float(as_float_array(b, "b", ndim=0))
    if x.shape[-1] != w.shape[0]:
        raise ValueError(f"x has {x.shape[-1]} inputs but w has {w.shape[0]} weights; "
                         "every input needs exactly one weight")
    z = x @ w + b
    return float(z) if z.ndim == 0 else z


def perceptron_output(x, w, b: float = 0.0):
    """The perceptron's decision: 1 if w . x + b > 0 else 0 (an int, or an int array for a batch)."""
    z = weighted_sum(x, w, b)
    return int(z > 0) if np.ndim(z) == 0 else step(z).astype(np.int64)


def delta_rule(xs, targets, w0: float = 0.0, lr: float = 0.1):
    """Learn the single weight of a neuron y = w * x from examples, one at a time (chapter 1).

    For each example it predicts ``w * x``, measures its error ``target - w * x`` and nudges the
    weight in proportion: ``w <- w + lr * error * x``. Returns ``w0`` and the weight after each
    example, shape ``(len(xs) + 1,)``.
    """
    xs = as_float_array(xs, "xs", ndim=1)
    targets = as_float_array(targets, "targets", ndim=1)
    if xs.shape != targets.shape:
        raise ValueError(f"xs and targets must have the same length, got {xs.size} and {targets.size}")
    positive_number(lr, "lr")
    w = real_number(w0, "w0")
    ws = [w]
    for x, t in zip(xs, targets):
        w += lr * (t - w * x) * x
        ws.append(w)
    return np.array(ws)


class Perceptron:
    """Rosenblatt's perceptron: output 1 if w . x + b > 0 else 0 (chapter 2).

    Weights start at zero (or small seeded random values). ``fit`` applies the learning rule to
    every misclassified example, w <- w + lr (y - yhat) x and b <- b + lr (y - yhat): on linearly
    separable data (AND, OR) the errors per epoch reach 0, on XOR never (chapter 3).
    """

    def __init__(self, n_inputs: int, lr: float = 1.0, seed=None):
        self.n_inputs = whole_number(n_inputs, "n_inputs")
        self.lr = float(positive_number(lr, "lr"))
        if seed is None:
            self.w, self.b = np.zeros(n_inputs), 0.0
        else:
            rng = as_rng(seed)
            self.w, self.b = rng.normal(0, 0.1, n_inputs), float(rng.normal(0, 0.1))
        #: (w, b) after each epoch of ``fit``, starting with the initial values
        self.history = [(self.w.copy(), self.b)]

    def decision_function(self, X):
        """w . x + b for each row of ``X`` (shape ``(n_samples,)``)."""
        return weighted_sum(as_batch(X, self.n_inputs), self.w, self.b)

    def predict(self, X):
        """0/1 outputs for each row of ``X``."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def fit(self, X, y, epochs: int = 10, stop_when_converged: bool = False):
        """Run the perceptron learning rule; return the number of errors in each epoch.

        An epoch visits every example once, in order. With ``stop_when_converged`` training ends
        after the first epoch without errors.
        """
        X = as_batch(X, self.n_inputs)
        y = as_labels(y, "y", n_samples=X.shape[0], n_classes=2)
        whole_number(epochs, "epochs")
        if not isinstance(stop_when_converged, (bool, np.bool_)):
            raise TypeError(f"stop_when_converged must be True or False, got {stop_when_converged!r}")
        errors = []
        for _ in range(epochs):
            n_err = 0
            for xi, yi in zip(X, y):
                delta = yi - int(xi @ self.w + self.b > 0)
                if delta:
                    self.w = self.w + self.lr * delta * xi
                    self.b = self.b + self.lr * delta
                    n_err += 1
            errors.append(n_err)
            self.history.append((self.w.copy(), self.b))
            if stop_when_converged and n_err == 0:
                break
        return errors

    def __repr__(self):
        return f"Perceptron(w={np.round(self.w, 3).tolist()}, b={self.b:.3g})"
