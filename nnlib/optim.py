"""Gradient descent and stochastic gradient descent (chapter 8).

One step moves every parameter a little against its gradient: theta <- theta - lr * grad.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, positive_number, whole_number


class SGD:
    """Plain SGD, ``SGD(lr=0.1).step(model)`` after each backward pass: ``p -= lr * g``. With
    ``weight_decay=lam`` the loss gains the L2 penalty lam/2 * sum ||W||^2 of the weight matrices
    (not the biases), whose gradient joins the update: ``W -= lr * (g + lam * W)``."""

    def __init__(self, lr: float = 0.1, weight_decay: float = 0.0):
        self.lr = float(positive_number(lr, "lr"))
        self.weight_decay = float(positive_number(weight_decay, "weight_decay", allow_zero=True))

    def step(self, model):
        """Update each array of ``model.params`` in place with ``model.grads``."""
        if not (hasattr(model, "params") and hasattr(model, "grads")):
            raise TypeError(f"model must be an nnlib network or layer with params and grads, got "
                            f"{type(model).__name__}")
        for p, g in zip(model.params, model.grads):
            p -= self.lr * (g + self.weight_decay * p if p.ndim == 2 else g)

    def __repr__(self):
        return f"SGD(lr={self.lr}" + (f", weight_decay={self.weight_decay})" if self.weight_decay else ")")


class Descent(NamedTuple):
    """Result of :func:`gradient_descent`: the visited points and whether the run diverged."""
    path: np.ndarray
    diverged: bool


def gradient_descent(grad_fn, x0, lr: float, steps: int, *, max_abs: float = 1e6) -> Descent:
    """Run gradient descent x <- x - lr * grad_fn(x) from ``x0`` and return the path.

    ``x0`` is a number or a 1-D array; ``path`` has shape ``(k + 1,)`` or ``(k + 1, dim)`` for the
    ``k <= steps`` steps taken. A run whose ``|x|`` exceeds ``max_abs`` or stops being finite has
    diverged (the learning rate is too large, chapter 8): it stops, with ``diverged`` True.
    """
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be a function x -> gradient, got {type(grad_fn).__name__}")
    positive_number(lr, "lr")
    whole_number(steps, "steps", minimum=0)
    positive_number(max_abs, "max_abs")
    x = as_float_array(x0, "x0", ndim=(0, 1)).astype(np.float64)
    path = [x]
    for _ in range(steps):
        g = as_float_array(grad_fn(x), "the gradient returned by grad_fn", finite=False,
                           allow_empty=True)
        if g.shape != x.shape:
            raise ValueError(f"grad_fn returned a gradient of shape {g.shape} but x has shape "
                             f"{x.shape}; it must return one partial derivative per coordinate")
        x = x - lr * g
        if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > max_abs:
            return Descent(np.array(path), True)
        path.append(x)
    return Descent(np.array(path), False)
