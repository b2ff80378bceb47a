"""The training loop (chapters 8 and 9).

``fit`` repeats, for a number of epochs: shuffle the training set, cut it into mini-batches, and
for each batch run forward, compute the loss, backpropagate, and take one SGD step. It records the
loss and accuracy of every epoch on the training and the validation data, so the loss curves of
chapter 8 can be read off the returned :class:`History`.

If the loss ever becomes NaN or infinite, or explodes to more than ``EXPLOSION_FACTOR`` times the
loss of the first mini-batch, the weights have blown up, almost always because the learning rate
is too large. ``fit`` then stops, sets ``history.diverged`` and explains this in
``history.message`` and in a :class:`DivergenceWarning` (or raises :class:`DivergenceError` with
``on_divergence="raise"``): training never fails silently.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, as_labels, as_rng, positive_number
from .layers import check_batch
from .losses import LOSSES, SoftmaxCrossEntropy
from .network import Sequential
from .optim import SGD


#: a batch loss above this multiple of the first batch's loss counts as divergence
EXPLOSION_FACTOR = 100.0


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


class DivergenceError(RuntimeError):
    """Raised by ``fit(..., on_divergence="raise")`` when the loss becomes NaN or infinite."""


@dataclass
class History:
    """Per-epoch record of a training run (lists have one entry per completed epoch).

    ``train_loss``/``train_acc`` average the mini-batches seen during the epoch (the weights
    change as it runs); ``val_loss``/``val_acc`` are measured on the validation data at its end.
    """
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    diverged: bool = False
    message: str = ""

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def __repr__(self):
        if not self.train_loss:
            return f"History(no completed epochs{'; ' + self.message if self.message else ''})"
        last = f"train loss {self.train_loss[-1]:.4f}, acc {self.train_acc[-1]:.3f}"
        if self.val_loss:
            last += f"; val loss {self.val_loss[-1]:.4f}, acc {self.val_acc[-1]:.3f}"
        flag = f"; DIVERGED: {self.message}" if self.diverged else ""
        return f"History({self.epochs} epochs: {last}{flag})"


def evaluate(model: Sequential, X, y, loss: str = "cross_entropy"):
    """Return ``(mean loss, accuracy)`` of ``model`` on ``(X, y)`` (accuracy is NaN for ``mse``)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an nnlib Sequential network, got {type(model).__name__}")
    loss_fn = _loss(loss)
    X, y = _checked_data(model, X, y, loss, "X", "y")
    return _evaluate(model, X, y, loss_fn)


def _evaluate(model, X, y, loss_fn):
    out = model._forward(X)
    if isinstance(loss_fn, SoftmaxCrossEntropy):
        return loss_fn.forward(out, y), float(np.mean(out.argmax(axis=1) == y))
    return loss_fn.forward(out, y), math.nan


def _checked_data(model, X, y, loss, x_name, y_name):
    """Validate inputs and targets once, before any training step (cast to the model's dtype)."""
    X = check_batch(X, model.n_inputs, x_name).astype(model.dtype, copy=False)
    n = X.shape[0]
    if loss == "cross_entropy":
        if model.n_outputs == 1:
            raise ValueError("cross-entropy needs one output (logit) per class, but the model has a "
                             "single output; give the last layer one unit per class or use loss='mse'")
        return X, as_labels(y, y_name, n_samples=n, n_classes=model.n_outputs, samples_of=x_name)
    y = as_float_array(y, y_name, ndim=(1, 2)).astype(model.dtype, copy=False)
    if y.shape[0] != n:
        raise ValueError(f"{y_name} has {y.shape[0]} targets but {x_name} has {n} samples; they "
                         "must have the same length")
    k = model.n_outputs
    if k is not None and (y.shape[1:] or (1,))[0] != k:
        raise ValueError(f"{y_name} has shape {y.shape} but the model has {k} output(s); mse "
                         f"targets must have shape (n_samples, {k})"
                         + (" or (n_samples,)" if k == 1 else ""))
    return X, y


_THREADPOOLS = None


def _one_blas_thread():
    """A context in which BLAS (numpy's matrix products) runs on one thread (via threadpoolctl)."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        try:
            from threadpoolctl import ThreadpoolController
            _THREADPOOLS = ThreadpoolController()   # found once: listing the libraries is slow
        except Exception:  # threadpoolctl missing or unable to inspect this platform
            _THREADPOOLS = False
    if _THREADPOOLS is False:
        return contextlib.nullcontext()
    return _THREADPOOLS.limit(limits=1, user_api="blas")


def _loss(name):
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {name!r}")
    return LOSSES[name]()


def _diverged(epoch, step, lr, value):
    what = f"became {value}" if not math.isfinite(value) else f"exploded to {value:.3g}"
    return (f"training diverged at epoch {epoch}, batch {step}: the loss {what}. "
            f"The learning rate lr={lr:g} is probably too large; try a smaller one "
            f"(for example lr={lr / 10:g}).")


def fit(model: Sequential, X, y, *, epochs: int = 10, batch_size: int = 32, lr: float = 0.1,
        validation_data=None, seed=0, loss: str = "cross_entropy", progress: bool = False,
        on_divergence: str = "warn", callback=None) -> History:
    """Train ``model`` with mini-batch SGD and return its :class:`History`.

    Parameters
    ----------
    X, y : training inputs ``(n_samples, n_features)`` and integer labels ``(n_samples,)``
        (for ``loss="mse"``, real-valued targets ``(n_samples,)`` or ``(n_samples, n_outputs)``).
    epochs, batch_size, lr : number of passes over the data, samples per SGD step, learning rate.
    validation_data : optional ``(X_val, y_val)`` evaluated after every epoch.
    seed : seeds the shuffling, so a run is reproducible.
    loss : ``"cross_entropy"`` (softmax on the logits, for classification) or ``"mse"``.
    progress : show a tqdm progress bar over the epochs.
    on_divergence : ``"warn"`` (stop, flag it in the history and warn) or ``"raise"``.
    callback : optional ``callback(epoch, model, history)`` called after each epoch (e.g. to take
        snapshots for an animation).

    Inputs are validated once, before the first step. During training the matrix products run on
    one BLAS thread, which is as fast as several for networks of this size and stays fast when
    other programs keep the processor busy.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an nnlib Sequential network, got {type(model).__name__}")
    positive_number(epochs, "epochs", integer=True)
    positive_number(batch_size, "batch_size", integer=True)
    positive_number(lr, "lr")
    if on_divergence not in ("warn", "raise"):
        raise ValueError(f"on_divergence must be 'warn' or 'raise', got {on_divergence!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function callback(epoch, model, history), got "
                        f"{type(callback).__name__}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    loss_fn = _loss(loss)
    # Validate everything once, here: the loop below runs on trusted arrays, without checks.
    X, y = _checked_data(model, X, y, loss, "X", "y")
    n = X.shape[0]
    classify = loss == "cross_entropy"
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val, y_val = _checked_data(model, *validation_data, loss, "X_val", "y_val")
    optimizer = SGD(lr)
    rng = as_rng(seed)
    history = History()

    epoch_iter = range(1, epochs + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(epoch_iter, desc="training", unit="epoch")
        epoch_iter = bar

    # One BLAS thread: for these small matrices it is as fast as several, and it avoids the
    # huge slowdowns of BLAS threads competing with other busy processes for the cores.
    # Floating-point overflow is not reported as a warning: a blown-up loss is caught below
    # and explained in the history instead.
    with _one_blas_thread(), np.errstate(over="ignore", invalid="ignore", under="ignore"):
        first_loss = None
        forward, backward = model._forward, model.backward
        sgd_step = optimizer._stepper(model)
        for epoch in epoch_iter:
            order = rng.permutation(n)
            total_loss, correct = 0.0, 0
            for step, start in enumerate(range(0, n, batch_size), 1):
                # gathering each batch's rows is cheaper than copying the whole shuffled set
                idx = order[start:start + batch_size]
                xb, yb = X.take(idx, axis=0), y.take(idx, axis=0)
                out = forward(xb)
                batch_loss = loss_fn.forward(out, yb)
                if first_loss is None:
                    first_loss = max(batch_loss, 1e-3)
                if not math.isfinite(batch_loss) or batch_loss > EXPLOSION_FACTOR * first_loss:
                    history.diverged = True
                    history.message = _diverged(epoch, step, lr, batch_loss)
                    break
                if classify:
                    correct += int(np.count_nonzero(out.argmax(axis=1) == yb))
                total_loss += batch_loss * xb.shape[0]
                backward(loss_fn.backward())
                sgd_step()
            if history.diverged:
                break
            history.train_loss.append(total_loss / n)
            history.train_acc.append(correct / n if classify else math.nan)
            if validation_data is not None:
                vl, va = _evaluate(model, X_val, y_val, _loss(loss))
                history.val_loss.append(vl)
                history.val_acc.append(va)
            if bar is not None:
                bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
            if callback is not None:
                callback(epoch, model, history)
                sgd_step = optimizer._stepper(model)   # in case the callback swapped arrays

    if bar is not None:
        bar.close()
    if history.diverged:
        if on_divergence == "raise":
            raise DivergenceError(history.message)
        warnings.warn(history.message, DivergenceWarning, stacklevel=2)
    return history
