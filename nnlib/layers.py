"""Layers: the building blocks of a network (chapters 4 and 7).

A layer maps a batch ``X`` of shape ``(n_samples, n_in)`` to an output of shape
``(n_samples, n_out)`` in ``forward``, and in ``backward`` turns the gradient of the loss with
respect to its output into the gradient with respect to its input, filling in the gradients of
its own parameters on the way. Layers remember what backward needs from their forward pass.
"""
from __future__ import annotations

import abc

import numpy as np

from ._checks import as_float_array, as_rng, positive_number


class Layer(abc.ABC):
    """Base class. Subclasses implement ``forward(X)`` and ``backward(grad, need_input_grad)``."""

    #: parameter arrays (updated in place by the optimiser) and their gradients, in the same order
    params: list = []
    grads: list = []

    @abc.abstractmethod
    def forward(self, X):
        """Return the layer's output for the batch ``X``."""

    @abc.abstractmethod
    def backward(self, grad, need_input_grad=True):
        """Given dL/d(output), fill ``self.grads`` and return dL/d(input) (or None if not needed)."""

    def _forward(self, X):
        """Forward pass on a batch the network has already validated (no input checks).

        :class:`nnlib.network.Sequential` and :func:`nnlib.train.fit` call this once per
        mini-batch; layers with a cheaper unchecked path override it.
        """
        return self.forward(X)

    def __call__(self, X):
        return self.forward(X)

    def num_params(self) -> int:
        """Number of trainable numbers in this layer."""
        return int(sum(p.size for p in self.params))


INITS = ("he", "xavier")


class Dense(Layer):
    """A fully connected layer: ``Y = X @ W + b``.

    Shapes: ``X`` is ``(n_samples, n_in)``, ``W`` is ``(n_in, n_out)``, ``b`` is ``(n_out,)``, so
    ``Y`` is ``(n_samples, n_out)``. Each of the ``n_out`` neurons has ``n_in`` weights and one bias:
    ``(n_in + 1) * n_out`` parameters (chapter 4).

    Weights are drawn from a seeded generator: ``init="he"`` (normal with variance 2 / n_in, suited
    to ReLU) or ``"xavier"`` (variance 2 / (n_in + n_out), suited to sigmoid and tanh). Biases start at 0.

    Backward (chapter 7), with ``G = dL/dY`` of shape ``(n_samples, n_out)``:
    ``dL/dW = X.T @ G``, ``dL/db = G.sum(axis=0)``, ``dL/dX = G @ W.T``.
    """

    def __init__(self, n_in: int, n_out: int, *, init: str = "he", seed=0, dtype=np.float64):
        positive_number(n_in, "n_in", integer=True)
        positive_number(n_out, "n_out", integer=True)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        rng = as_rng(seed)
        std = np.sqrt(2.0 / n_in) if init == "he" else np.sqrt(2.0 / (n_in + n_out))
        self.n_in, self.n_out, self.init = int(n_in), int(n_out), init
        self.W = (rng.standard_normal((n_in, n_out)) * std).astype(dtype)
        self.b = np.zeros(n_out, dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.params = [self.W, self.b]
        self.grads = [self.dW, self.db]
        self._X = None

    def forward(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.n_in:
            raise ValueError(f"Dense({self.n_in}, {self.n_out}) expects X of shape (n_samples, "
                             f"{self.n_in}), got {X.shape}")
        return self._forward(X.astype(self.W.dtype, copy=False))

    def _forward(self, X):
        self._X = X
        out = X @ self.W
        out += self.b
        return out

    def backward(self, grad, need_input_grad=True):
        if self._X is None:
            raise RuntimeError("Dense.backward called before forward")
        if getattr(grad, "shape", None) != (self._X.shape[0], self.n_out):
            raise ValueError(f"grad must have the shape of this layer's last output "
                             f"{(self._X.shape[0], self.n_out)}, got {np.shape(grad)}")
        np.matmul(self._X.T, grad, out=self.dW)
        grad.sum(axis=0, out=self.db)
        return grad @ self.W.T if need_input_grad else None

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r})"


def check_batch(X, n_features: int | None = None, name: str = "X"):
    """Validate a batch: 2-D, finite, numeric; optionally with ``n_features`` columns."""
    X = as_float_array(X, name, ndim=2)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features per sample but the model expects "
                         f"{n_features}; {name} must have shape (n_samples, {n_features})")
    return X
