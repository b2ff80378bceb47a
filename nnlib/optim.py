"""Stochastic gradient descent (chapter 8).

One SGD step moves every parameter a little against its gradient: theta <- theta - lr * grad.
The update happens in place, so the network's arrays are changed directly.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, positive_number

try:  # BLAS axpy (y <- y + a * x) updates a parameter in one pass, without a temporary array
    from scipy.linalg.blas import daxpy as _daxpy, saxpy as _saxpy
    _AXPY = {np.dtype(np.float32): _saxpy, np.dtype(np.float64): _daxpy}
except ImportError:  # scipy is optional: fall back to numpy
    _AXPY = {}


def _update(p, g, lr):
    """p <- p - lr * g, in place."""
    axpy = _AXPY.get(p.dtype)
    if (axpy is not None and g.dtype == p.dtype and p.flags.c_contiguous and p.flags.aligned
            and p.flags.writeable and g.flags.c_contiguous and p.shape == g.shape):
        axpy(g.reshape(-1), p.reshape(-1), a=-lr)   # writes into p's memory
    else:
        p -= lr * g


class SGD:
    """Plain SGD with learning rate ``lr``: ``SGD(lr=0.1).step(model)``."""

    def __init__(self, lr: float = 0.1):
        positive_number(lr, "lr")
        self.lr = float(lr)

    def step(self, model):
        """Update each array of ``model.params`` in place using ``model.grads``."""
        if not (hasattr(model, "params") and hasattr(model, "grads")):
            raise TypeError(f"model must be an nnlib network or layer with params and grads, got "
                            f"{type(model).__name__}")
        lr = self.lr
        for p, g in zip(model.params, model.grads):
            _update(p, g, lr)

    def _stepper(self, model):
        """A function doing ``self.step(model)``, with the per-array work done once, here.

        For the training loop, which takes thousands of steps with the same arrays: it assumes
        that ``model.params`` and ``model.grads`` keep referring to the same arrays.
        """
        lr = self.lr
        plan = []
        for p, g in zip(model.params, model.grads):
            axpy = _AXPY.get(p.dtype)
            if (axpy is not None and g.dtype == p.dtype and p.flags.c_contiguous
                    and p.flags.aligned and p.flags.writeable and g.flags.c_contiguous
                    and p.shape == g.shape):
                plan.append((axpy, g.reshape(-1), p.reshape(-1)))   # flat views, made once
            else:
                plan.append((None, g, p))

        def step():
            for axpy, g, p in plan:
                if axpy is not None:
                    axpy(g, p, a=-lr)
                else:
                    p -= lr * g
        return step

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
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be a function x -> gradient, got {type(grad_fn).__name__}")
    positive_number(lr, "lr")
    positive_number(steps, "steps", integer=True, allow_zero=True)
    positive_number(max_abs, "max_abs")
    x = as_float_array(x0, "x0", ndim=(0, 1)).astype(np.float64)
    path = [x.copy()]
    for _ in range(steps):
        g = np.asarray(grad_fn(x), dtype=np.float64)
        if g.shape != x.shape:
            raise ValueError(f"grad_fn returned a gradient of shape {g.shape} but x has shape "
                             f"{x.shape}; it must return one partial derivative per coordinate")
        x = x - lr * g
        if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > max_abs:
            return Descent(np.array(path), True)
        path.append(x.copy())
    return Descent(np.array(path), False)
