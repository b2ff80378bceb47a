"""Loss functions, softmax, and their gradients (chapter 6).

A loss turns the network's outputs and the true targets into one number to minimise. Each loss
here comes with its gradient with respect to its first argument, which is where backpropagation
starts (chapter 7). All losses are averaged over the ``n`` samples of the batch.

* ``mse``: regression, L = 1/(2n) * sum_i ||y_i - yhat_i||^2 (the handout's form, with the 1/2).
* ``binary_cross_entropy``: one probability per sample (a sigmoid output).
* ``cross_entropy``: K classes, computed from logits with the log-sum-exp trick, so logits
  like 1000 or -1000 neither overflow nor produce ``log(0)``.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_labels


# ----------------------------------------------------------------------------- softmax
def softmax(z, axis: int = -1):
    """Softmax exp(z_k) / sum_j exp(z_j) along ``axis``: scores (logits) to probabilities.

    Subtracting ``max(z)`` first changes nothing mathematically (it cancels in the ratio) but keeps
    every exponent <= 0, so nothing overflows. Shape in = shape out; each slice sums to 1.
    """
    z = as_float_array(z, "z", ndim=(1, 2))
    with np.errstate(under="ignore"):   # e^-2000 is 0 as it should be, not an error
        e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1):
    """log(softmax(z)) computed stably as z - logsumexp(z) (no log of an underflowed 0)."""
    z = as_float_array(z, "z", ndim=(1, 2))
    shifted = z - z.max(axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def logsumexp(z, axis: int = -1):
    """log(sum_j exp(z_j)) without overflow: max(z) + log(sum_j exp(z_j - max(z)))."""
    z = as_float_array(z, "z", ndim=(1, 2))
    m = z.max(axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        return np.squeeze(m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True)), axis=axis)


# ----------------------------------------------------------------------------- helpers
def _pair(pred, target, pred_name, target_name):
    pred = as_float_array(pred, pred_name, ndim=(1, 2))
    target = as_float_array(target, target_name, ndim=(1, 2))
    if pred.shape != target.shape:
        raise ValueError(f"{pred_name} has shape {pred.shape} but {target_name} has shape "
                         f"{target.shape}; they must match")
    return pred, target


def _targets(logits, y, one_sample=False):
    """Return one-hot targets of the same shape as ``logits`` from labels or one-hot ``y``.

    ``one_sample``: the logits were given as one vector ``(K,)``; then ``y`` may be a label or a
    one-hot vector ``(K,)`` (the form of the chapter 6 example).
    """
    n, k = logits.shape
    if np.ndim(y) == 0:
        y = np.atleast_1d(y)
    elif one_sample and np.ndim(y) == 1 and np.shape(y)[0] == k and k > 1:
        y = np.asarray(y)[None, :]
    arr = np.asarray(y)
    if arr.ndim == 2:
        t = as_float_array(y, "y", ndim=2)
        if t.shape != logits.shape:
            raise ValueError(f"one-hot y has shape {t.shape} but logits have shape {logits.shape}")
        if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0):
            raise ValueError("one-hot (or probability) targets y must be >= 0 and sum to 1 per row")
        return t
    labels = as_labels(y, "y", n_samples=n, n_classes=k, samples_of="logits")
    t = np.zeros_like(logits)
    t[np.arange(n), labels] = 1.0
    return t


def _logits2d(logits):
    z = as_float_array(logits, "logits", ndim=(1, 2))
    return z[None, :] if z.ndim == 1 else z


# ----------------------------------------------------------------------------- losses
def mse(y_pred, y_true):
    """Mean squared error in the handout's form: L = 1/(2n) * sum_i ||y_true_i - y_pred_i||^2.

    ``y_pred`` and ``y_true`` have the same shape, ``(n,)`` or ``(n, k)``.
    """
    y_pred, y_true = _pair(y_pred, y_true, "y_pred", "y_true")
    return float(0.5 * np.sum((y_pred - y_true) ** 2) / y_pred.shape[0])


def mse_grad(y_pred, y_true):
    """Gradient of :func:`mse` with respect to ``y_pred``: (y_pred - y_true) / n."""
    y_pred, y_true = _pair(y_pred, y_true, "y_pred", "y_true")
    return (y_pred - y_true) / y_pred.shape[0]


_EPS = 1e-12


def _bce_args(p, y):
    """Validate probabilities ``p`` and 0/1 targets ``y``; also return ``p`` clipped away from 0 and 1."""
    p, y = _pair(p, y, "p", "y")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must be probabilities in [0, 1]; apply a sigmoid to raw scores first")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold targets in [0, 1] (usually 0 or 1)")
    return p, y, np.clip(p, _EPS, 1 - _EPS)


def binary_cross_entropy(p, y):
    """Binary cross-entropy -mean(y log p + (1 - y) log(1 - p)) for probabilities ``p`` in [0, 1].

    ``y`` holds 0/1 targets of the same shape. ``p`` is clipped to [1e-12, 1 - 1e-12] so a
    confident wrong answer costs a large but finite loss.
    """
    p, y, q = _bce_args(p, y)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def binary_cross_entropy_grad(p, y):
    """Gradient of :func:`binary_cross_entropy` w.r.t. ``p``: (p - y) / (p (1 - p)) / N."""
    p, y, q = _bce_args(p, y)
    return (q - y) / (q * (1 - q)) / p.size


def cross_entropy(logits, y):
    """Multi-class cross-entropy from logits: L = -1/n * sum_i log softmax(z_i)[y_i].

    ``logits`` has shape ``(n, K)`` (or ``(K,)`` for one sample). ``y`` is either integer labels of
    shape ``(n,)`` or one-hot / probability targets of shape ``(n, K)``; then
    L = -1/n * sum_i sum_k y_ik log softmax(z_i)_k, the cross-entropy H(p, q) of chapter 6.
    """
    z = _logits2d(logits)
    t = _targets(z, y, one_sample=np.ndim(logits) == 1)
    return float(-np.sum(t * log_softmax(z)) / z.shape[0])


def cross_entropy_grad(logits, y):
    """Gradient of :func:`cross_entropy` w.r.t. the logits: (softmax(z) - onehot(y)) / n.

    Softmax followed by cross-entropy has this famously simple fused gradient ``p - y``.
    """
    z = _logits2d(logits)
    t = _targets(z, y, one_sample=np.ndim(logits) == 1)
    g = (softmax(z) - t) / z.shape[0]
    return g.reshape(np.shape(logits))


# ----------------------------------------------------------------------------- for training
class SoftmaxCrossEntropy:
    """Softmax + cross-entropy on a network's logits, as used by :func:`nnlib.train.fit`.

    ``forward(logits, labels)`` returns the mean loss and remembers the probabilities;
    ``backward()`` returns dL/dlogits = (p - onehot) / n. Works in the logits' dtype (float32
    training stays float32). Labels must already be validated integer arrays.
    """

    def __init__(self):
        self._row_starts = np.arange(0)
        self._p = self._grad = None

    def forward(self, logits, labels):
        n, k = logits.shape
        if self._row_starts.shape[0] != n or self._row_starts[-1:].tolist() != [(n - 1) * k]:
            self._row_starts = np.arange(n) * k   # reused while the batch shape stays the same
        true_class = self._row_starts + labels    # flat index of each sample's true-class entry
        e = logits - logits.max(axis=1, keepdims=True)
        picked = e.ravel()[true_class]            # shifted logit of each sample's true class
        np.exp(e, out=e)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.log(s).sum() - picked.sum()) / n
        e /= s                                    # probabilities p = softmax(logits)
        self._p, self._true_class, self._grad = e, true_class, None
        return loss

    def backward(self):
        if self._grad is None:
            if self._p is None:
                raise RuntimeError("SoftmaxCrossEntropy.backward called before forward")
            g = self._p                           # fused gradient (p - onehot) / n, in place
            g.ravel()[self._true_class] -= 1.0
            g /= g.shape[0]
            self._grad = g
        return self._grad


class MSELoss:
    """:func:`mse` as a training loss; targets are one value (or one vector) per sample."""

    def forward(self, pred, target):
        target = np.reshape(target, pred.shape)
        self._diff = pred - target
        return float(0.5 * np.sum(self._diff ** 2) / pred.shape[0])

    def backward(self):
        if getattr(self, "_diff", None) is None:
            raise RuntimeError("MSELoss.backward called before forward")
        return self._diff / self._diff.shape[0]


LOSSES = {"cross_entropy": SoftmaxCrossEntropy, "mse": MSELoss}
