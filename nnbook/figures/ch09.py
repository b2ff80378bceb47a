"""Figures of chapter 9 (MNIST)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from nnbook.plotting import CLASS_COLORS, mean_activation_per_class

CORRECT, WRONG, OTHER = CLASS_COLORS[0], CLASS_COLORS[3], "#bbbbbb"   # blue, red (hatched), grey
CHANCE_LOSS = math.log(10)             # the loss of guessing among ten equally likely digits


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


def digit_profiles(networks, labels, scores=None):
    """Heatmaps of :func:`per_digit_profile`: one column per network, one row per hidden layer.

    ``networks`` maps a network's name (e.g. ``"untrained"``) to a dict that maps each hidden
    layer's name to its outputs ``(n_images, n_units)`` for the images whose digits are
    ``labels``; ``scores[net][layer]``, if given, is written into the panel's title. Every panel
    is made the same way (each unit scaled to its maximum, units sorted by their favourite
    digit), so differences between the columns come from the weights, not from the drawing.
    Returns the figure.
    """
    layer_names = list(next(iter(networks.values())))
    fig, axes = plt.subplots(len(layer_names), len(networks), figsize=(11, 3.4 * len(layer_names)),
                             squeeze=False, sharey=True, layout="constrained")
    for col, (net_name, layers) in enumerate(networks.items()):
        for row, layer in enumerate(layer_names):
            ax, acts = axes[row, col], layers[layer]
            shown = ax.imshow(per_digit_profile(acts, labels), aspect="auto", cmap="magma_r",
                              vmin=0, vmax=1, interpolation="nearest")
            score = "" if scores is None else f"\nmean digit consistency {scores[net_name][layer]:.2f}"
            ax.set_title(f"{net_name} network, {layer} ({acts.shape[1]} units){score}",
                         fontsize=10)
            ax.set(yticks=range(10))
            if row == len(layer_names) - 1:
                ax.set_xlabel("hidden unit (sorted by the digit it prefers)")
            if col == 0:
                ax.set_ylabel("digit")
    fig.colorbar(shown, ax=axes, label="mean output / unit's maximum", shrink=0.8)
    return fig


def digit_through_network(fig, image, hidden, proba, label, *, index):
    """One frame of the "follow an image" panel, drawn on ``fig``.

    ``image`` is the (h, w) input; ``hidden`` a list of ``(name, outputs, top)``, one per hidden
    layer: its 1-D array of unit outputs, drawn as one bar per unit on a fixed scale from 0 to
    ``top`` (the same for every image, so that frames can be compared; taller bars are cut at
    ``top``); ``proba`` the ten predicted probabilities and ``label`` the true digit of image
    ``index``. The predicted digit's bar is blue when right, red and hatched when wrong.
    """
    grid = fig.add_gridspec(2, 3, width_ratios=[1, 2.2, 1.4], left=0.03, right=0.98,
                            bottom=0.14, top=0.8, wspace=0.3, hspace=0.75)
    ax_img = fig.add_subplot(grid[:, 0])
    ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    ax_img.set(xticks=[], yticks=[], xlabel="input image")
    for row, (name, acts, top) in enumerate(hidden):
        ax = fig.add_subplot(grid[row, 1])
        # one bar per unit, drawn as a single filled step outline (hundreds of bars: one patch)
        ax.stairs(np.minimum(acts, top), np.arange(acts.size + 1) - 0.5, fill=True,
                  color=CLASS_COLORS[1])
        ax.set(xlim=(-0.5, acts.size - 0.5), ylim=(0, top), ylabel="output")
        ax.set_xlabel("unit", fontsize=9, labelpad=1)
        ax.tick_params(labelsize=8)
        silent = int(np.sum(acts <= 0))
        ax.set_title(f"{name} hidden layer: {acts.size - silent} of {acts.size} units active",
                     fontsize=10)
    guess = int(np.argmax(proba))
    right = guess == label
    colours = [(CORRECT if right else WRONG) if d == guess else OTHER for d in range(10)]
    ax_p = fig.add_subplot(grid[:, 2])
    bars = ax_p.bar(np.arange(10), proba, color=colours)
    if not right:
        bars[guess].set_hatch("//")
    ax_p.set(xticks=range(10), ylim=(0, 1.05), xlabel="digit", ylabel="probability")
    ax_p.set_title("the network's answer", fontsize=10)
    fig.suptitle(f"image #{index}: true digit {label}, predicted {guess} "
                 f"({proba[guess]:.0%}), {'correct' if right else 'WRONG'}", fontsize=11, y=0.97)


def settings_grid(fig, run, final_acc, lrs, widths, *, lr, width, epochs, floor=0.8):
    """One frame of the learning-rate × width panel, drawn on ``fig``.

    Left: the loss curves of ``run`` (a :func:`nnlib.fit` history of at most ``epochs`` epochs)
    with the loss of guessing, ln 10, as a dotted line; right: ``final_acc[i, j]``, the final
    validation accuracy for ``lrs[i]`` and ``widths[j]``, with the chosen cell (``lr``,
    ``width``) framed. The colours span ``floor`` to 1, so that the good settings can be told
    apart; everything below ``floor`` gets the darkest colour (the numbers say how far below).
    """
    ax_loss, ax_acc = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    done = np.arange(1, run.epochs + 1)
    ax_loss.axhline(CHANCE_LOSS, color="grey", ls=":", lw=1.5,
                    label=f"guessing: ln 10 = {CHANCE_LOSS:.3f}")
    ax_loss.plot(done, run.train_loss, "o-", ms=4, label="training loss")
    ax_loss.plot(done, run.val_loss, "s--", ms=4, label="validation loss")
    ax_loss.set(xlim=(0.8, epochs + 0.2), ylim=(0, 2.6), xlabel="epoch", ylabel="loss")
    ax_loss.legend(loc="center right", fontsize=9)
    if run.diverged:
        ax_loss.text(0.5, 0.6, "diverged:\nlearning rate too large", transform=ax_loss.transAxes,
                     ha="center", color=WRONG, fontsize=11, fontweight="bold")
    elif run.val_loss and run.val_loss[-1] > 0.9 * CHANCE_LOSS:
        ax_loss.text(0.5, 0.6, "stuck at guessing:\nthe ReLU units have died",
                     transform=ax_loss.transAxes, ha="center", color=WRONG, fontsize=11,
                     fontweight="bold")
    acc = f"validation accuracy {run.val_acc[-1]:.1%}" if run.val_acc else "no epoch completed"
    ax_loss.set_title(f"lr {lr:g}, {width} hidden units: {acc}", fontsize=10)
    shown = ax_acc.imshow(final_acc, cmap="viridis", vmin=floor, vmax=1)
    for r in range(len(lrs)):
        for c in range(len(widths)):
            value = final_acc[r, c]
            ax_acc.text(c, r, "–" if np.isnan(value) else f"{value:.1%}", ha="center",
                        va="center", fontsize=9,
                        color="white" if not value >= floor + 0.6 * (1 - floor) else "black")
    ax_acc.set(xticks=range(len(widths)), xticklabels=widths, yticks=range(len(lrs)),
               yticklabels=lrs, xlabel="hidden units", ylabel="learning rate",
               title="validation accuracy after the last epoch")
    ax_acc.title.set_fontsize(10)
    fig.colorbar(shown, ax=ax_acc, shrink=0.8, extend="min")
    ax_acc.add_patch(Rectangle((widths.index(width) - 0.5, lrs.index(lr) - 0.5), 1, 1, fill=False,
                               ec=CLASS_COLORS[1], lw=3))
    fig.subplots_adjust(left=0.07, right=0.96, bottom=0.15, top=0.88, wspace=0.3)


def training_curves(histories, labels):
    """Loss and accuracy per epoch of one network trained in phases, e.g. a learning-rate schedule.

    ``histories`` are the :func:`nnlib.fit` histories of the phases, in order, ``labels`` name
    them (e.g. ``"lr 0.2"``); a dotted line marks where each new phase begins. Returns the figure.
    """
    def joined(key):
        return [v for hist in histories for v in getattr(hist, key)]

    epochs = np.arange(1, len(joined("train_loss")) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, what, name in [(ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")]:
        ax.plot(epochs, joined(f"train_{what}"), "o-", ms=4, label=f"training {name}")
        ax.plot(epochs, joined(f"val_{what}"), "s--", ms=4, label=f"validation {name}")
        start = histories[0].epochs
        for before, after, hist in zip(labels, labels[1:], histories[1:]):
            ax.axvline(start + 0.5, color="grey", ls=":", lw=1.5, label=f"{before} → {after}")
            start += hist.epochs
        ax.set(title=f"{name.capitalize()} per epoch", xlabel="epoch", ylabel=name,
               xticks=epochs[::2] if len(epochs) > 10 else epochs)
    ax_loss.set_ylim(bottom=0)
    accs = joined("val_acc") + joined("train_acc")
    ax_acc.set_ylim(max(0.0, min(accs) - 0.01), 1.0)
    ax_loss.legend(loc="center right", fontsize=9)
    ax_acc.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    return fig
