"""Loss functions, softmax, and their gradients (chapter 6).

A loss turns the network's outputs and the targets into one number to minimise, averaged over the
``n`` samples; its gradient is where backpropagation starts (chapter 7). Targets are checked
strictly; predictions follow numpy (a NaN prediction, a NaN loss), so ``fit`` sees a divergence.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_labels, choose


def _scores(z, name="z"):
    return as_float_array(z, name, ndim=(1, 2), finite=False)


def logsumexp(z, axis: int = -1, keepdims: bool = False):
    """log(sum_j exp(z_j)) without overflow: m + log(sum_j exp(z_j - m)) with m = max(z).

    Subtracting the maximum changes nothing mathematically but keeps every exponent <= 0, so
    nothing overflows. This is the one place where nnlib shifts by the maximum."""
    z = _scores(z)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis must be an int that names an axis of z (shape {z.shape}), got {axis!r}")
    m = z.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))   # e^-2000 underflows to 0: fine
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z, axis: int = -1):
    """log(softmax(z)) = z - logsumexp(z), computed without taking the log of an underflowed 0."""
    z = _scores(z)
    return z - logsumexp(z, axis, keepdims=True)


def softmax(z, axis: int = -1):
    """Softmax exp(z_k) / sum_j exp(z_j) along ``axis``: scores (logits) to probabilities that sum to 1."""
    return np.exp(log_softmax(z, axis))


def _pair(pred, target, pred_name, target_name):
    pred = as_float_array(pred, pred_name, ndim=(1, 2), finite=False)
    target = as_float_array(target, target_name, ndim=(1, 2))
    if pred.shape != target.shape:
        raise ValueError(f"{pred_name} has shape {pred.shape} but {target_name} has shape "
                         f"{target.shape}; they must match")
    return pred, target


def mse(y_pred, y_true):
    """Mean squared error L = 1/(2n) * sum_i ||y_true_i - y_pred_i||^2; shapes ``(n,)`` or ``(n, k)``."""
    y_pred, y_true = _pair(y_pred, y_true, "y_pred", "y_true")
    return float(0.5 * np.sum((y_pred - y_true) ** 2) / y_pred.shape[0])


def mse_grad(y_pred, y_true):
    """Gradient of :func:`mse` with respect to ``y_pred``: (y_pred - y_true) / n."""
    y_pred, y_true = _pair(y_pred, y_true, "y_pred", "y_true")
    return (y_pred - y_true) / y_pred.shape[0]


def _bce_args(p, y):
    """Check probabilities ``p`` and 0/1 targets ``y``; return ``p`` clipped away from 0 and 1."""
    p, y = _pair(p, y, "p", "y")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must be probabilities in [0, 1]; apply a sigmoid to raw scores first")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold targets in [0, 1] (usually 0 or 1)")
    return np.clip(p, 1e-12, 1 - 1e-12), y


def binary_cross_entropy(p, y):
    """Binary cross-entropy -mean(y log p + (1 - y) log(1 - p)) for probabilities ``p`` in [0, 1],
    clipped to [1e-12, 1 - 1e-12]: a confident wrong answer costs a large but finite loss."""
    q, y = _bce_args(p, y)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def binary_cross_entropy_grad(p, y):
    """Gradient of :func:`binary_cross_entropy` with respect to ``p``: (p - y) / (p (1 - p)) / N."""
    q, y = _bce_args(p, y)
    return (q - y) / (q * (1 - q)) / q.size


def _logits_and_targets(logits, y):
    """Logits as ``(n, K)`` and targets as one-hot / probability rows of the same shape."""
    z = _scores(logits, "logits")
    one_sample, z = z.ndim == 1, np.atleast_2d(z)
    n, k = z.shape
    y_arr = y if isinstance(y, (str, bytes)) else np.asarray(y)
    if one_sample and np.ndim(y_arr) == 1 and len(y_arr) == k > 1:   # one label, or a one-hot row?
        if y_arr.dtype.kind != "f":
            raise ValueError(f"logits of shape {(k,)} are one sample with {k} classes, but y holds "
                             f"{k} whole numbers: pass its label (y=1) or a one-hot row of floats; "
                             "for one score per sample use binary_cross_entropy(sigmoid(z), y)")
        y_arr = y_arr[None, :]
    if np.ndim(y_arr) == 2:
        t = as_float_array(y_arr, "y", ndim=2)
        if t.shape != z.shape:
            raise ValueError(f"one-hot y has shape {t.shape} but logits have shape {z.shape}")
        if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0):
            raise ValueError("one-hot (or probability) targets y must be >= 0 and sum to 1 per row")
        return z, t
    labels = as_labels(np.atleast_1d(y_arr), "y", n_samples=n, n_classes=k, samples_of="logits")
    return z, np.eye(k, dtype=z.dtype)[labels]


def cross_entropy(logits, y):
    """Multi-class cross-entropy from logits: L = -1/n * sum_i log softmax(z_i)[y_i].

    ``logits`` has shape ``(n, K)`` (or ``(K,)`` for one sample); ``y`` holds integer labels
    ``(n,)`` or one-hot / probability rows ``(n, K)``, for which it is the cross-entropy
    H(p, q) = -sum_k p_k log q_k of chapter 6, averaged over the samples."""
    z, t = _logits_and_targets(logits, y)
    return float(-np.sum(t * log_softmax(z)) / z.shape[0])


def cross_entropy_grad(logits, y):
    """Gradient of :func:`cross_entropy` with respect to the logits: (softmax(z) - onehot(y)) / n,
    the famously simple gradient of softmax followed by cross-entropy."""
    z, t = _logits_and_targets(logits, y)
    return ((softmax(z) - t) / z.shape[0]).reshape(np.shape(logits))


class SoftmaxCrossEntropy:
    """Softmax + cross-entropy on a network's logits, for classification (used by ``fit``).

    ``forward(logits, labels)`` returns the mean loss, ``backward()`` dL/dlogits = (p - onehot) / n.
    A loss owns its targets, its accuracy and the loss of guessing (``chance``)."""

    name = "cross_entropy"

    def targets(self, y, n_samples, n_outputs, name="y", samples_of="X"):
        """Check ``y`` as integer class labels, one per sample, for a model with ``n_outputs`` logits."""
        if n_outputs == 1:
            raise ValueError("cross-entropy needs one output (logit) per class, but the model has a "
                             "single output; use loss='binary_cross_entropy' or one unit per class")
        return as_labels(y, name, n_samples=n_samples, n_classes=n_outputs, samples_of=samples_of)

    def forward(self, logits, labels):
        log_p = log_softmax(logits)
        self._p, self._labels = np.exp(log_p), labels
        return float(-log_p[np.arange(len(labels)), labels].mean())

    def backward(self):
        if getattr(self, "_p", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        grad = self._p.copy()
        grad[np.arange(len(self._labels)), self._labels] -= 1.0
        return grad / len(self._labels)

    def accuracy(self, logits, labels):
        """Fraction of samples whose largest logit is the true class."""
        return np.count_nonzero(np.argmax(logits, axis=1) == labels) / len(labels)

    def chance(self, labels):
        """The loss of the best constant guess: the entropy of the class frequencies (ln K if balanced)."""
        freq = np.bincount(labels) / len(labels)
        freq = freq[freq > 0]
        return float(-np.sum(freq * np.log(freq)))


def _logit_pair(z):
    """The logit pair (0, z) for each one-logit row of ``z``: softmax((0, z))[1] = sigmoid(z)."""
    return np.concatenate([np.zeros_like(z), z], axis=1)


class BinaryCrossEntropy(SoftmaxCrossEntropy):
    """One sigmoid output with binary cross-entropy, for two classes with labels 0/1 (for ``fit``).

    It takes the logit z and applies the sigmoid itself: -ln sigmoid(z) = ln(1 + e^-z) for y = 1,
    ln(1 + e^z) for y = 0. As softmax((0, z))[1] = sigmoid(z), this is the softmax cross-entropy of
    the logit pair (0, z): stable for any z, with dL/dz = (sigmoid(z) - y) / n."""

    name = "binary_cross_entropy"

    def targets(self, y, n_samples, n_outputs, name="y", samples_of="X"):
        """Check ``y`` as labels 0/1, one per sample, for a model with a single output."""
        fix = ("binary_cross_entropy needs one output unit and labels 0/1 (map labels -1/1 with "
               "(y + 1) // 2); for k classes use loss='cross_entropy' with k outputs")
        if n_outputs != 1:
            raise ValueError(f"the model has {n_outputs} outputs, but {fix}")
        try:
            return as_labels(y, name, n_samples=n_samples, n_classes=2, samples_of=samples_of)
        except ValueError as exc:
            raise ValueError(f"{exc}; {fix}") from None

    def forward(self, logits, labels):
        return super().forward(_logit_pair(logits), labels)

    def backward(self):
        return super().backward()[:, 1:]

    def accuracy(self, logits, labels):
        """Fraction of samples classified right: class 1 where z > 0, else class 0."""
        return super().accuracy(_logit_pair(logits), labels)


class MSELoss:
    """:func:`mse` as a training loss, for regression: real targets, one value or vector per sample."""

    name = "mse"

    def targets(self, y, n_samples, n_outputs, name="y", samples_of="X"):
        """Check ``y`` as real targets of shape ``(n_samples, n_outputs)`` (or ``(n_samples,)`` for one output)."""
        y = as_float_array(y, name, ndim=(1, 2))
        if y.shape[0] != n_samples:
            raise ValueError(f"{name} has {y.shape[0]} targets but {samples_of} has {n_samples} "
                             "samples; they must have the same length")
        if (y.shape[1:] or (1,))[0] != n_outputs:
            raise ValueError(f"{name} has shape {y.shape} but the model has {n_outputs} output(s); "
                             f"mse targets must have shape (n_samples, {n_outputs})")
        return y.reshape(n_samples, n_outputs)

    def forward(self, pred, target):
        self._pred, self._target = pred, np.reshape(target, np.shape(pred))
        return mse(self._pred, self._target)

    def backward(self):
        if getattr(self, "_pred", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return mse_grad(self._pred, self._target)

    def accuracy(self, pred, target):
        """Regression has no accuracy: NaN."""
        return float("nan")

    def chance(self, target):
        """The loss of the best constant guess, the mean target: half the summed variance."""
        return mse(np.broadcast_to(target.mean(axis=0), target.shape), target)


LOSSES = {"cross_entropy": SoftmaxCrossEntropy, "binary_cross_entropy": BinaryCrossEntropy, "mse": MSELoss}


def get_loss(name: str):
    """A fresh loss object: ``"cross_entropy"``, ``"binary_cross_entropy"`` or ``"mse"`` (above)."""
    return LOSSES[choose(name, LOSSES, "loss")]()
