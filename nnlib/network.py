"""Networks: layers stacked one after another (chapter 4).

Forward propagation applies the layers in order, x_l = f(W_l x_{l-1} + b_l); backward
propagation (chapter 7) visits them in reverse, each turning the gradient with respect to its
output into the gradient with respect to its input.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_labels, as_rng, positive_number
from .activations import LAYER_FOR, _sigmoid, get_activation
from .layers import Dense, Layer, check_batch


class Sequential:
    """A feed-forward network: ``Sequential([Dense(2, 4), ReLU(), Dense(4, 2)])``.

    ``forward(X)`` returns the raw outputs (logits) of shape ``(n_samples, n_outputs)``;
    ``predict_proba`` turns them into probabilities and ``predict`` into class labels.
    """

    def __init__(self, layers):
        try:
            layers = list(layers)
        except TypeError:
            raise TypeError(f"layers must be a list of nnlib layers (Dense, ReLU, ...), got "
                            f"{type(layers).__name__}") from None
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError("Sequential needs a non-empty list of nnlib layers (Dense, ReLU, ...)")
        self.layers = layers
        dense = [layer for layer in layers if isinstance(layer, Dense)]
        for a, b in zip(dense[:-1], dense[1:]):
            if a.n_out != b.n_in:
                raise ValueError(f"layers do not fit together: {a!r} has {a.n_out} outputs but the "
                                 f"next {b!r} expects {b.n_in} inputs")
        self.n_inputs = dense[0].n_in if dense else None
        self.n_outputs = dense[-1].n_out if dense else None

    # -- parameters -----------------------------------------------------------------------
    @property
    def params(self):
        """All parameter arrays, layer by layer (``[W1, b1, W2, b2, ...]``)."""
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self):
        """The gradients matching :attr:`params`, filled in by :meth:`backward`."""
        return [g for layer in self.layers for g in layer.grads]

    def num_params(self) -> int:
        """Total number of trainable parameters: sum over Dense layers of (n_in + 1) * n_out."""
        return int(sum(layer.num_params() for layer in self.layers))

    @property
    def dtype(self):
        params = self.params
        return params[0].dtype if params else np.dtype(np.float64)

    # -- passes ---------------------------------------------------------------------------
    def forward(self, X):
        """Apply every layer in order; ``X`` has shape ``(n_samples, n_inputs)``."""
        return self._forward(self._checked(X))

    def _forward(self, X):
        # X already validated and in the network's dtype: fit calls this once per mini-batch
        for layer in self.layers:
            X = layer._forward(X)
        return X

    __call__ = forward

    def backward(self, grad, need_input_grad: bool = False):
        """Backpropagate dL/d(output) through all layers; fills every layer's ``grads``.

        The gradient with respect to the network's input is not needed for training, so the first
        layer skips computing it unless ``need_input_grad=True``.
        """
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=need_input_grad or i > 0)
        return grad

    def layer_outputs(self, X):
        """The output of every layer for the batch ``X``, in order (a list of arrays).

        The outputs of the activation layers are the hidden units' activations: chapter 9 looks
        at which units fire for which digit.
        """
        X, outs = self._checked(X), []
        for layer in self.layers:
            X = layer.forward(X)
            outs.append(X)
        return outs

    def hidden_outputs(self, X):
        """The activations of each hidden layer for ``X``: one ``(n_samples, n_units)`` array per layer.

        A hidden layer is a Dense layer followed by its activation, before the output layer.
        """
        outs = self.layer_outputs(X)
        return [outs[i + 1] for i in range(len(self.layers) - 2)
                if isinstance(self.layers[i], Dense) and not isinstance(self.layers[i + 1], Dense)]

    # -- predictions ----------------------------------------------------------------------
    def _checked(self, X):
        return check_batch(X, self.n_inputs).astype(self.dtype, copy=False)

    def predict_proba(self, X):
        """Class probabilities: softmax of the logits, or a sigmoid when there is one output.

        Returns shape ``(n_samples, n_classes)``; for one output, ``(n_samples, 2)`` with the
        columns P(class 0) and P(class 1).
        """
        z = self._forward(self._checked(X))
        if z.shape[1] == 1:
            p1 = _sigmoid(z[:, 0])
            return np.stack([1 - p1, p1], axis=1)
        e = np.exp(z - z.max(axis=1, keepdims=True))    # the stable softmax of chapter 6
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels of shape ``(n_samples,)``: the most probable class."""
        z = self._forward(self._checked(X))
        if z.shape[1] == 1:
            return (z[:, 0] > 0).astype(np.int64)
        return np.argmax(z, axis=1)

    def accuracy(self, X, y):
        """Fraction of samples whose predicted class equals ``y``."""
        X = self._checked(X)
        y = as_labels(y, "y", n_samples=X.shape[0])
        return float(np.mean(self.predict(X) == y))

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])  # {self.num_params()} parameters"


def MLP(sizes, activation: str = "relu", *, output: str = "identity", init=None, seed=0,
        dtype=np.float64) -> Sequential:
    """Build a multi-layer perceptron from layer sizes, e.g. ``MLP([5, 3, 7, 5, 1])``.

    ``sizes[0]`` is the number of inputs and ``sizes[-1]`` the number of outputs. Every hidden
    layer is followed by ``activation``; the output layer by ``output`` (``"identity"`` leaves
    logits, which is what ``fit`` with cross-entropy expects). Weights use He initialisation for
    ReLU-like activations and Xavier for sigmoid/tanh unless ``init`` says otherwise. One seed
    initialises the whole network reproducibly.
    """
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"sizes must be a list of layer sizes such as [5, 3, 1], got "
                        f"{type(sizes).__name__}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    for s in sizes:
        positive_number(s, "each layer size", integer=True)
    get_activation(activation)
    get_activation(output)
    activation, output = activation.lower(), output.lower()
    if init is None:
        init = "xavier" if activation in ("sigmoid", "tanh") else "he"
    rng = as_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, init=init, seed=rng, dtype=dtype))
        act = activation if i < len(sizes) - 2 else output
        if act != "identity":
            layers.append(LAYER_FOR[act]())
    return Sequential(layers)


def count_params(sizes) -> int:
    """Parameters of a fully connected network with these layer sizes: sum (n_in + 1) * n_out.

    For the 5 -> 3 -> 7 -> 5 -> 1 network: (5+1)*3 + (3+1)*7 + (7+1)*5 + (5+1)*1 = 92.
    """
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"sizes must be a list of layer sizes such as [5, 3, 1], got "
                        f"{type(sizes).__name__}") from None
    sizes = [positive_number(s, "each layer size", integer=True) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])))
