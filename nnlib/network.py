"""Networks: layers stacked one after another (chapter 4).

Forward propagation applies the layers in order, x_l = f(W_l x_{l-1} + b_l); backward propagation
(chapter 7) visits them in reverse, each turning dL/d(its output) into dL/d(its input).
"""
from __future__ import annotations

import numpy as np

from ._checks import as_batch, as_labels, as_rng, choose, whole_number
from .activations import ACTIVATIONS
from .layers import Activation, Dense, Layer
from .losses import _logit_pair, softmax


def _as_list(items, what):
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"{what}, got {type(items).__name__}") from None


class Sequential:
    """A feed-forward network: ``Sequential([Dense(2, 4), ReLU(), Dense(4, 2)])``. ``forward(X)``
    returns the raw outputs (logits) ``(n_samples, n_outputs)``, ``predict_proba`` probabilities and
    ``predict`` class labels."""

    def __init__(self, layers):
        layers = _as_list(layers, "layers must be a list of nnlib layers (Dense, ReLU, ...)")
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

    @staticmethod
    def check(model):
        """``model`` itself if it is a Sequential network, else a TypeError that says so."""
        if not isinstance(model, Sequential):
            raise TypeError(f"model must be an nnlib Sequential network, got {type(model).__name__}")
        return model

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

    dtype = property(lambda self: self.params[0].dtype if self.params else np.dtype(np.float64))

    def check_data(self, X, y, loss, x_name="X", y_name="y"):
        """``X`` checked as a batch for this network and ``y`` as ``loss``'s targets, in the network's dtype."""
        X = self._batch(X, x_name)
        y = loss.targets(y, X.shape[0], self.n_outputs, y_name, x_name)
        return X, (y if y.dtype.kind == "i" else y.astype(self.dtype, copy=False))

    def _batch(self, X, name="X"):
        return as_batch(X, self.n_inputs, name).astype(self.dtype, copy=False)

    def forward(self, X, *, checked: bool = False):
        """Apply every layer in order to ``X`` of shape ``(n_samples, n_inputs)``; ``X`` is checked
        first unless ``checked=True`` says the caller did so once already (``fit`` does)."""
        return self.layer_outputs(X, checked=checked)[-1]

    __call__ = forward

    def layer_outputs(self, X, *, checked: bool = False):
        """The output of every layer for the batch ``X``, in order: after an activation layer, the
        hidden units' activations (chapter 9 looks at which units fire for which digit)."""
        outs = [X if checked else self._batch(X)]
        for layer in self.layers:
            outs.append(layer.forward(outs[-1]))
        return outs[1:]

    def hidden_outputs(self, X):
        """One ``(n_samples, n_units)`` array per hidden layer (a Dense layer and its activation,
        before the output layer): what each hidden unit computes for ``X``."""
        outs = self.layer_outputs(X)
        return [outs[i + 1] for i in range(len(self.layers) - 2)
                if isinstance(self.layers[i], Dense) and not isinstance(self.layers[i + 1], Dense)]

    def backward(self, grad, need_input_grad: bool = False):
        """Backpropagate dL/d(output) through all layers, filling every layer's ``grads``; the first
        layer skips the gradient for the input (training does not need it) unless ``need_input_grad``."""
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=need_input_grad or i > 0)
        return grad

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, n_classes)``: the softmax of the logits (chapter 6); a
        single output z stands for the logits (0, z), giving P(class 1) = sigmoid(z)."""
        z = self.forward(X)
        return softmax(_logit_pair(z) if z.shape[1] == 1 else z)

    def predict(self, X):
        """Predicted class labels ``(n_samples,)``: the most probable class (for one output, z > 0)."""
        return np.argmax(self.predict_proba(X), axis=1)

    def accuracy(self, X, y):
        """Fraction of samples whose predicted class equals the label in ``y``."""
        X = self._batch(X)
        y = as_labels(y, "y", n_samples=X.shape[0], n_classes=max(self.n_outputs or 2, 2))
        return float(np.mean(self.predict(X) == y))

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])  # {self.num_params()} parameters"


def _sizes(sizes):
    sizes = _as_list(sizes, "sizes must be a list of layer sizes such as [5, 3, 1]")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    return [whole_number(s, "each layer size") for s in sizes]


def MLP(sizes, activation: str = "relu", *, output: str = "identity", init=None, seed=0,
        dtype=np.float64) -> Sequential:
    """Build a multi-layer perceptron from layer sizes, e.g. ``MLP([5, 3, 7, 5, 1])``.

    ``sizes[0]`` inputs, ``sizes[-1]`` outputs; each hidden layer is followed by ``activation``, the
    output layer by ``output`` (``"identity"``: logits, as the losses of ``fit`` expect). He
    initialisation for ReLU-like activations, Xavier for sigmoid/tanh, unless ``init`` says
    otherwise (chapter 4); one seed initialises the whole network."""
    sizes = _sizes(sizes)
    activation = choose(activation, ACTIVATIONS, "activation")
    output = choose(output, ACTIVATIONS, "output activation")
    if init is None:
        init = "xavier" if activation in ("sigmoid", "tanh") else "he"
    rng = as_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, init=init, seed=rng, dtype=dtype))
        act = activation if i < len(sizes) - 2 else output
        if act != "identity":
            layers.append(Activation.named(act))
    return Sequential(layers)


def count_params(sizes) -> int:
    """Parameters of a fully connected network with these layer sizes: sum (n_in + 1) * n_out;
    for 5 -> 3 -> 7 -> 5 -> 1, (5+1)*3 + (3+1)*7 + (7+1)*5 + (5+1)*1 = 92."""
    sizes = _sizes(sizes)
    return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])))
