"""Layers: the building blocks of a network (chapters 4 and 7).

A layer maps a batch ``X`` of shape ``(n_samples, n_in)`` to an output of shape
``(n_samples, n_out)`` in ``forward``, remembering what it needs; ``backward`` turns the gradient
of the loss with respect to that output into the gradient with respect to the input, and fills in
the gradients of the layer's own parameters on the way (the chain rule, chapter 7).
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_rng, choose, positive_number, whole_number
from .activations import ACTIVATIONS


class Layer:
    """The interface: ``forward(X)`` returns the output; ``backward(grad)`` takes dL/d(output),
    fills ``grads`` and returns dL/d(input) (or None when ``need_input_grad`` is False)."""

    params: list = []   # parameter arrays, updated in place by the optimiser (chapter 8)
    grads: list = []    # their gradients, in the same order, filled in by backward

    def __call__(self, X):
        return self.forward(X)

    def num_params(self) -> int:
        """Number of trainable numbers in this layer."""
        return int(sum(p.size for p in self.params))

    def _upstream(self, grad, out_shape):
        """Check the gradient arriving from the layer above against the last output's shape."""
        if self._input is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        grad = np.asarray(grad, dtype=self._input.dtype)
        if grad.shape != out_shape:
            raise ValueError(f"grad must have the shape of this layer's last output {out_shape}, "
                             f"got {grad.shape}")
        return grad


class Dense(Layer):
    """A fully connected layer: ``Y = X @ W + b``.

    Shapes: ``X`` is ``(n_samples, n_in)``, ``W`` is ``(n_in, n_out)``, ``b`` is ``(n_out,)``, so
    ``Y`` is ``(n_samples, n_out)``. Each of the ``n_out`` neurons has ``n_in`` weights and one
    bias: ``(n_in + 1) * n_out`` parameters (chapter 4).

    Seeded weights: ``init="he"`` (variance 2 / n_in, for ReLU) or ``"xavier"`` (2 / (n_in + n_out),
    for sigmoid and tanh); biases 0. Backward (chapter 7), ``G = dL/dY``: ``dL/dW = X.T @ G``,
    ``dL/db = G.sum(axis=0)``, ``dL/dX = G @ W.T``.
    """

    def __init__(self, n_in: int, n_out: int, *, init: str = "he", seed=0, dtype=np.float64):
        self.n_in, self.n_out = whole_number(n_in, "n_in"), whole_number(n_out, "n_out")
        self.init = choose(init, ("he", "xavier"), "init")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        variance = 2.0 / n_in if self.init == "he" else 2.0 / (n_in + n_out)
        rng = as_rng(seed)
        self.W = (rng.standard_normal((n_in, n_out)) * np.sqrt(variance)).astype(dtype)
        self.b = np.zeros(n_out, dtype=dtype)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        self._input = None

    params = property(lambda self: [self.W, self.b])
    grads = property(lambda self: [self.dW, self.db])

    def forward(self, X):
        X = as_float_array(X, "X", ndim=2, finite=False)
        if X.shape[1] != self.n_in:
            raise ValueError(f"Dense({self.n_in}, {self.n_out}) expects X of shape (n_samples, "
                             f"{self.n_in}), got {X.shape}")
        self._input = X.astype(self.W.dtype, copy=False)
        return self._input @ self.W + self.b

    def backward(self, grad, need_input_grad=True):
        grad = self._upstream(grad, (getattr(self._input, "shape", (0,))[0], self.n_out))
        self.dW = self._input.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T if need_input_grad else None

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r})"


class Activation(Layer):
    """An activation applied element-wise (chapter 5): ``forward(Z) = f(Z)``, ``backward(G) = G * f'(Z)``.

    Subclasses name their function in ``ACTIVATIONS``; ``Activation.named("relu")`` builds one by name.
    """

    name = "identity"

    def __init__(self, **alpha):
        if alpha and self.name not in ("leaky_relu", "elu"):
            raise TypeError(f"{type(self).__name__}() takes no arguments, got {sorted(alpha)}")
        self.kwargs = {k: float(positive_number(v, k, allow_zero=True)) for k, v in alpha.items()}
        self.f, self.f_grad = ACTIVATIONS[self.name]
        self._input = None

    @staticmethod
    def named(name: str) -> "Activation":
        """The activation layer for a name of ``ACTIVATIONS``, e.g. ``Activation.named("tanh")``."""
        name = choose(name, ACTIVATIONS, "activation")
        return next(cls for cls in Activation.__subclasses__() if cls.name == name)()

    def forward(self, X):
        self._input = as_float_array(X, "X", allow_empty=True, finite=False)
        return self.f(self._input, **self.kwargs)

    def backward(self, grad, need_input_grad=True):
        grad = self._upstream(grad, getattr(self._input, "shape", None))
        return grad * self.f_grad(self._input, **self.kwargs)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.kwargs.items())})"


class Step(Activation):
    """Step activation layer (no useful gradient: for the perceptron demos only)."""
    name = "step"


class Sigmoid(Activation):
    name = "sigmoid"


class Tanh(Activation):
    name = "tanh"


class ReLU(Activation):
    name = "relu"


class LeakyReLU(Activation):
    """Leaky ReLU layer with negative slope ``alpha``."""
    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        super().__init__(alpha=alpha)


class ELU(Activation):
    """ELU layer with parameter ``alpha``."""
    name = "elu"

    def __init__(self, alpha: float = 1.0):
        super().__init__(alpha=alpha)


class Identity(Activation):
    """Identity layer (a linear output)."""
    name = "identity"
