"""Stochastic gradient descent (chapter 8).

One SGD step moves every parameter a little against its gradient: theta <- theta - lr * grad.
The update happens in place, so the network's arrays are changed directly.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import positive_number


class SGD:
    """Plain SGD with learning rate ``lr``: ``SGD(lr=0.1).step(model)``."""

    def __init__(self, lr: float = 0.1):
        positive_number(lr, "lr")
        self.lr = float(lr)

    def step(self, model):
        """Update each array of ``model.params`` in place using ``model.grads``."""
        lr = self.lr
        for p, g in zip(model.params, model.grads):
            p -= lr * g

    def __repr__(self):
        return f"SGD(lr={self.lr})"


class Descent(NamedTuple):
    """Result of :func:`gradient_descent`: the visited points and whether the run diverged."""
    path: np.ndarray
    diverged: bool


def gradient_descent(grad_fn, x0, lr: float, steps: int, *, max_abs: float = 1e6) -> Descent:
    """Run gradient descent x <- x - lr * grad_fn(x) from ``x0`` and return the path.

    ``x0`` is a number or a 1-D array; ``path`` has shape ``(k + 1,)`` or ``(k + 1, dim)`` for the
    ``k <= steps`` steps taken. When ``|x|`` exceeds ``max_abs`` or stops being finite, the run
    has diverged (the learning rate is too large): it stops there and ``diverged`` is True.
    Chapter 8 draws these paths for different learning rates.
    """
    positive_number(lr, "lr")
    positive_number(steps, "steps", integer=True, allow_zero=True)
    x = np.array(x0, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * np.asarray(grad_fn(x), dtype=np.float64)
        if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > max_abs:
            return Descent(np.array(path), True)
        path.append(x.copy())
    return Descent(np.array(path), False)
