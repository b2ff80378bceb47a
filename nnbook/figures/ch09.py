"""Figures of chapter 9 (MNIST)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from nnbook.plotting import mean_activation_per_class

CORRECT, WRONG, OTHER = "#1f77b4", "#d62728", "#bbbbbb"     # blue, red (hatched), grey


def per_digit_profile(acts, labels):
    """Mean output of each unit per digit, shape (10, n_units), each unit scaled to its maximum.

    The units are sorted by the digit they respond to most (then by how strongly); units that
    never fire on these images come last, as zero columns.
    """
    means = mean_activation_per_class(acts, labels, n_classes=10)        # (10, n_units)
    peak = means.max(axis=0)
    scaled = np.divide(means, peak, out=np.zeros_like(means), where=peak > 0)
    favourite = np.where(peak > 0, scaled.argmax(axis=0), 10)      # units that never fire: last
    order = np.lexsort((-scaled.max(axis=0), favourite))
    return scaled[:, order]


def digit_profiles(hidden_layers, labels):
    """One heatmap per hidden layer of :func:`per_digit_profile`: digits in rows, units in columns.

    ``hidden_layers`` maps a layer's name to its outputs ``(n_images, n_units)`` for the images
    whose digits are ``labels``. Returns the figure.
    """
    fig, axes = plt.subplots(len(hidden_layers), 1, figsize=(9, 6.5), squeeze=False)
    for ax, (name, acts) in zip(axes[:, 0], hidden_layers.items()):
        shown = ax.imshow(per_digit_profile(acts, labels), aspect="auto", cmap="magma_r",
                          vmin=0, vmax=1, interpolation="nearest")
        ax.set(title=f"{name}: mean output per digit ({acts.shape[1]} units)",
               xlabel="hidden unit (sorted by the digit it prefers)", ylabel="digit",
               yticks=range(10))
        fig.colorbar(shown, ax=ax, label="mean output / unit's max")
    fig.tight_layout()
    return fig


def digit_through_network(fig, image, hidden, proba, label, *, index):
    """One frame of the "follow an image" panel, drawn on ``fig``.

    ``image`` is the (h, w) input; ``hidden`` a list of ``(name, outputs, top)``, one per hidden
    layer: its 1-D array of unit outputs (drawn as rows of 16 squares, dark = large, darkest from
    ``top`` on); ``proba`` the ten predicted probabilities and ``label`` the true digit of test
    image ``index``.
    The predicted digit's bar is blue when right, red and hatched when wrong.
    """
    grid = fig.add_gridspec(2, 3, width_ratios=[1, 1.7, 1.4], left=0.02, right=0.98, bottom=0.14,
                            top=0.8, wspace=0.25, hspace=0.6)
    ax_img = fig.add_subplot(grid[:, 0])
    ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    ax_img.set(xticks=[], yticks=[], xlabel="input image")
    for row, (name, acts, top) in enumerate(hidden):
        ax = fig.add_subplot(grid[row, 1])
        ax.imshow(acts.reshape(-1, 16), cmap="magma_r", vmin=0, vmax=top, interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ax.set_title(f"{name} hidden layer ({acts.size} units)", fontsize=10)
    guess = int(np.argmax(proba))
    right = guess == label
    colours = [(CORRECT if right else WRONG) if d == guess else OTHER for d in range(10)]
    ax_p = fig.add_subplot(grid[:, 2])
    bars = ax_p.bar(np.arange(10), proba, color=colours)
    if not right:
        bars[guess].set_hatch("//")
    ax_p.set(xticks=range(10), ylim=(0, 1.05), xlabel="digit", ylabel="probability")
    ax_p.set_title("the network's answer", fontsize=10)
    fig.suptitle(f"test image #{index}: true digit {label}, predicted {guess} "
                 f"({proba[guess]:.0%}), {'correct' if right else 'wrong'}", fontsize=11, y=0.97)


def settings_grid(fig, run, final_acc, lrs, widths, *, lr, width, epochs):
    """One frame of the learning-rate × width panel, drawn on ``fig``.

    Left: the loss curves of ``run`` (a :func:`nnlib.fit` history of at most ``epochs`` epochs);
    right: ``final_acc[i, j]``, the final validation accuracy for ``lrs[i]`` and ``widths[j]``,
    with the chosen cell (``lr``, ``width``) framed.
    """
    ax_loss, ax_acc = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    done = np.arange(1, run.epochs + 1)
    ax_loss.plot(done, run.train_loss, "o-", ms=3, label="training loss")
    ax_loss.plot(done, run.val_loss, "s-", ms=3, label="validation loss")
    ax_loss.set(xlim=(0.8, epochs + 0.2), ylim=(0, 2.5), xlabel="epoch", ylabel="loss")
    ax_loss.legend(loc="upper right", fontsize="small")
    if run.diverged:
        ax_loss.text(0.5, 0.5, "diverged:\nlearning rate too large", transform=ax_loss.transAxes,
                     ha="center", color="red", fontsize=11, fontweight="bold")
    acc = f"validation accuracy {run.val_acc[-1]:.1%}" if run.val_acc else "no epoch completed"
    ax_loss.set_title(f"lr {lr:g}, {width} hidden units: {acc}", fontsize=10)
    shown = ax_acc.imshow(final_acc, cmap="viridis", vmin=0, vmax=1)
    for r in range(len(lrs)):
        for c in range(len(widths)):
            ax_acc.text(c, r, f"{final_acc[r, c]:.0%}", ha="center", va="center", fontsize=9,
                        color="white" if final_acc[r, c] < 0.6 else "black")
    ax_acc.set(xticks=range(len(widths)), xticklabels=widths, yticks=range(len(lrs)),
               yticklabels=lrs, xlabel="hidden units", ylabel="learning rate",
               title="validation accuracy")
    fig.colorbar(shown, ax=ax_acc, shrink=0.8)
    ax_acc.add_patch(Rectangle((widths.index(width) - 0.5, lrs.index(lr) - 0.5), 1, 1, fill=False,
                               ec="red", lw=3))
    fig.subplots_adjust(left=0.08, right=0.95, bottom=0.15, top=0.88, wspace=0.35)
