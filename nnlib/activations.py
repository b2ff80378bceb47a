"""Activation functions and their derivatives (chapter 5).

An activation decides how strongly a neuron "fires" given its weighted input ``z``. Each function
``f`` here comes with its derivative ``f_grad`` (d f / d z, evaluated at ``z``), which
backpropagation multiplies into the gradient flowing backwards (chapter 7). Every function works
element-wise on an array of any shape and returns an array of the same shape.

The same functions are available as layers (``ReLU()``, ``Sigmoid()``, ...) to stack inside a
:class:`nnlib.network.Sequential` network (chapter 4).

Inputs must be real and finite: NaN or infinite values raise a ``ValueError`` naming ``z``.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, positive_number
from .layers import Layer


def _z(z):
    return as_float_array(z, "z", allow_empty=True)


# The formulas, without input checks: the activation layers call these on arrays that the
# network has already validated (a diverging training run must reach the loss, where ``fit``
# detects it, instead of failing inside a layer). The public functions below check ``z`` first.
def _step(z):
    return (z > 0).astype(z.dtype)


def _step_grad(z):
    return np.zeros_like(z)


def _sigmoid(z):
    with np.errstate(under="ignore"):   # e^-1000 is 0 as it should be, not an error
        e = np.exp(-np.abs(z))          # always in (0, 1]: exp never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _sigmoid_grad(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _tanh_grad(z):
    t = np.tanh(z)
    return 1.0 - t * t


def _relu(z):
    return np.maximum(z, 0)


def _relu_grad(z):
    return (z > 0).astype(z.dtype)


def _leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, alpha * z).astype(z.dtype, copy=False)


def _leaky_relu_grad(z, alpha=0.01):
    return np.where(z > 0, 1.0, alpha).astype(z.dtype, copy=False)


def _elu(z, alpha=1.0):
    with np.errstate(under="ignore"):
        return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)


def _elu_grad(z, alpha=1.0):
    with np.errstate(under="ignore"):
        return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False)


def _identity(z):
    return z.copy()


def _identity_grad(z):
    return np.ones_like(z)


def step(z):
    """Heaviside step: 1 where ``z > 0``, else 0. The perceptron's activation (chapter 2)."""
    return _step(_z(z))


def step_grad(z):
    """Derivative of the step: 0 everywhere (undefined at 0). This is why perceptrons can't use gradients."""
    return _step_grad(_z(z))


def sigmoid(z):
    """Logistic sigmoid 1 / (1 + e^(-z)), output in (0, 1).

    Computed without overflow for large ``|z|``: for negative ``z`` it uses the equivalent form
    e^z / (1 + e^z), so ``exp`` never sees a large positive argument.
    """
    return _sigmoid(_z(z))


def sigmoid_grad(z):
    """Derivative of the sigmoid: s(z) * (1 - s(z)); at most 0.25 (at z = 0)."""
    return _sigmoid_grad(_z(z))


def tanh(z):
    """Hyperbolic tangent, output in (-1, 1) and centred on 0."""
    return np.tanh(_z(z))


def tanh_grad(z):
    """Derivative of tanh: 1 - tanh(z)^2."""
    return _tanh_grad(_z(z))


def relu(z):
    """Rectified linear unit max(0, z): cheap, and its gradient is 0 or 1."""
    return _relu(_z(z))


def relu_grad(z):
    """Derivative of ReLU: 1 where ``z > 0``, else 0 (we take 0 at z = 0)."""
    return _relu_grad(_z(z))


def _slope(alpha, name):
    positive_number(alpha, name, allow_zero=True)
    return float(alpha)


def leaky_relu(z, alpha: float = 0.01):
    """Leaky ReLU: z for z > 0, ``alpha * z`` otherwise, so negative inputs keep a small gradient."""
    return _leaky_relu(_z(z), _slope(alpha, "alpha"))


def leaky_relu_grad(z, alpha: float = 0.01):
    """Derivative of leaky ReLU: 1 for z > 0, ``alpha`` otherwise."""
    return _leaky_relu_grad(_z(z), _slope(alpha, "alpha"))


def elu(z, alpha: float = 1.0):
    """Exponential linear unit: z for z > 0, ``alpha * (e^z - 1)`` otherwise; smooth near 0."""
    return _elu(_z(z), _slope(alpha, "alpha"))


def elu_grad(z, alpha: float = 1.0):
    """Derivative of ELU: 1 for z > 0, ``alpha * e^z`` otherwise."""
    return _elu_grad(_z(z), _slope(alpha, "alpha"))


def identity(z):
    """The linear ("no") activation, used for regression outputs."""
    return _identity(_z(z))


def identity_grad(z):
    """Derivative of the identity: 1 everywhere."""
    return _identity_grad(_z(z))


#: name -> (function, derivative); the names accepted by ``get_activation`` and ``MLP``.
ACTIVATIONS = {
    "step": (step, step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "identity": (identity, identity_grad),
}


#: the same pairs without input checks, used by the activation layers
_UNCHECKED = {
    "step": (_step, _step_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "tanh": (np.tanh, _tanh_grad),
    "relu": (_relu, _relu_grad),
    "leaky_relu": (_leaky_relu, _leaky_relu_grad),
    "elu": (_elu, _elu_grad),
    "identity": (_identity, _identity_grad),
}


def get_activation(name: str):
    """Return ``(f, f_grad)`` for an activation name such as ``"relu"``."""
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name.lower()]


class Activation(Layer):
    """A layer applying an activation element-wise; remembers its input for backward.

    ``forward(Z) = f(Z)`` and ``backward(G) = G * f'(Z)`` (the chain rule, chapter 7).
    """

    name = "identity"

    def __init__(self, **kwargs):
        if kwargs and self.name not in ("leaky_relu", "elu"):
            raise TypeError(f"{type(self).__name__}() takes no arguments, got {sorted(kwargs)}")
        self.kwargs = kwargs
        get_activation(self.name)
        self._f, self._grad = _UNCHECKED[self.name]
        self._z = None

    def forward(self, X):
        return self._forward(as_float_array(X, "X", allow_empty=True))

    def _forward(self, X):
        self._z = X
        return self._f(X, **self.kwargs)

    def backward(self, grad, need_input_grad=True):
        if self._z is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return grad * self._grad(self._z, **self.kwargs)

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{type(self).__name__}({args})"


class Step(Activation):
    """Step activation layer (no useful gradient: for perceptron demos only)."""
    name = "step"


class Sigmoid(Activation):
    """Sigmoid activation layer."""
    name = "sigmoid"


class Tanh(Activation):
    """Tanh activation layer."""
    name = "tanh"


class ReLU(Activation):
    """ReLU activation layer, with a fast path used in training."""
    name = "relu"

    def _forward(self, X):
        self._z = X
        self._mask = X > 0
        return X * self._mask

    def backward(self, grad, need_input_grad=True):
        if self._z is None:
            raise RuntimeError("ReLU.backward called before forward")
        return grad * self._mask


class LeakyReLU(Activation):
    """Leaky ReLU layer with negative slope ``alpha``."""
    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        super().__init__(alpha=_slope(alpha, "alpha"))


class ELU(Activation):
    """ELU layer with parameter ``alpha``."""
    name = "elu"

    def __init__(self, alpha: float = 1.0):
        super().__init__(alpha=_slope(alpha, "alpha"))


class Identity(Activation):
    """Identity layer (a linear output)."""
    name = "identity"


LAYER_FOR = {"step": Step, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
             "leaky_relu": LeakyReLU, "elu": ELU, "identity": Identity}
