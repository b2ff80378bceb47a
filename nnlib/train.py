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

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_labels, positive_number
from .layers import check_batch
from .losses import LOSSES
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
    X = check_batch(X, model.n_inputs).astype(model.dtype, copy=False)
    loss_fn = _loss(loss)
    out = model.forward(X)
    if loss == "cross_entropy":
        y = as_labels(y, "y", n_samples=X.shape[0], n_classes=out.shape[1])
        return loss_fn.forward(out, y), float(np.mean(out.argmax(axis=1) == y))
    target = np.asarray(y, dtype=out.dtype)
    return loss_fn.forward(out, target), math.nan


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
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an nnlib Sequential network, got {type(model).__name__}")
    positive_number(epochs, "epochs", integer=True)
    positive_number(batch_size, "batch_size", integer=True)
    positive_number(lr, "lr")
    if on_divergence not in ("warn", "raise"):
        raise ValueError(f"on_divergence must be 'warn' or 'raise', got {on_divergence!r}")
    loss_fn = _loss(loss)
    X = check_batch(X, model.n_inputs).astype(model.dtype, copy=False)
    n = X.shape[0]
    classify = loss == "cross_entropy"
    if classify:
        y = as_labels(y, "y", n_samples=n, n_classes=model.n_outputs)
    else:
        y = np.asarray(y, dtype=model.dtype)
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} targets but X has {n} samples")
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val = check_batch(validation_data[0], model.n_inputs, "X_val").astype(model.dtype, copy=False)
        y_val = validation_data[1]
    optimizer = SGD(lr)
    rng = np.random.default_rng(seed)
    history = History()

    epoch_iter = range(1, epochs + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(epoch_iter, desc="training", unit="epoch")
        epoch_iter = bar

    first_loss = None
    for epoch in epoch_iter:
        order = rng.permutation(n)
        Xs, ys = X[order], y[order]
        total_loss, correct = 0.0, 0
        for step, start in enumerate(range(0, n, batch_size), 1):
            xb, yb = Xs[start:start + batch_size], ys[start:start + batch_size]
            out = model.forward(xb)
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
            model.backward(loss_fn.backward())
            optimizer.step(model)
        if history.diverged:
            break
        history.train_loss.append(total_loss / n)
        history.train_acc.append(correct / n if classify else math.nan)
        if validation_data is not None:
            vl, va = evaluate(model, X_val, y_val, loss)
            history.val_loss.append(vl)
            history.val_acc.append(va)
        if bar is not None:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        if callback is not None:
            callback(epoch, model, history)

    if bar is not None:
        bar.close()
    if history.diverged:
        if on_divergence == "raise":
            raise DivergenceError(history.message)
        warnings.warn(history.message, DivergenceWarning, stacklevel=2)
    return history
