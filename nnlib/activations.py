"""Activation functions and their derivatives (chapter 5).

An activation decides how strongly a neuron "fires" given its weighted input ``z``. Each function
``f`` comes with its derivative ``f_grad`` (df/dz at ``z``), which backpropagation multiplies into
the gradient flowing backwards (chapter 7). All work element-wise and keep shape and float dtype.
They follow numpy's rules for NaN (NaN in, NaN out; the step compares, so it gives 0), so a
diverging training run reaches the loss, where ``fit`` reports it. :mod:`nnlib.layers` wraps
them as layers.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, positive_number


def _z(z):
    return as_float_array(z, "z", allow_empty=True, finite=False)


def _slope(alpha):
    return float(positive_number(alpha, "alpha", allow_zero=True))


def step(z):
    """Heaviside step: 1 where ``z > 0``, else 0 (also for NaN, as numpy compares). The perceptron's activation (chapter 2)."""
    z = _z(z)
    return (z > 0).astype(z.dtype)


def step_grad(z):
    """Derivative of the step: 0 everywhere (undefined at 0), which is why perceptrons can't use gradients."""
    return np.zeros_like(_z(z))


def sigmoid(z):
    """Logistic sigmoid 1 / (1 + e^(-z)), output in (0, 1).

    Computed without overflow: with ``e = exp(-|z|)``, which is never larger than 1, it is
    1 / (1 + e) for ``z >= 0`` and the equal e / (1 + e) for ``z < 0``.
    """
    z = _z(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_grad(z):
    """Derivative of the sigmoid: s(z) (1 - s(z)); at most 0.25, at z = 0."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent, output in (-1, 1) and centred on 0."""
    return np.tanh(_z(z))


def tanh_grad(z):
    """Derivative of tanh: 1 - tanh(z)^2."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    """Rectified linear unit max(0, z): cheap, and its gradient is 0 or 1."""
    return np.maximum(_z(z), 0)


def relu_grad(z):
    """Derivative of ReLU: the step function, 1 where ``z > 0`` and 0 elsewhere (we take 0 at 0)."""
    return step(z)


def leaky_relu(z, alpha: float = 0.01):
    """Leaky ReLU: z for z > 0, ``alpha * z`` otherwise, so negative inputs keep a small gradient."""
    z = _z(z)
    return np.where(z > 0, z, _slope(alpha) * z).astype(z.dtype, copy=False)


def leaky_relu_grad(z, alpha: float = 0.01):
    """Derivative of leaky ReLU: 1 for z > 0, ``alpha`` otherwise."""
    z = _z(z)
    return np.where(z > 0, 1.0, _slope(alpha)).astype(z.dtype, copy=False)


def elu(z, alpha: float = 1.0):
    """Exponential linear unit: z for z > 0, ``alpha * (e^z - 1)`` otherwise.

    Its derivative is continuous at 0 only for ``alpha = 1``; for other values it jumps there.
    """
    z = _z(z)
    return np.where(z > 0, z, _slope(alpha) * np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)


def elu_grad(z, alpha: float = 1.0):
    """Derivative of ELU: 1 for z > 0, ``alpha * e^z`` otherwise."""
    z = _z(z)
    return np.where(z > 0, 1.0, _slope(alpha) * np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False)


def identity(z):
    """The linear ("no") activation, used for regression outputs."""
    return _z(z).copy()


def identity_grad(z):
    """Derivative of the identity: 1 everywhere."""
    return np.ones_like(_z(z))


#: name -> (function, derivative): the names ``MLP`` and the activation layers accept
ACTIVATIONS = {
    "step": (step, step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "identity": (identity, identity_grad),
}
