"""Figures of chapter 6 (softmax and cross-entropy)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from nnbook.plotting import CLASS_COLORS, decision_boundary

BLUE, ORANGE, GREEN = CLASS_COLORS[:3]


def normalisation_bars(scores, methods):
    """Grouped bars: for each class (its score under the name), one bar per method in ``methods``
    (a list of ``(label, shares)``); hatching tells the methods apart without relying on colour."""
    fig, ax = plt.subplots(figsize=(9, 3.8))
    positions = np.arange(len(scores))
    width = 0.8 / len(methods)
    for k, ((label, values), hatch) in enumerate(zip(methods, ["", "//", ".."])):
        ax.bar(positions + (k - (len(methods) - 1) / 2) * width, values, width=width, label=label,
               color=CLASS_COLORS[k], hatch=hatch, edgecolor="white", linewidth=0.5)
    ax.set_xticks(positions, [f"class {i + 1}\nscore {s:g}" for i, s in enumerate(scores)],
                  fontsize=9)
    ax.set(title="Three ways to turn nine scores into shares that sum to 1",
           ylabel="share", ylim=(0, 1.05))
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def loss_and_gradient(z, curves):
    """Two panels over the logit ``z``: each loss (left) and its gradient (right) for a true label 1.

    ``curves`` maps a name to ``(loss, gradient)`` arrays; the region z < -2, where the prediction
    is confidently wrong, is shaded."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    styles = [dict(color=BLUE, ls="--"), dict(color=ORANGE, ls="-")]
    for (name, (loss, grad)), style in zip(curves.items(), styles):
        axes[0].plot(z, loss, lw=2, label=name, **style)
        axes[1].plot(z, grad, lw=2, label=name, **style)
    axes[0].set(title="Loss for a true label 1", xlabel="logit z", ylabel="loss", ylim=(0, 5))
    axes[1].set(title="Gradient with respect to the logit", xlabel="logit z", ylabel="dL/dz")
    for ax, corner in zip(axes, ["upper right", "lower right"]):
        ax.axvspan(z[0], -2, color="0.5", alpha=0.15, label="confidently wrong")
        ax.legend(loc=corner, fontsize="small")
    fig.tight_layout()
    return fig


def learning_slowdown(runs, *, lr):
    """The learning-slowdown figure: one neuron's output (left) and loss (right) per epoch, one
    curve per entry of ``runs`` (name -> ``(outputs, losses)``)."""
    fig, (ax_a, ax_l) = plt.subplots(1, 2, figsize=(10, 3.8))
    styles = [dict(color=BLUE, ls="--"), dict(color=ORANGE, ls="-")]
    for (name, (outputs, losses)), style in zip(runs.items(), styles):
        epochs = np.arange(1, len(losses) + 1)
        ax_a.plot(epochs, outputs, lw=2, label=name, **style)
        ax_l.plot(epochs, losses, lw=2, label=name, **style)
    ax_a.axhline(0, color="0.3", lw=0.8)
    ax_a.set(title=f"Output a = σ(w·1 + b) for the target 0 (η = {lr:g})", xlabel="epoch",
             ylabel="output a", ylim=(-0.03, 1.03))
    ax_l.set(title="Loss per epoch (log scale)", xlabel="epoch", ylabel="loss", yscale="log")
    ax_a.legend(loc="center")
    ax_l.legend(loc="upper right")
    fig.tight_layout()
    return fig


def two_classifiers(models, X, y):
    """Decision regions of several trained two-class networks side by side (``models``: title ->
    network), over the data ``(X, y)``."""
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4))
    for ax, (title, model) in zip(axes, models.items()):
        decision_boundary(model.predict_proba, X, y, ax=ax, title=title, resolution=120)
    fig.tight_layout()
    return fig


def logits_and_probabilities(fig, classes, logits, probs, *, T, fixed=0):
    """One frame of the softmax panel, drawn on ``fig``: the logits (left), their softmax (right).

    ``logits`` and ``probs`` hold one number per name in ``classes``; the logit of
    ``classes[fixed]`` is marked as fixed (softmax only sees differences of logits). Each
    probability bar is labelled with ``p`` and the cross-entropy ``−ln p`` it would cost if its
    class were the true one; the title shows the temperature ``T``.
    """
    ax_z, ax_p = fig.subplots(1, 2)
    probs = np.asarray(probs, dtype=float)
    names = [f"{c} (fixed)" if i == fixed else c for i, c in enumerate(classes)]
    ax_z.bar(names, logits, color="0.6")
    ax_z.axhline(0, color="0.3", lw=0.8)
    ax_z.set(xlabel="class", ylabel="logit z", ylim=(-6.5, 6.5), yticks=range(-6, 7, 3))
    ax_z.set_title(f"logits (divided by T = {T:g} before softmax)", fontsize=10, y=1.0)
    ax_p.bar(classes, probs, color=CLASS_COLORS[:len(classes)], edgecolor="k", linewidth=0.5)
    for i, pr in enumerate(probs):
        ax_p.text(i, pr + 0.01, f"p = {pr:.3f}\n−ln p = {-np.log(pr):.2f}", ha="center",
                  va="bottom", fontsize=9)
    ax_p.set(xlabel="class (if it is the true one: loss −ln p)", ylabel="probability",
             ylim=(0, 1.25), yticks=[0, 0.25, 0.5, 0.75, 1])
    ax_p.set_title("softmax(z / T): p and the loss −ln p per class", fontsize=10, y=1.0)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.14, wspace=0.3)
