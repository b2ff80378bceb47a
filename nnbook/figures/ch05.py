"""Figures of chapter 5 (activation functions): the accuracy staircase and the gradient norms of
a deep network."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from nnlib import sigmoid, step
from nnbook.plotting import CLASS_COLORS, scatter_classes


def staircase_and_valley(X, y, w1_grid, z_point, accuracy, loss):
    """Why a perceptron cannot follow a gradient: four panels over one weight ``w1``.

    Top left the data ``X`` (n, 2) with labels ``y``; top right ``step`` and ``sigmoid`` of one
    input's weighted input ``z_point`` (one value per weight in ``w1_grid``); bottom left the
    perceptron's ``accuracy`` (a staircase) and bottom right the cross-entropy ``loss`` of the
    sigmoid outputs (smooth), both over ``w1_grid``. Returns the figure.
    """
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    ax_data, ax_out, ax_acc, ax_loss = axes.ravel()
    scatter_classes(ax_data, X, y)
    ax_data.set(title=f"The data ({len(y)} points)", xlabel="$x_1$", ylabel="$x_2$")
    ax_data.legend(loc="lower right", fontsize="small")
    ax_out.plot(w1_grid, step(z_point), lw=2, label="perceptron: step(z)")
    ax_out.plot(w1_grid, sigmoid(z_point), lw=2, label="sigmoid(z)")
    ax_out.set(title="Output for the input x = (1, 1)", xlabel="weight $w_1$",
               ylabel="neuron output")
    ax_out.legend(loc="upper left", fontsize="small")
    ax_acc.plot(w1_grid, accuracy, color="C3", lw=2, label="accuracy of the perceptron")
    ax_acc.set(title="Accuracy is a staircase", xlabel="weight $w_1$", ylabel="accuracy",
               ylim=(0, 1.05))
    ax_acc.legend(loc="lower right", fontsize="small")
    ax_loss.plot(w1_grid, loss, color="C2", lw=2, label="cross-entropy of sigmoid outputs")
    ax_loss.set(title="A sigmoid-based loss is smooth", xlabel="weight $w_1$", ylabel="loss")
    ax_loss.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


#: how :func:`gradient_norms` draws each activation: colour, marker and line style, so that the
#: lines stay apart without colour (in greyscale, or for colour-blind readers)
STYLES = {"sigmoid": (CLASS_COLORS[0], "o", "-"), "tanh": (CLASS_COLORS[1], "s", "--"),
          "relu": (CLASS_COLORS[2], "^", ":")}


def gradient_norms(norms, *, title="Gradient norm per layer at initialisation"):
    """The size of the weight gradient ``||dL/dW||`` of each Dense layer, one line per activation.

    ``norms`` maps an activation name to its list of norms, from the layer next to the input
    (layer 1) to the output layer. Log scale: a gradient that shrinks by the same factor per layer
    is a straight line. Returns the figure.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, values in norms.items():
        color, marker, ls = STYLES.get(name, ("0.3", "x", "-."))
        layers = np.arange(1, len(values) + 1)
        ax.semilogy(layers, values, color=color, marker=marker, ls=ls, lw=2, ms=7, label=name)
    n = max(len(v) for v in norms.values())
    ax.set_xticks(np.arange(1, n + 1))
    ax.set_xticklabels([f"{k}\n(input side)" if k == 1 else f"{k}\n(output)" if k == n else str(k)
                        for k in range(1, n + 1)])
    ax.set(title=title, xlabel="Dense layer", ylabel=r"$\|\partial L / \partial W\|$ (log scale)")
    ax.grid(True, which="major", color="0.9")
    ax.legend(title="hidden activation", loc="lower right")
    fig.tight_layout()
    return fig
