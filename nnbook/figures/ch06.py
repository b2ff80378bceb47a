"""Figures of chapter 6 (softmax and cross-entropy)."""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch


def logits_and_probabilities(fig, classes, logits, probs, *, true_class, T, loss):
    """One frame of the softmax panel, drawn on ``fig``: the logits (left), their softmax (right).

    ``logits`` and ``probs`` hold one number per name in ``classes``; the bar of ``true_class``
    gets a thick frame, and the titles show the temperature ``T`` and the cross-entropy ``loss``
    of the true class.
    """
    ax_z, ax_p = fig.subplots(1, 2)
    ax_z.bar(classes, logits, color="0.6")
    ax_z.axhline(0, color="0.3", lw=0.8)
    ax_z.set(xlabel="class", ylabel="logit z", ylim=(-6.5, 6.5))
    ax_z.set_title(f"logits (divided by T = {T:g} before softmax)", fontsize=10)
    k = list(classes).index(true_class)
    ax_p.bar(classes, probs, color=[f"C{i}" for i in range(len(classes))], edgecolor="k",
             linewidth=[2.5 if i == k else 0.5 for i in range(len(classes))])
    for i, p in enumerate(np.asarray(probs)):
        ax_p.text(i, p + 0.01, f"{p:.3f}", ha="center", va="bottom")
    ax_p.set(xlabel="class", ylabel="probability", ylim=(0, 1.12))
    ax_p.set_title(f"softmax(z / T); loss −ln p({true_class}) = {loss:.3f}", fontsize=10)
    true_patch = Patch(facecolor="white", edgecolor="k", lw=2.5, label="true class")
    ax_p.legend(handles=[true_patch], loc="upper right", fontsize="small")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.14, wspace=0.3)
