"""The training loop (chapters 8 and 9).

``fit`` repeats, for a number of epochs: shuffle the training set, cut it into mini-batches, and
for each batch run forward, compute the loss, backpropagate, and take one SGD step; the returned
:class:`History` holds the loss and accuracy of every epoch (the loss curves of chapter 8).

Training never fails silently. A loss that becomes NaN or infinite, or exceeds ``EXPLOSION_FACTOR``
times the first batch's loss or the loss of guessing, means too large a learning rate: ``fit`` stops
and explains it (``history.message``, a :class:`DivergenceWarning` or :class:`DivergenceError`).
Inputs too large to start with raise a ``ValueError``; learning nothing gives a :class:`TrainingWarning`.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_rng, choose, whole_number
from .losses import get_loss
from .network import Sequential
from .optim import SGD

EXPLOSION_FACTOR = 100.0   # a batch loss this many times the reference counts as divergence


class TrainingWarning(RuntimeWarning):
    """Training ended without learning anything: the final loss is no better than guessing."""


class DivergenceWarning(TrainingWarning):
    """Training stopped because the loss became NaN or infinite, or exploded."""


class DivergenceError(RuntimeError):
    """Raised by ``fit(..., on_divergence="raise")`` when training diverges."""


@dataclass
class History:
    """Per-epoch record of a run: ``train_loss``/``train_acc`` average the epoch's mini-batches
    (the weights change as it runs), ``val_loss``/``val_acc`` are measured at the epoch's end."""
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
    loss_fn = get_loss(loss)
    X, y = Sequential.check(model).check_data(X, y, loss_fn)
    out = model.forward(X, checked=True)
    return loss_fn.forward(out, y), loss_fn.accuracy(out, y)


def fit(model: Sequential, X, y, *, epochs: int = 10, batch_size: int = 32, lr: float = 0.1,
        weight_decay: float = 0.0, validation_data=None, seed=0, loss: str = "cross_entropy",
        progress: bool = False, on_divergence: str = "warn", callback=None) -> History:
    """Train ``model`` with mini-batch SGD and return its :class:`History`.

    Parameters
    ----------
    X, y : training inputs ``(n_samples, n_features)`` and one target per sample, as ``loss`` says.
    epochs, batch_size, lr : number of passes over the data, samples per SGD step, learning rate.
    weight_decay : L2 penalty on the weight matrices (see :class:`SGD`); losses exclude it.
    validation_data : optional ``(X_val, y_val)`` evaluated after every epoch.
    seed : seeds the shuffling, so a run is reproducible.
    loss : ``"cross_entropy"`` (softmax on K logits, labels 0..K-1), ``"binary_cross_entropy"``
        (a sigmoid on one logit, labels 0/1) or ``"mse"`` (real targets ``(n_samples, n_outputs)``,
        or ``(n_samples,)`` for one output); see :mod:`nnlib.losses`.
    progress : show a tqdm progress bar over the epochs.
    on_divergence : ``"warn"`` (stop, flag it in the history and warn) or ``"raise"``.
    callback : optional ``callback(epoch, model, history)``, called after each epoch.

    The data are checked once, here; the loop then runs on trusted arrays."""
    whole_number(epochs, "epochs")
    whole_number(batch_size, "batch_size")
    optimizer = SGD(lr, weight_decay)
    choose(on_divergence, ("warn", "raise"), "on_divergence")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function callback(epoch, model, history), got "
                        f"{type(callback).__name__}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    loss_fn = get_loss(loss)
    X, y = Sequential.check(model).check_data(X, y, loss_fn)
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val, y_val = model.check_data(*validation_data, loss_fn, "X_val", "y_val")
    rng, history, n = as_rng(seed), History(), X.shape[0]
    chance = loss_fn.chance(y)
    reference = None

    epoch_iter = range(1, epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        epoch_iter = tqdm(epoch_iter, desc="training", unit="epoch")
    # Overflow is not reported by numpy here: a blown-up loss is caught below and explained.
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for epoch in epoch_iter:
            order = rng.permutation(n)
            total_loss, total_acc = 0.0, 0.0
            for step, start in enumerate(range(0, n, batch_size), 1):
                idx = order[start:start + batch_size]
                xb, yb = X[idx], y[idx]
                out = model.forward(xb, checked=True)
                batch_loss = loss_fn.forward(out, yb)
                if reference is None:   # out of all proportion before any step: the data's fault
                    if not batch_loss <= EXPLOSION_FACTOR * max(chance, 1.0):
                        raise ValueError(f"the loss is {batch_loss:.3g} before the first training "
                                         "step, so the learning rate is not the cause: X is too large "
                                         f"(largest |x| = {np.abs(X).max():.3g}); rescale X, e.g. "
                                         "standardise each feature")
                    reference = max(batch_loss, chance, 1e-3)
                if not math.isfinite(batch_loss) or batch_loss > EXPLOSION_FACTOR * reference:
                    history.diverged = True
                    history.message = _diverged(epoch, step, optimizer.lr, batch_loss, X)
                    break
                total_loss += batch_loss * len(idx)
                total_acc += loss_fn.accuracy(out, yb) * len(idx)
                model.backward(loss_fn.backward())
                optimizer.step(model)
            if history.diverged:
                break
            history.train_loss.append(total_loss / n)
            history.train_acc.append(total_acc / n)
            if validation_data is not None:
                out = model.forward(X_val, checked=True)
                history.val_loss.append(loss_fn.forward(out, y_val))
                history.val_acc.append(loss_fn.accuracy(out, y_val))
            if progress:
                epoch_iter.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
            if callback is not None:
                callback(epoch, model, history)
    if progress:
        epoch_iter.close()
    if history.diverged:
        if on_divergence == "raise":
            raise DivergenceError(history.message)
        warnings.warn(history.message, DivergenceWarning, stacklevel=2)
    elif history.train_loss and history.train_loss[-1] >= chance > 0:
        history.message = (f"training learned nothing: the final training loss "
                           f"{history.train_loss[-1]:.4g} is no better than guessing "
                           f"({chance:.4g}). The learning rate lr={optimizer.lr:g} may be too large "
                           f"(try lr={optimizer.lr / 10:g}) or too small, or training too short")
        warnings.warn(history.message, TrainingWarning, stacklevel=2)
    return history


def _diverged(epoch, step, lr, value, X):
    what = f"became {value}" if not math.isfinite(value) else f"exploded to {value:.3g}"
    scale = np.abs(X).max()
    hint = f" The inputs are large too (largest |x| = {scale:.3g}): rescale them." if scale > 1e3 else ""
    return (f"training diverged at epoch {epoch}, batch {step}: the loss {what}. "
            f"The learning rate lr={lr:g} is probably too large; try a smaller one "
            f"(for example lr={lr / 10:g}).{hint}")
